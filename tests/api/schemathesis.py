#!/usr/bin/env python3
"""Runs schemathesis (PyPI) against docs/api.yaml and a live `apus serve` on loopback.

A throw-away configuration (apus init on loopback ports, an API key from `apus key create`, the API on
plain HTTP on 127.0.0.1), then `schemathesis run` with every check: no 5xx, every status code and body
documented, bodies matching their schemas. Remote delivery is held, so nothing leaves the machine.
Prints "N passed, N failed" last (1 check = the whole schemathesis run).

    tests/api/schemathesis.py --apus .build/debug/apus [--max-examples 30]
"""
import argparse, os, shutil, signal, socket, subprocess, sys, tempfile, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--apus", default=".build/debug/apus")
    p.add_argument("--max-examples", type=int, default=25)
    args = p.parse_args()
    apus = os.path.abspath(args.apus)
    root = tempfile.mkdtemp(prefix="apus-st-")
    server = None
    try:
        config = os.path.join(root, "config")
        env = dict(os.environ, APUS_CONFIG=config)
        subprocess.run([apus, "init", "example.test", "--hostname", "mx.example.test", "--config", config,
                        "--data-dir", os.path.join(root, "data"), "--user", "dev", "--password", "correct-horse-9", "--scrypt-log-n", "10"],
                       check=True, stdout=subprocess.DEVNULL, env=env)
        port = free_port()
        toml = os.path.join(config, "apus.toml")
        text = open(toml).read()
        replacements = {
            'mx = ["0.0.0.0:25", "[::]:25"]': 'mx = ["127.0.0.1:%d"]' % free_port(),
            'submission = ["0.0.0.0:587", "[::]:587"]': 'submission = []',
            'submissions = ["0.0.0.0:465", "[::]:465"]': 'submissions = []',
            'admin = ["127.0.0.1:8025"]': 'admin = []',
            'api = []': 'api = ["127.0.0.1:%d"]' % port,
            'tls = true': 'tls = false',
            'hold_remote = false': 'hold_remote = true',
        }
        for old, new in replacements.items():
            if old not in text:
                print("apus.toml has no line %r; the test must be updated" % old); return 1
            text = text.replace(old, new)
        text = text.replace('public_url = ""', 'public_url = "http://127.0.0.1:%d"' % port)
        open(toml, "w").write(text)
        out = subprocess.run([apus, "key", "create", "example.test", "--name", "schemathesis", "--config", config],
                             check=True, capture_output=True, text=True, env=env).stdout
        key = out.strip().splitlines()[-1].strip()
        server = subprocess.Popen([apus, "serve", "--config", config], stderr=open(os.path.join(root, "serve.log"), "w"), env=env)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close(); break
            except OSError:
                time.sleep(0.1)
        st = shutil.which("schemathesis") or shutil.which("st")
        if not st:
            print("schemathesis is not installed (pip install schemathesis)"); print("0 passed, 1 failed"); return 1
        cmd = [st, "run", "docs/api.yaml", "--url", "http://127.0.0.1:%d" % port,
               "--header", "Authorization: Bearer " + key, "--checks", "all",
               "--max-examples", str(args.max_examples), "--exclude-checks", "ignored_auth,positive_data_acceptance",
               "--request-timeout", "20"]
        print("$ " + " ".join(c if "Bearer" not in c else "Authorization: Bearer …" for c in cmd), flush=True)
        result = subprocess.run(cmd, timeout=900)
        ok = result.returncode == 0
        if not ok:
            print(open(os.path.join(root, "serve.log")).read()[-4000:])
        print("%d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
        return 0 if ok else 1
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            try: server.wait(timeout=10)
            except subprocess.TimeoutExpired: server.kill()
        shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
