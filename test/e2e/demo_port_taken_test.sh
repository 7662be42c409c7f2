#!/usr/bin/env bash
# scripts/demo when a port it would use is taken. The seed's xDS port, 50000,
# lies in Linux's ephemeral range, so an outgoing connection can hold it; a
# server then cannot bind it although nothing listens there. Asserts:
#   1. a port set with a *_PORT variable and held by an outgoing connection:
#      the demo stops at once, naming the port, its variable and the holder,
#      and starts nothing;
#   2. the default xDS port 50000 held the same way: the demo says so, comes
#      up on another port that it prints, answers /trace/1, and stops
#      everything it started on SIGTERM;
#   3. the hub cannot start (its data directory is a file): the demo stops at
#      once and shows the hub's own error from its log.
# Runs scripts/demo on the binaries in CAUSEWAY_BIN (no install, no build);
# every port but the held ones is chosen at run time.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${CAUSEWAY_BIN:?set CAUSEWAY_BIN to the src/exe directory of a build}"
tmp=$(mktemp -d /tmp/causeway-demo-port-XXXXXX)
port_vars=(API_PORT XDS_PORT APP_PORT SIDECAR_PORT FRONT_PORT COLOR1_PORT COLOR2_PORT DEV_ADMIN_PORT FRONT_ADMIN_PORT)

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
failures=0
fail() { log "FAIL: $*"; failures=$((failures + 1)); }

# wait_until SECONDS COMMAND... : retries COMMAND every 50 ms until it succeeds.
wait_until() {
  local limit=$1; shift
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# hold PORT : a process holding 127.0.0.1:PORT with an outgoing connection (a
# socket bound to the port, connected to a listener of its own), as a client
# on a busy machine would; PORT 0 lets the kernel pick one. Sets holder_pid
# and held_port; held_port is empty if PORT was already taken by someone else.
holder_pid=""
hold() {
  rm -f "$tmp/holder.out"
  python3 - "$1" >"$tmp/holder.out" 2>&1 <<'PY' &
import socket, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen()
c = socket.socket()
try:
    c.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    print("busy", flush=True)
    sys.exit(0)
c.connect(srv.getsockname())
peer = srv.accept()[0]
print("holding", c.getsockname()[1], flush=True)
time.sleep(3600)
PY
  holder_pid=$!
  wait_until 10 grep -qE '^(holding|busy)' "$tmp/holder.out" || { fail "the port holder did not start: $(cat "$tmp/holder.out")"; return 1; }
  held_port=$(sed -n 's/^holding //p' "$tmp/holder.out")
}
release() { [ -z "$holder_pid" ] || { kill "$holder_pid" 2>/dev/null; wait "$holder_pid" 2>/dev/null; holder_pid=""; }; }

# run_demo NAME VAR=VALUE... : scripts/demo in a session of its own (so that
# whatever it leaves behind can be found), output in $tmp/NAME.out.
demo_pid=""
run_demo() {
  local name=$1 v unset=(); shift
  for v in "${port_vars[@]}"; do unset+=(-u "$v"); done  # only the ports given here
  env "${unset[@]}" "$@" WORK="$tmp/$name" CAUSEWAY_BIN="$CAUSEWAY_BIN" \
    setsid "$root/scripts/demo" >"$tmp/$name.out" 2>&1 &
  demo_pid=$!
  demo_out=$tmp/$name.out
}
running() { kill -0 "$demo_pid" 2>/dev/null; }
exited() { ! running; }

# stop_demo : SIGTERM (what Ctrl-C does), then checks that the demo and
# everything it started are gone. Sets demo_status.
stop_demo() {
  [ -n "$demo_pid" ] || return 0
  kill -TERM "$demo_pid" 2>/dev/null
  wait_until 20 exited || fail "the demo did not stop within 20 s of SIGTERM"
  kill -KILL "$demo_pid" 2>/dev/null
  wait "$demo_pid" 2>/dev/null; demo_status=$?
  local left
  left=$(pgrep -s "$demo_pid" -d ' ')
  if [ -n "$left" ]; then
    fail "the demo left processes behind: $(ps -o pid=,args= -p "${left// /,}" | tr '\n' ';')"
    kill -KILL $left 2>/dev/null
  fi
  demo_pid=""
}

finish() {
  stop_demo
  release
  if [ $failures -ne 0 ]; then
    for f in "$tmp"/*.out; do [ -e "$f" ] && { echo "----- $f"; tail -n 40 "$f"; }; done
  fi
  rm -rf "$tmp"
}
trap finish EXIT

# free_port_env VAR... : VAR=PORT for each VAR, ports free a moment ago.
free_port_env() {
  local ports i
  ports=($("$here/../support/free_ports" $#)) || return 1
  for ((i = 1; i <= $#; i++)); do echo "${!i}=${ports[$((i - 1))]}"; done
}
says() { grep -Eq -- "$1" "$demo_out"; }

log "1. XDS_PORT set to a port an outgoing connection holds: the demo stops at once and names it"
hold 0 || exit 1
p=$held_port
mapfile -t env1 < <(free_port_env API_PORT APP_PORT SIDECAR_PORT FRONT_PORT COLOR1_PORT COLOR2_PORT DEV_ADMIN_PORT FRONT_ADMIN_PORT)
run_demo taken-set "${env1[@]}" XDS_PORT="$p"
if wait_until 15 exited; then
  wait "$demo_pid"; status=$?; demo_pid=""
  [ $status -ne 0 ] || fail "the demo exited with status 0"
else
  fail "the demo did not stop within 15 s"; stop_demo
fi
says "\b$p\b.*XDS_PORT" || fail "the demo's output does not name port $p (XDS_PORT): $(cat "$demo_out")"
if command -v ss >/dev/null; then
  says "python3 \(pid $holder_pid\)" || fail "the demo's output does not name the holder (python3, pid $holder_pid)"
fi
[ ! -e "$tmp/taken-set/hub.log" ] || fail "the demo started the hub on a port it knew was taken"
release

log "2. the default xDS port 50000 held by an outgoing connection: the demo comes up on another port"
hold 50000 || exit 1
[ -n "$held_port" ] || log "  port 50000 was already taken by another process; the demo must move anyway"
mapfile -t env2 < <(free_port_env API_PORT APP_PORT SIDECAR_PORT FRONT_PORT COLOR1_PORT COLOR2_PORT DEV_ADMIN_PORT FRONT_ADMIN_PORT)
run_demo taken-default "${env2[@]}"
up() { running && says "Ctrl-C stops everything"; }
wait_until 60 up || fail "the demo did not come up within 60 s"
says "\b50000\b.*XDS_PORT" || fail "the demo did not say that port 50000 (XDS_PORT) is taken"
if [ -n "$held_port" ] && command -v ss >/dev/null; then
  says "python3 \(pid $holder_pid\)" || fail "the demo's output does not name the holder (python3, pid $holder_pid)"
fi
xds=$(sed -n 's/.*xDS 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$demo_out" | head -n 1)
if [ -z "$xds" ] || [ "$xds" = 50000 ]; then
  fail "the demo did not print an xDS port other than 50000 (got '${xds}')"
else
  log "  xDS on $xds"
  says "using $xds\b" || fail "the demo did not say it uses $xds instead of 50000"
fi
says "-- [0-9a-f]{6} \(service 1\)" || fail "the demo printed no trace answer with a staging color"
app=$(printf '%s\n' "${env2[@]}" | sed -n 's/^APP_PORT=//p')
curl -s --max-time 3 "localhost:$app/trace/1" | grep -Eq -- "-- [0-9a-f]{6} \(service 1\)" ||
  fail "/trace/1 gives no staging color with the demo up"
stop_demo
[ "${demo_status:-1}" -eq 0 ] || fail "the demo exited with status $demo_status on SIGTERM"
release

log "3. the hub cannot start: the demo stops at once with the hub's own error"
mkdir -p "$tmp/hub-fails" && : >"$tmp/hub-fails/hub"  # the hub's data directory is a file
mapfile -t env3 < <(free_port_env "${port_vars[@]}")
run_demo hub-fails "${env3[@]}"
if wait_until 15 exited; then
  wait "$demo_pid"; status=$?; demo_pid=""
  [ $status -ne 0 ] || fail "the demo exited with status 0"
else
  fail "the demo did not stop within 15 s"; stop_demo
fi
hub_error=$(grep -v '^\s*$' "$tmp/hub-fails/hub.log" 2>/dev/null | tail -n 1)
if [ -z "$hub_error" ]; then
  fail "the hub wrote no log"
else
  log "  the hub's error: $hub_error"
  grep -qF -- "$hub_error" "$demo_out" || fail "the demo did not show the hub's error ($hub_error)"
fi

if [ $failures -eq 0 ]; then log "demo port test: all passed"; else log "demo port test: $failures failure(s)"; fi
exit $(( failures != 0 ))
