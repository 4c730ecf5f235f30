#!/bin/sh
# DNS resolver benchmark (issue 3): Apus's resolver against a local dnsmasq, beside dnspython and kdig
# in the same run. Not a test: the numbers depend on the machine. Prints a Markdown section.
#
#   bench/dns/run.sh                 # debug build (what is already built)
#   CONFIG=release bench/dns/run.sh  # release build (slow to build the first time)
#   SCRATCH=/tmp/x CONFIG=release …  # build in another scratch path
#
# Needs: /usr/sbin/dnsmasq (Debian dnsmasq-base), kdig (Debian knot-dnsutils), python3 with dnspython
# (PyPI dnspython, or Debian python3-dnspython). Missing comparison tools are skipped, not fatal.
set -eu
cd "$(dirname "$0")/../.."
CONFIG=${CONFIG:-debug}
COUNT=${COUNT:-2000}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
NAME=host.example.test

SCRATCH=${SCRATCH:+--scratch-path $SCRATCH}
swift build -c "$CONFIG" $SCRATCH --product apus >/dev/null 2>&1
APUS=$(swift build -c "$CONFIG" $SCRATCH --show-bin-path)/apus

/usr/sbin/dnsmasq --no-daemon --bind-interfaces --listen-address=127.0.0.1 --port="$PORT" \
    --no-resolv --no-hosts --local=/test/ --local-ttl=300 --pid-file= --log-facility=/dev/null \
    --host-record=$NAME,192.0.2.1 --cache-size=0 2>/dev/null &
DNSMASQ=$!
trap 'kill -9 $DNSMASQ 2>/dev/null' EXIT INT TERM
sleep 0.5

echo "## DNS resolver (bench/dns/run.sh)"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) vCPU, $CONFIG build, dnsmasq $(/usr/sbin/dnsmasq --version | head -1 | awk '{print $3}') on 127.0.0.1:$PORT, A $NAME, $COUNT uncached lookups."
echo
echo '```'
echo "apus ($CONFIG):"
"$APUS" dns bench A $NAME --dns 127.0.0.1:"$PORT" --count "$COUNT"

if python3 -c 'import dns.resolver' 2>/dev/null; then
    echo "dnspython $(python3 -c 'import dns.version; print(dns.version.version)'):"
    python3 - "$PORT" "$NAME" "$COUNT" <<'PY'
import sys, time, dns.resolver, dns.message, dns.query
port, name, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
r = dns.resolver.Resolver(configure=False)
r.nameservers = ["127.0.0.1"]; r.port = port; r.cache = dns.resolver.Cache()
r.resolve(name, "A")
n = 20000
t = time.perf_counter()
for _ in range(n): r.resolve(name, "A")
print(f"cached lookup: {(time.perf_counter() - t) / n * 1e9:.0f} ns each ({n} lookups, dns.resolver.Cache)")
r.cache = None
t = time.perf_counter()
for _ in range(count): r.resolve(name, "A")
print(f"uncached, sequential: {count / (time.perf_counter() - t):.0f} lookups/s ({count} lookups, dns.resolver)")
q = dns.message.make_query(name, "A")
t = time.perf_counter()
for _ in range(count): dns.query.udp(q, "127.0.0.1", port=port, timeout=2)
print(f"raw dns.query.udp, sequential: {count / (time.perf_counter() - t):.0f} queries/s")
PY
else
    echo "dnspython: not installed, skipped"
fi

if command -v kdig >/dev/null; then
    N=200
    START=$(date +%s.%N)
    i=0
    while [ $i -lt $N ]; do kdig +short @127.0.0.1 -p "$PORT" A $NAME >/dev/null; i=$((i + 1)); done
    END=$(date +%s.%N)
    echo "kdig $(kdig -V | awk '{print $NF}'): $(echo "$N / ($END - $START)" | bc -l | cut -d. -f1) lookups/s ($N runs, one process each)"
else
    echo "kdig: not installed, skipped"
fi
echo '```'
