#!/usr/bin/env python3
"""kill -9 under load: SIGKILL at a random moment while clients submit and the runner delivers.

    python3 tests/fault-kill.py [--apus .build/debug/apus] [--trials 20] [--clients 50] [--seed N]

Each message goes to a local user and to a remote address (delivered over SMTP to a counting sink found
through dnsmasq). After each kill the server restarts and the queue drains; then every message that got a
`250` must be in the Maildir exactly once and at the sink at least once. Prints one line per trial (acked,
lost, local duplicates, remote duplicates) and a last line `N passed, N failed`; exit 1 on any loss or
local duplicate. Remote duplicates are reported, not failed: a kill between the remote `250` and the
queue update makes SMTP deliver again (RFC 5321 §6.1 accepts that).
"""
import argparse
import os
import random
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
from faultlib import apusctl  # noqa: E402


def client(server, trial, index, stop, acked, lock):
    try:
        s = smtplib.SMTP("127.0.0.1", server.submission, local_hostname="client.test", timeout=20)
        s._host = apusctl.HOSTNAME
        s.starttls(context=apusctl.client_tls_context(server.cert))
        s.login(apusctl.USER, apusctl.PASSWORD)
        n = 0
        while not stop.is_set():
            marker = f"K-{trial}-{index}-{n}"
            s.sendmail(apusctl.USER, [apusctl.USER, "someone@remote.test"],
                       f"Subject: {marker}\r\n\r\n{marker}\r\n".encode())
            with lock:
                acked.append(marker)
            n += 1
    except (OSError, smtplib.SMTPException):
        pass   # the server was killed


def local_counts(server):
    counts = {}
    for path in server.mail_files():
        with open(path, "rb") as f:
            for token in set(t for t in f.read().split() if t.startswith(b"K-")):
                counts[token.decode()] = counts.get(token.decode(), 0) + 1
    return counts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apus", default=".build/debug/apus")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seed", type=int, default=int(time.time()))
    args = p.parse_args()
    apusctl.APUS = os.path.abspath(args.apus)
    random.seed(args.seed)
    sink, dns = faultlib.Sink(), faultlib.Dnsmasq()
    server = faultlib.delivering_server("kill", sink, dns, extra=[("limits", "max_connections_per_ip", "200")])
    passed = failed = 0
    total_acked = total_lost = total_remote_dupes = 0
    print(f"seed {args.seed}, {args.trials} trials, {args.clients} clients")
    try:
        for trial in range(args.trials):
            stop, lock, acked = threading.Event(), threading.Lock(), []
            threads = [threading.Thread(target=client, args=(server, trial, i, stop, acked, lock))
                       for i in range(args.clients)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(1.0, 4.0))
            server.kill9()
            stop.set()
            for t in threads:
                t.join(30)
            # The queue writer's recycled files and the ones being written when it died: all temp files.
            temps = [n for n in os.listdir(server.queue_dir) if n.startswith(".tmp-")]
            server.start_serve()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                local = local_counts(server)
                if not server.queue_files() and all(local.get(m, 0) >= 1 for m in acked):
                    break
                time.sleep(0.2)
            time.sleep(0.5)
            # The start removed every temp file of the killed process (the live server may have new ones,
            # but none of the old names).
            remaining = set(temps) & set(os.listdir(server.queue_dir))
            local = local_counts(server)
            lost = [m for m in acked if local.get(m, 0) == 0 or sink.count(m) == 0]
            local_dupes = [m for m in acked if local.get(m, 0) > 1]
            remote_dupes = [m for m in acked if sink.count(m) > 1]
            ok = not lost and not local_dupes and not remaining
            passed, failed = passed + ok, failed + (not ok)
            total_acked += len(acked)
            total_lost += len(lost)
            total_remote_dupes += len(remote_dupes)
            print(f"trial {trial + 1:2d}: acked {len(acked):4d}  lost {len(lost)}  local duplicates {len(local_dupes)}  "
                  f"remote duplicates {len(remote_dupes)}  temp files at the kill {len(temps)} "
                  f"(recycled or half-written), not removed at start {len(remaining)}"
                  + ("" if ok else f"  ✘ lost {lost[:5]} dupes {local_dupes[:5]}"), flush=True)
        print(f"total: acked {total_acked}, lost {total_lost}, remote duplicates {total_remote_dupes}")
    finally:
        server.cleanup()
        sink.close()
        dns.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
