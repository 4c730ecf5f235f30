#!/bin/bash
# ../shared/bench/run-all.sh with Apus as a managed peer. Differences from the shared script, and only these:
#  - `apus` is started by bench/apus-peer.sh like chasquid/postfix by theirs (fresh server before the
#    idle-connection test, same as they get); PEERS chooses the peers (default "chasquid postfix apus");
#  - the relay test is skipped for the peers in NO_RELAY (default "apus": Apus has no remote delivery yet,
#    so relay.sh would only wait out its 180 s timeout).
# Output lines are the shared format: python3 ../shared/bench/summarize.py OUT chasquid
#   bench/run-all.sh [REPS] [OUTFILE]
set -uo pipefail
mine=$(cd "$(dirname "$0")" && pwd)
here=${BENCH_DIR:-$(cd "$mine/../../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
source "$here/lib.sh"
REPS=${1:-3}
OUT=${2:-${TMPDIR:-/tmp}/apus-bench-$(date +%Y%m%d-%H%M%S).txt}
SINK_PORT=${SINK_PORT:-27525}; CHQ_PORT=${CHQ_PORT:-27025}; PF_PORT=${PF_PORT:-27125}; APUS_PORT=${APUS_PORT:-27225}
N=${N:-2000}; LAT_N=${LAT_N:-500}; IDLE_N=${IDLE_N:-500}; RELAY_N=${RELAY_N:-2000}
PEERS=${PEERS:-chasquid postfix apus}; NO_RELAY=${NO_RELAY:-apus}
mkdir -p "$(dirname "$OUT")"; : > "$OUT"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; sleep 1; }
trap cleanup EXIT
log() { echo "$*" | tee -a "$OUT"; }
tag() { sed -u "s/^RESULT /RESULT peer=$1 rep=$2 /" | grep --line-buffered '^RESULT' | tee -a "$OUT"; }

drain() { local last=-1 cur stable=0 i; for i in $(seq 240); do cur=$("$here/sink-count.sh" "$SINK_PORT");
  if [ "$cur" = "$last" ]; then stable=$((stable+1)); [ $stable -ge 4 ] && return; else stable=0; fi
  last=$cur; sleep 0.5; done; }

start_peer() { case $1 in
  chasquid) "$here/peers/chasquid/start.sh" "$CHQ_PORT" "$SINK_PORT";;
  postfix)  "$here/peers/postfix/start.sh" "$PF_PORT" "$SINK_PORT";;
  apus)     BENCH_DIR="$here" "$mine/apus-peer.sh" "$APUS_PORT" "$SINK_PORT";; esac; }
port_of() { case $1 in chasquid) echo "$CHQ_PORT";; postfix) echo "$PF_PORT";; apus) echo "$APUS_PORT";; esac; }

dnspid=$("$here/peers/dns/start.sh"); pids+=("$dnspid")
sinkpid=$("$here/sink.sh" "$SINK_PORT" 3600); pids+=("$sinkpid")
declare -A PID
peers=($PEERS)
for p in "${peers[@]}"; do PID[$p]=$(start_peer $p) || exit 1; pids+=("${PID[$p]}"); done
log "# run-all (apus copy) $(date -u +%FT%TZ) reps=$REPS N=$N LAT_N=$LAT_N IDLE_N=$IDLE_N RELAY_N=$RELAY_N host=$(hostname) nproc=$(nproc)"
log "# chasquid: $(chasquid -version 2>&1 | head -1)"
log "# postfix: $(postconf -c /tmp/smtpbench/postfix/etc -h mail_version 2>/dev/null)"
log "# apus: ${APUS_BIN:-$(dirname "$mine")/.build-release/release/apus}"

for rep in $(seq "$REPS"); do
  order=("${peers[@]}"); [ $((rep % 2)) = 0 ] && order=($(printf '%s\n' "${peers[@]}" | tac))
  for p in "${order[@]}"; do
    port=$(port_of "$p"); drain
    for c in 1 10 50; do
      "$here/load.sh" "$port" "$N" "$c" 4 | tag "$p" "$rep"; drain
    done
    "$here/load.sh" latency "$port" "$LAT_N" 4 | tag "$p" "$rep"; drain
    if [[ " $NO_RELAY " != *" $p "* ]]; then
      "$here/relay.sh" "$port" "$SINK_PORT" "$RELAY_N" 10 4 180 | tag "$p" "$rep"; drain
    fi
    kill "${PID[$p]}"; sleep 2
    PID[$p]=$(start_peer "$p") || exit 1; pids+=("${PID[$p]}"); sleep 2
    "$here/idle-conns.sh" "$port" "$IDLE_N" "${PID[$p]}" | tag "$p" "$rep"
  done
done
for p in "${peers[@]}"; do
  "$here/fsync-check.sh" "$(port_of $p)" 50 "${PID[$p]}" 2>/dev/null | tag "$p" fsync
done
log "# done $(date -u +%FT%TZ)"
