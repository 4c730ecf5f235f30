#!/usr/bin/env python3
"""Send API against SMTP submission on one `apus serve` (issue 12's benchmark), loopback only.

A throw-away configuration (apus init, loopback ports, [delivery] hold_remote so nothing is delivered, an API
key), then, alternating, REPS rounds of:
  api   N messages of SIZE_KB via POST /v1/messages at concurrency C (keep-alive connection per worker)
  smtp  N messages of SIZE_KB via submission (587, STARTTLS + AUTH PLAIN once per connection, RSET between
        messages) at concurrency C
Prints msgs/s and the median / p90 latency of each round. Bounded: N messages and --timeout seconds per round.

    bench/api-vs-smtp.py --apus .build/release/apus [-n 2000] [-c 10] [--size-kb 4] [--reps 3]
"""
import argparse, base64, http.client, json, os, shutil, signal, smtplib, socket, ssl, statistics, subprocess, sys
import tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def run_round(kind, n, c, body, key, api_port, sub_port, timeout):
    counter = iter(range(n)); lock = threading.Lock(); latencies = []; errors = [0]
    deadline = time.time() + timeout
    def take():
        with lock:
            return next(counter, None)
    def api_worker():
        conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=30)
        while time.time() < deadline and (i := take()) is not None:
            payload = json.dumps({"from": "dev@example.test", "to": ["someone@elsewhere.test"],
                                  "subject": "bench %d" % i, "text": body})
            t = time.perf_counter()
            conn.request("POST", "/v1/messages", payload, {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
            r = conn.getresponse(); r.read()
            dt = time.perf_counter() - t
            with lock:
                if r.status == 202: latencies.append(dt)
                else: errors[0] += 1
    def smtp_worker():
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        s = smtplib.SMTP("127.0.0.1", sub_port, timeout=30); s.starttls(context=ctx); s.login("dev@example.test", "correct-horse-9")
        msg = ("From: dev@example.test\r\nTo: someone@elsewhere.test\r\nSubject: bench\r\n\r\n" + body).encode()
        while time.time() < deadline and (i := take()) is not None:
            t = time.perf_counter()
            try:
                s.sendmail("dev@example.test", ["someone@elsewhere.test"], msg)
                dt = time.perf_counter() - t
                with lock: latencies.append(dt)
            except smtplib.SMTPException:
                with lock: errors[0] += 1
        s.quit()
    start = time.perf_counter()
    threads = [threading.Thread(target=api_worker if kind == "api" else smtp_worker) for _ in range(c)]
    for t in threads: t.start()
    for t in threads: t.join()
    elapsed = time.perf_counter() - start
    lat = sorted(latencies)
    return {"kind": kind, "ok": len(lat), "errors": errors[0], "seconds": round(elapsed, 2),
            "msgs_per_s": round(len(lat) / elapsed, 1),
            "median_ms": round(statistics.median(lat) * 1000, 2) if lat else None,
            "p90_ms": round(lat[int(len(lat) * 0.9) - 1] * 1000, 2) if lat else None}

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apus", default=".build/release/apus")
    p.add_argument("-n", type=int, default=2000); p.add_argument("-c", type=int, default=10)
    p.add_argument("--size-kb", type=int, default=4); p.add_argument("--reps", type=int, default=3)
    p.add_argument("--timeout", type=int, default=300)
    a = p.parse_args()
    apus = os.path.abspath(a.apus)
    root = tempfile.mkdtemp(prefix="apus-bench-api-")
    server = None
    try:
        config = os.path.join(root, "config")
        subprocess.run([apus, "init", "example.test", "--hostname", "mx.example.test", "--config", config,
                        "--data-dir", os.path.join(root, "data"), "--user", "dev", "--password", "correct-horse-9"],
                       check=True, stdout=subprocess.DEVNULL)
        api_port, sub_port = free_port(), free_port()
        toml = os.path.join(config, "apus.toml"); text = open(toml).read()
        for old, new in {'mx = ["0.0.0.0:25", "[::]:25"]': 'mx = []',
                         'submission = ["0.0.0.0:587", "[::]:587"]': 'submission = ["127.0.0.1:%d"]' % sub_port,
                         'submissions = ["0.0.0.0:465", "[::]:465"]': 'submissions = []',
                         'admin = ["127.0.0.1:8025"]': 'admin = []', 'api = []': 'api = ["127.0.0.1:%d"]' % api_port,
                         'tls = true': 'tls = false', 'hold_remote = false': 'hold_remote = true',
                         'max_connections_per_ip = 20': 'max_connections_per_ip = 200'}.items():
            text = text.replace(old, new)
        open(toml, "w").write(text)
        key = subprocess.run([apus, "key", "create", "example.test", "--config", config], check=True,
                             capture_output=True, text=True).stdout.strip().splitlines()[-1]
        server = subprocess.Popen([apus, "serve", "--config", config, "--log-level", "warning"])
        for _ in range(200):
            try: socket.create_connection(("127.0.0.1", api_port), 0.2).close(); break
            except OSError: time.sleep(0.05)
        body = ("x" * 78 + "\r\n") * max(1, a.size_kb * 1024 // 80)
        results = []
        for rep in range(a.reps):
            for kind in ("api", "smtp"):
                r = run_round(kind, a.n, a.c, body, key, api_port, sub_port, a.timeout); r["rep"] = rep + 1
                print(json.dumps(r), flush=True); results.append(r)
        for kind in ("api", "smtp"):
            rates = [r["msgs_per_s"] for r in results if r["kind"] == kind]
            print("%s: median %.1f msgs/s over %d rounds at c=%d, %d KB" % (kind, statistics.median(rates), len(rates), a.c, a.size_kb))
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            try: server.wait(timeout=20)
            except subprocess.TimeoutExpired: server.kill()
        shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    main()
