#!/usr/bin/env python3
"""Where the sequential latency goes: N messages on one connection (loopback only), timing each command
separately (MAIL, RCPT, DATA, the message up to its final reply) and printing medians/p90 in ms.
    python3 bench/phase-latency.py PORT [N] [RCPT]
The message is the 4 KB kind of ../shared/bench (headers + 51 lines of 78 x). Bounded: N <= 100000, 30 s
socket timeout."""
import os, socket, statistics, sys, time
port = int(sys.argv[1]); n = min(int(sys.argv[2]) if len(sys.argv) > 2 else 500, 100000)
to = sys.argv[3] if len(sys.argv) > 3 else "bench@bench.test"
s = socket.create_connection(("127.0.0.1", port), timeout=30)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        if not line: raise ConnectionError("closed")
        if line[3:4] != b"-": return int(line[:3])
def c(data): s.sendall(data); return reply()
reply(); c(b"EHLO bench.client\r\n")
line = ("x" * 78 + "\r\n").encode()
phases = {k: [] for k in ("mail", "rcpt", "data", "body", "total")}
for i in range(n):
    body = (f"From: <bench@src.test>\r\nTo: <{to}>\r\nSubject: b {i}\r\n"
            f"Message-ID: <p.{os.getpid()}.{i}@x>\r\n\r\n").encode() + line * 51 + b".\r\n"
    t0 = time.perf_counter(); c(b"MAIL FROM:<bench@src.test>\r\n"); t1 = time.perf_counter()
    c(f"RCPT TO:<{to}>\r\n".encode()); t2 = time.perf_counter()
    c(b"DATA\r\n"); t3 = time.perf_counter()
    r = c(body); t4 = time.perf_counter()
    if r != 250: sys.exit(f"message {i}: reply {r}")
    for k, a, b in (("mail", t0, t1), ("rcpt", t1, t2), ("data", t2, t3), ("body", t3, t4), ("total", t0, t4)):
        phases[k].append((b - a) * 1e3)
c(b"QUIT\r\n")
print(" ".join(f"{k}={statistics.median(v):.3f}/{sorted(v)[int(.9 * len(v))]:.3f}" for k, v in phases.items()),
      "(median/p90 ms)")
