#!/bin/bash
# Instructions (callgrind Ir, all threads, user space only) the server executes per message, accepting and
# relaying N messages of KB KB at concurrency C to smtp-sink: unlike msgs/s or CPU time, this does not depend on
# the (shared, noisy) machine, so small optimisations show. Each binary is started fresh with the
# bench/apus-peer.sh configuration (checks on, durable queue, relay) under `valgrind --tool=callgrind`; WARMUP
# messages first (first-use costs: caches, metadata, lazy init; dumped as part 1), counters are zeroed, then N
# messages, waits until the sink has them all, and dumps (part 2): instructions_per_msg = part 2 / N.
#   bench/callgrind-per-message.sh BINARY...     (env N=1000 C=10 KB=4 WARMUP=200 REPS=1, OUT=/tmp/smtpbench/callgrind)
# Prints one "RESULT mode=callgrind ..." line per binary and rep; keeps the callgrind files and, next to them,
# the top 40 functions by self and inclusive cost (callgrind_annotate, demangled) in OUT.
# How valgrind is made to work here (Debian 12's valgrind 3.19; the first problem is still in 3.24, Debian 13's):
#  - valgrind's rt_sigsuspend wrapper writes into the caller's mask (removes its own SIGVGKILL), and
#    libdispatch's dispatch_main (the Swift async main) passes a static const mask in .rodata: valgrind gets
#    SIGSEGV ("VALGRIND INTERNAL ERROR: ... signal 11", faulting address = _dispatch_sigsuspend.mask). Fixed by
#    an LD_PRELOAD shim (built here with cc) whose sigsuspend copies the mask to the stack.
#  - valgrind 3.19 cannot read the DWARF 5 parts of the binary's debug info ("unhandled dwarf2 abbrev form code
#    0x25" then "Possibly corrupted debuginfo file"): it runs a copy made with `objcopy --strip-debug` (same code,
#    so the same instruction counts; function names come from the symbol table). STRIP_DEBUG=0 runs the binary
#    itself, e.g. with a newer valgrind unpacked from Debian 13's .deb (dpkg -x into /opt/valgrind-new):
#    VALGRIND=/opt/valgrind-new/usr/bin/valgrind.bin VALGRIND_LIB=/opt/valgrind-new/usr/libexec/valgrind STRIP_DEBUG=0
#    (its vgdb needs glibc 2.38, so callgrind_control stays Debian 12's, which works with it).
#  - callgrind_annotate counts the cost of calls still active at a dump (calls=0) as self cost: the annotation
#    is made from a copy with calls=0 -> calls=1.
# Own ports, dirs and DNS, so that it can run beside the lead's benchmarks: apus on 127.0.0.1:27265, sink 27565,
# a private dnsmasq (the shared bench zone) on DNS_IP=127.0.0.163 (the shared one on .153 comes and goes with
# other scripts). Valgrind runs under nice 19. About 1 min per binary and rep for N=1000 on 2 cores.
# Needs valgrind, cc (gcc), objcopy (binutils) and dnsmasq: apt-get install valgrind gcc binutils dnsmasq.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); pkg=$(dirname "$here")
bins=("$@"); [ ${#bins[@]} -gt 0 ] || bins=("$pkg/.build-release/release/apus")
N=${N:-1000}; C=${C:-10}; KB=${KB:-4}; WARMUP=${WARMUP:-200}; REPS=${REPS:-1}
BENCH_DIR=${BENCH_DIR:-$(cd "$pkg/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
VALGRIND=${VALGRIND:-valgrind}; CALLGRIND_CONTROL=${CALLGRIND_CONTROL:-callgrind_control}
OUT=${OUT:-/tmp/smtpbench/callgrind}; DNS_IP=${DNS_IP:-127.0.0.163}
PORT=27265; SINK=27565
export BENCH_STATE=/tmp/smtpbench/state-vg
mkdir -p "$OUT" "$BENCH_STATE"
work=$(mktemp -d /tmp/callgrind-per-message.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# The sigsuspend shim (see above).
cat > "$work/sigsuspend-shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
int sigsuspend(const sigset_t *mask) {
  static int (*real)(const sigset_t *);
  if (!real) real = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
  sigset_t copy = *mask;
  return real(&copy);
}
C
cc -O2 -shared -fPIC -o "$work/sigsuspend-shim.so" "$work/sigsuspend-shim.c" -ldl
# apus-peer.sh runs "$APUS_BIN" serve ...: this wrapper puts callgrind in front (exec: same PID).
cat > "$work/apus-callgrind.sh" <<'SH'
#!/bin/bash
exec env LD_PRELOAD="$CG_SHIM" nice -n 19 $CG_VALGRIND --tool=callgrind --callgrind-out-file="$CG_OUTFILE" "$CG_BIN" "$@"
SH
chmod +x "$work/apus-callgrind.sh"

# Private test DNS: the shared zone, on another loopback address.
sed "s/^listen-address=.*/listen-address=$DNS_IP/" "$BENCH_DIR/peers/dns/dnsmasq.conf" > "$work/dnsmasq.conf"
dnsmasq --conf-file="$work/dnsmasq.conf" --keep-in-foreground --pid-file= --user=root \
        --log-facility="$work/dnsmasq.log" &
pids+=($!)
sleep 0.5; kill -0 "${pids[-1]}"

wait_sink() {  # wait_sink COUNT: until the sink has COUNT messages (bounded: 600 s); prints the count
  local n=0
  for _ in $(seq 1200); do
    n=$("$BENCH_DIR/sink-count.sh" "$SINK"); [ "$n" -ge "$1" ] && break; sleep 0.5
  done
  echo "$n"
}
totals() { awk '/^totals:/{print $2}' "$1"; }
annotate() {  # annotate FILE: top 40 by self and inclusive cost, demangled when swift-demangle is there
  local fixed="$work/annotate.in" dem=cat
  command -v swift-demangle >/dev/null && dem="swift-demangle --simplified"
  sed 's/^calls=0 /calls=1 /' "$1" > "$fixed"
  callgrind_annotate --threshold=100 "$fixed" > "$work/self.txt" 2>/dev/null
  callgrind_annotate --threshold=100 --inclusive=yes "$fixed" > "$work/incl.txt" 2>/dev/null
  sed -n '/file:function/,$p' "$work/self.txt" | sed -n 1,42p | $dem > "$1.self.txt"
  sed -n '/file:function/,$p' "$work/incl.txt" | sed -n 1,42p | $dem > "$1.incl.txt"
}

vgver=$($VALGRIND --version)
for rep in $(seq "$REPS"); do
  for i in "${!bins[@]}"; do
    bin=${bins[$i]}
    [ -x "$bin" ] || { echo "no binary $bin" >&2; exit 1; }
    run="$bin"
    if [ "${STRIP_DEBUG:-1}" = 1 ]; then run="$work/$(basename "$bin")"; objcopy --strip-debug "$bin" "$run"; fi
    tag="$((i + 1))-$(basename "$bin")-r$rep"; rm -f "$OUT/callgrind.$tag".*
    sink=$("$BENCH_DIR/sink.sh" "$SINK" 1800); pids+=("$sink")
    pid=$(CG_SHIM="$work/sigsuspend-shim.so" CG_VALGRIND="$VALGRIND" CG_BIN="$run" CG_OUTFILE="$OUT/callgrind.$tag" \
          APUS_BIN="$work/apus-callgrind.sh" APUS_ROOT=/tmp/smtpbench/apus-vg APUS_DNS="$DNS_IP" APUS_START_TRIES=600 \
          "$here/apus-peer.sh" "$PORT" "$SINK")
    pids+=("$pid")
    sleep 2
    timeout 120 "$CALLGRIND_CONTROL" -z "$pid" >/dev/null 2>&1
    TIMEOUT=900 "$BENCH_DIR/load.sh" "$PORT" "$WARMUP" "$C" "$KB" >/dev/null
    [ "$(wait_sink "$WARMUP")" -ge "$WARMUP" ] || echo "warning: sink short of the $WARMUP warm-up messages" >&2
    sleep 2
    timeout 120 "$CALLGRIND_CONTROL" -d "$pid" >/dev/null 2>&1          # part 1 (warm-up); a dump zeroes the counters
    load=$(TIMEOUT=900 "$BENCH_DIR/load.sh" "$PORT" "$N" "$C" "$KB" | grep '^RESULT' || true)
    got=$(wait_sink $((WARMUP + N)))
    sleep 2
    timeout 120 "$CALLGRIND_CONTROL" -d "$pid" >/dev/null 2>&1          # part 2 (the N measured messages)
    kill -TERM "$pid"
    for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill "$sink" 2>/dev/null || true
    part1="$OUT/callgrind.$tag.1"; part2="$OUT/callgrind.$tag.2"
    [ -s "$part2" ] || { echo "no callgrind dump $part2; see /tmp/smtpbench/apus-vg/apus.log" >&2; exit 1; }
    annotate "$part2"
    rc=$(echo "$load" | grep -o 'rc=[0-9]*' | cut -d= -f2); rc=${rc:-?}
    echo "RESULT mode=callgrind rep=$rep binary=$bin n=$N c=$C size_kb=$KB instructions_per_msg=$(( $(totals "$part2") / N )) warmup=$WARMUP warmup_instructions_per_msg=$(( $(totals "$part1") / WARMUP )) sink_received=$((got - WARMUP))/$N load_rc=$rc valgrind=${vgver#valgrind-}"
    echo "  files: $part2 (+ .self.txt .incl.txt: top functions)"
  done
done
