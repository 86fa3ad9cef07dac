#!/usr/bin/env bash
# The flash-sale purchase path under HTTP load (results and how to read them: docs/BENCHMARKS.md).
#
#   bench/flash-sale.sh [DURATION] [--no-build]      DURATION like 10s (default), 20s, 1m
#
# Starts the bare-Kestrel baseline and FlashMall (Production, SQLite in a temp dir, the embedded
# ledger, rate limits off) on free loopback ports; as the bootstrap admin creates a SKU with
# 2,000,000 units and a live sale of 1,000,000 (100 per buyer); mints 20,000 buyers' tokens with
# the node's signing key (python3); then with `wrk -t2 -c256 --latency`, 3 s warm-up each:
#   1. baseline GET /plaintext;
#   2. POST /api/flash-sales/{id}/purchase, each request the next buyer's token;
#   3. a stampede on a 1,000-unit sale (1 per buyer) until it is sold out, then counts the 202s
#      and the units the database holds: the oversell count is what either exceeds 1,000.
# Prints a markdown report on stdout; progress on stderr. About a minute.
# BENCH_TRACE=FILE.nettrace also records 5 s of CPU samples of the server during the purchase
# run (needs dotnet-trace on PATH or in BENCH_TOOLS); `dotnet-trace report FILE topN` reads it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COMMAND="bench/flash-sale.sh${*:+ $*}"
BASELINE_DLL="bench/FlashMall.Bench.Baseline/bin/Release/net10.0/FlashMall.Bench.Baseline.dll"
SERVER_DLL="src/FlashMall.Server/bin/Release/net10.0/FlashMall.Server.dll"
DURATION="10s"
WARMUP="3s"
CONNECTIONS=256
THREADS=2
BUYERS=20000
BUILD=1
ADMIN_EMAIL="bench-admin@flashmall.test"
ADMIN_PASSWORD="Bench-Admin-Password-1"

while (($#)); do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    [0-9]*s|[0-9]*m) DURATION="$1"; shift ;;
    [0-9]*) DURATION="${1}s"; shift ;;
    *) echo "flash-sale.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
for tool in dotnet wrk curl python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

TMP="$(mktemp -d -t flashmall-bench.XXXXXX)"
BASELINE_PID="" SERVER_PID=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "$SERVER_PID" "$BASELINE_PID"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }

if ((BUILD)); then
  log "building (Release)"
  dotnet build FlashMall.slnx -c Release -nologo -v quiet >"$TMP/build.log" 2>&1 || { tail -n 30 "$TMP/build.log" >&2; die "build failed"; }
fi

BASELINE="http://127.0.0.1:$(free_port)"
SERVER="http://127.0.0.1:$(free_port)"
SIGNING_KEY="$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(64)).decode())')"
dotnet "$BASELINE_DLL" --urls "$BASELINE" >"$TMP/baseline.log" 2>&1 &
BASELINE_PID=$!
ASPNETCORE_ENVIRONMENT=Production dotnet "$SERVER_DLL" --urls "$SERVER" --Data:Directory="$TMP/data" \
  --Demo:Seed=true --RateLimiting:Enabled=false --Logging:LogLevel:Default=Warning --Jwt:SigningKey="$SIGNING_KEY" \
  --Bootstrap:AdminEmail="$ADMIN_EMAIL" --Bootstrap:AdminPassword="$ADMIN_PASSWORD" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for url in "$BASELINE/plaintext" "$SERVER/health/ready"; do
  for ((i = 0; i < 240; i++)); do curl -fsS --max-time 1 -o /dev/null "$url" 2>/dev/null && break; sleep 0.25; done
  curl -fsS --max-time 2 -o /dev/null "$url" || { tail -n 20 "$TMP/server.log" >&2; die "$url did not come up"; }
done

ADMIN_TOKEN="$(curl -fsS -H 'content-type: application/json' -d "{\"login\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" "$SERVER/api/accounts/login" | json "d['accessToken']")"
auth=(-H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json')
FIRST_PRODUCT="$(curl -fsS "$SERVER/api/products?pageSize=1" | json "d['items'][0]['id']")"
CATEGORY="$(curl -fsS "$SERVER/api/products/$FIRST_PRODUCT" | json "d['categoryId']")"
sale_of() { # units per-buyer -> sale id (a new SKU with twice the units)
  local sku
  sku="$(curl -fsS "${auth[@]}" -d "{\"name\":\"Bench phone $RANDOM\",\"description\":\"bench\",\"categoryId\":\"$CATEGORY\",\"brand\":\"Bench\",\"skus\":[{\"code\":\"BENCH-$RANDOM$RANDOM\",\"price\":99900,\"stock\":$(($1 * 2)),\"attributes\":{}}]}" \
    "$SERVER/api/admin/products" | json "d['skus'][0]['id']")"
  curl -fsS "${auth[@]}" -d "{\"skuId\":\"$sku\",\"salePrice\":9900,\"quantity\":$1,\"perUserLimit\":$2,\"startsAt\":\"$(date -u -d '-5 sec' +%FT%TZ)\",\"endsAt\":\"$(date -u -d '+1 hour' +%FT%TZ)\"}" \
    "$SERVER/api/admin/flash-sales" | json "d['id']"
}
BIG_SALE="$(sale_of 1000000 100)"
SMALL_SALE="$(sale_of 1000 1)"

log "minting $BUYERS buyers' tokens"
python3 - "$SIGNING_KEY" "$BUYERS" >"$TMP/tokens.txt" <<'PY'
import base64, hashlib, hmac, json, sys, time, uuid
key = base64.b64decode(sys.argv[1]); now = int(time.time())
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
for _ in range(int(sys.argv[2])):
    claims = {"sub": str(uuid.uuid4()), "jti": uuid.uuid4().hex, "role": ["buyer"], "iss": "flashmall", "aud": "flashmall-api",
              "iat": now, "nbf": now, "exp": now + 3600}
    body = header + "." + b64(json.dumps(claims).encode())
    print(body + "." + b64(hmac.new(key, body.encode(), hashlib.sha256).digest()))
PY

run_wrk() { # label url [lua] -> sets RPS P50 P99 STATUSES
  local label="$1" url="$2" script="${3:-}" out
  local args=(-t"$THREADS" -c"$CONNECTIONS" --latency --timeout 10s)
  [[ -n "$script" ]] && args+=(-s "$script")
  wrk "${args[@]}" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  log "measuring $label ($DURATION)"
  out="$(wrk "${args[@]}" -d"$DURATION" "$url")"
  RPS="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  P50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  P99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  STATUSES="$(awk '/^STATUSES/ {$1=""; print substr($0,2)}' <<<"$out")"
}

run_wrk "baseline plaintext" "$BASELINE/plaintext"
B_RPS=$RPS B_P50=$P50 B_P99=$P99
export BENCH_TOKENS="$TMP/tokens.txt"
export BENCH_PURCHASE_PATH="/api/flash-sales/$BIG_SALE/purchase"
if [[ -n "${BENCH_TRACE:-}" ]]; then
  TRACER="$(command -v dotnet-trace || echo "${BENCH_TOOLS:-/tmp/bench-tools}/dotnet-trace")"
  (sleep 5; "$TRACER" collect -p "$SERVER_PID" --profile dotnet-sampled-thread-time --duration 00:00:00:05 -o "$BENCH_TRACE" >"$BENCH_TRACE.log" 2>&1) &
fi
run_wrk "purchase (embedded ledger)" "$SERVER$BENCH_PURCHASE_PATH" bench/lua/purchase.lua
P_RPS=$RPS P_P50=$P50 P_P99=$P99 P_STATUSES=$STATUSES
RESERVED_BIG="$(curl -fsS "$SERVER/api/flash-sales/$BIG_SALE" | json "d['quantity'] - d['remaining']")"

# The stampede: distinct buyers on 1,000 units until sold out; count the answers and the units held.
export BENCH_PURCHASE_PATH="/api/flash-sales/$SMALL_SALE/purchase"
out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s bench/lua/purchase.lua "$SERVER$BENCH_PURCHASE_PATH")"
S_STATUSES="$(awk '/^STATUSES/ {$1=""; print substr($0,2)}' <<<"$out")"
S_ACCEPTED="$(grep -o '202=[0-9]*' <<<"$S_STATUSES" | cut -d= -f2)"
sleep 1.1
S_HELD="$(curl -fsS "$SERVER/api/flash-sales/$SMALL_SALE" | json "d['quantity'] - d['remaining']")"
OVERSELL=$(( (S_ACCEPTED > 1000 ? S_ACCEPTED - 1000 : 0) + (S_HELD > 1000 ? S_HELD - 1000 : 0) ))

ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}')"; }
cat <<REPORT
## Flash-sale purchase, embedded ledger (\`$COMMAND\`, $(date -u +%F), $(nproc) cores)

wrk -t$THREADS -c$CONNECTIONS, $DURATION after a $WARMUP warm-up; $BUYERS distinct buyers (one token each, in turn).

| target | req/s | ratio to baseline | p50 | p99 | answers |
| --- | ---: | ---: | ---: | ---: | --- |
| baseline: bare Kestrel \`GET /plaintext\` | $B_RPS | 1.00 | $B_P50 | $B_P99 | |
| \`POST /api/flash-sales/{id}/purchase\` (1,000,000 units, 100 per buyer) | $P_RPS | $(ratio "$P_RPS" "$B_RPS") | $P_P50 | $P_P99 | $P_STATUSES |

Units reserved in the big sale by the end: $RESERVED_BIG.
Stampede on 1,000 units (1 per buyer), 3 s: $S_STATUSES; units held by the database afterwards: $S_HELD; **oversell: $OVERSELL**.
REPORT
