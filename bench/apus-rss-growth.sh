#!/bin/bash
# RSS of a freshly started `apus serve` (bench/apus-peer.sh) before and after BATCHES x BATCH messages
# (4 KB, c=10, smtp-source through ../shared/bench/load.sh), read from /proc/PID/status once the queue is
# empty after each batch. Starts its own test DNS and smtp-sink and stops everything it started, by PID.
#   bench/apus-rss-growth.sh [BATCHES] [BATCH]          (default 5 x 1000)
# Env: APUS_BIN, APUS_RELAY (1: relay to the sink, 0: Maildir), SMTP_PORT (27225), SINK_PORT (27525),
# BENCH_DIR (the shared harness).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BATCHES=${1:-5}; BATCH=${2:-1000}
[ "$BATCHES" -le 20 ] && [ "$BATCH" -le 10000 ] || { echo "at most 20 batches of 10000" >&2; exit 2; }
SMTP_PORT=${SMTP_PORT:-27225}; SINK_PORT=${SINK_PORT:-27525}
BENCH_DIR=${BENCH_DIR:-$(cd "$here/../../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
ROOT=${APUS_ROOT:-/tmp/smtpbench/apus}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
pids+=("$("$BENCH_DIR/peers/dns/start.sh")")
pids+=("$("$BENCH_DIR/sink.sh" "$SINK_PORT" 1200)")
apid=$("$here/apus-peer.sh" "$SMTP_PORT" "$SINK_PORT"); pids+=("$apid")
sleep 2
rss() { awk '/VmRSS/{print $2}' "/proc/$apid/status"; }
start=$(rss)
echo "relay=${APUS_RELAY:-1} start rss_kb=$start"
prev=$start; first=""
for k in $(seq "$BATCHES"); do
  res=$("$BENCH_DIR/load.sh" "$SMTP_PORT" "$BATCH" 10 4 | grep '^RESULT' | grep -o 'rc=[0-9]* .*msgs_per_s=[0-9.]*')
  q=-1
  for _ in $(seq 120); do q=$(find "$ROOT/data/queue" -type f 2>/dev/null | wc -l); [ "$q" = 0 ] && break; sleep 0.5; done
  sleep 1
  now=$(rss); [ -z "$first" ] && first=$now
  echo "after $((k*BATCH)) msgs: rss_kb=$now (+$((now-prev)) kB this batch) queue=$q $res"
  prev=$now
done
# The first batch also warms up the heap, thread pool and caches; the growth per message is taken after it.
per=n/a; [ "$BATCHES" -gt 1 ] && per=$(awk -v a="$first" -v b="$prev" -v n=$(((BATCHES-1)*BATCH)) 'BEGIN{printf "%.2f", (b-a)/n}')
echo "RESULT mode=rss-growth relay=${APUS_RELAY:-1} msgs=$((BATCHES*BATCH)) start_kb=$start after_first_kb=$first end_kb=$prev kib_per_msg_after_first=$per"
