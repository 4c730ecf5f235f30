#!/usr/bin/env python3
"""TLS scan of Apus's submission ports with testssl.sh (Debian package `testssl.sh`).

    python3 tests/tls-scan.py [--apus .build/debug/apus]

Starts `apus dev` on free loopback ports and runs testssl against 465 (implicit TLS) and 587 (STARTTLS):
protocols (-p), cipher categories (-s), server preference (-P), forward secrecy (-f) and vulnerabilities (-U).
Certificate checks are left out on purpose: `apus dev` serves a self-signed certificate.
Fails when a protocol below TLS 1.2 is offered or testssl rates any finding MEDIUM, HIGH or CRITICAL.
Prints one line per port and a last line `N passed, N failed`. Takes about a minute per port.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "interop"))
sys.dont_write_bytecode = True
import apusctl  # noqa: E402

BAD = {"MEDIUM", "HIGH", "CRITICAL"}
OLD_PROTOCOLS = {"SSLv2", "SSLv3", "TLS1", "TLS1_1"}


def scan(label, target, out_dir):
    path = os.path.join(out_dir, f"{label}.json")
    argv = ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--jsonfile", path,
            "-p", "-s", "-P", "-f", "-U", *target]
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    elapsed = time.monotonic() - start
    try:
        findings = json.load(open(path))
    except (OSError, ValueError):
        return elapsed, [f"testssl wrote no JSON (exit {p.returncode}):\n{p.stdout[-2000:]}{p.stderr[-2000:]}"], []
    problems, notes = [], []
    for f in findings:
        fid, sev, text = f.get("id", ""), f.get("severity", ""), f.get("finding", "")
        if fid in OLD_PROTOCOLS and "not offered" not in text:
            problems.append(f"{fid}: {text}")
        elif sev in BAD:
            problems.append(f"{fid} [{sev}]: {text}")
        elif sev in {"LOW", "WARN"}:
            notes.append(f"{fid} [{sev}]: {text}")
        if fid in {"TLS1_2", "TLS1_3", "cipher_order", "cipherorder_TLSv1_2", "FS", "LUCKY13", "BEAST", "ROBOT"}:
            notes.append(f"{fid} [{sev}]: {text}")
    return elapsed, problems, notes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--apus", default=os.environ.get("APUS_BIN", ".build/debug/apus"))
    args = parser.parse_args()
    if shutil.which("testssl") is None:
        print("testssl is not installed: apt-get install testssl.sh")
        print("0 passed, 1 failed")
        return 1
    apusctl.APUS = os.path.abspath(args.apus)
    server = apusctl.Apus("tlsscan")
    out_dir = tempfile.mkdtemp(prefix="apus-tlsscan-")
    passed = failed = 0
    try:
        server.start_dev()
        for label, target in [("465", [f"127.0.0.1:{server.submissions}"]),
                              ("587", ["-t", "smtp", f"127.0.0.1:{server.submission}"])]:
            elapsed, problems, notes = scan(label, target, out_dir)
            status = "ok" if not problems else "FAILED"
            print(f"port {label}: {status} in {elapsed:.0f} s")
            for line in sorted(set(notes)):
                print(f"  {line}")
            for line in problems:
                print(f"  ✘ {line}")
            if problems:
                failed += 1
            else:
                passed += 1
    finally:
        server.cleanup()
        shutil.rmtree(out_dir, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
