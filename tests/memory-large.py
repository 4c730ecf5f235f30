#!/usr/bin/env python3
"""Memory with many large messages at once: N clients each send one message of SIZE MiB to `apus serve`.

    python3 tests/memory-large.py [--apus .build/debug/apus] [--clients 20] [--size-mib 50]

Samples the server's RSS every 0.1 s; prints the idle RSS before, the peak while the messages arrive and are
queued and delivered, and the RSS 10 s after the last delivery. Needs about clients × size × 2 of free disk
(queue, then Maildir). Last line `N passed, N failed`: fails when a message is not accepted.
"""
import argparse
import os
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
from faultlib import apusctl  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apus", default=".build/debug/apus")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--size-mib", type=int, default=50)
    args = p.parse_args()
    apusctl.APUS = os.path.abspath(args.apus)
    server = apusctl.Apus("memory")
    line = b"y" * 998 + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * (args.size_mib * 1024 * 1024 // len(line) - 64)
    results, peak, stop = [], [0], threading.Event()
    try:
        server.start_dev()
        pid = server.proc.pid
        time.sleep(1)
        before = faultlib.rss_kb(pid)

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], faultlib.rss_kb(pid))
                time.sleep(0.1)

        def send(i):
            try:
                s = smtplib.SMTP("127.0.0.1", server.mx, local_hostname="client.test", timeout=600)
                s.sendmail("a@remote.test", [apusctl.USER], body.replace(b"big", f"big-{i}".encode(), 1))
                s.quit()
                results.append(True)
            except (OSError, smtplib.SMTPException) as e:
                print(f"client {i}: {e}")
                results.append(False)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.monotonic()
        clients = [threading.Thread(target=send, args=(i,)) for i in range(args.clients)]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        accepted = time.monotonic() - start
        deadline = time.monotonic() + 300
        while len(server.mail_files()) < sum(results) and time.monotonic() < deadline:
            time.sleep(0.2)
        delivered = len(server.mail_files())
        time.sleep(10)
        stop.set()
        sampler.join()
        after = faultlib.rss_kb(pid)
        print(f"{args.clients} x {args.size_mib} MiB: accepted {sum(results)} in {accepted:.1f} s, delivered {delivered}")
        print(f"RSS: idle before {before // 1024} MiB, peak {peak[0] // 1024} MiB, 10 s after {after // 1024} MiB")
    finally:
        stop.set()
        server.cleanup()
    ok = all(results) and len(results) == args.clients
    print(f"{1 if ok else 0} passed, {0 if ok else 1} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
