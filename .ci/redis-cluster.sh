#!/usr/bin/env bash
# Starts a three-node Redis Cluster (masters only, no persistence) on loopback from Debian's redis-server, waits
# until every node reports cluster_state:ok, and prints its nodes as host:port,host:port,host:port on stdout (all
# logging goes to stderr). Used by .ci/run for REDIS_CLUSTER_TEST_NODES; run it by hand to test against a cluster:
#   REDIS_CLUSTER_TEST_NODES=$(bash .ci/redis-cluster.sh) npx vitest run test/unit/kv-contract.test.ts
# A healthy cluster already on those ports is reused; `bash .ci/redis-cluster.sh stop` shuts it down.
# Exits non-zero when the cluster can't be brought up: the contract tests must fail, never skip.
set -euo pipefail

PORTS=(${REDIS_CLUSTER_PORTS:-30001 30002 30003})
# Each node's cluster bus listens on port+1000 (set explicitly: Redis's default, port+10000, lands inside Linux's
# ephemeral range, where an outgoing connection or a test's free port could already hold it).
BUS_OFFSET=1000
HOST=127.0.0.1

log() { printf '[redis-cluster] %s\n' "$*" >&2; }
cli() { redis-cli -h "$HOST" -p "$1" "${@:2}"; }
answers() { [ "$(cli "$1" ping 2>/dev/null)" = "PONG" ]; }
cluster_ok() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'; }
all_ok() { for p in "${PORTS[@]}"; do cluster_ok "$p" || return 1; done; }
nodes() { local IFS=,; local list=("${PORTS[@]/#/$HOST:}"); echo "${list[*]}"; }

stop_nodes() {
  for p in "${PORTS[@]}"; do
    if answers "$p"; then
      # Only ever stop what this script started: a cluster node, not some other Redis on the port.
      if cli "$p" info cluster 2>/dev/null | tr -d '\r' | grep -qx 'cluster_enabled:1'; then
        log "stopping the node on $p"
        local dir
        dir=$(cli "$p" config get dir 2>/dev/null | tr -d '\r' | sed -n 2p)
        cli "$p" shutdown nosave >/dev/null 2>&1 || true
        # Its temporary folder goes too (only one this script made: <tmp>/maskline-redis-cluster.*/<port>).
        case "$dir" in */maskline-redis-cluster.*/"$p") rm -rf "$dir"; rmdir "$(dirname "$dir")" 2>/dev/null || true ;; esac
      else
        log "port $p answers as a Redis that is not a cluster node: not touching it"
        return 1
      fi
    fi
  done
}

if [ "${1:-}" = "stop" ]; then
  stop_nodes
  exit 0
fi

command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || {
  log "redis-server and redis-cli are required (Debian: apt-get install redis-server; .ci/services.sh installs it)"
  exit 1
}

if all_ok; then
  log "reusing the healthy cluster on $(nodes)"
  nodes
  exit 0
fi

# Something half-made (an earlier run that died mid-create): start over.
stop_nodes
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 20); do answers "$p" || break; sleep 0.25; done
  answers "$p" && { log "the node on $p did not stop"; exit 1; }
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/maskline-redis-cluster.XXXXXX")
log "starting ${#PORTS[@]} nodes on $(nodes), data in $DIR"
for p in "${PORTS[@]}"; do
  mkdir -p "$DIR/$p"
  redis-server --daemonize yes --bind "$HOST" --port "$p" --dir "$DIR/$p" \
    --cluster-enabled yes --cluster-port $((p + BUS_OFFSET)) --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
    --save "" --appendonly no --logfile "$DIR/$p/redis.log" --pidfile "$DIR/$p/redis.pid"
done
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 40); do answers "$p" && break; sleep 0.25; done
  answers "$p" || { log "the node on $p did not start; its log:"; tail -n 20 "$DIR/$p/redis.log" >&2 || true; exit 1; }
done

log "creating the cluster"
# shellcheck disable=SC2046
redis-cli --cluster create $(for p in "${PORTS[@]}"; do printf '%s:%s ' "$HOST" "$p"; done) \
  --cluster-replicas 0 --cluster-yes >&2

for _ in $(seq 1 60); do all_ok && break; sleep 0.5; done
all_ok || { log "the cluster did not reach cluster_state:ok"; for p in "${PORTS[@]}"; do cli "$p" cluster info >&2 || true; done; exit 1; }
log "cluster_state:ok on $(nodes)"
nodes
