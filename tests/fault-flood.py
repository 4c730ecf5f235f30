#!/usr/bin/env python3
"""Floods: 1,000 slowloris clients and a connection flood against `apus serve` (loopback, about a minute).

    python3 tests/fault-flood.py [--apus .build/debug/apus] [--slow 1000]

Slowloris clients come from 250 loopback addresses (127.0.1.x, 4 each, under the per-IP limit), greet, then
send one byte every 10 s of a command line that never ends. Meanwhile 20 threads (127.0.4.1-20) open and
close connections as fast as they can. max_connections is set to hold all of them (slowloris + 20 × the
per-IP limit): Apus has no reserved slots, so a total limit below what attackers hold refuses everyone.
Checks:
- a normal client (from 127.0.0.1) gets its message accepted within 1 s, several times during the flood;
- the per-IP limit answers 421 to the 21st connection from one address, the total limit answers 421;
- the slowloris connections are closed by the per-line deadline (command_timeout = 10 s here) although
  they keep sending bytes;
- the server's RSS stays bounded (printed before, during and after).
Prints each check and a last line `N passed, N failed`.
"""
import argparse
import os
import resource
import smtplib
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402
from faultlib import apusctl  # noqa: E402

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'✔' if ok else '✘'} {name}{': ' + detail if detail else ''}", flush=True)


def slowloris(port, source, stop, sockets, lock):
    try:
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(30)
        s.connect(("127.0.0.1", port))
        s.recv(512)
        with lock:
            sockets.append(s)
        for byte in b"EHLO slow.example.with.a.long.name.that.never.ends":
            if stop.is_set():
                break
            s.send(bytes([byte]))
            stop.wait(10)
    except OSError:
        pass


def flood(port, source, stop, counter, lock):
    while not stop.is_set():
        try:
            s = socket.socket()
            s.bind((source, 0))
            s.settimeout(5)
            s.connect(("127.0.0.1", port))
            s.close()
            with lock:
                counter[0] += 1
        except OSError:
            with lock:
                counter[1] += 1


def normal_send(port):
    start = time.monotonic()
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=10)
    s.sendmail("a@remote.test", [apusctl.USER], b"Subject: flood-normal\r\n\r\nhello\r\n")
    s.quit()
    return time.monotonic() - start


def open_count(sockets):
    alive = 0
    for s in sockets:
        try:
            s.settimeout(0)
            data = s.recv(512, socket.MSG_PEEK)
            alive += 0 if data == b"" or b"421" in data else 1
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apus", default=".build/debug/apus")
    p.add_argument("--slow", type=int, default=1000)
    args = p.parse_args()
    apusctl.APUS = os.path.abspath(args.apus)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))   # inherited by apus too
    server = apusctl.Apus("flood")
    stop, lock = threading.Event(), threading.Lock()
    sockets, counter = [], [0, 0]
    try:
        server.start_dev()
        server.stop()
        server.set_config("limits", "command_timeout", '"10s"')
        # Room for the slowloris clients plus what the 20 flooding addresses can hold under the per-IP limit
        # (20 each, while the server has not yet seen their closes): the per-IP limit is what contains a flooder.
        server.set_config("limits", "max_connections", str(args.slow + 20 * 20 + 50))
        server.start_serve()
        pid = server.proc.pid
        rss_before = faultlib.rss_kb(pid)

        threads = [threading.Thread(target=slowloris, args=(server.mx, f"127.0.1.{1 + i % 250}", stop, sockets, lock))
                   for i in range(args.slow)]
        for t in threads:
            t.start()
            time.sleep(0.002)
        flooders = [threading.Thread(target=flood, args=(server.mx, f"127.0.4.{i + 1}", stop, counter, lock))
                    for i in range(20)]
        for t in flooders:
            t.start()
        time.sleep(2)
        with lock:
            held = len(sockets)
        check("slowloris connections established", held >= args.slow * 0.95, f"{held} of {args.slow}")
        times = [normal_send(server.mx) for _ in range(5)]
        check("a normal client is accepted within 1 s during the flood", max(times) < 1.0,
              "times " + ", ".join(f"{t * 1000:.0f} ms" for t in times))
        rss_during = faultlib.rss_kb(pid)

        # Per-IP limit: 20 connections from 127.0.2.1 are fine, the 21st gets 421.
        mine = []
        for _ in range(20):
            s = socket.socket(); s.bind(("127.0.2.1", 0)); s.settimeout(5); s.connect(("127.0.0.1", server.mx))
            s.recv(512)   # the 220: the server has counted this one
            mine.append(s)
        extra = socket.socket(); extra.bind(("127.0.2.1", 0)); extra.settimeout(5); extra.connect(("127.0.0.1", server.mx))
        line = extra.recv(512).decode()
        check("the 21st connection from one address gets 421", line.startswith("421 4.7.0"), line.strip())
        for s in mine + [extra]:
            s.close()
        with lock:
            flooded = counter[:]
        check("the connection flood ran", flooded[0] > 100, f"{flooded[0]} connections opened and closed, {flooded[1]} refused")

        # The per-line deadline closes the dribblers although they keep sending (10 s + a margin).
        time.sleep(14)
        with lock:
            remaining = open_count(sockets)
        check("slowloris connections closed by the line deadline", remaining < args.slow * 0.05, f"{remaining} still open")
        stop.set()
        for t in flooders:
            t.join(10)
        time.sleep(2)
        rss_after = faultlib.rss_kb(pid)
        print(f"RSS: before {rss_before // 1024} MiB, during {rss_during // 1024} MiB, after {rss_after // 1024} MiB")
        check("memory bounded during the flood", rss_during < 1024 * 1024, f"{rss_during // 1024} MiB")
        check("the server survived", server.alive())
    finally:
        stop.set()
        for s in sockets:
            s.close()
        server.cleanup()

        # Total limit: a small max_connections answers 421 beyond it.
    total = apusctl.Apus("flood-total")
    try:
        total.start_dev()
        total.stop()
        total.set_config("limits", "max_connections", "5")
        total.start_serve()
        time.sleep(1)   # the readiness probes of start_serve have been closed and released
        held = []
        for i in range(5):
            s = socket.socket(); s.bind((f"127.0.3.{i + 1}", 0)); s.settimeout(5); s.connect(("127.0.0.1", total.mx))
            held.append(s)
        greetings = [s.recv(512).decode()[:3] for s in held]
        check("max_connections connections are served", greetings == ["220"] * 5, f"{greetings}")
        extra = socket.socket(); extra.bind(("127.0.3.9", 0)); extra.settimeout(5); extra.connect(("127.0.0.1", total.mx))
        line = extra.recv(512).decode()
        check("beyond max_connections the next connection gets 421", line.startswith("421 4.7.0"), line.strip())
        for s in held + [extra]:
            s.close()
    finally:
        total.cleanup()
    passed, failed = sum(results), len(results) - sum(results)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
