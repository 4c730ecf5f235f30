#!/bin/bash
# Message size scaling (issue 17): accept msgs/s and peak RSS of `apus serve` (bench/apus-peer.sh, local
# Maildir delivery: APUS_RELAY=0) for messages of several sizes at concurrency C, a fresh server per size so
# that VmHWM is the peak of that size alone; then N concurrent messages of the largest kind (50 x 25 MB).
# RSS "idle after": once the queue is empty and 5 s more. Stops everything it started, by PID.
#   bench/apus-size-scaling.sh [C]                         (default 10)
# Env: APUS_BIN, SIZES ("1:2000 100:1000 1024:300 25600:40", SIZE_KB:N pairs), BURST ("50:25600", N:SIZE_KB;
# empty to skip), SMTP_PORT (27325), BENCH_DIR (the shared harness).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
C=${1:-10}
SIZES=${SIZES:-"1:2000 100:1000 1024:300 25600:40"}
BURST=${BURST-"50:25600"}
SMTP_PORT=${SMTP_PORT:-27325}
BENCH_DIR=${BENCH_DIR:-$(cd "$here/../../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
# Its own root and state, so that it does not wipe another peer's (apus-peer.sh clears APUS_ROOT at start).
export APUS_ROOT=${APUS_ROOT:-/tmp/smtpbench/apus-sizes} BENCH_STATE=${BENCH_STATE:-/tmp/smtpbench/state-sizes}
ROOT=$APUS_ROOT
export APUS_RELAY=0 APUS_LOG_LEVEL=${APUS_LOG_LEVEL:-notice}
dns=""; apid=""
cleanup() { [ -n "$apid" ] && kill "$apid" 2>/dev/null; [ -n "$dns" ] && kill "$dns" 2>/dev/null; true; }
trap cleanup EXIT
# The test DNS (127.0.0.153), unless another run has it up already.
ss -lunH | grep -q '127.0.0.153:53 ' || dns=$("$BENCH_DIR/peers/dns/start.sh")
kb() { awk -v f="$2:" '$1==f{print $2}' "/proc/$1/status"; }
run() {   # N SIZE_KB C
  apid=$("$here/apus-peer.sh" "$SMTP_PORT" 27525)
  sleep 1
  local idle; idle=$(kb "$apid" VmRSS)
  local res; res=$(TIMEOUT=600 "$BENCH_DIR/load.sh" "$SMTP_PORT" "$1" "$3" "$2" | grep '^RESULT' | grep -o 'rc=.*')
  local peak; peak=$(kb "$apid" VmHWM)
  for _ in $(seq 600); do [ -z "$(find "$ROOT/data/queue" -name '*.msg' 2>/dev/null)" ] && break; sleep 0.5; done
  sleep 5
  echo "RESULT size_kb=$2 n=$1 c=$3 idle_kb=$idle peak_kb=$peak after_kb=$(kb "$apid" VmRSS) $res"
  kill "$apid"; for _ in $(seq 100); do kill -0 "$apid" 2>/dev/null || break; sleep 0.2; done; apid=""
}
for pair in $SIZES; do run "${pair#*:}" "${pair%%:*}" "$C"; done
[ -n "$BURST" ] && run "${BURST%%:*}" "${BURST#*:}" "${BURST%%:*}"
