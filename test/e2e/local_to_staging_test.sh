#!/usr/bin/env bash
# End to end: the seed's local-to-staging workflow on loopback with ports
# chosen at run time (examples/local-to-staging/topology.sh), asserting:
#   0. the CLI made the seed's objects under the seed's names: zone dev-local,
#      proxy dev-proxy, domain demo.turbinelabs.io:SIDECAR_PORT, route group
#      default, and a route /api to route group default, which sends to
#      cluster envoy-simple;
#   1. /trace/1 answers with a staging color;
#   2. both color instances answer over repeated calls;
#   3. after the staging front proxy is rescheduled to another address, the
#      local call works again within 2 s with no manual step;
#   4. with the hub stopped, the call still works;
#   5. after the hub is back, a route change made with the CLI takes effect.
# With TLS=1 the whole topology runs over TLS with tokens on every xDS
# stream (scripts/demo --tls), and a step checks that: plain HTTP to the
# hub is refused, curl with the demo CA is answered, and each proxy's
# stream used its own `proxy` token.
# Prints the time each step took.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${CAUSEWAY_BIN:?set CAUSEWAY_BIN to the src/exe directory of a build}"
port_vars=(API_PORT XDS_PORT APP_PORT SIDECAR_PORT FRONT_PORT COLOR1_PORT COLOR2_PORT DEV_ADMIN_PORT FRONT_ADMIN_PORT)
ports=($("$here/../support/free_ports" ${#port_vars[@]})) || exit 1
for i in "${!port_vars[@]}"; do export "${port_vars[$i]}=${ports[$i]}"; done
export WORK=$(mktemp -d /tmp/causeway-e2e-XXXXXX)
source "$here/../../examples/local-to-staging/topology.sh"

failures=0
fail() { log "FAIL: $*"; failures=$((failures + 1)); }
finish() {
  topology_stop
  if [ $failures -ne 0 ]; then
    for f in "$WORK"/*.log; do echo "----- $f"; tail -n 40 "$f"; done
  fi
  rm -rf "$WORK"
}
trap finish EXIT

ms() { echo $(( $(date +%s%N) / 1000000 )); }
step_start=0
step() { step_start=$(ms); log "step: $*"; }
step_done() { log "  took $(( $(ms) - step_start )) ms"; }

trace() { curl -s --max-time 3 "localhost:$APP_PORT/trace/1"; }
has_color() { trace | grep -Eq -- "-- ($COLOR1|$COLOR2) \(service 1\)"; }
answers_color() { trace | grep -q -- "-- $1 (service 1)"; }

step "start the topology (hub, staging, laptop) and set up both zones with the CLI"
topology_start || { fail "topology did not start"; exit 1; }
step_done

step "0. the seed's objects exist under the seed's names"
seed_missing=$(python3 - "demo.turbinelabs.io:$SIDECAR_PORT" \
  "$(cw get zones -o json)" "$(cw get proxies -z dev-local -o json)" \
  "$(cw get domains -z dev-local -o json)" "$(cw get route-groups -z dev-local -o json)" \
  "$(cw get routes -z dev-local -o json)" <<'PY'
import json, sys
domain = sys.argv[1]
zones, proxies, domains, groups, routes = (
    {o.get("name"): o for o in json.loads(a or "[]")} for a in sys.argv[2:])
missing = []
if "dev-local" not in zones:
    missing.append("zone dev-local")
if "dev-proxy" not in proxies:
    missing.append("proxy dev-proxy in zone dev-local")
elif domain not in proxies["dev-proxy"].get("domains", []):
    missing.append(f"domain {domain} on proxy dev-proxy")
if domain not in domains:
    missing.append(f"domain {domain} in zone dev-local")
if "default" not in groups:
    missing.append(f"route group default in zone dev-local (there are: {', '.join(sorted(groups)) or 'none'})")
elif "envoy-simple" not in [t.get("cluster") for t in groups["default"].get("default", [])]:
    missing.append("route group default sending to cluster envoy-simple")
if not any(r.get("domain") == domain and r.get("path") == "/api" and r.get("route_group") == "default"
           for r in routes.values()):
    found = "; ".join(f"{r.get('domain')}{r.get('path')} -> {r.get('route_group')}" for r in routes.values())
    missing.append(f"route {domain}/api to route group default (there are: {found or 'none'})")
print("\n".join(missing))
PY
) || fail "could not read the seed's objects"
[ -z "$seed_missing" ] || while read -r m; do fail "missing: $m"; done <<<"$seed_missing"
step_done

step "1. the trace call answers with a staging color"
wait_until 20 has_color || fail "no color in: $(trace)"
log "  $(trace)"
step_done

step "2. both color instances answer over repeated calls"
seen=""
for _ in $(seq 1 40); do seen+=$(trace); done
echo "$seen" | grep -q -- "-- $COLOR1 " || fail "instance $COLOR1 never answered"
echo "$seen" | grep -q -- "-- $COLOR2 " || fail "instance $COLOR2 never answered"
step_done

step "3. reschedule the staging front proxy to 127.0.0.2: the call works again within 2 s"
topology_reschedule_front_proxy 127.0.0.2 || fail "front proxy did not start on 127.0.0.2"
moved=$(ms)
wait_until 10 has_color || fail "the call did not recover after the front proxy moved"
recovered=$(( $(ms) - moved ))
log "  recovered $recovered ms after the front proxy came up at its new address"
[ $recovered -le 2000 ] || fail "recovery took $recovered ms (> 2000 ms)"
step_done

if [ "$TLS" = 1 ]; then
  step "tls. REST only over TLS; each proxy's xDS stream carries its own token; sidecar → front proxy over mTLS"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$API_PORT/healthz")
  [ "$code" != 200 ] || fail "plain HTTP to the TLS port was answered 200"
  curl -sf --max-time 3 --cacert "$WORK/tls/ca.crt" "$HUB_URL/healthz" >/dev/null ||
    fail "curl --cacert $HUB_URL/healthz failed"
  proxy_tokens() {  # ZONE: the token names of its connected proxies
    curl -sf --max-time 3 --cacert "$WORK/tls/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
      "$HUB_URL/v1/zones/$1/status" |
      python3 -c 'import json,sys; print(" ".join(sorted(p.get("token") or "none" for p in json.load(sys.stdin).get("proxies", []))))'
  }
  [ "$(proxy_tokens dev-local)" = dev-proxy ] || fail "dev-local's proxies used: $(proxy_tokens dev-local)"
  [ "$(proxy_tokens testbed)" = testbed-proxy ] || fail "testbed's proxies used: $(proxy_tokens testbed)"
  # The sidecar reaches the front proxy over mutual TLS: the front proxy
  # counts the sidecar's handshakes, and a client without the sidecar's
  # certificate, or in clear text, is not served.
  handshakes() {
    curl -sf --max-time 3 "http://127.0.0.1:$FRONT_ADMIN_PORT/stats" |
      sed -n 's/^ssl\.handshake: //p'
  }
  has_color || fail "the call failed over mTLS: $(trace)"
  [ "$(handshakes)" -ge 1 ] 2>/dev/null || fail "the front proxy counted no TLS handshake: $(handshakes)"
  front="demo.turbinelabs.io:$FRONT_PORT:$STAGING_ADDR"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 --resolve "$front" \
    --cacert "$WORK/tls/staging/ca.crt" "https://demo.turbinelabs.io:$FRONT_PORT/api/")
  [ "$code" = 000 ] || fail "a client without a certificate was answered $code by the front proxy"
  # With the sidecar's certificate: served, over HTTP/2 when the client offers it (ALPN).
  code=$(curl -s -o /dev/null -w '%{http_code} HTTP/%{http_version}' --max-time 3 --http2 \
    --resolve "$front" --cacert "$WORK/tls/staging/ca.crt" --cert "$WORK/tls/staging/client.crt" \
    --key "$WORK/tls/staging/client.key" "https://demo.turbinelabs.io:$FRONT_PORT/api/")
  [ "$code" = "200 HTTP/2" ] || fail "the sidecar's certificate was answered $code by the front proxy"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
    -H "Host: demo.turbinelabs.io:$FRONT_PORT" "http://$STAGING_ADDR:$FRONT_PORT/api/")
  [ "$code" = 000 ] || fail "clear text to the front proxy's TLS-only port was answered $code"
  step_done
fi

step "4. with the hub stopped, the call still works"
stop hub
for _ in $(seq 1 10); do has_color || fail "call failed with the hub down: $(trace)"; done
step_done

step "5. hub back; a route change made with the CLI takes effect"
topology_start_hub
wait_until 20 port_open $API_PORT || fail "hub did not come back"
cat >"$WORK/direct.yaml" <<YAML
kind: Cluster
name: color-two-direct
zone: dev-local
instances:
  - {host: 127.0.0.1, port: $COLOR2_PORT}
---
kind: RouteGroup
name: direct
zone: dev-local
default:
  - {cluster: color-two-direct}
---
kind: Route
name: api-direct
zone: dev-local
domain: demo.turbinelabs.io:$SIDECAR_PORT
path: /api/
route_group: direct
YAML
cw apply -f "$WORK/direct.yaml" || fail "apply failed"
changed=$(ms)
only_color2() { for _ in 1 2 3 4 5; do answers_color "$COLOR2" || return 1; done; }
wait_until 30 only_color2 || fail "the route change did not take effect: $(trace)"
log "  took effect $(( $(ms) - changed )) ms after the apply"
step_done

if [ $failures -eq 0 ]; then log "e2e: all steps passed"; else log "e2e: $failures failure(s)"; fi
exit $(( failures != 0 ))
