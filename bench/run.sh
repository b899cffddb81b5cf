#!/usr/bin/env bash
# Load benchmark of Beer Locker (`make bench`), optionally side by side with the
# reference servers of ../shared/peers (PEERS=1) and on a store holding 10^6
# tokens (SCALE=1). The measuring approach is the peers' own (peers/run.sh).
#
#   bench/run.sh                        # W1-W5 on Beer Locker, REPS runs each
#   PEERS=1 bench/run.sh                # + node-oauth2-server, go-oauth2, ceiling on W1-W3
#   SCALE=1 bench/run.sh                # + W2 and W1 again on a store loaded with
#                                       #   10^6 tokens, 10^5 beers, 10^4 users
#   REPS=1 DURATION=3s bench/run.sh     # quick and noisy
#
# Knobs (environment): REPS (3), DURATION (10s), WARMUP (2s), THREADS (2),
# CONNS (32), WORKLOADS ("W1 W2 W3 W4 W5"), OTHER_MAX (15, % of the machine
# other processes may use before a run is repeated), MAX_TRIES (4),
# QUIET_MAX (60, seconds to wait for a quiet machine before each run),
# BENCH_PORT (3010), PEERS_DIR (<repo>/../shared/peers), SCALE_TOKENS (1000000),
# SCALE_BEERS (100000), SCALE_USERS (10000), OUTDIR (bench/results/<timestamp>).
# REDIS is accepted and ignored for now.
#
# Every run gets a fresh server process (so VmHWM is that run's) and, for
# Beer Locker, a fresh data directory seeded through the public API (SCALE
# runs: a fresh copy of the loaded directory). Servers alternate inside each
# rep (beerlocker [beerlocker@scale] [node go-oauth2 ceiling]) so drift on the
# machine hits all of them alike. Before each run, curl sends the exact request
# wrk will send and the script stops unless it answers 2xx. A run with any
# non-2xx response or socket error is INVALID and left out of the medians.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PEERS="${PEERS:-0}"
SCALE="${SCALE:-0}"
REDIS="${REDIS:-}"
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
read -r -a WORKLOADS <<<"${WORKLOADS:-W1 W2 W3 W4 W5}"
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

# Servers. beerlocker@scale is Beer Locker on the loaded store (SCALE=1).
declare -A PORT=([beerlocker]=$BENCH_PORT [beerlocker@scale]=$BENCH_PORT [node]=3001 [go]=3002 [ceiling]=3003)
declare -A SRV_NAME=([beerlocker]="beerlocker" [beerlocker@scale]="beerlocker @${SCALE_TOKENS} tokens"
  [node]="node-oauth2-server" [go]="go-oauth2" [ceiling]="ceiling")
PEER_LIST=(node go ceiling)

# Workloads. Peers have W1-W3 only; for W4 and W5 the ratios use the peers'
# W2 (a GET of the same list) and W1 (a POST) instead.
declare -A WL_MODE=([W1]=client_credentials [W2]=beers [W3]=password [W4]=beers_basic [W5]=beers_post)
declare -A WL_PATH=([W1]=/api/oauth2/token [W2]=/api/beers [W3]=/api/oauth2/token [W4]=/api/beers [W5]=/api/beers)
declare -A PEER_PATH=([W1]=/oauth/token [W2]=/api/beers [W3]=/oauth/token)
declare -A WL_REF=([W1]=W1 [W2]=W2 [W3]=W3 [W4]=W2 [W5]=W1)
declare -A WL_DESC=([W1]="POST token, client_credentials" [W2]="GET /api/beers, Bearer"
  [W3]="POST token, password grant" [W4]="GET /api/beers, Basic" [W5]="POST /api/beers, Bearer")

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
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

start_beerlocker() { # data_dir -> sets SERVER_PID
  local dir=$1 port=$BENCH_PORT
  port_free "$port" || die "port $port is already in use (set BENCH_PORT)"
  # Request logs (one JSON line per request) go to /dev/null: the server
  # still formats and writes them, as in production, without filling the disk.
  ADDR="127.0.0.1:$port" DATA_DIR="$dir" SECRET_KEY="$SECRET_KEY" PUBLIC_URL="http://127.0.0.1:$port" \
    "$WORK/beerlocker" >/dev/null 2>"$WORK/beerlocker.err" &
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
    beerlocker@scale)
      RUN_DIR="$WORK/data-$id"
      cp -a "$WORK/scale-template" "$RUN_DIR"
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
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$HERE/wrk.lua" "$URL" >/dev/null
  local busy0 srv0 busy1 srv1 wrkcpu logf="$OUTDIR/wrk-$wl-${name/@/-}-$rep.txt"
  busy0=$(cpu_busy_jiffies); srv0=$(proc_cpu_jiffies "$SERVER_PID")
  local TIMEFORMAT='%U %S'
  { time wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$HERE/wrk.lua" "$URL" >"$logf" 2>&1 ; } 2>"$WORK/time"
  busy1=$(cpu_busy_jiffies); srv1=$(proc_cpu_jiffies "$SERVER_PID")
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
  local srvcpu=$((srv1 - srv0)) busy=$((busy1 - busy0)) cpu_us foreign
  # server CPU microseconds per request; foreign CPU = busy - server - wrk, in % of all cores over the run
  cpu_us=$(awk -v j="$srvcpu" -v n="$requests" -v h="$HZ" 'BEGIN{printf "%.1f", n ? j/h*1e6/n : 0}')
  foreign=$(awk -v b="$busy" -v s="$srvcpu" -v w="$wrkcpu" -v h="$HZ" -v c="$NCPU" -v d="$DUR_S" \
    'BEGIN{f=(b-s-w)/h/(c*d)*100; if(f<0)f=0; printf "%.1f", f}')
  local ok=ok
  if [[ $non2xx != 0 || $sockerr != 0 ]]; then ok="INVALID(non2xx=$non2xx,sockerr=$sockerr)"; fi
  ROW=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$wl" "$name" "$rep" "$rps" "$p99" "$hwm" "$cpu_us" "$foreign" "$requests" "$ok")
  FOREIGN=$foreign
  log "  $wl ${SRV_NAME[$name]} #$rep: ${rps} req/s  p99 ${p99} us  VmHWM ${hwm} kB  server ${cpu_us} us CPU/req  other load ${foreign}%  $ok"
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
      [[ $name == "beerlocker@scale" ]] && continue   # in the SCALE table
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
    echo "SCALE: the same workloads on a store loaded with $SCALE_TOKENS tokens, $SCALE_BEERS beers and $SCALE_USERS users (load took ${SCALE_LOAD_S:-?} s; see scale-load.txt). Flat per-request cost = good."
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
  local invalid
  invalid=$(awk -F'\t' '$10!="ok"' "$WORK/runs.tsv" | wc -l)
  echo
  echo "runs: $(wc -l <"$WORK/runs.tsv"), invalid (non-2xx or socket errors, left out of medians): $invalid;" \
    "max 'other load' during a run: $(cut -f8 "$WORK/runs.tsv" | sort -g | tail -1)% of the machine"
}

# ---------------------------------------------------------------- main
[[ -z $REDIS ]] || log "note: REDIS=$REDIS is accepted but not used yet; measuring the embedded SQLite store"
ensure_tools
mkdir -p "$OUTDIR"
build

{
  echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# commit: $(cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown)"
  echo "# machine: $NCPU x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -sr)"
  echo "# versions: $(go version | cut -d' ' -f3), wrk $(wrk --version 2>&1 | head -1 | cut -d' ' -f2)"
  if on "$PEERS"; then
    echo "# node $(node --version); go-oauth2 $(cd "$PEERS_DIR/go-oauth2" && go list -m -f '{{.Version}}' github.com/go-oauth2/oauth2/v4)"
  fi
  echo "# settings: REPS=$REPS DURATION=$DURATION WARMUP=$WARMUP THREADS=$THREADS CONNS=$CONNS PEERS=$PEERS SCALE=$SCALE WORKLOADS=${WORKLOADS[*]} OTHER_MAX=$OTHER_MAX MAX_TRIES=$MAX_TRIES QUIET_MAX=$QUIET_MAX"
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
{ printf 'workload\tserver\trep\trps\tp99_us\tvmhwm_kb\tserver_cpu_us_per_req\tother_load_pct\trequests\tstatus\n'
  cat "$WORK/runs.tsv"; } >"$OUTDIR/runs.tsv"
echo
print_table | tee "$OUTDIR/table.md"
ELAPSED=$(( $(date +%s) - START_TS ))
echo
echo "total time: $((ELAPSED / 60)) min $((ELAPSED % 60)) s; results in $OUTDIR" | tee -a "$OUTDIR/versions.txt"
