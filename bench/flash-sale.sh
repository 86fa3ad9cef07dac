#!/usr/bin/env bash
# The flash-sale purchase path under HTTP load (results and how to read them: docs/BENCHMARKS.md).
#
#   bench/flash-sale.sh [DURATION] [--no-build] [--ledger embedded|redis|both] [--telemetry on|off|traced|both]
#
# --telemetry on is the node's own default (metrics on /metrics; no collector, so no spans are
# made), off is OpenTelemetry:Enabled=false, traced adds TraceSampleRatio=1 (every purchase
# traced as with a collector, but no exporter). both measures each ledger four times in the same
# run, off, traced, traced, off (ABBA, so a drift of the box's load cancels out), and prints the
# throughput ratio traced/off of the summed purchases: the cost of telemetry with every trace kept.
#
# DURATION like 10s (default), 20s, 1m. --ledger both (the default) needs redis-server: the
# Redis ledger runs against FLASHMALL_TEST_REDIS when set (./test.sh --exec bench/flash-sale.sh),
# else against a throwaway redis-server (no persistence) this script starts on a free port.
# Starts the bare-Kestrel baseline on a free loopback port and measures its `POST /plaintext`
# driven by the same wrk Lua script as the purchases (bare `GET` without a script is printed for
# context). Then, per ledger, FlashMall (Production, SQLite in a temp dir, rate limits off): as
# the bootstrap admin creates a SKU with 2,000,000 units and a live sale of 1,000,000 (100 per
# buyer); mints 20,000 buyers' tokens with the node's signing key (python3); then with
# `wrk -t2 -c256 --latency` (10 s warm-up: the JIT needs several seconds of load before the
# purchase path runs at full speed):
#   1. POST /api/flash-sales/{id}/purchase, each request the next buyer's token;
#   2. a stampede on a 1,000-unit sale (1 per buyer) until it is sold out, then counts the 202s
#      and the units the database holds once the ledger has nothing in flight: the oversell
#      count is what either exceeds 1,000;
#   3. once that node has stopped, the baseline again (3 s warm-up). Each purchase run's ratio is
#      to the mean of the baselines just before and just after it (the box's load drifts).
# Prints a markdown report on stdout; progress on stderr. About a minute and a half per ledger.
# Beside req/s, each run prints the server process's CPU time per request during the measured
# run (user + system, from /proc): steadier than req/s when the box's load moves between runs.
# For the Redis ledger also the shard's own CPU per request (INFO cpu) and the purchases one
# reserve-script call carried (INFO commandstats).
# BENCH_TRACE=FILE.nettrace also records 5 s of CPU samples of the server during the purchase
# run (needs dotnet-trace on PATH or in BENCH_TOOLS); `dotnet-trace report FILE topN` reads it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COMMAND="bench/flash-sale.sh${*:+ $*}"
BASELINE_DLL="bench/FlashMall.Bench.Baseline/bin/Release/net10.0/FlashMall.Bench.Baseline.dll"
SERVER_DLL="src/FlashMall.Server/bin/Release/net10.0/FlashMall.Server.dll"
DURATION="10s"
WARMUP="10s"
CONNECTIONS=256
THREADS=2
BUYERS=20000
BUILD=1
LEDGERS="both"
TELEMETRY="on"
ADMIN_EMAIL="bench-admin@flashmall.test"
ADMIN_PASSWORD="Bench-Admin-Password-1"

while (($#)); do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --ledger) LEDGERS="${2:-}"; shift 2 ;;
    --telemetry) TELEMETRY="${2:-}"; shift 2 ;;
    [0-9]*s|[0-9]*m) DURATION="$1"; shift ;;
    [0-9]*) DURATION="${1}s"; shift ;;
    *) echo "flash-sale.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
case "$LEDGERS" in
  both) LEDGERS="embedded redis" ;;
  embedded|redis) ;;
  *) echo "flash-sale.sh: --ledger takes embedded, redis or both" >&2; exit 2 ;;
esac
case "$TELEMETRY" in
  both) TELEMETRY="off traced traced off" ;;
  on|off|traced) ;;
  *) echo "flash-sale.sh: --telemetry takes on, off, traced or both" >&2; exit 2 ;;
esac
for tool in dotnet wrk curl python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

TMP="$(mktemp -d -t flashmall-bench.XXXXXX)"
BASELINE_PID="" SERVER_PID="" REDIS_PORT=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "$SERVER_PID" "$BASELINE_PID"; do
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  [[ -n "$REDIS_PORT" ]] && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
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
SIGNING_KEY="$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(64)).decode())')"
dotnet "$BASELINE_DLL" --urls "$BASELINE" >"$TMP/baseline.log" 2>&1 &
BASELINE_PID=$!
wait_for() { # url [log]
  for ((i = 0; i < 240; i++)); do curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.25; done
  curl -fsS --max-time 2 -o /dev/null "$1" || { [[ -n "${2:-}" ]] && tail -n 20 "$2" >&2; die "$1 did not come up"; }
}
wait_for "$BASELINE/plaintext" "$TMP/baseline.log"

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
export BENCH_TOKENS="$TMP/tokens.txt"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; } # user + system, in clock ticks
run_wrk() { # label url [lua] [server pid] -> sets RPS P50 P99 STATUSES, and CPU_US (the server's CPU µs per request) with a pid
  local label="$1" url="$2" script="${3:-}" pid="${4:-}" out ticks
  local args=(-t"$THREADS" -c"$CONNECTIONS" --latency --timeout 10s)
  [[ -n "$script" ]] && args+=(-s "$script")
  wrk "${args[@]}" -d"${WARM:-$WARMUP}" "$url" >/dev/null 2>&1 || true
  log "measuring $label ($DURATION)"
  [[ -n "$pid" ]] && ticks="$(cpu_ticks "$pid")"
  local shard0=""
  [[ -n "${SHARD:-}" ]] && shard0="$(shard_stats)"
  out="$(wrk "${args[@]}" -d"$DURATION" "$url")"
  SHARD_NOTE=""
  if [[ -n "$shard0" ]]; then
    # The Redis shard's own CPU (INFO cpu, all its threads) and its reserve-script calls, per request.
    SHARD_NOTE="$(python3 -c "
a, b, n = '$shard0'.split(), '$(shard_stats)'.split(), $(awk '/requests in/ {print $1}' <<<"$out")
cpu, calls = float(b[0]) - float(a[0]), int(b[1]) - int(a[1])
print(f'Redis shard: {cpu * 1e6 / n:.1f} µs of its CPU per request, {n / max(calls, 1):.1f} purchases per reserve-script call ({calls:,} calls)')")"
  fi
  CPU_US="—"
  if [[ -n "$pid" ]]; then
    CPU_US="$(python3 -c "print(f'{($(cpu_ticks "$pid") - $ticks) / $(getconf CLK_TCK) * 1e6 / $(awk '/requests in/ {print $1}' <<<"$out"):.0f}')")"
  fi
  RPS="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  P50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  P99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  STATUSES="$(awk '/^STATUSES/ {$1=""; print substr($0,2)}' <<<"$out")"
}
shard_stats() { # -> "cpu-seconds script-calls" of the Redis at $SHARD (host:port)
  local endpoint="${SHARD%%,*}"
  local host="${endpoint%:*}" port="${endpoint##*:}"
  { redis-cli -h "$host" -p "$port" info cpu; redis-cli -h "$host" -p "$port" info commandstats; } | tr -d '\r' | python3 -c "
import re, sys
t = sys.stdin.read()
cpu = sum(float(x) for x in re.findall(r'^used_cpu_(?:sys|user):([0-9.]+)', t, re.M))
calls = sum(int(x) for x in re.findall(r'^cmdstat_eval(?:sha)?:calls=(\d+)', t, re.M))
print(cpu, calls)"
}
ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.2f}')"; }

# The baseline is driven by the same load script as the purchase (POST, a bearer token, a JSON
# body): what the ratio measures is FlashMall's work, not wrk's Lua. wrk's plain GET is context.
BENCH_PURCHASE_PATH=/plaintext run_wrk "baseline POST /plaintext (same script)" "$BASELINE/plaintext" bench/lua/purchase.lua "$BASELINE_PID"
B_RPS=$RPS B_P50=$P50 B_P99=$P99 B_CPU=$CPU_US
# The baseline is measured again after each FlashMall run, once its node has stopped (its backlog
# written), and each run's ratio is to the mean of the baselines just before and just after it:
# this box's load drifts by a fifth within minutes, and a baseline from two minutes earlier alone
# would move the ratio either way.
BEFORE_RPS=$B_RPS
run_wrk "bare GET /plaintext (no script)" "$BASELINE/plaintext"
G_RPS=$RPS G_P50=$P50 G_P99=$P99

redis_for_bench() { # -> REDIS_CONN
  if [[ -n "${FLASHMALL_TEST_REDIS:-}" ]]; then
    REDIS_CONN="$FLASHMALL_TEST_REDIS"
    return
  fi
  command -v redis-server >/dev/null 2>&1 || die "the Redis ledger needs redis-server (or run it through ./test.sh --exec)"
  REDIS_PORT="$(free_port)"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --daemonize yes \
    --dir "$TMP" --pidfile "$TMP/redis.pid" --logfile "$TMP/redis.log" >/dev/null
  for ((i = 0; i < 100; i++)); do [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && break; sleep 0.1; done
  REDIS_CONN="127.0.0.1:$REDIS_PORT"
}

ROWS=()
declare -A TELEMETRY_RPS=()
bench_ledger() { # ledger (embedded|redis) telemetry (on|off|traced) -> appends a table row to ROWS, a line to NOTES
  local ledger="$1" telemetry="${2:-on}" server extra=() admin_token first_product category big_sale small_sale label
  server="http://127.0.0.1:$(free_port)"
  if [[ "$ledger" == redis ]]; then
    redis_for_bench
    extra=(--ConnectionStrings:Redis="$REDIS_CONN" --FlashSales:Ledger=Redis --Cache:KeyPrefix="bench-$RANDOM$RANDOM:")
  fi
  case "$telemetry" in
    off) extra+=(--OpenTelemetry:Enabled=false) ;;
    traced) extra+=(--OpenTelemetry:TraceSampleRatio=1) ;;
  esac
  label="$ledger ledger"
  [[ "$TELEMETRY" == "off traced traced off" ]] && label="$ledger ledger, telemetry $telemetry"
  ASPNETCORE_ENVIRONMENT=Production dotnet "$SERVER_DLL" --urls "$server" --Data:Directory="$TMP/data-$ledger" \
    --Demo:Seed=true --RateLimiting:Enabled=false --Logging:LogLevel:Default=Warning --Jwt:SigningKey="$SIGNING_KEY" \
    --Bootstrap:AdminEmail="$ADMIN_EMAIL" --Bootstrap:AdminPassword="$ADMIN_PASSWORD" "${extra[@]}" >"$TMP/server-$ledger-$telemetry.log" 2>&1 &
  SERVER_PID=$!
  wait_for "$server/health/ready" "$TMP/server-$ledger-$telemetry.log"

  admin_token="$(curl -fsS -H 'content-type: application/json' -d "{\"login\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" "$server/api/accounts/login" | json "d['accessToken']")"
  local auth=(-H "authorization: Bearer $admin_token" -H 'content-type: application/json')
  first_product="$(curl -fsS "$server/api/products?pageSize=1" | json "d['items'][0]['id']")"
  category="$(curl -fsS "$server/api/products/$first_product" | json "d['categoryId']")"
  sale_of() { # units per-buyer -> sale id (a new SKU with twice the units)
    local sku
    sku="$(curl -fsS "${auth[@]}" -d "{\"name\":\"Bench phone $RANDOM\",\"description\":\"bench\",\"categoryId\":\"$category\",\"brand\":\"Bench\",\"skus\":[{\"code\":\"BENCH-$RANDOM$RANDOM\",\"price\":99900,\"stock\":$(($1 * 2)),\"attributes\":{}}]}" \
      "$server/api/admin/products" | json "d['skus'][0]['id']")"
    curl -fsS "${auth[@]}" -d "{\"skuId\":\"$sku\",\"salePrice\":9900,\"quantity\":$1,\"perUserLimit\":$2,\"startsAt\":\"$(date -u -d '-5 sec' +%FT%TZ)\",\"endsAt\":\"$(date -u -d '+1 hour' +%FT%TZ)\"}" \
      "$server/api/admin/flash-sales" | json "d['id']"
  }
  big_sale="$(sale_of 1000000 100)"
  small_sale="$(sale_of 1000 1)"

  export BENCH_PURCHASE_PATH="/api/flash-sales/$big_sale/purchase"
  if [[ -n "${BENCH_TRACE:-}" ]]; then
    TRACER="$(command -v dotnet-trace || echo "${BENCH_TOOLS:-/tmp/bench-tools}/dotnet-trace")"
    (sleep 5; "$TRACER" collect -p "$SERVER_PID" --profile dotnet-sampled-thread-time --duration 00:00:00:05 -o "$BENCH_TRACE.$ledger" >"$BENCH_TRACE.$ledger.log" 2>&1) &
  fi
  local shard=""
  [[ "$ledger" == redis ]] && shard="$REDIS_CONN"
  SHARD="$shard" run_wrk "purchase ($label)" "$server$BENCH_PURCHASE_PATH" bench/lua/purchase.lua "$SERVER_PID"
  [[ -n "$SHARD_NOTE" ]] && NOTES+=("- $label: $SHARD_NOTE.")
  TELEMETRY_RPS["$ledger-$telemetry"]="$(python3 -c "print(f'{float(\"${TELEMETRY_RPS[$ledger-$telemetry]:-0}\") + float(\"$RPS\"):.0f}')")"
  local row_rps=$RPS row_p50=$P50 row_p99=$P99 row_cpu=$CPU_US row_statuses=$STATUSES

  # The stampede: distinct buyers on 1,000 units until sold out; count the answers and, once the
  # ledger has nothing in flight (the reconciliation says so), the units the database holds.
  export BENCH_PURCHASE_PATH="/api/flash-sales/$small_sale/purchase"
  local out s_statuses s_accepted s_held oversell recon
  out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s bench/lua/purchase.lua "$server$BENCH_PURCHASE_PATH")"
  s_statuses="$(awk '/^STATUSES/ {$1=""; print substr($0,2)}' <<<"$out")"
  s_accepted="$(grep -o '202=[0-9]*' <<<"$s_statuses" | cut -d= -f2)"
  # The embedded ledger writes its journal to the database behind the answers (the purchase
  # run's backlog first): wait up to 3 minutes for nothing in flight, and say how long it took.
  local waited_from=$SECONDS
  for ((i = 0; i < 900; i++)); do
    recon="$(curl -fsS -H "authorization: Bearer $admin_token" "$server/api/admin/flash-sales/$small_sale/reconciliation")"
    [[ "$(json "d['inFlight']" <<<"$recon")" == 0 ]] && break
    sleep 0.2
  done
  [[ "$(json "d['inFlight']" <<<"$recon")" == 0 ]] || die "$label: reservations still in flight 3 minutes after the stampede"
  local written_after=$((SECONDS - waited_from))
  s_held="$(json "d['heldByDatabase']" <<<"$recon")"
  oversell=$(( (s_accepted > 1000 ? s_accepted - 1000 : 0) + (s_held > 1000 ? s_held - 1000 : 0) ))
  NOTES+=("- $label: stampede on 1,000 units (1 per buyer), 3 s: $s_statuses; units the database holds once nothing is in flight (${written_after} s after the stampede, the purchase run's backlog written first): $s_held; balanced: $(json "d['balanced']" <<<"$recon"); **oversell: $oversell**.")

  kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""

  BENCH_PURCHASE_PATH=/plaintext WARM=3s run_wrk "baseline POST /plaintext again" "$BASELINE/plaintext" bench/lua/purchase.lua "$BASELINE_PID"
  local around
  around="$(python3 -c "print(f'{(float(\"$BEFORE_RPS\") + float(\"$RPS\")) / 2:.2f}')")"
  ROWS+=("| \`POST …/purchase\`, $label (1,000,000 units, 100 per buyer) | $row_rps | $(ratio "$row_rps" "$around") | $row_p50 | $row_p99 | $row_cpu | $row_statuses |")
  ROWS+=("| baseline again, after the $label run (its node stopped) | $RPS | $(ratio "$RPS" "$B_RPS") | $P50 | $P99 | $CPU_US | |")
  BEFORE_RPS=$RPS
}

NOTES=()
for ledger in $LEDGERS; do
  for telemetry in $TELEMETRY; do
    bench_ledger "$ledger" "$telemetry"
  done
  if [[ "$TELEMETRY" == "off traced traced off" ]]; then
    on="${TELEMETRY_RPS[$ledger-traced]}" off="${TELEMETRY_RPS[$ledger-off]}"
    NOTES+=("- $ledger ledger, **telemetry traced / off: $(ratio "$on" "$off")** (two runs each, $on vs $off purchases/s summed; cost $(python3 -c "print(f'{(1 - float(\"$on\") / float(\"$off\")) * 100:.1f}')" )%).")
  fi
done

cat <<REPORT
## Flash-sale purchase (\`$COMMAND\`, $(date -u +%F), $(nproc) cores)

wrk -t$THREADS -c$CONNECTIONS, $DURATION after a $WARMUP warm-up; $BUYERS distinct buyers (one token each, in turn); SQLite in a temp dir.

Each purchase run's ratio is to the mean of the baselines measured just before and just after it
(a baseline row's ratio is to the first baseline: the box's drift).

| target | req/s | ratio to baseline | p50 | p99 | server CPU µs per request | answers |
| --- | ---: | ---: | ---: | ---: | ---: | --- |
| baseline: bare Kestrel \`POST /plaintext\`, the same load script | $B_RPS | 1.00 | $B_P50 | $B_P99 | $B_CPU | |
| context: bare Kestrel \`GET /plaintext\`, wrk without a script | $G_RPS | $(ratio "$G_RPS" "$B_RPS") | $G_P50 | $G_P99 | | |
$(printf '%s\n' "${ROWS[@]}")

$(printf '%s\n' "${NOTES[@]}")
REPORT
