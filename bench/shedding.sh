#!/usr/bin/env bash
# Load shedding under a non-core flood (results and how to read them: docs/BENCHMARKS.md).
#
#   bench/shedding.sh [DURATION] [--rounds N] [--no-build]
#
# DURATION of each measured phase: 10s (default), at most 20s. ROUNDS (default 3, 1-5): each server
# measures idle then flood that many times, and the report gives every round and the median ratio —
# one stall of the shared VM (a descheduled vCPU) moves a p99 of 10 s, so one pair is not a measure. Starts FlashMall (Production,
# SQLite in a temp dir, demo data, rate limits off) on a free loopback port twice — once with
# LoadShedding:Enabled=false, once with the defaults — and on each measures a steady core load
# (`wrk -t1 -c32 --latency` on GET /api/products/{id}, product detail, each connection waiting
# 10 ms after an answer, bench/lua/paced.lua: about 2,900 req/s, as phones browsing product pages)
# alone ("idle") and then beside a non-core flood (`wrk -t1 -c256` on GET /api/search with a fresh
# query each request, bench/lua/search-random.lua) that saturates the node. Reports core p99 and req/s per phase,
# the flood's answers (2xx vs 503 degraded) and core p99 with shedding on relative to idle.
# Everything shares this machine's cores (and the two wrk processes take some): compare the
# ratios of one run, not absolute figures across machines. Progress on stderr, report on stdout.
# SHED_SETTINGS="--LoadShedding:NonCoreMaxConcurrent=2 …" overrides the limits of the "on" server.
# A third pass measures the same loads on two nodes on this one box (docs/OPERATIONS.md, "Core and
# non-core clusters"): a `--role core` node for the core load and a `--role noncore` node, started
# under `nice -n 19` (systemd: Nice=19 / CPUWeight), for the flood, sharing the SQLite database.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COMMAND="bench/shedding.sh${*:+ $*}"
SERVER_DLL="src/FlashMall.Server/bin/Release/net10.0/FlashMall.Server.dll"
DURATION="10s"
WARMUP="10s"
CORE_CONNECTIONS=32
THINK_MS=10
FLOOD_CONNECTIONS=256
BUILD=1
READY_SECONDS=90
ROUNDS=3
SETTLE="5s"

while (($#)); do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --rounds) ROUNDS="${2:-}"; shift; (($#)) && shift ;;
    [0-9]*s) DURATION="$1"; shift ;;
    [0-9]*) DURATION="${1}s"; shift ;;
    *) echo "shedding.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
(( ${DURATION%s} <= 20 )) || { echo "shedding.sh: phases are bounded to 20s" >&2; exit 2; }
[[ "$ROUNDS" =~ ^[1-5]$ ]] || { echo "shedding.sh: --rounds takes 1 to 5" >&2; exit 2; }

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
for tool in dotnet wrk curl; do command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"; done

TMP="$(mktemp -d -t flashmall-shed.XXXXXX)"
SERVER_PID=""
NONCORE_PID=""
FLOOD_PID=""
stop_process() { # pid: TERM, up to 10 s, then KILL
  local pid="$1" i
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_process "$FLOOD_PID"
  stop_process "$NONCORE_PID"
  stop_process "$SERVER_PID"
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ((BUILD)); then
  log "building src/FlashMall.Server (Release)"
  dotnet build src/FlashMall.Server -c Release -nologo >"$TMP/build.log" 2>&1 || { tail -n 40 "$TMP/build.log" >&2; die "build failed"; }
fi
[[ -f "$SERVER_DLL" ]] || die "$SERVER_DLL is missing: run without --no-build"

port_listening() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { local p; for _ in $(seq 200); do p=$((20000 + RANDOM % 12000)); port_listening "$p" || { echo "$p"; return; }; done; die "no free port"; }

wait_ready() { # pid url log
  for ((i = 0; i < READY_SECONDS * 4; i++)); do
    kill -0 "$1" 2>/dev/null || { tail -n 20 "$3" >&2; die "server exited during start-up"; }
    curl -fsS --max-time 1 -o /dev/null "$2/health/ready" 2>/dev/null && return 0
    sleep 0.25
  done
  die "$2 was not ready after ${READY_SECONDS}s"
}

start_server() { # shedding(true|false|split)
  local port; port="$(pick_port)"
  SERVER="http://127.0.0.1:$port"
  FLOOD_SERVER="$SERVER"
  local role=()
  [[ "$1" == split ]] && role=(--role core --Search:Directory="$TMP/data-$1/search-core")
  ASPNETCORE_ENVIRONMENT=Production dotnet "$SERVER_DLL" --urls "$SERVER" --Data:Directory="$TMP/data-$1" \
    --Demo:Seed=true --RateLimiting:Enabled=false --LoadShedding:Enabled="$([[ "$1" == false ]] && echo false || echo true)" \
    --Logging:LogLevel:Default=Warning "${role[@]}" \
    $([[ "$1" == true ]] && echo "${SHED_SETTINGS:-}") \
    >"$TMP/server-$1.log" 2>&1 &
  SERVER_PID=$!
  wait_ready "$SERVER_PID" "$SERVER" "$TMP/server-$1.log"
  if [[ "$1" == split ]]; then
    # The non-core node: same database, its own search index, the lowest CPU priority.
    port="$(pick_port)"
    FLOOD_SERVER="http://127.0.0.1:$port"
    ASPNETCORE_ENVIRONMENT=Production nice -n 19 dotnet "$SERVER_DLL" --urls "$FLOOD_SERVER" --Data:Directory="$TMP/data-$1" \
      --Demo:Seed=true --RateLimiting:Enabled=false --Logging:LogLevel:Default=Warning --role noncore \
      --Search:Directory="$TMP/data-$1/search-noncore" >"$TMP/server-$1-noncore.log" 2>&1 &
    NONCORE_PID=$!
    wait_ready "$NONCORE_PID" "$FLOOD_SERVER" "$TMP/server-$1-noncore.log"
  fi
  PRODUCT_ID="$(curl -fsS --max-time 10 "$FLOOD_SERVER/api/products?pageSize=1" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)"
  [[ -n "$PRODUCT_ID" ]] || die "no demo product"
  PRODUCT_URL="$SERVER/api/products/$PRODUCT_ID"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$PRODUCT_URL")" == 200 ]] || die "product detail does not answer 200"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$FLOOD_SERVER/api/search?q=phone")" == 200 ]] || die "search does not answer 200"
}

# wrk's p99 in ms, req/s, and non-2xx count from a --latency report.
p99_ms() { awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }' "$1"; }
p50_ms() { awk '$1 == "50%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.2f", v }' "$1"; }
rps() { awk '$1 == "Requests/sec:" { printf "%.0f", $2 }' "$1"; }
non2xx() { awk '/Non-2xx or 3xx responses:/ { print $NF; f = 1 } END { if (!f) print 0 }' "$1"; }
total() { awk '/requests in/ { print $1 }' "$1"; }

core_run() { # out
  BENCH_THINK_MS="$THINK_MS" wrk -t1 -c"$CORE_CONNECTIONS" -d"$DURATION" --latency -s bench/lua/paced.lua "$PRODUCT_URL" >"$1"
}
flood_start() { # out
  wrk -t1 -c"$FLOOD_CONNECTIONS" -d"$(( ${DURATION%s} + 4 ))s" -s bench/lua/search-random.lua "$FLOOD_SERVER" >"$1" &
  FLOOD_PID=$!
  sleep 2 # the flood reaches its plateau before the core is measured
}

# One cell per round ("a · b · c"), from a report function applied to each round's file.
per_round() { # function file-prefix
  local r out=""
  for ((r = 1; r <= ROUNDS; r++)); do out+="${out:+ · }$("$1" "$2-$r.txt")"; done
  echo "$out"
}
ratios() { # shedding: flood p99 / idle p99 of each round
  local r out=""
  for ((r = 1; r <= ROUNDS; r++)); do
    out+="${out:+ · }$(awk -v a="$(p99_ms "$TMP/loaded-$1-$r.txt")" -v b="$(p99_ms "$TMP/idle-$1-$r.txt")" 'BEGIN { printf "%.2f", a / b }')"
  done
  echo "$out"
}
median() { sed 's/ · /\n/g' <<<"$1" | sort -g | awk 'NF { v[++n] = $1 } END { printf "%.2f", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }
sum_rounds() { # function file-prefix
  local r n=0
  for ((r = 1; r <= ROUNDS; r++)); do n=$((n + $("$1" "$2-$r.txt"))); done
  echo "$n"
}

for shedding in false true split; do
  start_server "$shedding"
  log "shedding=$shedding: warm-up"
  # Search first: the core's warm-up then also absorbs the collections of what the searches left,
  # so "idle" measures the core alone.
  wrk -t1 -c64 -d"$WARMUP" -s bench/lua/search-random.lua "$FLOOD_SERVER" >/dev/null
  BENCH_THINK_MS="$THINK_MS" wrk -t1 -c"$CORE_CONNECTIONS" -d"$WARMUP" -s bench/lua/paced.lua "$PRODUCT_URL" >/dev/null
  for ((round = 1; round <= ROUNDS; round++)); do
    if ((round > 1)); then # the core alone for a while after the last flood, as after the warm-up
      BENCH_THINK_MS="$THINK_MS" wrk -t1 -c"$CORE_CONNECTIONS" -d"$SETTLE" -s bench/lua/paced.lua "$PRODUCT_URL" >/dev/null
    fi
    log "shedding=$shedding, round $round of $ROUNDS: core alone"
    core_run "$TMP/idle-$shedding-$round.txt"
    log "shedding=$shedding, round $round of $ROUNDS: core beside the non-core flood"
    flood_start "$TMP/flood-$shedding-$round.txt"
    core_run "$TMP/loaded-$shedding-$round.txt"
    wait "$FLOOD_PID" || true
    FLOOD_PID=""
    [[ "$(non2xx "$TMP/loaded-$shedding-$round.txt")" == 0 ]] || die "core requests failed under the flood (shedding=$shedding, round $round)"
  done
  if [[ "$shedding" == true ]]; then
    curl -s -i "$SERVER/api/search?q=x" >/dev/null # (node idle again: answers 200)
  fi
  stop_process "$NONCORE_PID"; NONCORE_PID=""
  stop_process "$SERVER_PID"; SERVER_PID=""
done

echo "## Load shedding: core p99 under a non-core flood"
echo
echo "Command: \`${SHED_SETTINGS:+SHED_SETTINGS=\"$SHED_SETTINGS\" }$COMMAND\` ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)). Core load: \`wrk -t1 -c$CORE_CONNECTIONS\` GET /api/products/{id}, ${THINK_MS} ms between an answer and the next request on each connection (bench/lua/paced.lua); flood: \`wrk -t1 -c$FLOOD_CONNECTIONS\` GET /api/search (fresh query each request); $DURATION per phase; $ROUNDS rounds of idle then flood per server, each cell round by round (\`a · b · c\`)."
echo
echo "| phase | core p50 (ms) | core p99 (ms) | core req/s | × idle p99 (median) | flood answers | of which non-2xx (503) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
declare -A RATIOS
for shedding in false true split; do
  case "$shedding" in
    true) label="shedding on${SHED_SETTINGS:+ (SHED_SETTINGS)}" ;;
    false) label="shedding off" ;;
    split) label="two nodes: core + noncore at nice 19 (default limits)" ;;
  esac
  RATIOS[$shedding]="$(ratios "$shedding")"
  echo "| idle, $label | $(per_round p50_ms "$TMP/idle-$shedding") | $(per_round p99_ms "$TMP/idle-$shedding") | $(per_round rps "$TMP/idle-$shedding") | 1.00 | – | – |"
  echo "| flood, $label | $(per_round p50_ms "$TMP/loaded-$shedding") | $(per_round p99_ms "$TMP/loaded-$shedding") | $(per_round rps "$TMP/loaded-$shedding") | ${RATIOS[$shedding]} (**$(median "${RATIOS[$shedding]}")**) | $(sum_rounds total "$TMP/flood-$shedding") | $(sum_rounds non2xx "$TMP/flood-$shedding") |"
done
echo
echo "Core p99 with shedding on vs idle (same server), round by round: ${RATIOS[true]}; median $(median "${RATIOS[true]}")× (goal ≤ 2×)."
echo "Core p99 on the core node of two (non-core flooding the noncore node at nice 19) vs its idle: ${RATIOS[split]}; median $(median "${RATIOS[split]}")×."
