#!/usr/bin/env bash
# A private test network for the multi-process tests, made of network namespaces:
#
#   <name>-hub    holds bridge br0; every node's veth and the host's leg are plugged into it
#   <name>-n<i>   one per node, eth0 = 10.201.0.<i>/24 (i = 1..n)
#   host leg      interface <name>-h in the test's own namespace, 10.201.0.254/24, so the test
#                 (and a PostgreSQL listening there) reaches every node without entering one
#
# 10.201.0.0/24 exists only on these interfaces: nothing is routed off the machine.
#
#   tools/netns/cluster.sh up <name> <n>     create (removes leftovers of <name> first)
#   tools/netns/cluster.sh cut <name> <i>    take node i's link down: it is partitioned from all
#   tools/netns/cluster.sh heal <name> <i>   bring it back
#   tools/netns/cluster.sh down <name>       delete everything <name> created
#
# <name> must be short (at most 8 characters): interface names are limited to 15.
set -euo pipefail

subnet_prefix="10.201.0"
host_address="${subnet_prefix}.254"

usage() {
  sed -n '2,17p' "$0" >&2
  exit 2
}

down() {
  local name="$1"
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${name}-(hub|n[0-9]+)$" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns delete "$ns"
  done
  ip link delete "${name}-h" 2>/dev/null || true
}

up() {
  local name="$1" n="$2"
  down "$name"
  local hub="${name}-hub"
  ip netns add "$hub"
  ip -n "$hub" link set lo up
  ip -n "$hub" link add br0 type bridge
  ip -n "$hub" link set br0 up
  local i
  for ((i = 1; i <= n; i++)); do
    local node="${name}-n${i}"
    ip netns add "$node"
    ip -n "$node" link set lo up
    ip -n "$hub" link add "v${i}" type veth peer name eth0 netns "$node"
    ip -n "$hub" link set "v${i}" master br0 up
    ip -n "$node" addr add "${subnet_prefix}.${i}/24" dev eth0
    ip -n "$node" link set eth0 up
  done
  ip link add "${name}-h" type veth peer name vhost netns "$hub"
  ip -n "$hub" link set vhost master br0 up
  ip addr add "${host_address}/24" dev "${name}-h"
  ip link set "${name}-h" up
}

link() {
  local name="$1" i="$2" state="$3"
  ip -n "${name}-n${i}" link set eth0 "$state"
}

[[ $# -ge 2 ]] || usage
command="$1"
name="$2"
[[ ${#name} -le 8 ]] || { echo "netns: name '$name' is longer than 8 characters" >&2; exit 2; }
case "$command" in
  up) up "$name" "${3:?number of nodes}" ;;
  cut) link "$name" "${3:?node index}" down ;;
  heal) link "$name" "${3:?node index}" up ;;
  down) down "$name" ;;
  *) usage ;;
esac
