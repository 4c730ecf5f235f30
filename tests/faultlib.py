"""Helpers for the fault scripts under tests/: a counting SMTP sink, dnsmasq for a remote test domain, and
an `apus serve` set up to deliver remote mail to the sink. Loopback only; every process is stopped by PID."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "interop"))
sys.dont_write_bytecode = True
import apusctl  # noqa: E402,F401
from apusctl import Apus, free_ports  # noqa: E402,F401


class Sink:
    """A minimal SMTP server (no STARTTLS, no PIPELINING) that counts each marker it sees in message data."""

    def __init__(self, marker_prefix=b"K-"):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        self.prefix = marker_prefix
        self.counts = {}
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")
        try:
            conn.sendall(b"220 sink.remote.test ESMTP\r\n")
            while True:
                line = f.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250-sink.remote.test\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go\r\n")
                    data = []
                    while True:
                        l = f.readline()
                        if not l or l == b".\r\n":
                            break
                        data.append(l)
                    body = b"".join(data)
                    for token in set(t for t in body.split() if t.startswith(self.prefix)):
                        with self.lock:
                            self.counts[token] = self.counts.get(token, 0) + 1
                    conn.sendall(b"250 2.0.0 ok\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"250 2.0.0 ok\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def count(self, marker):
        with self.lock:
            return self.counts.get(marker.encode() if isinstance(marker, str) else marker, 0)

    def close(self):
        self.stopped = True
        self.sock.close()


class Dnsmasq:
    """dnsmasq answering remote.test MX -> mx.remote.test -> 127.0.0.1, everything else under .test NXDOMAIN."""

    def __init__(self):
        self.port = free_ports(1)[0]
        self.proc = subprocess.Popen(
            ["dnsmasq", "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1", "--bind-interfaces",
             "--no-resolv", "--no-hosts", "--local=/test/", "--mx-host=remote.test,mx.remote.test,10",
             "--host-record=mx.remote.test,127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(5)


def delivering_server(name, sink, dns, extra=()):
    """`apus dev` writes the configuration, then it is changed to deliver remote mail to `sink` and started
    with `apus serve`. `extra`: more (section, key, value) settings."""
    server = Apus(name)
    server.start_dev()
    server.stop()
    server.set_config("delivery", "hold_remote", "false")
    server.set_config("delivery", "smtp_port", str(sink.port))
    server.set_config("dns", "servers", f'["127.0.0.1:{dns.port}"]')
    for section, key, value in extra:
        server.set_config(section, key, value)
    server.start_serve()
    return server


def rss_kb(pid):
    """Resident set size of a process in KiB (from /proc)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
