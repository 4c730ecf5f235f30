#!/bin/bash
# A variant of the shared benchmark DNS (../shared/bench/peers/dns: dnsmasq on 127.0.0.153, NXDOMAIN without
# SOA for everything but sink.test) that answers like a real zone: NSD on 127.0.0.154, authoritative for
# src.test, bench.test and sink.test, with the SOA in every negative answer, so a resolver may cache
# "no SPF record", "no DMARC record" for the SOA's minimum (300 s, RFC 2308). Prints NSD's PID.
#   pid=$(bench/dns-soa.sh); APUS_DNS=127.0.0.154 bench/apus-peer.sh ...; kill $pid
set -euo pipefail
dir=${BENCH_STATE:-/tmp/smtpbench/state}/dns-soa; rm -rf "$dir"; mkdir -p "$dir"
for zone in src.test sink.test bench.test; do
    printf '$ORIGIN %s.\n$TTL 300\n@ IN SOA ns.%s. hostmaster.%s. 1 1200 120 604800 300\n@ IN NS ns.%s.\nns IN A 127.0.0.154\n' \
        "$zone" "$zone" "$zone" "$zone" > "$dir/$zone.zone"
done
printf '@ IN MX 10 mx.sink.test.\nmx IN A 127.0.0.1\n' >> "$dir/sink.test.zone"
{
    printf 'server:\n  ip-address: 127.0.0.154\n  port: 53\n  zonesdir: "%s"\n  pidfile: "%s/nsd.pid"\n' "$dir" "$dir"
    printf '  database: ""\n  username: ""\n  xfrdfile: "%s/xfrd.state"\n  zonelistfile: "%s/zone.list"\n' "$dir" "$dir"
    printf 'remote-control:\n  control-enable: no\n'
    for zone in src.test sink.test bench.test; do printf 'zone:\n  name: "%s"\n  zonefile: "%s.zone"\n' "$zone" "$zone"; done
} > "$dir/nsd.conf"
nsd -d -c "$dir/nsd.conf" > "$dir/nsd.log" 2>&1 &
pid=$!
sleep 0.5
kill -0 "$pid" || { cat "$dir/nsd.log" >&2; exit 1; }
echo "$pid"
