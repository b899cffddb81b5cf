#!/usr/bin/env bash
# Load benchmark of Beer Locker (`make bench`), optionally side by side with the
# reference servers of ../shared/peers (PEERS=1), on a store holding 10^6
# tokens (SCALE=1) and with codes, tokens and rate limits in Redis (REDIS=1).
# The measuring approach is the peers' own (peers/run.sh).
#
#   bench/run.sh                        # W1-W5 on Beer Locker, REPS runs each
#   PEERS=1 bench/run.sh                # + node-oauth2-server, go-oauth2, ceiling on W1-W3
#   SCALE=1 bench/run.sh                # + W2 and W1 again on a store loaded with
#                                       #   10^6 tokens, 10^5 beers, 10^4 users,
#                                       #   10^5 grants, 10^5 live revocations
#   REDIS=1 bench/run.sh                # + W1 and W2 again with REDIS_URL set, on a
#                                       #   redis-server of its own; Redis commands/request
#   REPS=1 DURATION=3s bench/run.sh     # quick and noisy
#
# The modes combine: each adds its runs to the W1-W5 runs on Beer Locker alone.
#
# Knobs (environment): REPS (3), DURATION (10s), WARMUP (2s), THREADS (2),
# CONNS (32), WORKLOADS ("W1 W2 W3 W4 W5"), OTHER_MAX (15, % of the machine
# other processes may use before a run is repeated), MAX_TRIES (4),
# QUIET_MAX (60, seconds to wait for a quiet machine before each run),
# BENCH_PORT (3010), PEERS_DIR (<repo>/../shared/peers), SCALE_TOKENS (1000000),
# SCALE_BEERS (100000), SCALE_USERS (10000), SCALE_GRANTS (100000),
# SCALE_REVOCATIONS (100000, all live: what every instance holds), REDIS_WORKLOADS ("W1 W2"; those of
# WORKLOADS that REDIS=1 runs again with Redis), REDIS_PORT (a free one),
# IDTOKEN (1: also measure the cost of an ID token with the Go benchmarks),
# PEER_LIST ("node go ceiling": the peers PEERS=1 runs),
# OUTDIR (bench/results/<timestamp>). The server inherits the rest of the
# environment, e.g. TOKEN_CACHE_TTL=0 for W2 to read every token from its store.
#
# Every run gets a fresh server process (so VmHWM is that run's) and, for
# Beer Locker, a fresh data directory seeded through the public API (SCALE
# runs: a fresh copy of the loaded directory). Servers alternate inside each
# rep (beerlocker [beerlocker@scale] [beerlocker@redis] [node go-oauth2 ceiling])
# so drift on the machine hits all of them alike. Before each run, curl sends
# the exact request wrk will send and the script stops unless it answers 2xx.
# A run with any non-2xx response or socket error is INVALID and left out of
# the medians.
#
# REDIS=1 starts one redis-server (loopback, a free port, no persistence:
# --save "" --appendonly no) in the work directory for the whole invocation,
# empties it (FLUSHALL) before each run with Redis and stops it on exit. Its
# INFO commandstats before and after the measured part of each such run,
# divided by the requests wrk counted, give the Redis commands per request;
# MONITOR during the warm-up tells the commands Beer Locker sends from those
# its Lua scripts run (see census_start). The Redis table is in table.md and
# redis.md.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PEERS="${PEERS:-0}"
SCALE="${SCALE:-0}"
REDIS="${REDIS:-0}"
IDTOKEN="${IDTOKEN:-1}"
REDIS_PORT="${REDIS_PORT:-}"
REPS="${REPS:-3}"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
THREADS="${THREADS:-2}"
CONNS="${CONNS:-32}"
OTHER_MAX="${OTHER_MAX:-15}"
MAX_TRIES="${MAX_TRIES:-4}"
QUIET_MAX="${QUIET_MAX:-60}"
BENCH_PORT="${BENCH_PORT:-3010}"
PEERS_DIR="${PEERS_DIR:-$REPO/../shared/peers}"
SCALE_TOKENS="${SCALE_TOKENS:-1000000}"
SCALE_BEERS="${SCALE_BEERS:-100000}"
SCALE_USERS="${SCALE_USERS:-10000}"
SCALE_GRANTS="${SCALE_GRANTS:-100000}"
SCALE_REVOCATIONS="${SCALE_REVOCATIONS:-100000}"
read -r -a WORKLOADS <<<"${WORKLOADS:-W1 W2 W3 W4 W5}"
read -r -a REDIS_WORKLOADS <<<"${REDIS_WORKLOADS:-W1 W2}"
OUTDIR="${OUTDIR:-$REPO/bench/results/$(date -u +%Y%m%d-%H%M%S)}"
WORK="$(mktemp -d -t beerlocker-bench.XXXXXX)"
SECRET_KEY="bench-secret-key-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
START_TS=$(date +%s)

on() { [[ $1 == 1 || $1 == true || $1 == yes ]]; }
DUR_S="${DURATION%s}"
[[ $DUR_S =~ ^[0-9]+$ ]] || { echo "DURATION must be whole seconds, like 10s" >&2; exit 2; }
DURATION="${DUR_S}s"

USER_NAME=alice
USER_PASS=s3cret-pass

# Servers. beerlocker@scale is Beer Locker on the loaded store (SCALE=1),
# beerlocker@redis Beer Locker with REDIS_URL set (REDIS=1).
declare -A PORT=([beerlocker]=$BENCH_PORT [beerlocker@scale]=$BENCH_PORT [beerlocker@redis]=$BENCH_PORT
  [node]=3001 [go]=3002 [ceiling]=3003)
declare -A SRV_NAME=([beerlocker]="beerlocker" [beerlocker@scale]="beerlocker @${SCALE_TOKENS} tokens"
  [beerlocker@redis]="beerlocker + Redis" [node]="node-oauth2-server" [go]="go-oauth2" [ceiling]="ceiling")
read -r -a PEER_LIST <<<"${PEER_LIST:-node go ceiling}"

# Workloads. Peers have W1-W3 only; for W4 and W5 the ratios use the peers'
# W2 (a GET of the same list) and W1 (a POST) instead.
declare -A WL_MODE=([W1]=client_credentials [W2]=beers [W3]=password [W4]=beers_basic [W5]=beers_post)
declare -A WL_PATH=([W1]=/api/oauth2/token [W2]=/api/beers [W3]=/api/oauth2/token [W4]=/api/beers [W5]=/api/beers)
declare -A PEER_PATH=([W1]=/oauth/token [W2]=/api/beers [W3]=/oauth/token)
declare -A WL_REF=([W1]=W1 [W2]=W2 [W3]=W3 [W4]=W2 [W5]=W1)
declare -A WL_DESC=([W1]="POST token, client_credentials" [W2]="GET /api/beers, Bearer"
  [W3]="POST token, password grant" [W4]="GET /api/beers, Basic" [W5]="POST /api/beers, Bearer")

SERVER_PID=""
REDIS_PID=""
CENSUS_CLI="" CENSUS_CUT=""
cleanup() {
  local pid
  for pid in "$CENSUS_CLI" "$CENSUS_CUT" "$SERVER_PID" "$REDIS_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# ---------------------------------------------------------------- tools and builds
ensure_tools() {
  if ! command -v wrk >/dev/null; then
    log "installing wrk (apt)"
    apt-get update -q >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -q wrk >/dev/null
  fi
  command -v curl >/dev/null || die "curl is required"
  command -v go >/dev/null || die "go is required"
  if on "$PEERS"; then
    command -v node >/dev/null || die "node is required for PEERS=1"
    [[ -d $PEERS_DIR/ceiling ]] || die "no peers in $PEERS_DIR (set PEERS_DIR)"
  fi
  if on "$REDIS"; then
    command -v redis-server >/dev/null || die "redis-server is required for REDIS=1"
    command -v redis-cli >/dev/null || die "redis-cli is required for REDIS=1"
    command -v stdbuf >/dev/null || die "stdbuf (coreutils) is required for REDIS=1"
  fi
}

build() {
  log "building beerlocker into $WORK"
  (cd "$REPO" && go build -o "$WORK/beerlocker" .)
  if on "$SCALE"; then (cd "$REPO" && go build -o "$WORK/load" ./bench/load); fi
  if on "$PEERS"; then
    log "building peers from $PEERS_DIR"
    (cd "$PEERS_DIR/go-oauth2" && go build -trimpath -o "$WORK/peer-go-oauth2" .)
    (cd "$PEERS_DIR/ceiling" && go build -trimpath -o "$WORK/peer-ceiling" .)
    if [[ ! -d "$PEERS_DIR/node-oauth2-server/node_modules" ]]; then
      (cd "$PEERS_DIR/node-oauth2-server" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
    fi
  fi
}

# ---------------------------------------------------------------- HTTP helpers
req() { # curl args... -> sets STATUS and BODY
  local out
  out=$(curl -s --max-time 30 -w '\n%{http_code}' "$@") || true
  STATUS=$(tail -n1 <<<"$out")
  BODY=$(sed '$d' <<<"$out")
}

must() { # want_status label curl args...
  local want=$1 label=$2; shift 2
  req "$@"
  [[ $STATUS == "$want" ]] || die "$label: expected $want, got $STATUS: $(cut -c1-300 <<<"$BODY")"
}

json_field() { # name <<<json -> value of the first "name":"value"
  sed -n 's/.*"'"$1"'":"\([^"]*\)".*/\1/p'
}

# ---------------------------------------------------------------- servers
port_free() { ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; }

start_beerlocker() { # data_dir [redis_url] -> sets SERVER_PID
  local dir=$1 redis_url=${2:-} port=$BENCH_PORT
  port_free "$port" || die "port $port is already in use (set BENCH_PORT)"
  # Request logs (one JSON line per request) go to /dev/null: the server
  # still formats and writes them, as in production, without filling the disk.
  # REDIS_URL is always set, so that one in the caller's environment cannot
  # turn a run without Redis into one with it.
  ADDR="127.0.0.1:$port" DATA_DIR="$dir" SECRET_KEY="$SECRET_KEY" PUBLIC_URL="http://127.0.0.1:$port" \
    REDIS_URL="$redis_url" "$WORK/beerlocker" >/dev/null 2>"$WORK/beerlocker.err" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if curl -fs -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "beerlocker did not start:"; cat "$WORK/beerlocker.err" >&2; exit 1
}

start_peer() { # name -> sets SERVER_PID
  local name=$1 port=${PORT[$1]}
  port_free "$port" || die "port $port is already in use; refusing to start $name"
  case $name in
    node)    NODE_ENV=production PORT=$port node "$PEERS_DIR/node-oauth2-server/server.js" >"$WORK/$name.log" 2>&1 & ;;
    go)      "$WORK/peer-go-oauth2" -addr "127.0.0.1:$port" >"$WORK/$name.log" 2>&1 & ;;
    ceiling) "$WORK/peer-ceiling" -addr "127.0.0.1:$port" >"$WORK/$name.log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then return 0; fi
    sleep 0.1
  done
  log "$name did not start:"; cat "$WORK/$name.log" >&2; exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# ---------------------------------------------------------------- REDIS: a redis-server of our own
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# start_redis starts redis-server on a free loopback port (REDIS_PORT if
# set), with no persistence and its files under $WORK/redis, and sets
# REDIS_PID, REDIS_PORT and REDIS_URL. cleanup stops it.
start_redis() {
  local dir="$WORK/redis" want=$REDIS_PORT try p
  mkdir -p "$dir"
  for try in $(seq 1 20); do
    p=${want:-$(( 20000 + RANDOM % 20000 ))}
    # A port that accepts a connection is taken.
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      [[ -n $want ]] && die "REDIS_PORT $want is already in use"
      continue
    fi
    redis-server --bind 127.0.0.1 --port "$p" --dir "$dir" --save "" --appendonly no \
      --daemonize no --logfile "$dir/redis.log" &
    REDIS_PID=$!
    REDIS_PORT=$p
    local i
    for i in $(seq 1 50); do
      if [[ $(rcli ping 2>/dev/null) == PONG ]]; then
        REDIS_URL="redis://127.0.0.1:$p/0"
        log "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$p (pid $REDIS_PID, no persistence)"
        return 0
      fi
      kill -0 "$REDIS_PID" 2>/dev/null || break # lost a race for the port
      sleep 0.1
    done
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
    [[ -n $want ]] && break
  done
  log "redis-server did not start:"; cat "$dir/redis.log" >&2 2>/dev/null || true; exit 1
}

# redis_calls prints "command=calls,..." from INFO commandstats, without the
# INFO commands we send ourselves.
redis_calls() {
  rcli info commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_\([^:]*\):calls=\([0-9]*\),.*/\1=\2/p' | grep -v '^info=' | paste -sd, -
}

# per_request "command=sent:script,..." requests -> "sent + script" calls per request
per_request() {
  awk -v c="$1" -v n="$2" 'BEGIN{ k = split(c, x, ",")
    for (i = 1; i <= k; i++) { if (split(x[i], v, "[=:]") == 3) { a += v[2]; b += v[3] } }
    printf "%.3f sent + %.3f in scripts", n ? a/n : 0, n ? b/n : 0 }'
}

# calls_delta before after -> "command=calls,..." of what ran in between,
# largest first, commands that did not run left out.
calls_delta() {
  awk -v a="$1" -v b="$2" 'BEGIN{
    n = split(a, x, ","); for (i = 1; i <= n; i++) { split(x[i], kv, "="); before[kv[1]] = kv[2] }
    n = split(b, x, ","); for (i = 1; i <= n; i++) { split(x[i], kv, "="); d = kv[2] - before[kv[1]]; if (d > 0) print d "\t" kv[1] }
  }' | sort -k1,1nr | awk -F'\t' '{printf "%s%s=%s", (NR>1 ? "," : ""), $2, $1}'
}

# INFO commandstats counts a command a Lua script runs (redis.call) like one
# a client sends, so on its own it cannot tell round trips from the work
# inside an EVALSHA. The census tells them apart: MONITOR, which marks a
# script's commands "[0 lua]", watches the warm-up (never the measured
# part: it slows Redis down), and split_calls divides each command's
# measured calls in the proportion the census saw.
census_start() {
  rm -f "$WORK/monitor.fifo" "$WORK/census.raw"
  mkfifo "$WORK/monitor.fifo"
  # cut keeps the time, "[db", "source]", the command and its first
  # argument (a subcommand). Both write line by line (stdbuf), so that the
  # markers below show in census.raw as soon as Redis has seen them.
  stdbuf -oL cut -d' ' -f1-5 <"$WORK/monitor.fifo" >"$WORK/census.raw" &
  CENSUS_CUT=$!
  stdbuf -oL redis-cli -h 127.0.0.1 -p "$REDIS_PORT" monitor >"$WORK/monitor.fifo" &
  CENSUS_CLI=$!
  census_mark bench-census-start || die "MONITOR on the bench redis-server did not start"
}

census_mark() { # marker -> sends it until MONITOR has shown it (5 s at most)
  local i
  for i in $(seq 1 100); do
    rcli echo "$1" >/dev/null
    grep -q "\"echo\" \"$1\"" "$WORK/census.raw" && return 0
    sleep 0.05
  done
  return 1
}

census_stop() { # -> $WORK/census gets "sent|script<TAB>command<TAB>calls" lines
  census_mark bench-census-end || log "  (MONITOR census incomplete)"
  kill "$CENSUS_CLI" 2>/dev/null || true
  wait "$CENSUS_CLI" "$CENSUS_CUT" 2>/dev/null || true
  CENSUS_CLI="" CENSUS_CUT=""
  awk '
    /"echo" "bench-census-start"/ { started = 1; next }
    /"echo" "bench-census-end"/   { exit }
    started && $3 ~ /\]$/ && $4 !~ /^"echo"$/ {
      cmd = tolower($4); gsub(/"/, "", cmd)
      if (cmd ~ /^(acl|client|cluster|command|config|function|latency|memory|module|object|pubsub|script|slowlog|xinfo)$/) {
        sub1 = tolower($5); gsub(/"/, "", sub1); cmd = cmd "|" sub1
      }
      n[($3 == "lua]" ? "script" : "sent") "\t" cmd]++
    }
    END { for (k in n) print k "\t" n[k] }' "$WORK/census.raw" >"$WORK/census"
  rm -f "$WORK/census.raw" "$WORK/monitor.fifo"
}

# split_calls "command=calls,..." -> "command=sent:script,..." with the
# census's proportions; a command the census did not see counts as sent.
split_calls() {
  awk -F'\t' -v c="$1" '
    { seen[$2] = 1; k[$1, $2] = $3 }
    END {
      n = split(c, x, ",")
      for (i = 1; i <= n; i++) {
        split(x[i], kv, "="); m = kv[1]; calls = kv[2]
        if (m == "none") continue
        sent = calls
        if (m in seen) sent = calls * k["sent", m] / (k["sent", m] + k["script", m])
        sent = int(sent + 0.5)
        printf "%s%s=%d:%d", (out++ ? "," : ""), m, sent, calls - sent
      }
    }' "$WORK/census"
}

# seed_beerlocker registers alice, her 20 beers and a confidential client
# through the public API, and writes CLIENT_ID and CLIENT_SECRET to file $1.
seed_beerlocker() { # creds_file
  local u="http://127.0.0.1:$BENCH_PORT" i
  must 201 "register $USER_NAME" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$USER_NAME\",\"password\":\"$USER_PASS\"}" "$u/api/users"
  local types=(IPA Stout Lager Tripel Pilsner)
  for i in $(seq 1 20); do
    must 201 "add beer $i" -u "$USER_NAME:$USER_PASS" -H 'Content-Type: application/json' \
      -d "{\"name\":\"Beer $i\",\"type\":\"${types[i % 5]}\",\"quantity\":$i}" "$u/api/beers"
  done
  must 201 "register client" -u "$USER_NAME:$USER_PASS" -H 'Content-Type: application/json' \
    -d '{"name":"Bench client","public":false,"redirect_uris":["http://127.0.0.1:9/cb"],"grant_types":["authorization_code","refresh_token","client_credentials","password"]}' \
    "$u/api/clients"
  local id secret
  id=$(json_field client_id <<<"$BODY"); secret=$(json_field client_secret <<<"$BODY")
  [[ -n $id && -n $secret ]] || die "no client_id/client_secret in: $BODY"
  printf 'CLIENT_ID=%q\nCLIENT_SECRET=%q\n' "$id" "$secret" >"$1"
}

password_token() { # base_url token_path client:secret [scope] -> access token
  local args=(-u "$3" -d grant_type=password -d "username=$USER_NAME" -d "password=$USER_PASS")
  [[ -n ${4:-} ]] && args+=(-d "scope=$4")
  must 200 "password grant at $1$2" "${args[@]}" "$1$2"
  json_field access_token <<<"$BODY"
}

# prepare_server starts a fresh server for workload wl and sets URL and the
# BENCH_* variables of the request wrk will send.
prepare_server() { # wl server run_id
  local wl=$1 name=$2 id=$3 base="http://127.0.0.1:${PORT[$2]}" client
  BENCH_MODE=${WL_MODE[$wl]} BENCH_BASIC="" BENCH_TOKEN=""
  case $name in
    beerlocker)
      RUN_DIR="$WORK/data-$id"
      start_beerlocker "$RUN_DIR"
      seed_beerlocker "$WORK/creds-$id"
      # shellcheck disable=SC1090
      . "$WORK/creds-$id"
      client="$CLIENT_ID:$CLIENT_SECRET" URL="$base${WL_PATH[$wl]}" ;;
    beerlocker@redis)
      RUN_DIR="$WORK/data-$id"
      [[ $(rcli flushall) == OK ]] || die "FLUSHALL on the bench redis-server failed"
      start_beerlocker "$RUN_DIR" "$REDIS_URL"
      seed_beerlocker "$WORK/creds-$id"
      # shellcheck disable=SC1090
      . "$WORK/creds-$id"
      client="$CLIENT_ID:$CLIENT_SECRET" URL="$base${WL_PATH[$wl]}" ;;
    beerlocker@scale)
      RUN_DIR="$WORK/data-$id"
      cp -a "$WORK/scale-template" "$RUN_DIR"
      # Write the copy out now, so the kernel's writeback of ~0.5 GB does
      # not share the cores with the measured run.
      sync
      start_beerlocker "$RUN_DIR"
      # shellcheck disable=SC1090
      . "$WORK/scale-creds"
      client="$CLIENT_ID:$CLIENT_SECRET" URL="$base${WL_PATH[$wl]}" ;;
    *)
      RUN_DIR=""
      start_peer "$name"
      client="bench-client:bench-secret" URL="$base${PEER_PATH[$wl]}" ;;
  esac
  local tokpath=/api/oauth2/token
  [[ $name == beerlocker* ]] || tokpath=/oauth/token
  case $wl in
    W1|W3) BENCH_BASIC=$(printf '%s' "$client" | base64 -w0) ;;
    W4)    BENCH_BASIC=$(printf '%s:%s' "$USER_NAME" "$USER_PASS" | base64 -w0) ;;
    W2)    if [[ $name == beerlocker* ]]; then BENCH_TOKEN=$(password_token "$base" "$tokpath" "$client" beers:read)
           else BENCH_TOKEN=$(password_token "$base" "$tokpath" "$client"); fi ;;
    W5)    BENCH_TOKEN=$(password_token "$base" "$tokpath" "$client" beers:write) ;;
  esac
  export BENCH_MODE BENCH_BASIC BENCH_TOKEN BENCH_USERNAME=$USER_NAME BENCH_PASSWORD=$USER_PASS
}

# preflight sends, with curl, exactly the request wrk is about to repeat.
preflight() { # wl server
  local args=()
  case $BENCH_MODE in
    client_credentials) args=(-H "Authorization: Basic $BENCH_BASIC" -H 'Content-Type: application/x-www-form-urlencoded'
                              --data-raw grant_type=client_credentials) ;;
    password)           args=(-H "Authorization: Basic $BENCH_BASIC" -H 'Content-Type: application/x-www-form-urlencoded'
                              --data-raw "grant_type=password&username=$USER_NAME&password=$USER_PASS") ;;
    beers)              args=(-H "Authorization: Bearer $BENCH_TOKEN") ;;
    beers_basic)        args=(-H "Authorization: Basic $BENCH_BASIC") ;;
    beers_post)         args=(-H "Authorization: Bearer $BENCH_TOKEN" -H 'Content-Type: application/json'
                              --data-raw '{"name":"Bench","type":"Ale","quantity":1}') ;;
  esac
  req "${args[@]}" "$URL"
  if [[ ! $STATUS =~ ^2 ]]; then
    die "$1 on ${SRV_NAME[$2]}: the request to be measured answered $STATUS, not 2xx: $(cut -c1-300 <<<"$BODY")"
  fi
}

# ---------------------------------------------------------------- SCALE: the loaded store
build_scale_template() {
  local dir="$WORK/scale-template" t0 t1
  log "== SCALE: seeding, then loading $SCALE_TOKENS tokens, $SCALE_BEERS beers, $SCALE_USERS users into $dir"
  start_beerlocker "$dir"
  seed_beerlocker "$WORK/scale-creds"
  stop_server
  t0=$(date +%s.%N)
  "$WORK/load" -dir "$dir" -tokens "$SCALE_TOKENS" -beers "$SCALE_BEERS" -users "$SCALE_USERS" \
    -grants "$SCALE_GRANTS" -revocations "$SCALE_REVOCATIONS" \
    | tee "$OUTDIR/scale-load.txt" >&2
  t1=$(date +%s.%N)
  SCALE_LOAD_S=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
  local size; size=$(du -sh "$dir" | cut -f1)
  printf 'load wall time (incl. process start and close): %s s; data dir %s\n' "$SCALE_LOAD_S" "$size" \
    | tee -a "$OUTDIR/scale-load.txt" >&2
}

# ---------------------------------------------------------------- measuring
cpu_busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
proc_cpu_jiffies() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)

wait_for_quiet() { # wait (max QUIET_MAX s) until the machine is < 15 % busy over 1 s
  local a b
  for _ in $(seq 1 "$QUIET_MAX"); do
    a=$(cpu_busy_jiffies); sleep 1; b=$(cpu_busy_jiffies)
    if (( (b - a) * 100 < 15 * HZ * NCPU )); then return 0; fi
  done
  log "  (machine still busy after $QUIET_MAX s; measuring anyway)"
}

RUN_SEQ=0
measure_once() { # wl server rep -> sets ROW (tsv) and FOREIGN
  local wl=$1 name=$2 rep=$3
  RUN_SEQ=$((RUN_SEQ + 1))
  wait_for_quiet
  prepare_server "$wl" "$name" "$RUN_SEQ"
  preflight "$wl" "$name"
  local with_redis="" calls0="" calls1="" tcp0="" tcp1="" red0=0 red1=0
  [[ $name == beerlocker@redis ]] && with_redis=1
  [[ -n $with_redis ]] && census_start
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$HERE/wrk.lua" "$URL" >"$WORK/warmup.txt"
  [[ -n $with_redis ]] && census_stop
  local busy0 srv0 busy1 srv1 wrkcpu logf="$OUTDIR/wrk-$wl-${name/@/-}-$rep.txt"
  if [[ -n $with_redis ]]; then
    calls0=$(redis_calls); tcp0=$(rcli info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
    red0=$(proc_cpu_jiffies "$REDIS_PID")
  fi
  busy0=$(cpu_busy_jiffies); srv0=$(proc_cpu_jiffies "$SERVER_PID")
  local TIMEFORMAT='%U %S'
  { time wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$HERE/wrk.lua" "$URL" >"$logf" 2>&1 ; } 2>"$WORK/time"
  busy1=$(cpu_busy_jiffies); srv1=$(proc_cpu_jiffies "$SERVER_PID")
  if [[ -n $with_redis ]]; then
    red1=$(proc_cpu_jiffies "$REDIS_PID")
    calls1=$(redis_calls); tcp1=$(rcli info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p')
  fi
  wrkcpu=$(awk -v h="$HZ" '{printf "%d", ($1+$2)*h}' "$WORK/time")
  local hwm; hwm=$(awk '/^VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  stop_server
  [[ -n $RUN_DIR ]] && rm -rf "$RUN_DIR"
  local res; res=$(grep '^RESULT' "$logf") || die "no RESULT line from wrk: $(cat "$logf")"
  local rps p99 non2xx sockerr requests
  rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$res")
  p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$res")
  requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$res")
  non2xx=$(sed -n 's/.* non2xx=\([0-9]*\).*/\1/p' <<<"$res")
  sockerr=$(awk '{for(i=1;i<=NF;i++){split($i,kv,"="); if(kv[1]~/^(connect|read|write|timeout)$/) s+=kv[2]} print s+0}' <<<"$res")
  local srvcpu=$((srv1 - srv0)) busy=$((busy1 - busy0)) redcpu=$((red1 - red0)) cpu_us foreign
  # server CPU microseconds per request; foreign CPU = busy - server - wrk
  # - redis-server, in % of all cores over the run
  cpu_us=$(awk -v j="$srvcpu" -v n="$requests" -v h="$HZ" 'BEGIN{printf "%.1f", n ? j/h*1e6/n : 0}')
  foreign=$(awk -v b="$busy" -v s="$srvcpu" -v w="$wrkcpu" -v r="$redcpu" -v h="$HZ" -v c="$NCPU" -v d="$DUR_S" \
    'BEGIN{f=(b-s-w-r)/h/(c*d)*100; if(f<0)f=0; printf "%.1f", f}')
  local red_us=- calls=- redis_note=""
  if [[ -n $with_redis ]]; then
    red_us=$(awk -v j="$redcpu" -v n="$requests" -v h="$HZ" 'BEGIN{printf "%.1f", n ? j/h*1e6/n : 0}')
    calls=$(calls_delta "$calls0" "$calls1")
    calls=$(split_calls "${calls:-none}"); calls=${calls:-none}
    # total_commands_processed counts our INFO commandstats too, hence -1.
    { echo "measured part: $requests requests (wrk)"
      echo "total_commands_processed delta (without our INFO): $((tcp1 - tcp0 - 1))"
      echo "commandstats delta: command, calls sent by the server, calls inside scripts (split as the census saw), total per request"
      tr ',' '\n' <<<"$calls" | awk -F'[=:]' -v n="$requests" 'NF==3{printf "  %-24s %10d %10d  %.4f\n", $1, $2, $3, n ? ($2+$3)/n : 0}'
      echo "census (MONITOR during the warm-up, $(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$WORK/warmup.txt") requests): source, command, calls"
      sort -k1,1 -k3,3nr "$WORK/census" | sed 's/^/  /'
    } >"$OUTDIR/redis-$wl-$rep.txt"
    redis_note="  Redis $(per_request "$calls" "$requests") cmd/req, ${red_us} us CPU/req"
  fi
  local ok=ok
  if [[ $non2xx != 0 || $sockerr != 0 ]]; then ok="INVALID(non2xx=$non2xx,sockerr=$sockerr)"; fi
  ROW=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$wl" "$name" "$rep" "$rps" "$p99" "$hwm" "$cpu_us" "$foreign" "$requests" "$ok" "$red_us" "$calls")
  FOREIGN=$foreign
  log "  $wl ${SRV_NAME[$name]} #$rep: ${rps} req/s  p99 ${p99} us  VmHWM ${hwm} kB  server ${cpu_us} us CPU/req${redis_note}  other load ${foreign}%  $ok"
}

# A run during which processes other than wrk and the server used more than
# OTHER_MAX % of the machine is repeated, up to MAX_TRIES times; the last
# try is kept.
run_one() { # wl server rep -> appends a row to runs.tsv
  local try
  for try in $(seq 1 "$MAX_TRIES"); do
    measure_once "$@"
    if awk -v f="$FOREIGN" -v m="$OTHER_MAX" 'BEGIN{exit !(f <= m)}'; then break; fi
    if (( try < MAX_TRIES )); then log "    other load ${FOREIGN}% > ${OTHER_MAX}%: repeating"; fi
  done
  printf '%s\n' "$ROW" >>"$WORK/runs.tsv"
}

servers_for() { # wl -> server names, in the order they alternate
  local wl=$1 s=(beerlocker)
  if on "$SCALE" && [[ $wl == W1 || $wl == W2 ]]; then s+=("beerlocker@scale"); fi
  if on "$REDIS" && [[ " ${REDIS_WORKLOADS[*]} " == *" $wl "* ]]; then s+=("beerlocker@redis"); fi
  if on "$PEERS" && [[ -n ${PEER_PATH[$wl]:-} ]]; then s+=("${PEER_LIST[@]}"); fi
  printf '%s\n' "${s[@]}"
}

# ---------------------------------------------------------------- tables
median() { sort -g | awk '{a[NR]=$1} END{ if(NR==0){print "";exit} if(NR%2){print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2} }'; }

col() { # wl server column-number -> values of the valid runs
  awk -F'\t' -v w="$1" -v p="$2" -v c="$3" '$1==w && $2==p && $10=="ok" {print $c}' "$WORK/runs.tsv"
}
runs_of() { # wl server -> "valid/total"
  awk -F'\t' -v w="$1" -v p="$2" '$1==w && $2==p {n++; if($10=="ok") v++} END{printf "%d/%d", v, n}' "$WORK/runs.tsv"
}
has_runs() { awk -F'\t' -v w="$1" -v p="$2" '$1==w && $2==p {f=1} END{exit !f}' "$WORK/runs.tsv"; }

ratio() { # a b -> a/b with 2 decimals, or "—"
  awk -v a="$1" -v b="$2" 'BEGIN{ if(a=="" || b=="" || b+0==0) print "—"; else printf "%.2f", a/b }'
}

row_cells() { # wl server -> "req/s | p99 ms | RSS MiB | CPU us/req | valid"
  local rps p99 rss cpu
  rps=$(col "$1" "$2" 4 | median); p99=$(col "$1" "$2" 5 | median)
  rss=$(col "$1" "$2" 6 | median); cpu=$(col "$1" "$2" 7 | median)
  if [[ -z $rps ]]; then printf 'INVALID | — | — | — | %s' "$(runs_of "$1" "$2")"; return; fi
  awk -v r="$rps" -v p="$p99" -v m="$rss" -v c="$cpu" -v v="$(runs_of "$1" "$2")" \
    'BEGIN{ printf "%.0f | %.2f | %.1f | %.1f | %s", r, p/1000, m/1024, c, v }'
}

# redis_breakdown wl -> "T = S sent (command n, ...) + L in scripts (command n, ...)":
# per command and part, the median over the valid runs with Redis of its
# calls per request (0 in a run without it), largest first. S, L and T are
# sums of the medians.
redis_breakdown() {
  awk -F'\t' -v w="$1" '
    $1==w && $2=="beerlocker@redis" && $10=="ok" && $12!="-" {
      runs++
      n = split($12, x, ",")
      for (i = 1; i <= n; i++) {
        if (split(x[i], kv, "[=:]") != 3) continue
        v["sent", kv[1], runs] = kv[2]/$9; v["script", kv[1], runs] = kv[3]/$9; cmds[kv[1]] = 1
      }
    }
    function median(p, c,   i, j, t, a) {
      for (i = 1; i <= runs; i++) a[i] = ((p, c, i) in v) ? v[p, c, i] : 0
      for (i = 2; i <= runs; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
      return runs % 2 ? a[(runs+1)/2] : (a[runs/2] + a[runs/2+1]) / 2
    }
    END {
      if (!runs) { print "—"; exit }
      for (c in cmds) { print "sent\t" median("sent", c) "\t" c; print "script\t" median("script", c) "\t" c }
    }' "$WORK/runs.tsv" | sort -t$'\t' -k2,2gr | awk -F'\t' '
    $0 == "—" { dash = 1; exit }
    $2 > 0 { t[$1] += $2; s[$1] = s[$1] (s[$1] == "" ? "" : ", ") $3 " " f($2) }
    function f(x) { return x == 0 ? "0" : x >= 0.01 ? sprintf("%.3f", x) : x >= 0.0001 ? sprintf("%.4f", x) : "<0.0001" }
    function part(p) {
      return f(t[p]) " " (p == "sent" ? "sent" : "in scripts") (s[p] == "" ? "" : " (" s[p] ")")
    }
    END { if (dash) { print "—"; exit }
          if (t["sent"] + t["script"] == 0) { printf "0 (none)"; exit }
          printf "%s = %s + %s", f(t["sent"] + t["script"]), part("sent"), part("script") }'
}

redis_table() {
  local wl rps0 rps1 p0 p1 c0 c1 r1
  echo "REDIS: the same requests with REDIS_URL set: codes, tokens, device codes and rate limits in a"
  echo "redis-server on loopback ($(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), --save \"\" --appendonly no: nothing is durable there), users, beers and"
  echo "clients still in SQLite. Runs alternate with the runs without Redis; each starts on an empty Redis."
  echo "Redis commands/request: INFO commandstats after minus before the measured part, divided by the requests wrk"
  echo "counted (per command, the median over the valid runs). commandstats also counts the commands a Lua script runs;"
  echo "\"sent\" are the commands Beer Locker sends (round trips), \"in scripts\" those its EVALSHAs run, split in the"
  echo "proportions MONITOR saw during the warm-up. Requests still in flight when wrk stops (up to $CONNS) add to the"
  echo "calls, not to wrk's count. Raw numbers in redis-<workload>-<rep>.txt."
  echo "Bearer tokens are served from the in-process cache for TOKEN_CACHE_TTL (5 s by default) in both setups."
  echo
  echo "| workload | req/s without Redis | req/s with Redis | ratio | p99 without (ms) | p99 with (ms) | Redis commands/request (breakdown) | CPU µs/req without / with (server + redis-server) | valid runs without / with |"
  echo "|---|---:|---:|---:|---:|---:|---|---:|---:|"
  for wl in "${WORKLOADS[@]}"; do
    has_runs "$wl" "beerlocker@redis" || continue
    rps0=$(col "$wl" beerlocker 4 | median); rps1=$(col "$wl" beerlocker@redis 4 | median)
    p0=$(col "$wl" beerlocker 5 | median); p1=$(col "$wl" beerlocker@redis 5 | median)
    c0=$(col "$wl" beerlocker 7 | median); c1=$(col "$wl" beerlocker@redis 7 | median)
    r1=$(col "$wl" beerlocker@redis 11 | median)
    awk -v w="$wl ${WL_DESC[$wl]}" -v a="$rps0" -v b="$rps1" -v r="$(ratio "$rps1" "$rps0")" -v p="$p0" -v q="$p1" \
        -v k="$(redis_breakdown "$wl")" -v c="$c0" -v d="$c1" -v e="$r1" \
        -v v="$(runs_of "$wl" beerlocker) / $(runs_of "$wl" beerlocker@redis)" '
      function n(x, f) { return x == "" ? "INVALID" : sprintf(f, x) }
      BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s | %s / %s + %s | %s |\n", w, n(a, "%.0f"), n(b, "%.0f"), r,
                n(p == "" ? "" : p/1000, "%.2f"), n(q == "" ? "" : q/1000, "%.2f"), k,
                n(c, "%.0f"), n(d, "%.0f"), n(e, "%.0f"), v }'
  done
}

print_table() {
  local wl name ref note rps p99
  echo "Medians of $REPS runs; wrk -t$THREADS -c$CONNS -d$DURATION --latency after $WARMUP warm-up, keep-alive;"
  echo "$NCPU cores shared by wrk and the server; Beer Locker on the embedded SQLite store (fresh DATA_DIR per run)."
  echo
  if on "$PEERS"; then
    echo "| workload | server | req/s | p99 (ms) | peak RSS (MiB) | server CPU µs/req | valid runs | req/s vs ceiling | req/s vs go-oauth2 | req/s vs node | p99 vs ceiling |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  else
    echo "| workload | server | req/s | p99 (ms) | peak RSS (MiB) | server CPU µs/req | valid runs |"
    echo "|---|---|---:|---:|---:|---:|---:|"
  fi
  for wl in "${WORKLOADS[@]}"; do
    ref=${WL_REF[$wl]}; note=""
    [[ $ref != "$wl" ]] && note=" (ratios vs peers' $ref)"
    mapfile -t names < <(servers_for "$wl")
    for name in "${names[@]}"; do
      [[ $name == "beerlocker@scale" || $name == "beerlocker@redis" ]] && continue   # in their own tables
      has_runs "$wl" "$name" || continue
      printf '| %s %s%s | %s | %s |' "$wl" "${WL_DESC[$wl]}" "$note" "${SRV_NAME[$name]}" "$(row_cells "$wl" "$name")"
      if on "$PEERS"; then
        rps=$(col "$wl" "$name" 4 | median); p99=$(col "$wl" "$name" 5 | median)
        local r_ceil r_go r_node r_p99
        r_ceil=$(ratio "$rps" "$(col "$ref" ceiling 4 | median)")
        r_go=$(ratio "$rps" "$(col "$ref" go 4 | median)")
        r_node=$(ratio "$rps" "$(col "$ref" node 4 | median)")
        r_p99=$(ratio "$p99" "$(col "$ref" ceiling 5 | median)")
        [[ $name == ceiling ]] && r_ceil="—" r_p99="—"
        [[ $name == go ]] && r_go="—"
        [[ $name == node ]] && r_node="—"
        printf ' %s | %s | %s | %s |' "$r_ceil" "$r_go" "$r_node" "${r_p99}"
      fi
      echo
    done
  done
  if on "$PEERS"; then
    echo
    echo "Peers have no W4/W5: those rows are compared with the peers' W2 (GET /api/beers with a token) and W1 (POST /oauth/token) numbers."
    echo "Ratios are of median req/s (p99: of median p99) measured in this one invocation."
  fi
  if on "$SCALE"; then
    echo
    echo "SCALE: the same workloads on a store loaded with $SCALE_TOKENS tokens, $SCALE_BEERS beers, $SCALE_USERS users, $SCALE_GRANTS grants and $SCALE_REVOCATIONS live revocations (load took ${SCALE_LOAD_S:-?} s; see scale-load.txt). Flat per-request cost = good."
    echo
    echo "| workload | store | req/s | p99 (ms) | peak RSS (MiB) | server CPU µs/req | valid runs | req/s vs unloaded | CPU µs/req vs unloaded |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    for wl in W2 W1; do
      has_runs "$wl" "beerlocker@scale" || continue
      printf '| %s %s | %s | %s | — | — |\n' "$wl" "${WL_DESC[$wl]}" "unloaded (fresh)" "$(row_cells "$wl" beerlocker)"
      printf '| %s %s | %s | %s | %s | %s |\n' "$wl" "${WL_DESC[$wl]}" "$SCALE_TOKENS tokens" "$(row_cells "$wl" "beerlocker@scale")" \
        "$(ratio "$(col "$wl" "beerlocker@scale" 4 | median)" "$(col "$wl" beerlocker 4 | median)")" \
        "$(ratio "$(col "$wl" "beerlocker@scale" 7 | median)" "$(col "$wl" beerlocker 7 | median)")"
    done
  fi
  if on "$REDIS"; then
    echo
    redis_table
  fi
  local invalid
  invalid=$(awk -F'\t' '$10!="ok"' "$WORK/runs.tsv" | wc -l)
  echo
  echo "runs: $(wc -l <"$WORK/runs.tsv"), invalid (non-2xx or socket errors, left out of medians): $invalid;" \
    "max 'other load' during a run: $(cut -f8 "$WORK/runs.tsv" | sort -g | tail -1)% of the machine"
}

# idtoken_table measures what an ID token costs, in-process with the Go
# benchmarks (no network): the code grant with a remembered consent, with
# and without openid (BenchmarkCodeGrant), and one signature per algorithm
# (keys.BenchmarkSign). Medians of REPS runs; the difference of the two
# grants is the cost per ID token.
idtoken_table() {
  local out="$WORK/idtoken.txt"
  (cd "$REPO" && go test -run '^$' -bench 'BenchmarkCodeGrant' -benchtime 2s -count "$REPS" ./controllers &&
    go test -run '^$' -bench 'BenchmarkSign' -benchtime 1s -count "$REPS" ./keys) >"$out" 2>&1 ||
    { cat "$out" >&2; die "the ID token benchmarks failed"; }
  med() { awk -v n="$1" '$1 ~ "^Benchmark"n"(-[0-9]+)?$" {print $3}' "$out" | median; }
  us() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { printf "%.0f", (a - b) / 1000 }'; } # ns (minus ns) -> µs
  local plain openid
  plain=$(med 'CodeGrant/oauth'); openid=$(med 'CodeGrant/openid')
  echo "ID tokens (Go benchmarks in process, medians of $REPS runs; see idtoken.txt):"
  echo
  echo "| measure | µs/op |"
  echo "|---|---:|"
  echo "| code grant (authorize + token), scope without openid | $(us "$plain") |"
  echo "| code grant with openid (+ ID token) | $(us "$openid") |"
  echo "| cost per ID token (difference) | $(us "$openid" "$plain") |"
  echo "| one RS256 signature | $(us "$(med 'Sign/RS256')") |"
  echo "| one ES256 signature | $(us "$(med 'Sign/ES256')") |"
  cp "$out" "$OUTDIR/idtoken.txt"
}

# ---------------------------------------------------------------- main
ensure_tools
mkdir -p "$OUTDIR"
build
if on "$REDIS"; then
  n=0
  for wl in "${REDIS_WORKLOADS[@]}"; do [[ " ${WORKLOADS[*]} " == *" $wl "* ]] && n=$((n + 1)); done
  (( n > 0 )) || die "REDIS=1: none of REDIS_WORKLOADS (${REDIS_WORKLOADS[*]}) is in WORKLOADS (${WORKLOADS[*]})"
  start_redis
fi

{
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# commit: $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "# machine: $NCPU x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo "# versions: $(go version | cut -d' ' -f3), wrk $(wrk --version 2>&1 | head -1 | cut -d' ' -f2)"
  if on "$PEERS"; then
    echo "# node $(node --version); go-oauth2 $(cd "$PEERS_DIR/go-oauth2" && go list -m -f '{{.Version}}' github.com/go-oauth2/oauth2/v4)"
  fi
  if on "$REDIS"; then
    echo "# $(redis-server --version), on 127.0.0.1:$REDIS_PORT with --save \"\" --appendonly no"
  fi
  echo "# settings: REPS=$REPS DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS=$CONNS PEERS=$PEERS SCALE=$SCALE REDIS=$REDIS WORKLOADS=${WORKLOADS[*]} REDIS_WORKLOADS=${REDIS_WORKLOADS[*]} OTHER_MAX=$OTHER_MAX MAX_TRIES=$MAX_TRIES QUIET_MAX=$QUIET_MAX"
  echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUTDIR/versions.txt" >&2

SCALE_LOAD_S=""
if on "$SCALE"; then build_scale_template; fi

: >"$WORK/runs.tsv"
for wl in "${WORKLOADS[@]}"; do
  [[ -n ${WL_MODE[$wl]:-} ]] || die "unknown workload $wl"
  log "== $wl ${WL_DESC[$wl]}"
  for rep in $(seq 1 "$REPS"); do
    mapfile -t names < <(servers_for "$wl")
    for name in "${names[@]}"; do run_one "$wl" "$name" "$rep"; done
  done
done
{ printf 'workload\tserver\trep\trps\tp99_us\tvmhwm_kb\tserver_cpu_us_per_req\tother_load_pct\trequests\tstatus\tredis_cpu_us_per_req\tredis_calls\n'
  cat "$WORK/runs.tsv"; } >"$OUTDIR/runs.tsv"
echo
print_table | tee "$OUTDIR/table.md"
if on "$REDIS"; then redis_table >"$OUTDIR/redis.md"; fi
if on "$IDTOKEN"; then
  log "== ID token cost (Go benchmarks)"
  { echo; idtoken_table; } | tee -a "$OUTDIR/table.md"
fi
ELAPSED=$(( $(date +%s) - START_TS ))
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUTDIR/versions.txt"
echo "total time: $((ELAPSED / 60)) min $((ELAPSED % 60)) s; results in $OUTDIR" | tee -a "$OUTDIR/versions.txt"
