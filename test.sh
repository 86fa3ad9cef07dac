#!/usr/bin/env bash
# FlashMall's one test command (CI runs it through .ci/run).
#
#   ./test.sh                  build once, run every test project
#   ./test.sh --filter EXPR    same, passing EXPR to `dotnet test --filter`
#   ./test.sh --exec CMD...    start the same throwaway servers, run CMD with the
#                              FLASHMALL_TEST_* variables set (no build, no tests),
#                              stop the servers; e.g. ./test.sh --exec bench/outbox.sh
#
# It installs PostgreSQL, Redis, RabbitMQ, Sphinx and Chromium (for tests/FlashMall.BrowserTests)
# from Debian's packages when they are missing, starts a throwaway PostgreSQL, Redis, Redis Cluster (three masters, no
# replicas), RabbitMQ and Sphinx searchd on free loopback ports in a temp dir, builds FlashMall.slnx
# once (Release), runs each tests/*/*.csproj once and tests/FlashMall.ApiTests
# twice (SQLite, then PostgreSQL + Redis + Redis Cluster + RabbitMQ; the RabbitMQ
# transport's contract tests run in both), stops the servers, removes the temp
# dir, and prints a summary whose last line is
#   Total: N passed, M failed, K skipped
# It exits non-zero when any run failed or printed no test summary.
# The PostgreSQL run and --exec get FLASHMALL_TEST_REDIS (standalone) and
# FLASHMALL_TEST_REDIS_CLUSTER (host:port,host:port,host:port); the SQLite run gets
# neither. (A test that restarts Redis starts a private redis-server of its own.)
# The PostgreSQL run and --exec also get FLASHMALL_TEST_PG_REPLICA (a connection
# string to a streaming replica of that PostgreSQL, read-only) and
# FLASHMALL_TEST_PG_REPLICA_CTL (a script: `stop` or `start` that replica).
# The PostgreSQL run and --exec also get FLASHMALL_TEST_SPHINX (a MySqlConnector
# connection string to searchd's SphinxQL listener, real-time index "products").
# Both runs and --exec get FLASHMALL_TEST_S3, the URL of an S3-compatible server
# (s3rver on the machine's Node.js, installed once into $S3RVER_HOME).
# After the tests it checks the alert rules in deploy/prometheus with promtool (Debian's
# prometheus package, installed when missing); a rule that does not load fails the run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1  # BrowserTests use /usr/bin/chromium
cd "$ROOT"

SOLUTION="FlashMall.slnx"
API_TESTS="tests/FlashMall.ApiTests/FlashMall.ApiTests.csproj"
PG_ROLE="flashmall"
PG_PASSWORD="flashmall-test-pw"
PG_DB="flashmall"
WAIT_SECONDS=30
S3RVER_VERSION="3.7.1"
S3RVER_HOME="${FLASHMALL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashmall}/s3rver-$S3RVER_VERSION"

usage() {
  echo "usage: $0 [--filter EXPR] | --exec CMD [ARGS...]"
}

FILTER=""
EXEC=()
while (($#)); do
  case "$1" in
    --exec)
      shift
      (($#)) || { usage >&2; exit 2; }
      EXEC=("$@"); break ;;
    --filter)
      if (($# < 2)); then usage >&2; exit 2; fi
      FILTER="$2"; shift 2 ;;
    --filter=*) FILTER="${1#--filter=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "test.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

# Connection settings from the caller's environment must not leak into the
# servers' setup or into Npgsql (which reads PG* variables as defaults).
unset PGHOST PGHOSTADDR PGPORT PGUSER PGPASSWORD PGPASSFILE PGDATABASE PGSERVICE \
      PGSERVICEFILE PGOPTIONS PGSSLMODE PGSSLROOTCERT PGTARGETSESSIONATTRS PGDATA

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_CLI_UI_LANGUAGE=en            # the summary lines parsed below are English
export MSBUILDDISABLENODEREUSE=1            # no MSBuild nodes left holding our pipes
export DOTNET_CLI_USE_MSBUILD_SERVER=0

# ---------------------------------------------------------------- helpers --

now_ms() {
  local t="${EPOCHREALTIME:-}"
  if [[ -n "$t" ]]; then
    t="${t/[.,]/}"
    echo $((10#$t / 1000))
  else
    echo $(($(date +%s%N) / 1000000))
  fi
}
fmt_ms() { printf '%d.%ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }
T_START=$(now_ms)
log() { printf '==> [%s +%s] %s\n' "$(date +%H:%M:%S)" "$(fmt_ms $(($(now_ms) - T_START)))" "$*"; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() { printf '==> ERROR: %s\n' "$*" >&2; exit 1; }

show_file() { # show_file TITLE FILE
  if [[ -s "$2" ]]; then
    echo "----- $1 ($2) -----" >&2
    tail -n 80 "$2" >&2 || true
    echo "----- end of $1 -----" >&2
  fi
}

find_pg_bin() { # prints the bin dir of the newest /usr/lib/postgresql/N
  local d v best="" bestv=-1
  for d in /usr/lib/postgresql/*/bin; do
    v="${d#/usr/lib/postgresql/}"; v="${v%%/*}"
    [[ "$v" =~ ^[0-9]+$ && -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/psql" ]] || continue
    if ((v > bestv)); then best="$d"; bestv=$v; fi
  done
  echo "$best"
}

as_pg() { # PostgreSQL refuses to run as root: use the postgres user then
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

# Free loopback ports: random ones, below the kernel's ephemeral range when there
# is room (so no outgoing connection can hold them), checked by connecting.
PORT_LO=20000 PORT_HI=60000
if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && ((eph_lo > PORT_LO + 2000)); then
  PORT_HI=$((eph_lo - 1))
fi
USED_PORTS=" "
PICKED_PORT=""
port_listening() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { # sets PICKED_PORT
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$((PORT_LO + (RANDOM * 32768 + RANDOM) % (PORT_HI - PORT_LO + 1)))
    [[ "$USED_PORTS" == *" $p "* ]] && continue
    if ! port_listening "$p"; then
      USED_PORTS+="$p "
      PICKED_PORT=$p
      return 0
    fi
  done
  die "no free loopback port found in $PORT_LO-$PORT_HI"
}

# -------------------------------------------------------- cleanup / traps --

TMP=""
PGBIN=""
PGDIR="" PGDATA=""
PGREPLICA=""         # data dir of the streaming replica of $PGDATA
RDIR=""
SXDIR=""            # Sphinx searchd: config, index, pid, logs
RCDIR=""             # Redis Cluster: one dir per node, $RCDIR/1 .. $RCDIR/3
MQDIR=""             # RabbitMQ: data, logs and its start/stop/restart scripts
MQ_NODE=""
MQ_JOB=""            # background job that starts RabbitMQ
S3DIR=""             # s3rver: its objects, log and pid
PG_JOB=""            # background job that initialises and starts PostgreSQL
STEP_PID=""          # session leader of the running build / test step
POLICY_RC_D=/usr/sbin/policy-rc.d
POLICY_STATE=""      # "", "created" or "replaced" while we changed it
SERVERS_STOPPED=0

restore_policy_rc_d() {
  case "$POLICY_STATE" in
    created) rm -f "$POLICY_RC_D" ;;
    replaced) mv -f "$POLICY_RC_D.flashmall-test.bak" "$POLICY_RC_D" ;;
  esac
  POLICY_STATE=""
}

group_running() { # any live (non-zombie) process in process group $1?
  local p
  if ! command -v pgrep >/dev/null 2>&1; then kill -0 -- "-$1" 2>/dev/null; return; fi
  for p in $(pgrep -g "$1" 2>/dev/null); do
    running "$p" && return 0
  done
  return 1
}

kill_step() { # ends the running build/test step and everything it started
  local pid="$STEP_PID" i
  [[ -n "$pid" ]] || return 0
  STEP_PID=""
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    group_running "$pid" || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

stop_postgres() {
  [[ -n "$PGDATA" && -f "$PGDATA/postmaster.pid" ]] || return 0
  local pid
  pid="$(head -n 1 "$PGDATA/postmaster.pid" 2>/dev/null || true)"
  if ! as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t "$WAIT_SECONDS" stop >/dev/null 2>&1; then
    if [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid"; then
      warn "PostgreSQL (pid $pid) did not stop in ${WAIT_SECONDS}s: killing it"
      # pg_ctl starts the postmaster in its own session: its group is ours only
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
}

stop_pg_replica() {
  [[ -n "$PGREPLICA" && -f "$PGREPLICA/postmaster.pid" ]] || return 0
  local pid
  pid="$(head -n 1 "$PGREPLICA/postmaster.pid" 2>/dev/null || true)"
  if ! as_pg "$PGBIN/pg_ctl" -D "$PGREPLICA" -m fast -w -t "$WAIT_SECONDS" stop >/dev/null 2>&1; then
    if [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid"; then
      warn "PostgreSQL replica (pid $pid) did not stop in ${WAIT_SECONDS}s: killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
}

# A daemon that exited stays a zombie until PID 1 reaps it (seconds, in some
# containers): count a zombie as gone.
running() {
  local st=""
  kill -0 "$1" 2>/dev/null || return 1
  [[ -r "/proc/$1/stat" ]] || return 0
  read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null || return 1
  [[ "$st" != Z ]]
}

stop_redis_dir() { # stop_redis_dir DIR NAME: the server whose pid and port files are in DIR
  [[ -n "$1" && -f "$1/redis.pid" ]] || return 0
  local pid port i
  pid="$(cat "$1/redis.pid" 2>/dev/null || true)"
  port="$(cat "$1/port" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  running "$pid" || return 0
  if [[ -n "$port" ]]; then
    timeout 10 redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  fi
  for ((i = 0; i < 100; i++)); do
    running "$pid" || return 0
    ((i == 50)) && kill -TERM "$pid" 2>/dev/null
    sleep 0.1
  done
  warn "$2 (pid $pid) did not stop: killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# The standalone Redis.
stop_redis() { stop_redis_dir "$RDIR" Redis; }

stop_s3() { # s3rver keeps nothing worth a graceful stop: end it by its pid
  [[ -n "$S3DIR" && -f "$S3DIR/pid" ]] || return 0
  local pid
  pid="$(cat "$S3DIR/pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -f "$S3DIR/pid"
}

stop_redis_cluster() { # the three nodes at once
  [[ -n "$RCDIR" ]] || return 0
  local n stoppers=()
  for n in 1 2 3; do
    stop_redis_dir "$RCDIR/$n" "Redis Cluster node $n" &
    stoppers+=($!)
  done
  wait "${stoppers[@]}" 2>/dev/null || true
}

stop_sphinx() {
  [[ -n "$SXDIR" && -f "$SXDIR/searchd.pid" ]] || return 0
  local pid i
  pid="$(cat "$SXDIR/searchd.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    running "$pid" || return 0
    sleep 0.1
  done
  warn "Sphinx searchd (pid $pid) did not stop: killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

stop_rabbitmq() {
  [[ -n "$MQDIR" && -x "$MQDIR/stop.sh" ]] || return 0
  timeout 90 "$MQDIR/stop.sh" >>"$TMP/rabbitmq-stop.log" 2>&1 || warn "RabbitMQ did not stop cleanly"
  # epmd outlives the node; it refuses to go while another Erlang node still uses it
  command -v epmd >/dev/null 2>&1 && epmd -kill >/dev/null 2>&1 || true
}

# Last resort for a server that died or was interrupted before writing its pid
# file: only processes whose command line names this run's own temp dir or port.
sweep_leftovers() {
  command -v pgrep >/dev/null 2>&1 || return 0
  local pids="" f
  [[ -n "$PGDATA" ]] && pids+=" $(pgrep -f -- "-D $PGDATA" || true)"
  [[ -n "$PGREPLICA" ]] && pids+=" $(pgrep -f -- "-D $PGREPLICA" || true)"
  [[ -n "$RDIR" && -f "$RDIR/port" ]] && pids+=" $(pgrep -f -- "redis-server 127\.0\.0\.1:$(cat "$RDIR/port")( |\$)" || true)"
  if [[ -n "$RCDIR" ]]; then
    for f in "$RCDIR"/*/port; do # a cluster node's title: "redis-server 127.0.0.1:PORT [cluster]"
      [[ -f "$f" ]] && pids+=" $(pgrep -f -- "redis-server 127\.0\.0\.1:$(cat "$f")( |\$)" || true)"
    done
  fi
  [[ -n "$MQ_NODE" ]] && pids+=" $(pgrep -f -- "-s?name $MQ_NODE( |\$)" || true)"
  [[ -n "$SXDIR" ]] && pids+=" $(pgrep -f -- "searchd --config $SXDIR/" || true)"
  pids="${pids//$'\n'/ }"
  if [[ -n "${pids// /}" ]]; then
    warn "killing leftover server processes:$pids"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
  fi
}

stop_servers() {
  ((SERVERS_STOPPED)) && return 0
  SERVERS_STOPPED=1
  if [[ -n "$PG_JOB" ]]; then # still starting: let it finish (its waits are bounded)
    wait "$PG_JOB" 2>/dev/null || true
    PG_JOB=""
  fi
  if [[ -n "$MQ_JOB" ]]; then
    wait "$MQ_JOB" 2>/dev/null || true
    MQ_JOB=""
  fi
  stop_pg_replica &
  local replica_stopper=$!
  stop_postgres &
  local pg_stopper=$!
  stop_rabbitmq &
  local mq_stopper=$!
  stop_redis_cluster &
  local cluster_stopper=$!
  stop_sphinx
  stop_redis
  stop_s3
  wait "$pg_stopper" 2>/dev/null || true
  wait "$replica_stopper" 2>/dev/null || true
  wait "$mq_stopper" 2>/dev/null || true
  wait "$cluster_stopper" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap '' INT TERM HUP   # finish cleaning up even when interrupted again
  set +e
  kill_step
  if ((!SERVERS_STOPPED)); then
    local t0
    t0=$(now_ms)
    stop_servers
    log "servers stopped in $(fmt_ms $(($(now_ms) - t0))) (exit $rc)"
  fi
  sweep_leftovers
  restore_policy_rc_d
  [[ -n "$TMP" && -d "$TMP" ]] && rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'echo; warn "interrupted"; exit 130' INT
trap 'warn "terminated"; exit 143' TERM
trap 'exit 129' HUP

# Unix socket paths are limited to ~107 bytes: keep the temp dir short.
tmp_base="${TMPDIR:-/tmp}"
((${#tmp_base} <= 60)) || tmp_base=/tmp
TMP="$(mktemp -d "$tmp_base/flashmall-test.XXXXXX")"
PGDIR="$TMP/pg"; PGDATA="$PGDIR/data"; PGREPLICA="$PGDIR/replica"; RDIR="$TMP/redis"; MQDIR="$TMP/rabbitmq"
RCDIR="$TMP/redis-cluster"; SXDIR="$TMP/sphinx"
S3DIR="$TMP/s3"
mkdir -p "$PGDIR" "$RDIR" "$RCDIR"/{1,2,3} "$MQDIR" "$SXDIR" "$S3DIR/data" "$TMP/runs"

# -------------------------------------------------------------- packages --

t0=$(now_ms)
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
[[ -n "$(find_pg_bin)" ]] || missing+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || missing+=(rabbitmq-server)
command -v searchd >/dev/null 2>&1 || missing+=(sphinxsearch)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus) # promtool checks deploy/prometheus/*.yml
# BrowserTests drive Debian's Chromium (never a downloaded one); a CJK font renders the store's Chinese in screenshots.
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc || -n "$(fc-list :lang=zh 2>/dev/null)" ]] || missing+=(fonts-wqy-microhei)
# The deploy/ configurations are checked by their own tools (and one test routes through HAProxy).
command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if ((${#missing[@]})); then
  if ((EUID != 0)); then
    die "missing Debian packages: ${missing[*]}. Run this script as root once so it can install them, or run: sudo apt-get install -y ${missing[*]}"
  fi
  log "installing Debian packages: ${missing[*]}"
  # Keep the maintainer scripts from starting the system services (put back afterwards).
  prc=none
  if [[ -x "$POLICY_RC_D" ]]; then prc=0; "$POLICY_RC_D" >/dev/null 2>&1 || prc=$?; fi
  if [[ "$prc" != 101 ]]; then
    if [[ -e "$POLICY_RC_D" ]]; then
      mv -f "$POLICY_RC_D" "$POLICY_RC_D.flashmall-test.bak"; POLICY_STATE=replaced
    else
      POLICY_STATE=created
    fi
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC_D"
    chmod 755 "$POLICY_RC_D"
  fi
  apt_log="$TMP/apt.log"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get -o DPkg::Lock::Timeout=300 update >"$apt_log" 2>&1 ||
     ! apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends \
         -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
         "${missing[@]}" >>"$apt_log" 2>&1; then
    show_file "apt-get output" "$apt_log"
    die "installing ${missing[*]} failed"
  fi
  restore_policy_rc_d
  log "packages installed in $(fmt_ms $(($(now_ms) - t0)))"
fi
PGBIN="$(find_pg_bin)"
[[ -n "$PGBIN" ]] || die "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin"
command -v redis-server >/dev/null 2>&1 || die "redis-server not found"
command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found"
command -v rabbitmq-server >/dev/null 2>&1 || die "rabbitmq-server not found"
command -v searchd >/dev/null 2>&1 || die "searchd (sphinxsearch) not found"
if [[ ! -f "$S3RVER_HOME/node_modules/s3rver/bin/s3rver.js" ]]; then
  log "installing s3rver $S3RVER_VERSION into $S3RVER_HOME"
  mkdir -p "$S3RVER_HOME"
  timeout 300 npm install --prefix "$S3RVER_HOME" --no-audit --no-fund --loglevel=error "s3rver@$S3RVER_VERSION" \
    >"$TMP/s3rver-install.log" 2>&1 || { show_file "npm install s3rver" "$TMP/s3rver-install.log"; die "installing s3rver failed"; }
fi
if ((EUID != 0)) && [[ "$(id -un)" != rabbitmq ]]; then
  die "RabbitMQ's Debian scripts run only as root or as the rabbitmq user: run $0 as root"
fi
if ((EUID == 0)) && ! id -u postgres >/dev/null 2>&1; then
  die "user 'postgres' does not exist (it comes with Debian's postgresql package)"
fi

# --------------------------------------------------------------- servers --

t_servers=$(now_ms)
pick_port; PG_PORT=$PICKED_PORT
pick_port; PG_REPLICA_PORT=$PICKED_PORT
pick_port; REDIS_PORT=$PICKED_PORT
pick_port; MQ_PORT=$PICKED_PORT
pick_port; MQ_DIST_PORT=$PICKED_PORT
pick_port; SPHINX_PORT=$PICKED_PORT
# Redis Cluster: a client port and a cluster bus port per node (the bus's default,
# port + 10000, may lie in the ephemeral range or above 65535).
RC_PORTS=() RC_BUS_PORTS=()
for n in 1 2 3; do
  pick_port; RC_PORTS+=("$PICKED_PORT")
  pick_port; RC_BUS_PORTS+=("$PICKED_PORT")
done

# RabbitMQ: the slowest to start (5-9 s), so first and in the background. Its start,
# stop and restart scripts stay in $MQDIR: the broker-restart test runs restart.sh.
MQ_NODE="fmtest$$@localhost"
cat >"$MQDIR/env.sh" <<EOF
export RABBITMQ_NODENAME='$MQ_NODE' RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$MQ_PORT
export RABBITMQ_DIST_PORT=$MQ_DIST_PORT RABBITMQ_PID_FILE='$MQDIR/rabbitmq.pid'
export RABBITMQ_MNESIA_BASE='$MQDIR/mnesia' RABBITMQ_LOG_BASE='$MQDIR/log'
export RABBITMQ_ENABLED_PLUGINS_FILE='$MQDIR/enabled_plugins' RABBITMQ_CONFIG_FILE='$MQDIR/rabbitmq'
EOF
echo "[]." >"$MQDIR/enabled_plugins"
cat >"$MQDIR/start.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
. '$MQDIR/env.sh'
rabbitmq-server -detached
# 'wait' first: await_startup fails at once while the node has not registered yet
timeout 90 rabbitmqctl -n '$MQ_NODE' wait --timeout 60 '$MQDIR/rabbitmq.pid'
timeout 90 rabbitmqctl -n '$MQ_NODE' await_startup --timeout 60
EOF
cat >"$MQDIR/stop.sh" <<EOF
#!/usr/bin/env bash
. '$MQDIR/env.sh'
if ! timeout 60 rabbitmqctl -n '$MQ_NODE' stop '$MQDIR/rabbitmq.pid'; then
  pid="\$(cat '$MQDIR/rabbitmq.pid' 2>/dev/null || true)"
  [[ -n "\$pid" ]] && kill -KILL "\$pid"
fi
rm -f '$MQDIR/rabbitmq.pid'
EOF
cat >"$MQDIR/restart.sh" <<EOF
#!/usr/bin/env bash
set -euo pipefail
'$MQDIR/stop.sh'
'$MQDIR/start.sh'
EOF
chmod 755 "$MQDIR/start.sh" "$MQDIR/stop.sh" "$MQDIR/restart.sh"
if ((EUID == 0)); then
  chmod 711 "$TMP"                      # let the postgres and rabbitmq users reach their dirs
  chown postgres:postgres "$PGDIR"
  chown -R rabbitmq:rabbitmq "$MQDIR"
fi
log "starting RabbitMQ ($MQ_NODE) on 127.0.0.1:$MQ_PORT"
(trap '' INT; "$MQDIR/start.sh") >"$TMP/rabbitmq-start.log" 2>&1 &
MQ_JOB=$!

# PostgreSQL: runs as a background job (initdb is the slow part) while Redis and the
# Redis Cluster start.
# Writes the port it ends up on to $PGDIR/port; its output goes to $TMP/pg-setup.log.
pg_setup() {
  trap '' INT            # an interrupt is handled by the main script's cleanup
  set -euo pipefail
  local port=$1 attempt
  as_pg timeout 120 "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth-host=scram-sha-256 \
    --auth-local=trust -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions
  cat >>"$PGDATA/postgresql.conf" <<EOF

# throwaway test server (test.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDIR'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
# a streaming replica (pg_basebackup) for the read/write split tests
wal_level = replica
max_wal_senders = 5
hot_standby = on
EOF
  for attempt in 1 2 3; do
    echo "starting PostgreSQL on 127.0.0.1:$port (attempt $attempt)"
    if as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDIR/postgres.log" -o "-p $port" \
         -w -t "$WAIT_SECONDS" start; then
      break
    fi
    # Someone took the port between the check and the bind: try another one.
    if ((attempt < 3)) && [[ ! -f "$PGDATA/postmaster.pid" ]] &&
       grep -qE 'could not (bind|create any TCP/IP sockets)|Address already in use' "$PGDIR/postgres.log"; then
      pick_port; port=$PICKED_PORT
      continue
    fi
    echo "PostgreSQL did not start"
    return 1
  done
  echo "$port" >"$PGDIR/port"
  local admin=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -p "$port" -U postgres -d postgres)
  # Two calls: CREATE DATABASE cannot run inside a multi-statement -c.
  "${admin[@]}" -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
  # The tests drop their databases WITH (FORCE), which may have to end an autovacuum worker.
  "${admin[@]}" -c "GRANT pg_signal_backend TO $PG_ROLE"
  "${admin[@]}" -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE"
  # The tests' own path: TCP + scram-sha-256 password.
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=10 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$port" -U "$PG_ROLE" -d "$PG_DB" -tAc "SELECT 1" >/dev/null

  # The streaming replica: a replication role (initdb's pg_hba.conf lets replication
  # connections in from 127.0.0.1 with a password), a base backup that writes its
  # standby.signal and primary_conninfo (-R), started on its own port. The tests pause
  # its replay to play a lagging replica: the app role may do that (and it replicates).
  "${admin[@]}" -c "CREATE ROLE ${PG_ROLE}_repl WITH REPLICATION LOGIN PASSWORD '$PG_PASSWORD'"
  # Function rights live in each database: template1 passes them on to the tests' databases.
  local db
  for db in template1 "$PG_DB"; do
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGDIR" -p "$port" -U postgres -d "$db" \
      -c "GRANT EXECUTE ON FUNCTION pg_wal_replay_pause(), pg_wal_replay_resume() TO $PG_ROLE"
  done
  as_pg env PGPASSWORD="$PG_PASSWORD" timeout 120 "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$port" \
    -U "${PG_ROLE}_repl" -D "$PGREPLICA" -R -X stream -c fast --no-sync
  local rport=$2
  cat >"$PGDIR/replica-ctl.sh" <<EOF
#!/usr/bin/env bash
# replica-ctl.sh stop|start: the throwaway streaming replica (tests stop it to see reads fall back)
set -euo pipefail
run() { if ((EUID == 0)); then runuser -u postgres -- "\$@"; else "\$@"; fi; }
case "\${1:-}" in
  stop) run "$PGBIN/pg_ctl" -D "$PGREPLICA" -m fast -w -t 30 stop ;;
  start) run "$PGBIN/pg_ctl" -D "$PGREPLICA" -l "$PGDIR/replica.log" -o "-p $rport" -w -t 60 start ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
EOF
  chmod 755 "$PGDIR/replica-ctl.sh"
  echo "starting the PostgreSQL replica on 127.0.0.1:$rport"
  "$PGDIR/replica-ctl.sh" start
  echo "$rport" >"$PGDIR/replica-port"
  PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=10 "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$rport" -U "$PG_ROLE" -d "$PG_DB" -tAc "SELECT pg_is_in_recovery()" | grep -qx t
}

log "starting PostgreSQL ($PGBIN), Redis and a Redis Cluster in $TMP"
pg_setup "$PG_PORT" "$PG_REPLICA_PORT" >"$TMP/pg-setup.log" 2>&1 &
PG_JOB=$!

# redis_launch DIR PORT [ARGS...]: starts one throwaway redis-server (no persistence;
# pid, log and port files in DIR; ARGS appended) and waits for its PONG. Returns 0
# when it answers, 2 when the port was taken (pick another), else 1. Leaves its
# command line in LAUNCHED.
LAUNCHED=()
redis_launch() {
  local dir=$1 port=$2 i pid pong=""
  shift 2
  LAUNCHED=(redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no
            --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@")
  echo "$port" >"$dir/port"
  rm -f "$dir/redis.pid"
  : >"$dir/redis.log"    # a retry must not see the previous attempt's errors
  "${LAUNCHED[@]}" || return 1
  for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
    pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"   # written once it listens
    if [[ -n "$pid" ]]; then
      pong="$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)"
      if [[ "$pong" == PONG ]]; then
        # the PONG must come from our server, not from one that took the port first
        if timeout 5 redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
             tr -d '\r' | grep -qx "process_id:$pid"; then
          return 0
        fi
        return 2
      fi
    fi
    # daemonized before binding: a taken port (or cluster bus port) shows up only in its log
    if grep -q 'Address already in use' "$dir/redis.log" 2>/dev/null; then return 2; fi
    sleep 0.1
  done
  return 1
}

redis_abandon() { # redis_abandon DIR: ends that server by pid, never through its port (maybe not ours)
  local pid i
  pid="$(cat "$1/redis.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    running "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# redis_start_node NAME DIR PORT [BUS]: redis_launch with up to three attempts, on
# new ports when one was taken; with BUS, a cluster node whose bus listens on BUS.
# Sets NODE_PORT and NODE_BUS to the ports it ended up with.
redis_start_node() {
  local name=$1 dir=$2 attempt rc args=()
  NODE_PORT=$3 NODE_BUS=${4:-}
  for attempt in 1 2 3; do
    args=()
    if [[ -n "$NODE_BUS" ]]; then
      rm -f "$dir/nodes.conf"  # written even by a node that then fails to bind
      args=(--cluster-enabled yes --cluster-config-file "$dir/nodes.conf"
            --cluster-node-timeout 5000 --cluster-port "$NODE_BUS")
    fi
    rc=0
    redis_launch "$dir" "$NODE_PORT" "${args[@]}" || rc=$?
    ((rc != 0)) || return 0
    ((rc == 2 && attempt < 3)) || return 1
    redis_abandon "$dir"
    pick_port
    if [[ -n "$NODE_BUS" ]]; then
      log "$name could not have port $NODE_PORT (bus $NODE_BUS), trying $PICKED_PORT"
      NODE_PORT=$PICKED_PORT
      pick_port; NODE_BUS=$PICKED_PORT
    else
      log "$name could not have port $NODE_PORT, trying $PICKED_PORT"
      NODE_PORT=$PICKED_PORT
    fi
  done
  return 1
}

redis_start() {
  local rc=0
  redis_start_node Redis "$RDIR" "$REDIS_PORT" || rc=$?
  REDIS_PORT=$NODE_PORT
  return "$rc"
}
if ! redis_start; then
  show_file "redis log" "$RDIR/redis.log"
  die "Redis did not answer PONG on 127.0.0.1:$REDIS_PORT within ${WAIT_SECONDS}s"
fi
log "Redis ready on 127.0.0.1:$REDIS_PORT ($(redis-server --version | grep -o 'v=[0-9.]*'))"


# Redis Cluster (FLASHMALL_TEST_REDIS_CLUSTER): three masters, no replicas, each in
# $RCDIR/N. Runs while PostgreSQL and RabbitMQ start in the background.
cluster_start() {
  local n i ok info nodes=()
  for n in 1 2 3; do
    if ! redis_start_node "Redis Cluster node $n" "$RCDIR/$n" "${RC_PORTS[n - 1]}" "${RC_BUS_PORTS[n - 1]}"; then
      show_file "Redis Cluster node $n log" "$RCDIR/$n/redis.log"
      die "Redis Cluster node $n did not answer PONG on 127.0.0.1:$NODE_PORT within ${WAIT_SECONDS}s"
    fi
    RC_PORTS[n - 1]=$NODE_PORT RC_BUS_PORTS[n - 1]=$NODE_BUS
    nodes+=("127.0.0.1:$NODE_PORT")
  done
  if ! timeout "$WAIT_SECONDS" redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 \
       --cluster-yes </dev/null >"$RCDIR/create.log" 2>&1; then
    show_file "redis-cli --cluster create output" "$RCDIR/create.log"
    die "could not create the Redis Cluster (${nodes[*]})"
  fi
  for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
    ok=0
    for n in 1 2 3; do
      info="$(timeout 5 redis-cli -h 127.0.0.1 -p "${RC_PORTS[n - 1]}" cluster info 2>/dev/null || true)"
      [[ "$info" == *cluster_state:ok* ]] && ok=$((ok + 1))
    done
    ((ok == 3)) && return 0
    sleep 0.1
  done
  for n in 1 2 3; do show_file "Redis Cluster node $n log" "$RCDIR/$n/redis.log"; done
  die "the Redis Cluster (${nodes[*]}) did not reach cluster_state:ok within ${WAIT_SECONDS}s"
}
# Sphinx searchd (FLASHMALL_TEST_SPHINX): one real-time index, the one the Search
# module's SphinxQL adapter writes (deploy/sphinx/sphinx.conf.example describes it).
sphinx_start() {
  local i
  sed -e "s|@DIR@|$SXDIR|g" -e "s|@PORT@|$SPHINX_PORT|g" deploy/sphinx/sphinx.conf.example >"$SXDIR/sphinx.conf"
  mkdir -p "$SXDIR/binlog"
  (cd "$SXDIR" && searchd --config "$SXDIR/sphinx.conf") >"$SXDIR/start.log" 2>&1 || return 1
  for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
    # searchd prints "listening" and may still exit on a bad index definition: wait for the pid too
    if port_listening "$SPHINX_PORT" && [[ -f "$SXDIR/searchd.pid" ]] && running "$(cat "$SXDIR/searchd.pid")"; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}
if ! sphinx_start; then
  show_file "searchd output" "$SXDIR/start.log"
  show_file "searchd log" "$SXDIR/searchd.log"
  die "Sphinx searchd did not listen on 127.0.0.1:$SPHINX_PORT within ${WAIT_SECONDS}s"
fi
log "Sphinx searchd ready on 127.0.0.1:$SPHINX_PORT ($(searchd --help 2>/dev/null | head -n 1 | grep -o 'Sphinx [0-9.a-z-]*' || echo Sphinx))"

t_cluster=$(now_ms)
cluster_start
REDIS_CLUSTER="127.0.0.1:${RC_PORTS[0]},127.0.0.1:${RC_PORTS[1]},127.0.0.1:${RC_PORTS[2]}"
log "Redis Cluster ready on $REDIS_CLUSTER in $(fmt_ms $(($(now_ms) - t_cluster)))"

# s3rver (FLASHMALL_TEST_S3): an S3-compatible server on Node.js, objects in $S3DIR/data.
# Any bucket may be created; it accepts the access key S3RVER with the secret S3RVER.
s3_start() {
  local attempt i
  for attempt in 1 2 3; do
    pick_port; S3_PORT=$PICKED_PORT
    : >"$S3DIR/log"
    node "$S3RVER_HOME/node_modules/s3rver/bin/s3rver.js" --address 127.0.0.1 --port "$S3_PORT" \
      --directory "$S3DIR/data" --silent >"$S3DIR/log" 2>&1 </dev/null &
    echo $! >"$S3DIR/pid"
    for ((i = 0; i < WAIT_SECONDS * 10; i++)); do
      if grep -q "listening on" "$S3DIR/log" 2>/dev/null && port_listening "$S3_PORT"; then return 0; fi
      kill -0 "$(cat "$S3DIR/pid")" 2>/dev/null || break
      sleep 0.1
    done
    stop_s3
    grep -q EADDRINUSE "$S3DIR/log" 2>/dev/null || return 1
  done
  return 1
}
if ! s3_start; then
  show_file "s3rver log" "$S3DIR/log"
  die "s3rver did not listen on 127.0.0.1:$S3_PORT within ${WAIT_SECONDS}s"
fi
S3_URL="http://127.0.0.1:$S3_PORT"
log "s3rver $S3RVER_VERSION ready on $S3_URL"

pg_rc=0
wait "$PG_JOB" || pg_rc=$?
PG_JOB=""
if ((pg_rc != 0)); then
  show_file "PostgreSQL setup output" "$TMP/pg-setup.log"
  show_file "PostgreSQL server log" "$PGDIR/postgres.log"
  show_file "PostgreSQL replica log" "$PGDIR/replica.log"
  die "PostgreSQL setup failed (exit $pg_rc)"
fi
PG_PORT="$(cat "$PGDIR/port")"
PG_REPLICA_PORT="$(cat "$PGDIR/replica-port")"
log "PostgreSQL ready on 127.0.0.1:$PG_PORT (role $PG_ROLE, database $PG_DB), streaming replica on 127.0.0.1:$PG_REPLICA_PORT"

mq_rc=0
wait "$MQ_JOB" || mq_rc=$?
MQ_JOB=""
if ((mq_rc != 0)); then
  show_file "RabbitMQ start output" "$TMP/rabbitmq-start.log"
  for f in "$MQDIR"/log/*.log; do show_file "RabbitMQ log" "$f"; done
  die "RabbitMQ did not start (exit $mq_rc)"
fi
log "RabbitMQ ready on 127.0.0.1:$MQ_PORT"
log "servers started in $(fmt_ms $(($(now_ms) - t_servers)))"

PG_CONN="Host=127.0.0.1;Port=$PG_PORT;Username=$PG_ROLE;Password=$PG_PASSWORD;Database=$PG_DB"
PG_REPLICA_CONN="Host=127.0.0.1;Port=$PG_REPLICA_PORT;Username=$PG_ROLE;Password=$PG_PASSWORD;Database=$PG_DB"
PG_REPLICA_ENV="FLASHMALL_TEST_PG_REPLICA=$PG_REPLICA_CONN|FLASHMALL_TEST_PG_REPLICA_CTL=$PGDIR/replica-ctl.sh"
REDIS_CONN="127.0.0.1:$REDIS_PORT"
MQ_URI="amqp://guest:guest@127.0.0.1:$MQ_PORT/"
SPHINX_CONN="Server=127.0.0.1;Port=$SPHINX_PORT;SslMode=None;Connection Reset=false"


# ---------------------------------------------------------- build / test --

# Runs a command in its own session (so an interrupt can end it and all its
# children: dotnet, testhost, ...), its output shown and saved to a file.
run_step() { # run_step OUTFILE CMD...
  local out=$1 rc=0
  shift
  setsid -w bash -c 'set -o pipefail; "$@" </dev/null 2>&1 | tee "$0"' "$out" "$@" &
  STEP_PID=$!
  wait "$STEP_PID" || rc=$?
  STEP_PID=""
  return "$rc"
}

if ((${#EXEC[@]})); then
  log "running ${EXEC[*]}"
  exec_rc=0
  run_step "$TMP/runs/exec.log" env FLASHMALL_TEST_POSTGRES="$PG_CONN" FLASHMALL_TEST_REDIS="$REDIS_CONN" \
    FLASHMALL_TEST_PG_REPLICA="$PG_REPLICA_CONN" FLASHMALL_TEST_PG_REPLICA_CTL="$PGDIR/replica-ctl.sh" \
    FLASHMALL_TEST_REDIS_CLUSTER="$REDIS_CLUSTER" \
    FLASHMALL_TEST_RABBITMQ="$MQ_URI" FLASHMALL_TEST_RABBITMQ_RESTART="$MQDIR/restart.sh" FLASHMALL_TEST_S3="$S3_URL" \
    FLASHMALL_TEST_SPHINX="$SPHINX_CONN" "${EXEC[@]}" || exec_rc=$?
  exit "$exec_rc"
fi

BUILD_OK=1
NO_BUILD=(--no-build)
if [[ -f "$SOLUTION" ]]; then
  log "building $SOLUTION (Release)"
  t0=$(now_ms)
  if run_step "$TMP/runs/build.log" dotnet build "$SOLUTION" -c Release --nologo -v minimal \
       --disable-build-servers; then
    log "build succeeded in $(fmt_ms $(($(now_ms) - t0)))"
  else
    BUILD_OK=0
    log "BUILD FAILED after $(fmt_ms $(($(now_ms) - t0)))"
  fi
else
  log "$SOLUTION not found: skipping the solution build (each test project builds itself)"
  NO_BUILD=()
fi

FILTER_ARGS=()
[[ -n "$FILTER" ]] && FILTER_ARGS=(--filter "$FILTER")
CLEAN_ENV=(env -u FLASHMALL_TEST_PROVIDER -u FLASHMALL_TEST_POSTGRES -u FLASHMALL_TEST_REDIS
           -u FLASHMALL_TEST_REDIS_CLUSTER -u FLASHMALL_TEST_SPHINX -u FLASHMALL_TEST_PG_REPLICA -u FLASHMALL_TEST_PG_REPLICA_CTL
           -u FLASHMALL_TEST_RABBITMQ -u FLASHMALL_TEST_RABBITMQ_RESTART -u FLASHMALL_TEST_S3)
MQ_ENV="FLASHMALL_TEST_RABBITMQ=$MQ_URI|FLASHMALL_TEST_RABBITMQ_RESTART=$MQDIR/restart.sh"
S3_ENV="FLASHMALL_TEST_S3=$S3_URL"
REDIS_ENV="FLASHMALL_TEST_REDIS=$REDIS_CONN|FLASHMALL_TEST_REDIS_CLUSTER=$REDIS_CLUSTER"

# Each run: name, project, extra env (NAME=VALUE ...). Filled in below.
RUN_NAMES=() RUN_PROJECTS=() RUN_ENVS=()
add_run() { RUN_NAMES+=("$1"); RUN_PROJECTS+=("$2"); RUN_ENVS+=("$3"); }

shopt -s nullglob
for proj in tests/*/*.csproj; do
  [[ "$proj" == tests/FlashMall.ApiTests/* ]] && continue
  # The operators' tool migrates both providers: its tests get the PostgreSQL server too.
  if [[ "$proj" == tests/FlashMall.CliTests/* ]]; then
    add_run "$(basename "$(dirname "$proj")")" "$proj" "FLASHMALL_TEST_POSTGRES=$PG_CONN"
    continue
  fi
  add_run "$(basename "$(dirname "$proj")")" "$proj" ""
done
shopt -u nullglob
if [[ -f "$API_TESTS" ]]; then
  add_run "ApiTests[Sqlite]" "$API_TESTS" "FLASHMALL_TEST_PROVIDER=Sqlite|$MQ_ENV|$S3_ENV"
  add_run "ApiTests[Postgres]" "$API_TESTS" \
    "FLASHMALL_TEST_PROVIDER=Postgres|FLASHMALL_TEST_POSTGRES=$PG_CONN|$PG_REPLICA_ENV|$REDIS_ENV|$MQ_ENV|$S3_ENV|FLASHMALL_TEST_SPHINX=$SPHINX_CONN"
else
  log "$API_TESTS not found: skipping the API test runs"
fi

# Sums the summary lines of one run's output into C_PASSED/C_FAILED/C_SKIPPED.
# Returns 1 when the output has no summary line at all.
#   VSTest:  "Passed!  - Failed:     0, Passed:    42, Skipped:     0, Total:    42, ..."
#   Microsoft.Testing.Platform:  "Test run summary: ..." then "failed: N",
#            "succeeded: N", "skipped: N" lines.
parse_counts() {
  local file=$1 line found=0 in_mtp=0
  C_PASSED=0 C_FAILED=0 C_SKIPPED=0
  while IFS= read -r line; do
    line="${line//$'\r'/}"
    if [[ "$line" =~ Failed:\ *([0-9]+),\ *Passed:\ *([0-9]+),\ *Skipped:\ *([0-9]+),\ *Total:\ *([0-9]+) ]]; then
      C_FAILED=$((C_FAILED + BASH_REMATCH[1]))
      C_PASSED=$((C_PASSED + BASH_REMATCH[2]))
      C_SKIPPED=$((C_SKIPPED + BASH_REMATCH[3]))
      found=1 in_mtp=0
    elif [[ "$line" =~ ^\ *Test\ run\ summary: ]]; then
      in_mtp=1 found=1
    elif ((in_mtp)) && [[ "$line" =~ ^\ *(total|failed|succeeded|skipped|duration|error):\ *([0-9]*) ]]; then
      case "${BASH_REMATCH[1]}" in
        failed) C_FAILED=$((C_FAILED + ${BASH_REMATCH[2]:-0})) ;;
        succeeded) C_PASSED=$((C_PASSED + ${BASH_REMATCH[2]:-0})) ;;
        skipped) C_SKIPPED=$((C_SKIPPED + ${BASH_REMATCH[2]:-0})) ;;
      esac
    elif ((in_mtp)) && [[ -n "${line// /}" ]]; then
      in_mtp=0
    fi
  done < <(sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$file")
  ((found))
}

R_STATUS=() R_PASSED=() R_FAILED=() R_SKIPPED=() R_TIME=()
for i in "${!RUN_NAMES[@]}"; do
  name="${RUN_NAMES[$i]}"
  proj="${RUN_PROJECTS[$i]}"
  out="$TMP/runs/$i.log"
  : >"$out"
  if ((!BUILD_OK)); then
    R_STATUS+=("not run (build failed)"); R_PASSED+=(0); R_FAILED+=(0); R_SKIPPED+=(0); R_TIME+=(-)
    continue
  fi
  envs=()
  if [[ -n "${RUN_ENVS[$i]}" ]]; then IFS='|' read -r -a envs <<<"${RUN_ENVS[$i]}"; fi
  log "test run $name: dotnet test $proj${FILTER:+ --filter $FILTER}${envs[*]:+ with ${envs[*]}}"
  t0=$(now_ms)
  rc=0
  run_step "$out" "${CLEAN_ENV[@]}" "${envs[@]}" \
    dotnet test "$proj" -c Release "${NO_BUILD[@]}" --nologo --disable-build-servers "${FILTER_ARGS[@]}" || rc=$?
  dt=$(($(now_ms) - t0))
  R_TIME+=("$(fmt_ms "$dt")")
  if parse_counts "$out"; then
    if ((rc == 0 && C_FAILED == 0)); then status=ok; else status="FAILED (exit $rc)"; fi
  elif ((rc == 0)) && [[ -n "$FILTER" ]] && grep -q 'No test matches the given testcase filter' "$out"; then
    status="ok (no test matches the filter)"
  elif ((rc == 0)) && ! grep -q '^Test run for ' "$out"; then
    status="ok (not a test project)"         # e.g. a shared helper library under tests/
  else
    status="NO SUMMARY (exit $rc: build error or crash)"
  fi
  R_STATUS+=("$status"); R_PASSED+=("$C_PASSED"); R_FAILED+=("$C_FAILED"); R_SKIPPED+=("$C_SKIPPED")
  log "test run $name finished in $(fmt_ms "$dt"): $status, passed $C_PASSED, failed $C_FAILED, skipped $C_SKIPPED"
done

# The alert rules shipped in deploy/prometheus must load in Prometheus (promtool, Debian's
# prometheus package). The metric names they use are checked against a node's /metrics by
# ObservabilityTests.
rules=(deploy/prometheus/*.yml)
if [[ -f "${rules[0]}" ]]; then
  log "promtool check rules ${rules[*]}"
  t0=$(now_ms)
  rc=0
  run_step "$TMP/runs/promtool.log" promtool check rules "${rules[@]}" || rc=$?
  RUN_NAMES+=("promtool check rules")
  R_TIME+=("$(fmt_ms $(($(now_ms) - t0)))"); R_SKIPPED+=(0)
  if ((rc == 0)); then
    R_STATUS+=(ok); R_PASSED+=("${#rules[@]}"); R_FAILED+=(0)
  else
    R_STATUS+=("FAILED (exit $rc)"); R_PASSED+=(0); R_FAILED+=(1)
  fi
fi

t0=$(now_ms)
stop_servers
log "servers stopped in $(fmt_ms $(($(now_ms) - t0)))"

# ---------------------------------------------------------------- summary --

total_p=0 total_f=0 total_s=0
failed_runs=() nosummary_runs=()
echo
printf '%-32s %-44s %7s %7s %8s %9s\n' RUN RESULT PASSED FAILED SKIPPED TIME
printf '%-32s %-44s %7s %7s %8s %9s\n' ---- ------ ------ ------ ------- ----
if ((!BUILD_OK)); then
  printf '%-32s %-44s %7s %7s %8s %9s\n' "build" "FAILED" - - - -
fi
for i in "${!RUN_NAMES[@]}"; do
  printf '%-32s %-44s %7s %7s %8s %9s\n' "${RUN_NAMES[$i]}" "${R_STATUS[$i]}" \
    "${R_PASSED[$i]}" "${R_FAILED[$i]}" "${R_SKIPPED[$i]}" "${R_TIME[$i]}"
  total_p=$((total_p + R_PASSED[i])); total_f=$((total_f + R_FAILED[i])); total_s=$((total_s + R_SKIPPED[i]))
  case "${R_STATUS[$i]}" in
    ok* | not\ run*) ;;
    NO\ SUMMARY*) nosummary_runs+=("${RUN_NAMES[$i]}") ;;
    *) failed_runs+=("${RUN_NAMES[$i]}") ;;
  esac
done
echo
# CI keeps only the tail of this output: name each failed test and the start of its message
# here, after the table, so a failure can be read without the whole log.
for i in "${!RUN_NAMES[@]}"; do
  case "${R_STATUS[$i]}" in ok* | not\ run*) continue ;; esac
  [[ -f "$TMP/runs/$i.log" ]] || continue
  echo "failed in ${RUN_NAMES[$i]}:"
  sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$TMP/runs/$i.log" | awk '
    /^ *Failed .+ \[[^]]+\] *$/ { if (++n > 10) exit; sub(/^ */, ""); print "  " $0; msg = 0; next }
    n && /^ *Error Message:/ { msg = 1; shown = 0; next }
    n && /^ *Stack Trace:/ { msg = 0; next }
    msg && shown < 4 { sub(/^ */, ""); print "      " substr($0, 1, 240); shown++ }'
done
log "total time $(fmt_ms $(($(now_ms) - T_START)))"

status=0
if ((!BUILD_OK)); then
  echo "FAILED: the build of $SOLUTION failed; no test was run."
  status=1
fi
if ((${#failed_runs[@]})); then
  echo "FAILED: ${#failed_runs[@]} run(s) failed: ${failed_runs[*]}"
  status=1
fi
if ((${#nosummary_runs[@]})); then
  echo "FAILED: ${#nosummary_runs[@]} run(s) printed no test summary (build error or crash), counted as failed: ${nosummary_runs[*]}"
  status=1
fi
if ((${#RUN_NAMES[@]} == 0)); then
  echo "FAILED: no test project found (tests/*/*.csproj)."
  status=1
fi
echo "Total: $total_p passed, $total_f failed, $total_s skipped"
exit "$status"
