#!/usr/bin/env bash
# The Debian package end to end: build it (scripts/package), inspect it (dpkg-deb, lintian), install it
# into a minimal Debian made by debootstrap (no Swift there), and inside it run apus --version, apus init
# and apus serve on loopback; a message sent with swaks must land in the Maildir. ldd must resolve every
# library inside that root; systemd-analyze verifies the unit. Needs root (chroot, mount).
#
#   tests/package/run.sh [--skip-build]
#
# The debootstrap root is cached in $APUS_TEST_CACHE (default /var/cache/apus-test); each run works on a
# copy. The mirror is the one apt uses here (/etc/apt/sources.list.d/*.sources). When no mirror answers,
# the install part is skipped with a message saying so. Prints "N passed, N failed" last.
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0; failed=0
ok()   { echo "✔ $1"; passed=$((passed + 1)); }
fail() { echo "✘ $1"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

[ "$(id -u)" = 0 ] || { echo "tests/package/run.sh: needs root (chroot)"; fail "running as root"; finish; }

start=$(date +%s)
deb=$(scripts/package "$@" | tail -1)
build_seconds=$(( $(date +%s) - start ))
[ -f "$deb" ] || { fail "scripts/package built a .deb"; finish; }
ok "scripts/package built $deb in ${build_seconds}s ($(du -k "$deb" | cut -f1) KiB)"

# 1. What is in it.
info=$(dpkg-deb --info "$deb")
contents=$(dpkg-deb --contents "$deb")
check "control: Package apus, Depends adduser" grep -q "Depends: adduser" <<<"$info"
check "conffiles: /etc/default/apus" grep -qx " /etc/default/apus" <<<"$(dpkg-deb --info "$deb" conffiles | sed 's/^/ /')"
for path in ./usr/bin/apus ./lib/systemd/system/apus.service ./etc/default/apus ./usr/share/doc/apus/copyright; do
    check "contents: $path" grep -q " $path\$" <<<"$contents"
done
check "contents: apus is root:root 0755" grep -qE '^-rwxr-xr-x root/root .* ./usr/bin/apus$' <<<"$contents"
ctrl=$(mktemp -d); dpkg-deb -e "$deb" "$ctrl"
check "no maintainer script starts or enables the service" \
    bash -c "! cat '$ctrl'/postinst '$ctrl'/prerm '$ctrl'/postrm | grep -v '^ *#' | grep -E 'systemctl (start|enable|restart)|deb-systemd-invoke (start|restart)|deb-systemd-helper enable'"
rm -rf "$ctrl"

# 2. lintian: no errors (warnings are printed).
t=$(date +%s)
lintian_out=$(lintian --tag-display-limit 0 "$deb" 2>&1)
echo "lintian: $(( $(date +%s) - t ))s"; echo "$lintian_out" | sed 's/^/  lintian: /'
check "lintian: no errors" bash -c "! grep -q '^E:' <<<'$lintian_out'"

# 3. The unit.
unitdir=$(mktemp -d); trap 'rm -rf "$unitdir"' EXIT
dpkg-deb -x "$deb" "$unitdir"
# systemd-analyze checks every directive and that ExecStart is executable; /usr/bin/apus is not installed on
# this machine, so the copy it checks points at the binary extracted from the package.
sed "s|/usr/bin/apus|$unitdir/usr/bin/apus|" "$unitdir/lib/systemd/system/apus.service" > "$unitdir/apus.service"
verify_out=$(systemd-analyze verify "$unitdir/apus.service" 2>&1); verify_rc=$?
echo "$verify_out" | sed 's/^/  systemd-analyze: /'
check "systemd-analyze verify apus.service" test "$verify_rc" = 0 -a -z "$verify_out"
check "unit: ExecStart=/usr/bin/apus, CAP_NET_BIND_SERVICE only" \
    bash -c "grep -q '^ExecStart=/usr/bin/apus serve' '$unitdir/lib/systemd/system/apus.service' && grep -q '^AmbientCapabilities=CAP_NET_BIND_SERVICE$' '$unitdir/lib/systemd/system/apus.service'"

# 4. A minimal Debian without Swift: debootstrap once into the cache, then a copy per run.
cache=${APUS_TEST_CACHE:-/var/cache/apus-test}
sources=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null)
mirror=$(awk '/^URIs:/ {print $2; exit}' <<<"$sources")
suite=$(awk '/^Suites:/ {print $2; exit}' <<<"$sources")
base="$cache/debootstrap-$suite"
if [ ! -f "$base/.complete" ]; then
    if [ -z "$mirror" ] || ! curl -sfI --max-time 10 "$mirror/dists/$suite/Release" >/dev/null; then
        echo "SKIPPED: no Debian mirror reachable (${mirror:-none in /etc/apt/sources.list.d/*.sources}): the install test did not run"
        finish
    fi
    rm -rf "$base"; mkdir -p "$cache"
    t=$(date +%s)
    debootstrap --variant=minbase --include=adduser,ca-certificates "$suite" "$base" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { tail -20 "$cache/debootstrap.log"; fail "debootstrap $suite from $mirror"; finish; }
    touch "$base/.complete"
    ok "debootstrap $suite from $mirror in $(( $(date +%s) - t ))s (cached in $base)"
fi
root=$(mktemp -d /var/tmp/apus-package-test.XXXXXX)
cleanup() {
    [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    umount "$root/proc" 2>/dev/null; umount "$root/dev" 2>/dev/null
    rm -rf "$root" "$unitdir"
}
trap cleanup EXIT
t=$(date +%s)
cp -a "$base/." "$root/"
echo "copy of the cached root: $(( $(date +%s) - t ))s"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

check "no Swift in the root" bash -c "! ls '$root'/usr/lib/swift '$root'/usr/bin/swift* >/dev/null 2>&1"
cp "$deb" "$root/tmp/apus.deb"
check "dpkg -i in the minimal root" in_root dpkg -i /tmp/apus.deb
check "apus user and group" in_root getent passwd apus
check "/etc/apus root:apus 0750" test "$(in_root stat -c '%U:%G %a' /etc/apus)" = "root:apus 750"
check "/etc/apus/certs apus:apus (the ACME client writes there)" test "$(in_root stat -c '%U:%G' /etc/apus/certs)" = "apus:apus"
check "/var/lib/apus apus:apus" test "$(in_root stat -c '%U:%G' /var/lib/apus)" = "apus:apus"
ldd_out=$(in_root ldd /usr/bin/apus); echo "$ldd_out" | sed 's/^/  ldd: /'
check "ldd: every library found in the root" bash -c "! grep -q 'not found' <<<'$ldd_out'"
check "ldd: only stock libraries" bash -c "! awk '/=>/ {print \$1}' <<<'$ldd_out' | grep -vE '^(libc|libm|libstdc\\+\\+|libgcc_s|libdl|libpthread|librt|libutil|libz)\\.so'"
version=$(in_root apus --version)
check "apus --version in the root: $version" test -n "$version"
check "apus init in the root" in_root apus init example.test --hostname mx.example.test --user alice \
    --password package-test-pw --scrypt-log-n 4
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i -E "s/^mx = .*/mx = [\"127.0.0.1:$port\"]/; s/^submission = .*/submission = []/; s/^submissions = .*/submissions = []/; s/^admin = .*/admin = []/" \
    "$root/etc/apus/apus.toml"
# As systemd would run it: user apus.
chroot --userspec=apus:apus "$root" /usr/bin/env -i PATH=/usr/bin:/bin /usr/bin/apus serve --config /etc/apus \
    >"$root/tmp/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
check "swaks to apus serve in the root" swaks --server "127.0.0.1:$port" --to alice@example.test \
    --from sender@example.org --header "Subject: package test" --silent 2
delivered=""
for _ in $(seq 50); do
    delivered=$(grep -l "Subject: package test" "$root"/var/lib/apus/mail/example.test/alice/new/* 2>/dev/null | head -1)
    [ -n "$delivered" ] && break; sleep 0.2
done
check "the message is in alice's Maildir" test -n "$delivered"
[ -n "$delivered" ] || sed 's/^/  serve: /' "$root/tmp/serve.log" | tail -20
echo "install test: $(( $(date +%s) - t ))s"
finish
