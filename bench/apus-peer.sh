#!/bin/bash
# Start `apus serve` as a benchmark peer for ../shared/bench (run-all.sh EXTRA_PEERS, load.sh, ...):
# a plain foreground process on 127.0.0.1:SMTP_PORT with the local domain bench.test,
# so that `bench@src.test -> bench@bench.test` is accepted without AUTH. As the chasquid peer does, every
# recipient of bench.test is forwarded (catch-all alias) to sink@sink.test, whose MX in the test DNS is
# the smtp-sink on 127.0.0.1:SINK_PORT; APUS_RELAY=0 makes bench a local user (Maildir) instead.
#   bench/apus-peer.sh [SMTP_PORT] [SINK_PORT]      -> prints the server's PID; stop with kill -TERM PID
# Env: APUS_DNS (default 127.0.0.153, the shared bench DNS; 127.0.0.154 with bench/dns-soa.sh),
# APUS_MAX_CONNECTIONS (default 5000), APUS_BIN (default: .build-release/release/apus of this package), APUS_ROOT (default
# /tmp/smtpbench/apus; wiped at each start), APUS_RELAY (default 1), APUS_LOG_LEVEL (default info:
# one line per connection and message, as the other peers' mail logs), BENCH_DIR (the shared harness, default ../shared/bench).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(dirname "$here")
SMTP_PORT=${1:-27225}; SINK_PORT=${2:-27525}
APUS_BIN=${APUS_BIN:-$pkg/.build-release/release/apus}
ROOT=${APUS_ROOT:-/tmp/smtpbench/apus}
BENCH_DIR=${BENCH_DIR:-$(cd "$pkg/../shared/bench" 2>/dev/null && pwd || echo /work/shared/bench)}
state=${BENCH_STATE:-/tmp/smtpbench/state}; mkdir -p "$state"
[ -x "$APUS_BIN" ] || { echo "no apus binary at $APUS_BIN (swift build -c release --product apus --scratch-path .build-release)" >&2; exit 1; }

rm -rf "$ROOT"; mkdir -p "$ROOT/etc/domains/bench.test" "$ROOT/etc/certs/apus.bench.test" "$ROOT/data"
cat > "$ROOT/etc/apus.toml" <<TOML
# apus benchmark peer (written by bench/apus-peer.sh)
hostname = "apus.bench.test"
data_dir = "$ROOT/data"

[listen]
mx = ["127.0.0.1:$SMTP_PORT"]
submission = []
submissions = []
admin = []

[limits]
# The load generators all connect from 127.0.0.1: c=50 and 500 idle connections need more than the
# default 20 per IP (chasquid has no such limit; the Postfix peer sets smtpd_client_connection_count_limit = 0).
max_connections = ${APUS_MAX_CONNECTIONS:-5000}
max_connections_per_ip = ${APUS_MAX_CONNECTIONS:-5000}

[dns]
servers = ["${APUS_DNS:-127.0.0.153}"]

[delivery]
smtp_port = $SINK_PORT
TOML
# Same kind of certificate as the chasquid peer, so that EHLO offers STARTTLS on every peer.
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=apus.bench.test" \
  -keyout "$ROOT/etc/certs/apus.bench.test/privkey.pem" \
  -out "$ROOT/etc/certs/apus.bench.test/fullchain.pem" >/dev/null 2>&1
if [ "${APUS_RELAY:-1}" = 1 ]; then
  # As the chasquid peer: no users, every recipient of bench.test forwarded to sink.test (MX = the sink).
  printf '# every recipient goes to the "remote" sink (bench/apus-peer.sh)\n*: sink@sink.test\n' \
    > "$ROOT/etc/domains/bench.test/aliases"
else
  "$APUS_BIN" user add bench@bench.test --password bench-password --config "$ROOT/etc" >/dev/null
fi

ulimit -n 20000 2>/dev/null || true
# In the test-DNS mount namespace like the other peers (no lookup leaves the machine).
inns=()
[ -x "$BENCH_DIR/peers/dns/inns.sh" ] && inns=("$BENCH_DIR/peers/dns/inns.sh")
"${inns[@]}" "$APUS_BIN" serve --config "$ROOT/etc" --log-level "${APUS_LOG_LEVEL:-info}" \
   </dev/null >"$ROOT/apus.log" 2>&1 &
pid=$!
echo $pid > "$state/apus.pid"
for _ in $(seq "${APUS_START_TRIES:-100}"); do
  if ss -ltnpH "sport = :$SMTP_PORT" | grep -q "pid=$pid,"; then echo $pid; exit 0; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
echo "apus did not start; see $ROOT/apus.log" >&2; cat "$ROOT/apus.log" >&2; exit 1
