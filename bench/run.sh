#!/usr/bin/env bash
# FlashMall's HTTP benchmarks (results and how to read them: docs/BENCHMARKS.md).
#
#   bench/run.sh [DURATION] [--no-build]
#
#   DURATION    length of each measured wrk run: 10s (default), 20s, 1m …; a bare number means seconds
#   --no-build  reuse the existing Release build instead of running `dotnet build` first
#
# Builds FlashMall.slnx (Release), starts the bare-Kestrel baseline (bench/FlashMall.Bench.Baseline)
# and the FlashMall server (Production, SQLite in a temp dir, demo data, rate limiting off) on free
# loopback ports, then drives each target with `wrk -t1 -c64 --latency`: a 3 s warm-up per
# target, then 3 rounds that visit the targets in turn. It reports the median req/s and median
# p99 of the 3 runs and the ratio to baseline plaintext measured in the same run. Then it measures
# logins (PBKDF2, bounded hashing) at 8 connections, alone and beside the product-detail load, to
# show what a login burst leaves for the rest of the node. About 3.5 minutes at the default
# duration. Both servers are stopped on exit, however the script ends. The report (markdown)
# goes to stdout, progress to stderr:
#
#   bench/run.sh > /tmp/bench.md
#
# wrk and both servers share this machine's cores: compare ratios from one run, not absolute
# figures across runs or machines.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

COMMAND="bench/run.sh${*:+ $*}"
SOLUTION="FlashMall.slnx"
BASELINE_DLL="bench/FlashMall.Bench.Baseline/bin/Release/net10.0/FlashMall.Bench.Baseline.dll"
SERVER_DLL="src/FlashMall.Server/bin/Release/net10.0/FlashMall.Server.dll"
LUA_DIR="bench/lua"

DURATION="10s"
WARMUP="3s"
ROUNDS=3
THREADS=1
CONNECTIONS=64
LOGIN_CONNECTIONS=8
LOGIN_BODY='{"login":"bench@flashmall.test","password":"Bench-Password-1"}'
REGISTER_BODY='{"email":"bench@flashmall.test","password":"Bench-Password-1"}'
READY_SECONDS=60
BUILD=1

usage() {
  echo "usage: $0 [DURATION] [--no-build]   (DURATION like 10s, 30s, 1m; default 10s)"
}

while (($#)); do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    [0-9]*)
      if [[ "$1" =~ ^[0-9]+$ ]]; then DURATION="${1}s"
      elif [[ "$1" =~ ^[0-9]+[smh]$ ]]; then DURATION="$1"
      else echo "run.sh: not a duration: $1" >&2; usage >&2; exit 2
      fi
      shift ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

for tool in dotnet wrk curl timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

seconds_of() { # 10s, 2m, 1h -> seconds
  local value="${1%[smh]}"
  case "$1" in
    *m) echo $((value * 60)) ;;
    *h) echo $((value * 3600)) ;;
    *) echo "$value" ;;
  esac
}

# ---------------------------------------------------------------- cleanup --

TMP="$(mktemp -d -t flashmall-bench.XXXXXX)"
BASELINE_PID=""
SERVER_PID=""
LOGIN_LOAD_PID=""

stop_process() { # pid name: TERM, up to 10 s to exit, then KILL
  local pid="$1" name="$2" i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) did not stop in 10 s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_process "$LOGIN_LOAD_PID" "wrk (login load)"
  stop_process "$SERVER_PID" "FlashMall server"
  stop_process "$BASELINE_PID" "baseline"
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ ports --

port_listening() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
USED_PORTS=" "
pick_port() { # sets PICKED_PORT to a free loopback port below the ephemeral range
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! port_listening "$p"; then
      USED_PORTS+="$p "
      PICKED_PORT=$p
      return 0
    fi
  done
  die "no free loopback port found"
}

# ------------------------------------------------------------ the servers --

if ((BUILD)); then
  log "building $SOLUTION (Release)"
  if ! dotnet build "$SOLUTION" -c Release -nologo >"$TMP/build.log" 2>&1; then
    tail -n 40 "$TMP/build.log" >&2
    die "build failed"
  fi
fi
[[ -f "$BASELINE_DLL" ]] || die "$BASELINE_DLL is missing: run without --no-build"
[[ -f "$SERVER_DLL" ]] || die "$SERVER_DLL is missing: run without --no-build"

pick_port; BASELINE_PORT=$PICKED_PORT
pick_port; SERVER_PORT=$PICKED_PORT
BASELINE="http://127.0.0.1:$BASELINE_PORT"
SERVER="http://127.0.0.1:$SERVER_PORT"

log "starting the baseline on $BASELINE and FlashMall on $SERVER"
dotnet "$BASELINE_DLL" --urls "$BASELINE" >"$TMP/baseline.log" 2>&1 &
BASELINE_PID=$!
ASPNETCORE_ENVIRONMENT=Production dotnet "$SERVER_DLL" \
  --urls "$SERVER" \
  --Data:Directory="$TMP/data" \
  --Demo:Seed=true \
  --RateLimiting:Enabled=false \
  --Logging:LogLevel:Default=Warning \
  >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

wait_until_up() { # url pid name log
  local url="$1" pid="$2" name="$3" logfile="$4" i
  for ((i = 0; i < READY_SECONDS * 4; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$logfile" >&2
      die "$name exited during start-up"
    fi
    curl -fsS --max-time 1 -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.25
  done
  tail -n 20 "$logfile" >&2
  die "$name did not answer $url within ${READY_SECONDS}s"
}
wait_until_up "$BASELINE/plaintext" "$BASELINE_PID" "baseline" "$TMP/baseline.log"
wait_until_up "$SERVER/health/ready" "$SERVER_PID" "FlashMall server" "$TMP/server.log"

status_of() { # curl args… -> HTTP status code
  curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$@"
}
expect_status() { # expected label curl args…
  local expected="$1" label="$2" got
  shift 2
  got="$(status_of "$@")"
  [[ "$got" == "$expected" ]] || die "$label answered $got, expected $expected"
}

PRODUCT_ID="$(curl -fsS --max-time 10 "$SERVER/api/products?pageSize=1" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4)"
[[ -n "$PRODUCT_ID" ]] || die "no demo product in GET /api/products?pageSize=1 (is Demo:Seed on?)"
PRODUCT_URL="$SERVER/api/products/$PRODUCT_ID"
LIST_URL="$SERVER/api/products?page=1&pageSize=20"
ETAG="$(curl -fsS --max-time 10 -D - -o /dev/null "$PRODUCT_URL" | tr -d '\r' | awk 'tolower($1) == "etag:" { sub(/^[^:]*: */, ""); print; exit }')"
[[ -n "$ETAG" ]] || die "GET /api/products/$PRODUCT_ID sent no ETag"

# Every target answers what it should before it is measured (a benchmark of errors is no benchmark).
expect_status 200 "baseline /plaintext" "$BASELINE/plaintext"
expect_status 200 "/health/live" "$SERVER/health/live"
expect_status 200 "product detail" "$PRODUCT_URL"
expect_status 200 "product list" "$LIST_URL"
expect_status 304 "product detail with If-None-Match" -H "If-None-Match: $ETAG" "$PRODUCT_URL"
body_bytes() { curl -fsS --max-time 10 -o /dev/null -w '%{size_download}' "$1"; }
DETAIL_BYTES="$(body_bytes "$PRODUCT_URL")"
LIST_BYTES="$(body_bytes "$LIST_URL")"

# ---------------------------------------------------------------- targets --

TARGETS=(plaintext live detail list notmodified)
declare -A TITLE=(
  [plaintext]="baseline: bare Kestrel \`GET /plaintext\`"
  [live]="\`GET /health/live\`"
  [detail]="\`GET /api/products/{id}\` (cached detail, $DETAIL_BYTES B)"
  [list]="\`GET /api/products?page=1&pageSize=20\` (cached list, $LIST_BYTES B)"
  [notmodified]="\`GET /api/products/{id}\` + \`If-None-Match\` → 304"
)
declare -A URL=(
  [plaintext]="$BASELINE/plaintext"
  [live]="$SERVER/health/live"
  [detail]="$PRODUCT_URL"
  [list]="$LIST_URL"
  [notmodified]="$PRODUCT_URL"
)
declare -A SCRIPT=([notmodified]="$LUA_DIR/not-modified.lua")
declare -A RPS_RUNS=() P99_RUNS=() ERRORS=()
export BENCH_ETAG="$ETAG"
export BENCH_LOGIN_BODY="$LOGIN_BODY"

run_wrk() { # output-file duration connections url [wrk args…]: one bounded wrk run
  local out="$1" duration="$2" connections="$3" url="$4"
  shift 4
  timeout $(($(seconds_of "$duration") + 30)) \
    wrk -t"$THREADS" -c"$connections" -d"$duration" --latency "$@" "$url" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk failed against $url"; }
}

target_args() { # target -> wrk args for its Lua script, if any
  local script="${SCRIPT[$1]:-}"
  [[ -z "$script" ]] || printf '%s\n' -s "$script"
}

requests_per_second() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }

latency_ms() { # file percentile: that line of --latency (50%, 99% …), in milliseconds
  awk -v pct="$2" '$1 == pct {
    v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
    f = unit == "us" ? 0.001 : unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : -1
    if (f < 0) { exit 1 }
    printf "%.2f\n", v * f
    found = 1
  }
  END { if (!found) { exit 1 } }' "$1"
}
p99_ms() { latency_ms "$1" 99%; }

error_count() { # non-2xx/3xx answers plus socket errors
  awk '/Non-2xx or 3xx responses:/ { n += $NF }
       /Socket errors:/ { for (i = 3; i <= NF; i += 2) { v = $(i + 1); sub(/,/, "", v); n += v } }
       END { print n + 0 }' "$1"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

log "warming up each target for $WARMUP"
for target in "${TARGETS[@]}"; do
  mapfile -t args < <(target_args "$target")
  run_wrk "$TMP/$target.warmup.txt" "$WARMUP" "$CONNECTIONS" "${URL[$target]}" "${args[@]}"
done

for ((round = 1; round <= ROUNDS; round++)); do
  for target in "${TARGETS[@]}"; do
    log "round $round/$ROUNDS: $target ($DURATION)"
    out="$TMP/$target.$round.txt"
    mapfile -t args < <(target_args "$target")
    run_wrk "$out" "$DURATION" "$CONNECTIONS" "${URL[$target]}" "${args[@]}"
    rps="$(requests_per_second "$out")"
    p99="$(p99_ms "$out")" || die "could not read the 99% latency of $target"
    [[ -n "$rps" && -n "$p99" ]] || { cat "$out" >&2; die "could not parse wrk's output for $target"; }
    RPS_RUNS[$target]+="$rps "
    P99_RUNS[$target]+="$p99 "
    ERRORS[$target]=$((${ERRORS[$target]:-0} + $(error_count "$out")))
  done
done

# ------------------------------------------------------------------ login --

log "registering the login user"
expect_status 201 "POST /api/accounts/register" -X POST -H 'Content-Type: application/json' -d "$REGISTER_BODY" "$SERVER/api/accounts/register"
expect_status 200 "POST /api/accounts/login" -X POST -H 'Content-Type: application/json' -d "$LOGIN_BODY" "$SERVER/api/accounts/login"

LOGIN_URL="$SERVER/api/accounts/login"
LOGIN_WRK=(-s "$LUA_DIR/login.lua" --timeout 10s)
# (--timeout 10s: a login refused after the server's 2 s hashing queue must count as its 503, not as a wrk timeout.)

log "logins: $DURATION at -c$LOGIN_CONNECTIONS"
LOGIN_OUT="$TMP/login.txt"
run_wrk "$LOGIN_OUT" "$DURATION" "$LOGIN_CONNECTIONS" "$LOGIN_URL" "${LOGIN_WRK[@]}"

# What a login burst does to the rest of the node: the cached read path measured while logins run.
log "product detail at -c$CONNECTIONS while logins run at -c$LOGIN_CONNECTIONS ($DURATION)"
MIXED_LOGIN_OUT="$TMP/mixed-login.txt"
MIXED_DETAIL_OUT="$TMP/mixed-detail.txt"
# (timeout itself is the background job, so stopping it on exit also stops its wrk.)
timeout $(($(seconds_of "$DURATION") + 30)) \
  wrk -t"$THREADS" -c"$LOGIN_CONNECTIONS" -d"$DURATION" --latency "${LOGIN_WRK[@]}" "$LOGIN_URL" >"$MIXED_LOGIN_OUT" 2>&1 &
LOGIN_LOAD_PID=$!
run_wrk "$MIXED_DETAIL_OUT" "$DURATION" "$CONNECTIONS" "$PRODUCT_URL"
if ! wait "$LOGIN_LOAD_PID"; then
  LOGIN_LOAD_PID=""
  cat "$MIXED_LOGIN_OUT" >&2
  die "wrk failed against $LOGIN_URL (beside the product detail run)"
fi
LOGIN_LOAD_PID=""

# ----------------------------------------------------------------- report --

fmt_rps() { awk -v v="$1" 'BEGIN { printf(v >= 10000 ? "%.1fk" : "%.0f", v >= 10000 ? v / 1000 : v) }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { printf(v >= 100 ? "%.0f ms" : v >= 10 ? "%.1f ms" : "%.2f ms", v) }'; }

login_row() { # label wrk-output
  local out="$2" rps p50 p99 requests non2xx statuses socket
  rps="$(awk -v v="$(requests_per_second "$out")" 'BEGIN { printf "%.1f", v }')"
  p50="$(latency_ms "$out" 50%)" || die "could not read the 50% latency of $1"
  p99="$(p99_ms "$out")" || die "could not read the 99% latency of $1"
  requests="$(awk '/requests in/ { print $1 }' "$out")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
  statuses="$(awk '/^Statuses:/ { $1 = ""; sub(/^ /, ""); print }' "$out")"
  socket="$(awk '/Socket errors:/ { $1 = ""; $2 = ""; sub(/^ +/, ""); print }' "$out")"
  echo "| $1 | $rps | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $requests | ${non2xx:-0} | ${statuses:-?} | ${socket:-none} |"
}

read -r -a base_runs <<<"${RPS_RUNS[plaintext]}"
base_rps="$(median "${base_runs[@]}")"
cpu_model="$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"

echo "## Results"
echo
echo "Machine: $(nproc) cores, ${cpu_model:-unknown CPU}, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM;" \
  "$(uname -sr); .NET $(dotnet --version) SDK; $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }'). wrk and the servers share the cores."
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "Command: \`$COMMAND\` (each run \`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\`, $WARMUP warm-up per target, $ROUNDS rounds in alternation, medians)"
echo
echo "| target | req/s (median) | ratio to baseline | p99 (median) | req/s of the $ROUNDS runs | errors |"
echo "| --- | ---: | ---: | ---: | --- | ---: |"
for target in "${TARGETS[@]}"; do
  read -r -a runs <<<"${RPS_RUNS[$target]}"
  read -r -a p99s <<<"${P99_RUNS[$target]}"
  rps="$(median "${runs[@]}")"
  ratio="$(awk -v a="$rps" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')"
  each=""
  for r in "${runs[@]}"; do each+="$(fmt_rps "$r") "; done
  echo "| ${TITLE[$target]} | $(fmt_rps "$rps") | $ratio | $(fmt_ms "$(median "${p99s[@]}")") | ${each% } | ${ERRORS[$target]} |"
done
echo
echo "Login (\`POST /api/accounts/login\`, PBKDF2-HMAC-SHA512 × 210,000 iterations; \`wrk -t$THREADS -c$LOGIN_CONNECTIONS -d$DURATION --latency --timeout 10s\`, one run each):"
echo
echo "| run | req/s | p50 | p99 | requests | non-2xx/3xx | statuses | socket errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
login_row "logins alone" "$LOGIN_OUT"
login_row "logins beside the product-detail load below" "$MIXED_LOGIN_OUT"

read -r -a detail_runs <<<"${RPS_RUNS[detail]}"
detail_alone="$(median "${detail_runs[@]}")"
mixed_rps="$(requests_per_second "$MIXED_DETAIL_OUT")"
mixed_p99="$(p99_ms "$MIXED_DETAIL_OUT")" || die "could not read the 99% latency of the mixed run"
echo
echo "Product detail while those logins run (\`wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency\`, one run, started with the logins):"
echo
echo "| target | req/s | ratio to baseline | ratio to detail alone | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
echo "| \`GET /api/products/{id}\` during logins | $(fmt_rps "$mixed_rps") |" \
  "$(awk -v a="$mixed_rps" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }') |" \
  "$(awk -v a="$mixed_rps" -v b="$detail_alone" 'BEGIN { printf "%.2f", a / b }') |" \
  "$(fmt_ms "$mixed_p99") | $(error_count "$MIXED_DETAIL_OUT") |"
log "done"
