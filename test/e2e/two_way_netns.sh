# The network of test/e2e/two_way_routing_test.sh, sourced by it: one
# network namespace for staging and one per laptop, each laptop joined to
# staging by a veth pair.
#
#   laptop NAME (10.201.I.2/24) ──veth── staging (10.201.I.1/32, one per laptop)
#
# Laptops reach staging; staging cannot open a connection to a laptop, as
# with laptops behind a home router. There is no netfilter on every machine
# this runs on, so the asymmetry is made with routing alone: staging's main
# table has no route to any laptop (a connect fails with "network is
# unreachable"), and only packets sent from the address a laptop dialed
# (10.201.I.1, the source of every answer to that laptop) are looked up in
# a table of their own that leads back to it.
#
# Names carry the test's PID ($$), so parallel runs cannot clash. Call
# netns_cleanup on exit.

NETNS_STAGING="cw-staging-$$"
declare -A NETNS_OF=() NETNS_LAPTOP_ADDR=() NETNS_STAGING_ADDR=()
NETNS_MADE=()

# netns_supported: whether this machine lets us make namespaces and veth
# pairs (root, iproute2, a kernel with veth); says why not on stderr.
netns_supported() {
  local probe="cw-probe-$$"
  if [ "$(id -u)" != 0 ]; then echo "not root (uid $(id -u))" >&2; return 1; fi
  command -v ip >/dev/null || { echo "iproute2's ip is not installed" >&2; return 1; }
  ip netns add "$probe" 2>&1 >&2 || { echo "ip netns add failed" >&2; return 1; }
  local ok=0
  ip link add "cwp$$" netns "$probe" type veth peer name "cwq$$" netns "$probe" 2>&1 >&2 ||
    { echo "cannot make a veth pair" >&2; ok=1; }
  ip netns del "$probe"
  return $ok
}

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
in_staging() { in_ns "$NETNS_STAGING" "$@"; }

netns_add() {
  ip netns add "$1" && NETNS_MADE+=("$1") && ip -n "$1" link set lo up
}

netns_make_staging() {
  netns_add "$NETNS_STAGING" || return 1
  # No reverse-path check: the laptops' addresses have no route in the main table.
  in_staging sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# netns_add_laptop NAME INDEX: namespace cw-NAME-PID joined to staging.
netns_add_laptop() {
  local name=$1 i=$2 ns="cw-$1-$$"
  local laptop_addr=10.201.$i.2 staging_addr=10.201.$i.1 table=$((100 + i))
  netns_add "$ns" || return 1
  NETNS_OF[$name]=$ns
  NETNS_LAPTOP_ADDR[$name]=$laptop_addr
  NETNS_STAGING_ADDR[$name]=$staging_addr
  ip link add "cwl$i-$$" netns "$ns" type veth peer name "cws$i-$$" netns "$NETNS_STAGING" || return 1
  ip -n "$ns" addr add "$laptop_addr/24" dev "cwl$i-$$" &&
    ip -n "$ns" link set "cwl$i-$$" up &&
    in_staging sysctl -qw "net.ipv4.conf.cws$i-$$.rp_filter=0" &&
    ip -n "$NETNS_STAGING" addr add "$staging_addr/32" dev "cws$i-$$" &&
    ip -n "$NETNS_STAGING" link set "cws$i-$$" up &&
    ip -n "$NETNS_STAGING" route add "10.201.$i.0/24" dev "cws$i-$$" src "$staging_addr" table $table &&
    ip -n "$NETNS_STAGING" rule add from "$staging_addr" lookup $table
}

# netns_cleanup: ends what still runs in the namespaces (all of it started
# by this test) and deletes them, which deletes the veth pairs too.
netns_cleanup() {
  local ns pid
  for ns in "${NETNS_MADE[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  NETNS_MADE=()
}
