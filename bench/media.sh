#!/usr/bin/env bash
# Image uploads and feed reads under load, beside the plaintext baseline (results: docs/BENCHMARKS.md).
#
#   bench/media.sh [DURATION] [--no-build] [--uploaders N]
#
# DURATION like 10s (default) for each wrk measurement; uploads run twice as long. Everything
# listens on 127.0.0.1 only, on free ports, and stops when the script ends (about 1.5 min).
# 1. bare Kestrel GET /plaintext (the baseline), wrk -t2 -c64 after a 5 s warm-up;
# 2. FlashMall (Production, SQLite and media in a temp dir, rate limits off): one buyer posts a
#    4000×3000 JPEG of about 2 MB per request from N connections (default 4), each copy with its
#    own JPEG comment, so every upload is new to the content-addressed store and fully decoded,
#    turned upright, re-encoded in three sizes and stored; reports uploads/s, latency and the
#    server's resident memory before and at its peak (VmRSS, VmHWM from /proc);
# 3. GET /api/circle/feed?pageSize=20 (anonymous) with wrk -t2 -c64 over the posts just made.
# wrk, the upload driver and the server share the machine's cores: compare ratios, not absolutes.
# Prints a markdown report on stdout; progress on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COMMAND="bench/media.sh${*:+ $*}"
BASELINE_DLL="bench/FlashMall.Bench.Baseline/bin/Release/net10.0/FlashMall.Bench.Baseline.dll"
SERVER_DLL="src/FlashMall.Server/bin/Release/net10.0/FlashMall.Server.dll"
DRIVER_DLL="bench/FlashMall.Bench.Media/bin/Release/net10.0/FlashMall.Bench.Media.dll"
DURATION="10s"
WARMUP="5s"
CONNECTIONS=64
THREADS=2
UPLOADERS=4
BUILD=1

while (($#)); do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --uploaders) UPLOADERS="${2:-}"; shift 2 ;;
    [0-9]*s) DURATION="$1"; shift ;;
    [0-9]*) DURATION="${1}s"; shift ;;
    *) echo "media.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ "$UPLOADERS" =~ ^[0-9]+$ ]] && ((UPLOADERS >= 1 && UPLOADERS <= 64)) || { echo "media.sh: --uploaders takes 1 to 64" >&2; exit 2; }
SECONDS_EACH="${DURATION%s}"
((SECONDS_EACH >= 1 && SECONDS_EACH <= 300)) || { echo "media.sh: DURATION must be 1s to 300s" >&2; exit 2; }

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
wait_for() { # url [log]
  for ((i = 0; i < 240; i++)); do curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.25; done
  curl -fsS --max-time 2 -o /dev/null "$1" || { [[ -n "${2:-}" ]] && tail -n 20 "$2" >&2; die "$1 did not come up"; }
}
memory_mb() { # pid field (VmRSS|VmHWM) -> MB
  awk -v f="$2:" '$1 == f {printf "%.0f", $2 / 1024}' "/proc/$1/status"
}
run_wrk() { # label url -> sets RPS P50 P99
  local label="$1" url="$2" out
  local args=(-t"$THREADS" -c"$CONNECTIONS" --latency --timeout 10s)
  wrk "${args[@]}" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  log "measuring $label ($DURATION)"
  out="$(wrk "${args[@]}" -d"$DURATION" "$url")"
  RPS="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
  P50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  P99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  NON2XX="$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")"
}
ratio() { python3 -c "print(f'{float(\"$1\") / float(\"$2\"):.3f}')"; }

if ((BUILD)); then
  log "building (Release)"
  dotnet build FlashMall.slnx -c Release -nologo -v quiet >"$TMP/build.log" 2>&1 || { tail -n 30 "$TMP/build.log" >&2; die "build failed"; }
fi

BASELINE="http://127.0.0.1:$(free_port)"
dotnet "$BASELINE_DLL" --urls "$BASELINE" >"$TMP/baseline.log" 2>&1 &
BASELINE_PID=$!
wait_for "$BASELINE/plaintext" "$TMP/baseline.log"
run_wrk "baseline GET /plaintext" "$BASELINE/plaintext"
B_RPS=$RPS B_P50=$P50 B_P99=$P99
kill -TERM "$BASELINE_PID" 2>/dev/null && wait "$BASELINE_PID" 2>/dev/null || true
BASELINE_PID=""

log "making a ~2 MB 4000×3000 photo"
PHOTO_BYTES="$(dotnet "$DRIVER_DLL" photo "$TMP/photo.jpg")"

SERVER="http://127.0.0.1:$(free_port)"
SIGNING_KEY="$(python3 -c 'import os,base64; print(base64.b64encode(os.urandom(64)).decode())')"
ASPNETCORE_ENVIRONMENT=Production dotnet "$SERVER_DLL" --urls "$SERVER" --Data:Directory="$TMP/data" \
  --Demo:Seed=false --RateLimiting:Enabled=false --Logging:LogLevel:Default=Warning --Jwt:SigningKey="$SIGNING_KEY" \
  >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_for "$SERVER/health/ready" "$TMP/server.log"

EMAIL="bench-$RANDOM$RANDOM@flashmall.test"
curl -fsS -H 'content-type: application/json' -d "{\"email\":\"$EMAIL\",\"password\":\"Bench-Password-1\"}" "$SERVER/api/accounts/register" >/dev/null
TOKEN="$(curl -fsS -H 'content-type: application/json' -d "{\"login\":\"$EMAIL\",\"password\":\"Bench-Password-1\"}" "$SERVER/api/accounts/login" | json "d['accessToken']")"

log "warming up uploads (5 s)"
dotnet "$DRIVER_DLL" upload "$SERVER" "$TOKEN" "$TMP/photo.jpg" 5 "$UPLOADERS" >/dev/null
RSS_BEFORE="$(memory_mb "$SERVER_PID" VmRSS)"
UPLOAD_SECONDS=$((SECONDS_EACH * 2))
log "measuring uploads (${UPLOAD_SECONDS}s, $UPLOADERS connections)"
read -r U_RATE U_P50 U_P99 U_STATUSES < <(dotnet "$DRIVER_DLL" upload "$SERVER" "$TOKEN" "$TMP/photo.jpg" "$UPLOAD_SECONDS" "$UPLOADERS")
RSS_AFTER="$(memory_mb "$SERVER_PID" VmRSS)"
RSS_PEAK="$(memory_mb "$SERVER_PID" VmHWM)"
STORED_MB="$(du -sm "$TMP/data/media" | cut -f1)"

run_wrk "GET /api/circle/feed?pageSize=20" "$SERVER/api/circle/feed?pageSize=20"
F_RPS=$RPS F_P50=$P50 F_P99=$P99 F_NON2XX=${NON2XX:-0}

cat <<REPORT
## Media uploads and the circle feed (\`$COMMAND\`, $(date -u +%F), $(nproc) cores)

Baseline and feed: wrk -t$THREADS -c$CONNECTIONS, $DURATION after a $WARMUP warm-up. Uploads: one $PHOTO_BYTES-byte 4000×3000
JPEG per request (a distinct copy each time), $UPLOADERS connections, ${UPLOAD_SECONDS}s after a 5 s warm-up; SQLite and
the media folder in a temp dir.

| target | per second | ratio to baseline | p50 | p99 | answers |
| --- | ---: | ---: | ---: | ---: | --- |
| baseline: bare Kestrel \`GET /plaintext\` | $B_RPS | 1.000 | $B_P50 | $B_P99 | |
| \`POST /api/circle/posts\` with one ~2 MB photo (uploads) | $U_RATE | $(ratio "$U_RATE" "$B_RPS") | ${U_P50}ms | ${U_P99}ms | $U_STATUSES |
| \`GET /api/circle/feed?pageSize=20\` | $F_RPS | $(ratio "$F_RPS" "$B_RPS") | $F_P50 | $F_P99 | non-2xx: $F_NON2XX |

Server memory (resident): ${RSS_BEFORE} MB before the measured uploads, ${RSS_AFTER} MB after, peak ${RSS_PEAK} MB
(VmHWM, since start). Stored: ${STORED_MB} MB of renditions.
REPORT
