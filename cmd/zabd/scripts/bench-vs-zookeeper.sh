#!/usr/bin/env bash
# Runs the same bounded load (zabd bench) against a 3-server zabd ensemble and a 3-server
# Apache ZooKeeper 3.8 ensemble (Debian's zookeeper package) on this machine, fsync on for
# both, and prints each workload's figures and the zabd/ZooKeeper ratios.
#
#   cmd/zabd/scripts/bench-vs-zookeeper.sh [sessions] [duration]
set -euo pipefail
SESSIONS=${1:-16}
DURATION=${2:-5s}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=$(mktemp -d /tmp/zabd-bench-XXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/zabd" "$ROOT/cmd/zabd"

# --- zabd: three servers in one process ---
"$WORK/zabd" dev -n 3 -dir "$WORK/zabd-data" -log-level warn >"$WORK/zabd.out" 2>"$WORK/zabd.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q 'connect string' "$WORK/zabd.out" 2>/dev/null && break; sleep 0.1; done
ZABD=$(awk '/connect string/ {print $3}' "$WORK/zabd.out")
"$WORK/zabd" bench -servers "$ZABD" -sessions "$SESSIONS" -duration 2s -ops create,mixed >/dev/null # warm-up
"$WORK/zabd" bench -servers "$ZABD" -sessions "$SESSIONS" -duration "$DURATION" -label "zabd      " | tee "$WORK/zabd.res"
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()

# --- Apache ZooKeeper 3.8: three JVMs ---
CP="/usr/share/java/zookeeper.jar:$(ls /usr/share/java/*.jar | tr '\n' ':')"
BASE=$((20000 + RANDOM % 20000))
ZK=""
for i in 1 2 3; do
  d="$WORK/zk$i"; mkdir -p "$d/data"; echo "$i" >"$d/data/myid"
  cat >"$d/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$d/data
clientPort=$((BASE + i))
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok
server.1=127.0.0.1:$((BASE + 11)):$((BASE + 21))
server.2=127.0.0.1:$((BASE + 12)):$((BASE + 22))
server.3=127.0.0.1:$((BASE + 13)):$((BASE + 23))
CFG
  java -Xmx512m -cp "$CP" -Dzookeeper.log.dir="$d" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zoo.cfg" >"$d/out.log" 2>&1 &
  PIDS+=($!)
  ZK="$ZK${ZK:+,}127.0.0.1:$((BASE + i))"
done
for _ in $(seq 300); do
  n=0
  for i in 1 2 3; do
    if (printf srvr | timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$((BASE + i)); cat >&3; cat <&3") 2>/dev/null |
      grep -q -E 'Mode: (leader|follower)'; then n=$((n + 1)); fi
  done
  [ "$n" = 3 ] && break
  sleep 0.2
done
# warm-up: the JVM compiles its hot paths first
"$WORK/zabd" bench -servers "$ZK" -sessions "$SESSIONS" -duration 2s -ops create,mixed >/dev/null
"$WORK/zabd" bench -servers "$ZK" -sessions "$SESSIONS" -duration "$DURATION" -label "zookeeper " | tee "$WORK/zk.res"

echo
echo "ratio zabd/zookeeper (ops/s; p50 and p99: zookeeper/zabd, so above 1 means zabd is better)"
paste "$WORK/zabd.res" "$WORK/zk.res" | awk '
  function dur(s,  v) { v = s; sub(/^p[0-9]+=/, "", v)
    if (v ~ /µs$/) { sub(/µs$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
    if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 } return v + 0 }
  { n = NF / 2; for (i = 1; i <= n; i++) { if ($i ~ /ops\/s/) { a = $(i-1); b = $(n+i-1) } if ($i ~ /^p50=/) { a50 = dur($i); b50 = dur($(n+i)) } if ($i ~ /^p99=/) { a99 = dur($i); b99 = dur($(n+i)) } }
    printf "%-6s ops/s x%.2f  p50 x%.2f  p99 x%.2f\n", $2, a / b, b50 / a50, b99 / a99 }'
