# The local-to-staging topology as local processes on loopback, shared by
# scripts/demo (for people) and test/e2e/local_to_staging_test.sh (for CI).
# Source it, set the variables below if the defaults don't suit, then call
# topology_start. Every process is stopped by topology_stop.
#
#   laptop:  pyservice :APP_PORT ──► dev-proxy :SIDECAR_PORT (zone dev-local)
#                                        │ cluster envoy-simple (found by the staging agent)
#   staging:                             ▼
#            testbed-proxy STAGING_ADDR:FRONT_PORT (zone testbed) ──► color services (cluster all-in-one)
#
#   hub:     causeway serve (SQLite) — REST :API_PORT, xDS :XDS_PORT
#
# With TLS=1 every connection to the hub is encrypted and every xDS stream
# carries a token: `causeway tls init` makes a CA and the hub's certificate
# in $WORK/tls, the hub serves REST and xDS over TLS with --xds-auth token,
# the CLI and the agents trust the CA (CAUSEWAY_CA), and each proxy dials
# xDS over TLS with a `proxy` token of its zone (--xds-token-file).
#
# "Staging" is described to its agent the way Kubernetes would: a file of
# pods (staging-pods.yaml) that topology_reschedule_front_proxy rewrites when
# the front proxy moves, as the scheduler would.

: "${CAUSEWAY_BIN:?set CAUSEWAY_BIN to the directory holding causeway and causeway-proxy}"
: "${WORK:?set WORK to a scratch directory}"
: "${API_PORT:=8380}" "${XDS_PORT:=50000}" "${APP_PORT:=8080}" "${SIDECAR_PORT:=8888}"
: "${FRONT_PORT:=8890}" "${COLOR1_PORT:=9101}" "${COLOR2_PORT:=9102}"
: "${DEV_ADMIN_PORT:=9901}" "${FRONT_ADMIN_PORT:=9902}" "${STAGING_ADDR:=127.0.0.1}"
: "${COLOR1:=00ff00}" "${COLOR2:=ff00ff}"

EXAMPLE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${TLS:=0}"
if [ "$TLS" = 1 ]; then HUB_URL=https://127.0.0.1:$API_PORT; else HUB_URL=http://127.0.0.1:$API_PORT; fi
declare -A TOPOLOGY_PIDS=()

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# start NAME COMMAND... : runs COMMAND in the background, output in $WORK/NAME.log
start() {
  local name=$1; shift
  "$@" >>"$WORK/$name.log" 2>&1 &
  TOPOLOGY_PIDS[$name]=$!
}

stop() {  # stop NAME [SIGNAL]
  local pid=${TOPOLOGY_PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  kill -"${2:-TERM}" "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "TOPOLOGY_PIDS[$1]"
}

# wait_until SECONDS COMMAND... : retries COMMAND every 50 ms until it succeeds.
wait_until() {
  local limit=$1; shift
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s%N)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# show_log NAME : the last lines of $WORK/NAME.log, indented (a process's own
# account of why it stopped or is stuck).
show_log() {
  log "  the end of $WORK/$1.log:"
  tail -n 15 "$WORK/$1.log" 2>/dev/null | sed 's/^/    | /' >&2
}

# wait_for NAME SECONDS WHAT COMMAND... : like wait_until, for what process
# NAME is to do (WHAT: "listen on :8080"); if NAME exits first or the time
# runs out, says so with the end of NAME's log.
wait_for() {
  local name=$1 limit=$2 what=$3; shift 3
  local pid=${TOPOLOGY_PIDS[$name]:-}
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited before it could $what"; show_log "$name"; return 1
    fi
    if [ "$(date +%s%N)" -ge "$deadline" ]; then
      log "$name did not $what within $limit s"; show_log "$name"; return 1
    fi
    sleep 0.05
  done
}

port_open() { (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null; }

cw() { CAUSEWAY_HUB=$HUB_URL CAUSEWAY_TOKEN=$ADMIN_TOKEN "$CAUSEWAY_BIN/causeway" "$@"; }

# The hub; with TLS=1 over TLS, xDS streams needing a token.
topology_start_hub() {
  local tls=()
  [ "$TLS" != 1 ] || tls=(--tls-cert "$WORK/tls/hub.crt" --tls-key "$WORK/tls/hub.key" --xds-auth token)
  start hub "$CAUSEWAY_BIN/causeway" serve --api 127.0.0.1:$API_PORT --xds 127.0.0.1:$XDS_PORT \
    --data-dir "$WORK/hub" --log-format text "${tls[@]}"
}

# secret_of ROLE ZONE NAME: creates a token and prints its secret.
secret_of() {
  cw token create "$3" --role "$1" -z "$2" -o json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'
}

# proxy_xds_flags NAME: how proxy NAME dials the hub's xDS (with TLS=1: over
# TLS, trusting the demo CA, with the token in $WORK/NAME.token).
proxy_xds_flags() {
  echo --xds 127.0.0.1:$XDS_PORT
  [ "$TLS" != 1 ] || echo --xds-ca "$WORK/tls/ca.crt" --xds-token-file "$WORK/$1.token"
}

write_staging_pods() {  # the staging cluster's pods, as its agent sees them
  cat >"$WORK/staging-pods.yaml.tmp" <<YAML
# testbed: every service of the staging cluster
- cluster: all-in-one
  instances:
    - {host: 127.0.0.1, port: $COLOR1_PORT, metadata: {pod: all-in-one-1}}
    - {host: 127.0.0.1, port: $COLOR2_PORT, metadata: {pod: all-in-one-2}}
YAML
  mv "$WORK/staging-pods.yaml.tmp" "$WORK/staging-pods.yaml"
  cat >"$WORK/staging-front-proxy.yaml.tmp" <<YAML
# dev-local: the staging front proxy on the host network, as cluster envoy-simple
- cluster: envoy-simple
  instances:
    - {host: $STAGING_ADDR, port: $FRONT_PORT, metadata: {node: staging-node}}
YAML
  mv "$WORK/staging-front-proxy.yaml.tmp" "$WORK/staging-front-proxy.yaml"
}

# With TLS=1 the laptop's sidecar reaches staging's front proxy over mutual
# TLS too: a second CA ($WORK/tls/staging) signs the front proxy's
# certificate for demo.turbinelabs.io and the sidecar's client certificate;
# the testbed domain terminates TLS and requires a client certificate, and
# dev-local's cluster envoy-simple originates TLS with that SNI, verifying
# the front proxy against the CA. Nothing but the objects changes: the
# proxies get the TLS settings over xDS like any other field.
topology_staging_mtls() {
  local dir=$WORK/tls/staging
  log "tls: sidecar → front proxy over mTLS (CA, front proxy and sidecar certificates in $dir)"
  "$CAUSEWAY_BIN/causeway" tls init "$dir" --name demo.turbinelabs.io --client-name dev-proxy \
    >/dev/null || return 1
  cat >"$WORK/staging-mtls.yaml" <<YAML
kind: Domain
zone: testbed
host: demo.turbinelabs.io
port: $FRONT_PORT
tls: {cert_file: $dir/hub.crt, key_file: $dir/hub.key, client_ca_file: $dir/ca.crt}
---
kind: Cluster
zone: dev-local
name: envoy-simple
tls: {sni: demo.turbinelabs.io, ca_file: $dir/ca.crt, cert_file: $dir/client.crt, key_file: $dir/client.key}
YAML
  cw apply -f "$WORK/staging-mtls.yaml" >/dev/null
}

topology_start() {
  mkdir -p "$WORK"
  if [ "$TLS" = 1 ]; then
    log "tls: a CA and the hub's certificate in $WORK/tls (causeway tls init)"
    "$CAUSEWAY_BIN/causeway" tls init "$WORK/tls" --name 127.0.0.1 --name localhost >/dev/null || return 1
    export CAUSEWAY_CA=$WORK/tls/ca.crt  # the CLI and the agents trust it
  fi
  log "hub: causeway serve (SQLite in $WORK/hub), REST $HUB_URL, xDS 127.0.0.1:$XDS_PORT"
  topology_start_hub
  wait_for hub 20 "write its admin token" test -s "$WORK/hub/admin.token" || return 1
  ADMIN_TOKEN=$(cat "$WORK/hub/admin.token")
  wait_for hub 20 "serve its REST API on :$API_PORT" port_open $API_PORT || return 1
  wait_for hub 20 "serve xDS on :$XDS_PORT" port_open $XDS_PORT || return 1

  log "zones: the seed's objects, made with the CLI"
  # The staging front proxy and every staging service (the seed's `testbed` zone).
  cw init-zone testbed --proxy testbed-proxy=demo.turbinelabs.io:$FRONT_PORT \
    --route demo.turbinelabs.io:$FRONT_PORT/api=all-in-one >/dev/null
  # The laptop: tbnctl init-zone dev-local, then proxy, domain, route group, route.
  cw init-zone dev-local --proxy dev-proxy=demo.turbinelabs.io:$SIDECAR_PORT \
    --route demo.turbinelabs.io:$SIDECAR_PORT/api=envoy-simple --route-group default >/dev/null
  [ "$TLS" != 1 ] || topology_staging_mtls || return 1

  log "staging: color services :$COLOR1_PORT ($COLOR1) and :$COLOR2_PORT ($COLOR2)"
  start color1 python3 "$EXAMPLE_DIR/color_service.py" $COLOR1_PORT $COLOR1
  start color2 python3 "$EXAMPLE_DIR/color_service.py" $COLOR2_PORT $COLOR2
  write_staging_pods
  AGENT_TESTBED_TOKEN=$(secret_of agent testbed staging-agent-testbed)
  AGENT_DEV_TOKEN=$(secret_of agent dev-local staging-agent-dev-local)
  if [ "$TLS" = 1 ]; then
    (umask 077
     secret_of proxy testbed testbed-proxy >"$WORK/testbed-proxy.token"
     secret_of proxy dev-local dev-proxy >"$WORK/dev-proxy.token")
  fi
  log "staging: agents discovering services (zone testbed) and the front proxy (cluster envoy-simple in dev-local)"
  start agent-testbed "$CAUSEWAY_BIN/causeway" agent --hub $HUB_URL --token "$AGENT_TESTBED_TOKEN" \
    --zone testbed --collector "file:$WORK/staging-pods.yaml"
  start agent-dev "$CAUSEWAY_BIN/causeway" agent --hub $HUB_URL --token "$AGENT_DEV_TOKEN" \
    --zone dev-local --collector "file:$WORK/staging-front-proxy.yaml"
  start_front_proxy

  log "laptop: dev-proxy sidecar on :$SIDECAR_PORT, pyservice on :$APP_PORT"
  # shellcheck disable=SC2046  # the flags are words without spaces
  start dev-proxy "$CAUSEWAY_BIN/causeway-proxy" $(proxy_xds_flags dev-proxy) --proxy dev-proxy \
    --zone dev-local --admin 127.0.0.1:$DEV_ADMIN_PORT --workers 1 --access-log "$WORK/dev-proxy.access.log"
  SERVICE_NAME=1 PORT=$APP_PORT SIDECAR=http://localhost:$SIDECAR_PORT \
    start pyservice python3 "$EXAMPLE_DIR/pyservice.py"
  wait_for pyservice 20 "listen on :$APP_PORT" port_open $APP_PORT || return 1
  wait_for dev-proxy 20 "get a listener on :$SIDECAR_PORT from the hub's xDS" port_open $SIDECAR_PORT || return 1
}

start_front_proxy() {
  # shellcheck disable=SC2046
  start front-proxy "$CAUSEWAY_BIN/causeway-proxy" $(proxy_xds_flags testbed-proxy) --proxy testbed-proxy \
    --zone testbed --listen-address "$STAGING_ADDR" --admin 127.0.0.1:$FRONT_ADMIN_PORT --workers 1 \
    --access-log "$WORK/front-proxy.access.log"
  wait_for front-proxy 20 "get a listener on $STAGING_ADDR:$FRONT_PORT from the hub's xDS" \
    port_open $FRONT_PORT "$STAGING_ADDR"
}

# The front proxy's pod moves to another node: stop it, start it on
# NEW_ADDR, and the "cluster" (the pods file) says where it went.
topology_reschedule_front_proxy() {
  STAGING_ADDR=$1
  stop front-proxy
  start_front_proxy
  write_staging_pods
}

topology_stop() {
  for name in pyservice dev-proxy front-proxy agent-dev agent-testbed color1 color2 hub; do stop "$name"; done
}
