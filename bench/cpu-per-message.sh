#!/bin/bash
# CPU time the server spends per message (user + system, from /proc/PID/stat), accepting and relaying N
# messages of 4 KB at concurrency C to smtp-sink: steadier than msgs/s on a shared machine, because it
# does not count the time the server waits for a core. One binary or several (interleaved, REPS rounds),
# each started fresh with the bench/apus-peer.sh configuration (checks on, durable queue, relay).
# (valgrind 3.19, the Debian one, crashes inside the Swift runtime's start-up, so callgrind instruction
# counts are not available here.)
#   bench/cpu-per-message.sh [N] [C] [REPS] BINARY...     (env KB: message size, default 4)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); pkg=$(dirname "$here")
N=${1:-3000}; C=${2:-50}; REPS=${3:-3}; shift 3 || true
bins=("$@"); [ ${#bins[@]} -gt 0 ] || bins=("$pkg/.build-release/release/apus")
BENCH_DIR=${BENCH_DIR:-$(cd "$pkg/../shared/bench" && pwd)}
PORT=27245; SINK=27545; HZ=$(getconf CLK_TCK)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
pids+=("$("$BENCH_DIR/peers/dns/start.sh")")
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for rep in $(seq "$REPS"); do
  for bin in "${bins[@]}"; do
    sink=$("$BENCH_DIR/sink.sh" "$SINK" 600); pids+=("$sink")
    pid=$(APUS_BIN="$bin" APUS_ROOT=/tmp/smtpbench/apus-cpu BENCH_STATE=/tmp/smtpbench/state-cpu "$here/apus-peer.sh" "$PORT" "$SINK")
    sleep 1
    t0=$(ticks "$pid"); start=$(date +%s.%N)
    rate=$("$BENCH_DIR/load.sh" "$PORT" "$N" "$C" "${KB:-4}" | grep -o 'msgs_per_s=[0-9.]*' | cut -d= -f2)
    for _ in $(seq 600); do [ "$("$BENCH_DIR/sink-count.sh" "$SINK")" -ge "$N" ] && break; sleep 0.2; done
    t1=$(ticks "$pid"); end=$(date +%s.%N)
    kill -TERM "$pid"; kill "$sink" 2>/dev/null || true; sleep 1
    echo "RESULT mode=cpu rep=$rep binary=$bin n=$N c=$C size_kb=${KB:-4} accept_msgs_per_s=$rate relayed_in_s=$(echo "$end - $start" | bc) cpu_ms_per_msg=$(echo "scale=3; ($t1 - $t0) * 1000 / $HZ / $N" | bc)"
  done
done
