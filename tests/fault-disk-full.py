#!/usr/bin/env python3
"""Disk full: `data_dir` on a small tmpfs (needs root for mount; loopback only; about 2 minutes).

    python3 tests/fault-disk-full.py [--apus .build/debug/apus]

1. Acceptance: with the disk nearly full, 1 MiB messages are accepted until the free space would fall below
   [delivery] queue_min_free_bytes; then `452 4.3.1`, before the disk is exhausted (df shows space left).
2. Delivery: a queued message (apus sendmail) meets a completely full disk when the server starts: the
   Maildir write fails, the message is deferred and stays queued, nothing half-written lands in new/.
3. Recovery: the filler is removed; without any command the next message is accepted and the deferred one
   delivered at its retry (RetrySchedule: the first retry comes after a minute).
Prints each check and a last line `N passed, N failed`.
"""
import argparse
import os
import shutil
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
from faultlib import apusctl  # noqa: E402

MIB = 1024 * 1024
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'✔' if ok else '✘'} {name}{': ' + detail if detail else ''}", flush=True)


def free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(path, leave):
    """Writes a filler file so that about `leave` bytes stay free (0: until ENOSPC)."""
    target = os.path.join(path, "filler")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        chunk = b"\0" * MIB
        while free(path) > leave + MIB:
            os.write(fd, chunk)
        if leave == 0:
            small = b"\0" * 4096
            while True:
                os.write(fd, small)
    except OSError:
        pass
    finally:
        os.close(fd)
    return target


def message(marker, size):
    line = ("x" * 76 + "\r\n").encode()
    return f"Subject: {marker}\r\n\r\n{marker}\r\n".encode() + line * (size // len(line))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apus", default=".build/debug/apus")
    p.add_argument("--size-mib", type=int, default=48)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("needs root (mount -t tmpfs)\n0 passed, 1 failed")
        return 1
    apusctl.APUS = os.path.abspath(args.apus)
    server = apusctl.Apus("diskfull")
    data = server.data_dir
    os.makedirs(data, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={args.size_mib}m", "tmpfs", data], check=True)
    try:
        server.start_dev()
        server.stop()
        server.set_config("delivery", "queue_min_free_bytes", str(8 * MIB))
        server.set_config("limits", "max_message_bytes", str(4 * MIB))
        server.start_serve()

        # 1. Acceptance stops with 452 4.3.1 while space is left.
        fill(data, 16 * MIB)
        s = smtplib.SMTP("127.0.0.1", server.mx, local_hostname="client.test", timeout=30)
        accepted, refusal, left = 0, None, None
        for i in range(40):
            try:
                s.sendmail("a@remote.test", [apusctl.USER], message(f"D-{i}", MIB))
                accepted += 1
            except smtplib.SMTPDataError as e:
                refusal, left = (e.smtp_code, e.smtp_error.decode()), free(data)
                break
            except smtplib.SMTPResponseException as e:
                refusal, left = (e.smtp_code, e.smtp_error.decode()), free(data)
                break
        s.quit()
        check("accepted while space lasts, then refused", accepted > 0 and refusal is not None,
              f"{accepted} accepted, then {refusal}")
        check("the refusal is 452 4.3.1", bool(refusal) and refusal[0] == 452 and refusal[1].startswith("4.3.1"), f"{refusal}")
        check("refused before the disk was exhausted", left is not None and left > MIB, f"{(left or 0) // 1024} KiB free")
        check("the server is still running", server.alive(), server.log()[-500:] if not server.alive() else "")

        # 2. A queued message meets a full disk at delivery: deferred, kept, nothing half-written.
        server.stop()
        mark = "D-deferred"
        q = subprocess.run([apusctl.APUS, "sendmail", "--config", server.config_dir, "-f", "a@example.test", apusctl.USER],
                           input=message(mark, 64 * 1024), capture_output=True, timeout=60)
        check("apus sendmail queued a message", q.returncode == 0, q.stderr.decode()[-300:])
        filler = fill(data, 0)
        server.start_serve()
        time.sleep(3)
        queued = [f for f in server.queue_files() if mark.encode() in open(f, "rb").read()]
        delivered = server.messages_with(mark.encode())
        check("delivery into the full Maildir is deferred, the message stays queued", len(queued) == 1 and not delivered,
              f"queued {len(queued)}, delivered {len(delivered)}")
        check("the server is still running on a full disk", server.alive())
        complete = all(open(f, "rb").read().rstrip().endswith(b"x" * 76) for f in server.mail_files())
        check("every file in new/ is complete", complete)

        # 3. Space returns: acceptance and delivery resume without any command.
        os.unlink(filler)
        s = smtplib.SMTP("127.0.0.1", server.mx, local_hostname="client.test", timeout=30)
        try:
            s.sendmail("a@remote.test", [apusctl.USER], message("D-after", 64 * 1024))
            ok = True
        except smtplib.SMTPException as e:
            ok = False
            print(e)
        s.quit()
        check("a message is accepted at once when space returns", ok)
        got = server.wait_for(mark.encode(), timeout=100)
        check("the deferred message is delivered at its retry, by itself", len(got) == 1, f"{len(got)} copies")
    finally:
        server.stop()
        subprocess.run(["umount", data])
        server.cleanup()
    passed, failed = sum(results), len(results) - sum(results)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
