#!/usr/bin/env bash
# End to end: two-way routing between staging and two laptops, each in its
# own network namespace (two_way_netns.sh: laptops reach staging, staging
# cannot reach the laptops), on the real binaries:
#   staging: the hub, a service answering "staging", and causeway-proxy as
#            the zone's front proxy (over xDS) and the tunnel holder;
#   laptops: alice and bob, each a service answering their name and
#            `causeway intercept` run as an unprivileged user with an
#            editor token of their own.
# Asserts:
#   0. staging cannot connect to a laptop; the intercepts run unprivileged;
#   1. alice and bob intercept the same service at once: N requests keyed
#      with each reach only that laptop, N without a key only staging;
#   2. kill -9 of alice's intercept under a stream of her requests: no 5xx
#      (each falls back to staging), the intercept is gone within its lease,
#      and started again her requests reach her laptop with no other step;
#   3. the same with kill -STOP (a sleeping laptop) and kill -CONT;
#   4. the front proxy restarted with --edge: a bare key from outside
#      reaches staging, KEY~PROOF reaches the laptop.
# Needs root for the namespaces: without them it fails when CI=true and is
# skipped (exit 77) otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CAUSEWAY_BIN:?set CAUSEWAY_BIN to the src/exe directory of a build}"
: "${N:=1000}"          # requests per kind in step 1
LEASE_MS=3000           # the intercepts' lease: short, so expiry fits the run
WORK=$(mktemp -d /tmp/causeway-e2e-2way-XXXXXX)
export WORK
source "$here/../../examples/local-to-staging/topology.sh"  # log, start, stop, wait_until, wait_for
source "$here/two_way_netns.sh"

if ! why=$(netns_supported 2>&1); then
  rm -rf "$WORK"
  if [ "${CI:-}" = true ]; then
    echo "FAIL: network namespaces are needed and unavailable here: $why" >&2
    exit 1
  fi
  echo "SKIP: network namespaces unavailable ($why); CI=true makes this a failure" >&2
  exit 77
fi

# Every server runs in a namespace of its own making, so fixed ports cannot
# clash with anything else on the machine.
API_PORT=8380 XDS_PORT=50000 FRONT_PORT=8080 STAGING_SVC_PORT=8081 ADMIN_PORT=9901
TUNNEL_PORT=9443 FORWARD_PORT=9444 LAPTOP_SVC_PORT=8080
DOMAIN=web:$FRONT_PORT
NOBODY=65534

failures=0
fail() { log "FAIL: $*"; failures=$((failures + 1)); }
finish() {
  local name
  for name in "${!TOPOLOGY_PIDS[@]}"; do stop "$name" KILL; done
  if [ $failures -ne 0 ]; then
    for f in hub front alice-intercept bob-intercept; do
      echo "----- $f.log"
      tail -n 60 "$WORK/$f.log" 2>/dev/null
    done
  fi
  netns_cleanup
  if [ -n "${KEEP_WORK:-}" ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap finish EXIT

ms() { echo $(($(date +%s%N) / 1000000)); }
step_start=0
step() { step_start=$(ms); log "step: $*"; }
step_done() { log "  took $(($(ms) - step_start)) ms"; }

# The service of each place: answers its name to every request.
cat >"$WORK/service.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # or each answer waits for a delayed ACK
    def do_GET(self):
        # Head and body in one write: a process killed mid-answer is less
        # likely to have sent one without the other.
        body = sys.argv[1].encode()
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    def log_message(self, *args):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), Handler).serve_forever()
PY

answers() {  # NS URL [CURL ARGS...]: the body, or nothing
  local ns=$1 url=$2; shift 2
  in_ns "$ns" curl -s --max-time 5 "$@" "$url"
}
# through_front [CURL ARGS...]: a request to the front proxy from inside staging.
through_front() {
  answers "$NETNS_STAGING" "http://127.0.0.1:$FRONT_PORT/" -H "Host: $DOMAIN" "$@"
}
front_serves() { [ "$(through_front)" = staging ]; }
keyed() { through_front -H "x-causeway-key: $1"; }
cw() { CAUSEWAY_HUB=$HUB_URL CAUSEWAY_TOKEN=$ADMIN_TOKEN in_staging "$CAUSEWAY_BIN/causeway" "$@"; }
token_of() {  # ROLE NAME: a token of zone staging, its secret printed
  cw token create "$2" --role "$1" -z staging -o json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'
}
intercept_json() {  # NAME [TOKEN]: the intercept as its owner (or the admin) reads it
  in_staging curl -s --max-time 5 -H "Authorization: Bearer ${2:-$ADMIN_TOKEN}" \
    "$HUB_URL/v1/zones/staging/intercepts/$1"
}
intercept_gone() { [ "$(in_staging curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
  -H "Authorization: Bearer $ADMIN_TOKEN" "$HUB_URL/v1/zones/staging/intercepts/$1")" = 404 ]; }

start_front() {  # [EXTRA FLAGS...]: the front proxy, also holding the tunnels
  start front ip netns exec "$NETNS_STAGING" "$CAUSEWAY_BIN/causeway-proxy" --xds 127.0.0.1:$XDS_PORT --proxy front \
    --zone staging --listen-address 0.0.0.0 --admin 127.0.0.1:$ADMIN_PORT --workers 1 \
    --access-log "$WORK/front.access.log" --xds-token-file "$WORK/front.token" \
    --tunnel-listen 0.0.0.0:$TUNNEL_PORT --tunnel-cert "$WORK/pub/tls/hub.crt" \
    --tunnel-key "$WORK/tls-key/hub.key" --tunnel-forward-listen 127.0.0.1:$FORWARD_PORT \
    --hub "$HUB_URL" --tunnel-ping-ms 300 --tunnel-response-timeout-ms 1000 "$@"
  wait_for front 30 "serve $DOMAIN from the hub's xDS" front_serves
}

# start_intercept NAME: `causeway intercept` on NAME's laptop as nobody,
# dialing the tunnel at the staging address that laptop reaches.
start_intercept() {
  local name=$1 token_var=${1^^}_TOKEN
  local staging=${NETNS_STAGING_ADDR[$name]}
  start "$name-intercept" env HOME="$WORK/home" CAUSEWAY_TOKEN="${!token_var}" \
    CAUSEWAY_HUB="http://$staging:$API_PORT" \
    ip netns exec "${NETNS_OF[$name]}" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- \
    "$CAUSEWAY_BIN/causeway" intercept web --zone staging --key "$name" \
    --to 127.0.0.1:$LAPTOP_SVC_PORT --tunnel "$staging:$TUNNEL_PORT" \
    --tunnel-ca "$WORK/pub/tls/ca.crt" --lease-ms $LEASE_MS
}
intercept_connected() {
  intercept_json "$1-web" | grep -q '"state": *"connected"'
}
laptop_serves() { [ "$(keyed "$1")" = "$1" ]; }

step "network: namespaces $NETNS_STAGING, cw-alice-$$, cw-bob-$$"
netns_make_staging && netns_add_laptop alice 1 && netns_add_laptop bob 2 ||
  { fail "could not make the namespaces"; exit 1; }
step_done

step "staging: hub, service, certificates, zone, front proxy holding the tunnels"
# The CA must be readable by the unprivileged intercepts; the keys are not.
chmod 711 "$WORK"
mkdir -p "$WORK/pub" "$WORK/home" "$WORK/tls-key" && chmod 755 "$WORK/pub" &&
  chown $NOBODY:$NOBODY "$WORK/home"
"$CAUSEWAY_BIN/causeway" tls init "$WORK/pub/tls" --name "${NETNS_STAGING_ADDR[alice]}" \
  --name "${NETNS_STAGING_ADDR[bob]}" >/dev/null || { fail "causeway tls init"; exit 1; }
mv "$WORK/pub/tls/"*.key "$WORK/tls-key/"
chmod 755 "$WORK/pub/tls" && chmod 644 "$WORK/pub/tls/"*.crt
HUB_URL=http://127.0.0.1:$API_PORT
start hub ip netns exec "$NETNS_STAGING" "$CAUSEWAY_BIN/causeway" serve --api 0.0.0.0:$API_PORT \
  --xds 127.0.0.1:$XDS_PORT --data-dir "$WORK/hub" --log-format text
wait_for hub 30 "write its admin token" test -s "$WORK/hub/admin.token" || exit 1
ADMIN_TOKEN=$(cat "$WORK/hub/admin.token")
wait_for hub 30 "serve REST" in_staging curl -sf --max-time 2 "$HUB_URL/healthz" || exit 1
start staging-svc ip netns exec "$NETNS_STAGING" python3 "$WORK/service.py" staging 127.0.0.1 $STAGING_SVC_PORT
cat >"$WORK/zone.yaml" <<YAML
kind: Zone
name: staging
---
kind: Cluster
zone: staging
name: web
instances:
  - {host: 127.0.0.1, port: $STAGING_SVC_PORT}
---
kind: Domain
zone: staging
host: web
port: $FRONT_PORT
---
kind: RouteGroup
zone: staging
name: main
default:
  - {cluster: web}
---
kind: Route
zone: staging
name: root
domain: $DOMAIN
path: /
route_group: main
---
kind: Proxy
zone: staging
name: front
domains: [$DOMAIN]
YAML
cw apply -f "$WORK/zone.yaml" >/dev/null || { fail "applying the zone"; exit 1; }
(umask 077 && token_of proxy front >"$WORK/front.token") || { fail "the front proxy's token"; exit 1; }
ALICE_TOKEN=$(token_of editor alice) && BOB_TOKEN=$(token_of editor bob) ||
  { fail "the laptops' tokens"; exit 1; }
start_front || { fail "the front proxy did not serve"; exit 1; }
step_done

step "laptops: services answering their names, causeway intercept as uid $NOBODY"
for name in alice bob; do
  start "$name-svc" ip netns exec "${NETNS_OF[$name]}" python3 "$WORK/service.py" "$name" 0.0.0.0 $LAPTOP_SVC_PORT
  wait_for "$name-svc" 20 "listen" \
    in_ns "${NETNS_OF[$name]}" curl -sf --max-time 2 "http://127.0.0.1:$LAPTOP_SVC_PORT/" || exit 1
  start_intercept "$name"
done
for name in alice bob; do
  wait_for "$name-intercept" 30 "have its tunnel reported connected" intercept_connected "$name" ||
    { fail "$name's tunnel"; exit 1; }
  wait_for "$name-intercept" 30 "receive $name's keyed requests" laptop_serves "$name" ||
    { fail "$name's laptop is not reached"; exit 1; }
done
step_done

step "0. staging cannot connect to a laptop; the intercepts run unprivileged"
for name in alice bob; do
  addr=${NETNS_LAPTOP_ADDR[$name]}
  [ "$(answers "${NETNS_OF[$name]}" "http://$addr:$LAPTOP_SVC_PORT/")" = "$name" ] ||
    fail "$name's service does not answer on its own address $addr"
  if out=$(in_staging curl -sS --max-time 3 "http://$addr:$LAPTOP_SVC_PORT/" 2>&1); then
    fail "staging reached $name's laptop at $addr: $out"
  else
    log "  staging → $addr:$LAPTOP_SVC_PORT: ${out:-refused}"
  fi
  uid=$(awk '/^Uid:/ {print $2}' "/proc/${TOPOLOGY_PIDS[$name-intercept]}/status" 2>/dev/null)
  [ "$uid" = $NOBODY ] || fail "$name's causeway intercept runs as uid '${uid}', not $NOBODY"
done
step_done

# burst OUT [CURL HEADER ARGS...]: N requests through the front proxy on
# kept-alive connections; each a line "BODY STATUS" in OUT.
burst() {
  local out=$1; shift
  in_staging curl -s --max-time 120 -H "Host: $DOMAIN" "$@" -w ' %{http_code}\n' \
    "http://127.0.0.1:$FRONT_PORT/n/[1-$N]" >"$out"
}
# expect_only FILE WHAT: every line of FILE is "WHAT 200", and there are N.
expect_only() {
  local total good
  total=$(wc -l <"$1")
  good=$(grep -cx "$2 200" "$1")
  log "  $(basename "$1" .txt): $good of $total answered by $2; others: $(grep -vx "$2 200" "$1" |
    sort | uniq -c | tr -s ' \n' ' ' | sed 's/^ $/none/')"
  [ "$total" = "$N" ] && [ "$good" = "$N" ] || fail "$(basename "$1" .txt): $good of $total (of $N) answered by $2"
}

step "1. alice, bob and unkeyed clients at once: $N requests each, zero misrouted"
burst "$WORK/alice-keyed.txt" -H "x-causeway-key: alice" & b1=$!
burst "$WORK/bob-keyed.txt" -H "x-causeway-key: bob" & b2=$!
burst "$WORK/unkeyed.txt" & b3=$!
wait $b1 $b2 $b3
expect_only "$WORK/alice-keyed.txt" alice
expect_only "$WORK/bob-keyed.txt" bob
expect_only "$WORK/unkeyed.txt" staging
step_done

# A steady stream of alice-keyed requests in the background, one line per
# answer in $WORK/stream-NAME.txt, until stop_stream (or 100 s at most).
start_stream() {
  local out="$WORK/stream-$1.txt"
  : >"$out"
  rm -f "$WORK/stream.stop"
  (deadline=$(($(date +%s) + 100))
   while [ ! -e "$WORK/stream.stop" ] && [ "$(date +%s)" -lt "$deadline" ]; do
     in_staging curl -s --max-time 10 -H "Host: $DOMAIN" -H "x-causeway-key: alice" \
       -w ' %{http_code}\n' "http://127.0.0.1:$FRONT_PORT/s/[1-20]" >>"$out"
   done) &
  STREAM_PID=$!
}
stop_stream() { touch "$WORK/stream.stop"; wait "$STREAM_PID"; }
# stream_ok NAME [CUT]: every answer 200, from alice or staging, some from
# staging; at most CUT (default 0) answers cut off after their head (the
# laptop's process killed between the answer's head and its body, which no
# proxy can send elsewhere: the client already has the head).
stream_ok() {
  local f="$WORK/stream-$1.txt" bad cut
  cut=$(grep -cx ' 200' "$f")
  bad=$(grep -vxE '(alice|staging)? 200' "$f" | sort | uniq -c | tr -s ' \n' ' ')
  log "  stream: $(wc -l <"$f") requests: $(grep -cx 'alice 200' "$f") alice, $(grep -cx 'staging 200' "$f") staging, $cut cut off after the head${bad:+, others:$bad}"
  [ -z "$bad" ] || fail "$1: answers other than 200 from alice or staging:$bad"
  [ "$cut" -le "${2:-0}" ] || fail "$1: $cut answers cut off after their head"
  grep -qx 'staging 200' "$f" || fail "$1: no request fell back to staging"
}
stream_reached() {  # NAME WHO: the stream's last answer came from WHO
  [ "$(tail -n 1 "$WORK/stream-$1.txt")" = "$2 200" ]
}

step "2. kill -9 of alice's intercept under a stream of her requests"
start_stream kill9
wait_until 30 grep -qx 'alice 200' "$WORK/stream-kill9.txt" || fail "the stream never reached alice"
killed=$(ms)
stop alice-intercept KILL
wait_until 20 stream_reached kill9 staging || fail "alice's requests did not fall back to staging"
log "  alice's requests served by staging $(($(ms) - killed)) ms after the kill"
wait_until 20 intercept_gone alice-web || fail "the intercept outlived its lease"
gone=$(($(ms) - killed))
log "  intercept alice-web gone $gone ms after the kill (lease $LEASE_MS ms, sweeper every 500 ms)"
# Renewed every third of the lease, so gone at most a lease after the
# kill, plus the sweeper's 500 ms; the rest is slack for a loaded machine.
[ $gone -le $((LEASE_MS + 3000)) ] || fail "the intercept was gone only after $gone ms"
start_intercept alice
restarted=$(ms)
wait_until 30 stream_reached kill9 alice || fail "alice's laptop was not reached again"
log "  alice's laptop serves again $(($(ms) - restarted)) ms after the restart"
stop_stream
stream_ok kill9 1  # the one request in flight at the kill
step_done

step "3. kill -STOP of alice's intercept (a sleeping laptop), then kill -CONT"
start_stream stop
wait_until 30 grep -qx 'alice 200' "$WORK/stream-stop.txt" || fail "the stream never reached alice"
stopped=$(ms)
kill -STOP "${TOPOLOGY_PIDS[alice-intercept]}"
wait_until 20 stream_reached stop staging || fail "alice's requests did not fall back to staging"
log "  alice's requests served by staging $(($(ms) - stopped)) ms after STOP"
# Asleep longer than the lease: the hub forgets the intercept meanwhile.
wait_until 20 intercept_gone alice-web || fail "the stopped intercept outlived its lease"
log "  intercept alice-web gone $(($(ms) - stopped)) ms after STOP"
kill -CONT "${TOPOLOGY_PIDS[alice-intercept]}"
resumed=$(ms)
wait_until 30 stream_reached stop alice || fail "alice's laptop was not reached after CONT"
log "  alice's laptop serves again $(($(ms) - resumed)) ms after CONT"
stop_stream
stream_ok stop
step_done

step "4. the front proxy as staging's edge: a key from outside counts only with its proof"
stop front
start_front --edge || fail "the edge front proxy did not serve"
proof=$(intercept_json alice-web "$ALICE_TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin).get("proof", ""))')
[ -n "$proof" ] || fail "alice's GET of her intercept carries no proof"
wait_until 30 intercept_connected alice || fail "alice's tunnel did not come back to the new holder"
outside() {  # a request from alice's namespace, outside staging, to the front proxy
  answers "${NETNS_OF[alice]}" "http://${NETNS_STAGING_ADDR[alice]}:$FRONT_PORT/" -H "Host: $DOMAIN" "$@"
}
proven() { [ "$(outside -H "x-causeway-key: alice~$proof")" = alice ]; }
wait_until 30 proven || fail "alice~PROOF from outside did not reach alice's laptop: $(outside -H "x-causeway-key: alice~$proof")"
bare=$(outside -H "x-causeway-key: alice")
[ "$bare" = staging ] || fail "a bare key from outside was answered by '$bare', not staging"
wrong=$(outside -H "x-causeway-key: alice~$(echo "$proof" | rev)")
[ "$wrong" = staging ] || fail "a wrong proof from outside was answered by '$wrong', not staging"
log "  bare key → $bare, wrong proof → $wrong, alice~PROOF → alice"
step_done

if [ $failures -eq 0 ]; then log "e2e: all steps passed"; else log "e2e: $failures failure(s)"; fi
exit $((failures != 0))
