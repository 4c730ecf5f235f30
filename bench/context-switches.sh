#!/bin/bash
# Context switches and CPU time (perf stat: context-switches, task-clock; all threads of the server) per
# message, accepting and relaying N messages of 4 KB at concurrency C to smtp-sink, after 500 warm-up
# messages. Each binary is started fresh with the bench/apus-peer.sh configuration (checks on, durable queue,
# relay). Context switches are steadier than msgs/s on a shared machine: every hand-over between threads
# (a futex or eventfd wake-up) shows in them.
#   bench/context-switches.sh N C BINARY...        (binaries measured in the order given; repeat them to interleave)
# Prints one line per binary: msgs_per_s, cs/msg, cpu_ms/msg.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); pkg=$(dirname "$here")
N=${1:?usage: context-switches.sh N C BINARY...}; C=${2:?c}; shift 2
BENCH_DIR=${BENCH_DIR:-$(cd "$pkg/../shared/bench" && pwd)}
PORT=27245; SINK=27545
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
pids+=("$("$BENCH_DIR/peers/dns/start.sh")")
out=$(mktemp)
for bin in "$@"; do
  sink=$("$BENCH_DIR/sink.sh" "$SINK" 600); pids+=("$sink")
  pid=$(APUS_BIN="$bin" APUS_ROOT=/tmp/smtpbench/apus-cs BENCH_STATE=/tmp/smtpbench/state-cs "$here/apus-peer.sh" "$PORT" "$SINK")
  sleep 1
  "$BENCH_DIR/load.sh" "$PORT" 500 "$C" 4 >/dev/null; sleep 1
  perf stat -e context-switches,task-clock -p "$pid" -o "$out" -- sleep 1000 2>/dev/null &
  perfpid=$!
  sleep 0.3
  rate=$("$BENCH_DIR/load.sh" "$PORT" "$N" "$C" 4 | grep -o 'msgs_per_s=[0-9.]*')
  for _ in $(seq 300); do [ "$("$BENCH_DIR/sink-count.sh" "$SINK")" -ge $((N + 500)) ] && break; sleep 0.2; done
  # perf stat prints when its command (the sleep, its only child) ends.
  kill $(cat "/proc/$perfpid/task/$perfpid/children"); wait "$perfpid" 2>/dev/null || true
  cs=$(awk '/context-switches/{gsub(",","",$1); print $1}' "$out"); ms=$(awk '/task-clock/{gsub(",","",$1); print $1}' "$out")
  echo "RESULT mode=context-switches binary=$bin n=$N c=$C $rate cs_per_msg=$(echo "scale=2; $cs / $N" | bc) cpu_ms_per_msg=$(echo "scale=3; $ms / $N" | bc)"
  kill -TERM "$pid"; kill "$sink" 2>/dev/null || true; sleep 1
done
rm -f "$out"
