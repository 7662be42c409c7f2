#!/usr/bin/env bash
# One-shot setup of the compose topology, in two steps; a second run of
# either changes nothing.
#
#   setup.sh tls   (service setup-tls, before the hub starts) a CA and the
#                  hub's certificate, made with `causeway tls init` in volume
#                  tls-ca (the CA's key stays there), then the hub's
#                  certificate and key into volume hub-tls and the CA's
#                  certificate into volume hub-ca, for everyone to check the
#                  hub against.
#   setup.sh       (service setup, once the hub is ready) the seed's hub
#                  objects, made with the CLI over https, an agent token per
#                  zone (volume agent-tokens) and a proxy token per proxy
#                  (volume proxy-tokens), each a file of its own.
#
# Runs as root to hand the files to uid 10001, the user of both images.
set -euo pipefail
owner=10001:10001

make_tls() {
  local ca_dir=/var/lib/causeway-ca hub_tls=/etc/causeway/tls hub_ca=/etc/causeway/ca
  # The names the hub is reached by: `hub` on the compose network, loopback
  # inside its container (healthcheck) and through the published port.
  [ -s "$ca_dir/ca.crt" ] || causeway tls init "$ca_dir" \
    --name hub --name localhost --name 127.0.0.1 >/dev/null
  install -o 10001 -g 10001 -m 0444 "$ca_dir/hub.crt" "$ca_dir/ca.crt" "$hub_tls/"
  install -o 10001 -g 10001 -m 0400 "$ca_dir/hub.key" "$hub_tls/"
  install -o 10001 -g 10001 -m 0444 "$ca_dir/ca.crt" "$hub_ca/"
  echo "setup: the hub's certificate in $hub_tls, the CA's in $hub_ca"
}

# put_secret FILE COMMAND...: runs COMMAND once, its stdout (a token's
# secret) into FILE, readable by uid 10001 only. Its stderr is shown only
# when it fails: for a proxy token it repeats the secret (a hint of where
# to put it), which does not belong in the container's log.
put_secret() {
  local file=$1 err
  shift
  [ -s "$file" ] && return 0
  err=$(mktemp)
  if ! "$@" >"$file.tmp" 2>"$err"; then
    cat "$err" >&2
    rm -f "$err" "$file.tmp"
    return 1
  fi
  rm -f "$err"
  chown "$owner" "$file.tmp"
  chmod 0400 "$file.tmp"
  mv "$file.tmp" "$file"
}

make_objects() {
  : "${CAUSEWAY_HUB:=https://hub:8380}"
  : "${CAUSEWAY_CA:=/etc/causeway/ca/ca.crt}"
  export CAUSEWAY_HUB CAUSEWAY_CA
  CAUSEWAY_TOKEN=$(cat /var/lib/causeway/hub/admin.token)
  export CAUSEWAY_TOKEN
  local agent_tokens=/run/causeway-agent-tokens proxy_tokens=/run/causeway-proxy-tokens

  zone_exists() { causeway get zones "$1" >/dev/null 2>&1; }

  # Staging: the front proxy and the services behind it (the seed's testbed).
  zone_exists testbed || causeway init-zone testbed \
    --proxy testbed-proxy=demo.turbinelabs.io:8890 \
    --route demo.turbinelabs.io:8890/api=all-in-one
  # The laptop: tbnctl init-zone dev-local, then proxy dev-proxy, domain
  # demo.turbinelabs.io:8888, route group default, route /api -> envoy-simple.
  zone_exists dev-local || causeway init-zone dev-local \
    --proxy dev-proxy=demo.turbinelabs.io:8888 \
    --route demo.turbinelabs.io:8888/api=envoy-simple --route-group default

  local zone
  for zone in testbed dev-local; do
    put_secret "$agent_tokens/$zone" \
      causeway token create "compose-agent-$zone" --role agent --zone "$zone"
  done
  # xDS streams: a proxy token of the proxy's zone, file named after the proxy.
  put_secret "$proxy_tokens/testbed-proxy" \
    causeway token create compose-testbed-proxy --role proxy --zone testbed
  put_secret "$proxy_tokens/dev-proxy" \
    causeway token create compose-dev-proxy --role proxy --zone dev-local
  echo "setup: zones testbed and dev-local, agent tokens in $agent_tokens, proxy tokens in $proxy_tokens"
}

case "${1:-objects}" in
  tls) make_tls ;;
  objects) make_objects ;;
  *)
    echo "usage: $0 [tls|objects]" >&2
    exit 2
    ;;
esac
