#!/usr/bin/env bash
# The seed's hub objects, made with the CLI, and one agent token per zone.
# Run once by the compose service `setup`; a second run changes nothing.
set -euo pipefail
: "${CAUSEWAY_HUB:=http://hub:8380}"
export CAUSEWAY_HUB
CAUSEWAY_TOKEN=$(cat /var/lib/causeway/hub/admin.token)
export CAUSEWAY_TOKEN
tokens=/run/causeway-tokens

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

for zone in testbed dev-local; do
  [ -s "$tokens/$zone" ] && continue
  causeway token create "compose-agent-$zone" --role agent --zone "$zone" >"$tokens/$zone.tmp"
  chown 10001:10001 "$tokens/$zone.tmp"
  chmod 0400 "$tokens/$zone.tmp"
  mv "$tokens/$zone.tmp" "$tokens/$zone"
done
echo "setup: zones testbed and dev-local, agent tokens in $tokens"
