"""Helpers for the interoperability tests: start/stop an Apus server, raw SMTP, Maildir/queue access.

Every server runs on 127.0.0.1 high ports picked free at start and is stopped by its PID.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

# Set by run.py (--apus); the default is the debug build in the package root.
APUS = os.environ.get("APUS_BIN", ".build/debug/apus")
PASSWORD = "interop-pw"
DOMAIN = "example.test"
USER = "dev@example.test"
HOSTNAME = "mx.example.test"


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (bound to port 0, then released)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Apus:
    """One Apus server: `apus dev --dir <tmp>` the first time, `apus serve --config <tmp>/config` after."""

    def __init__(self, name="apus"):
        self.root = tempfile.mkdtemp(prefix=f"apus-interop-{name}-")
        self.mx, self.submission, self.submissions, self.admin = free_ports(4)
        self.proc = None
        self.log_path = os.path.join(self.root, "server.log")
        self.config_dir = os.path.join(self.root, "config")
        self.data_dir = os.path.join(self.root, "data")

    # ------------------------------------------------------------ lifecycle
    def start_dev(self):
        self._spawn([APUS, "dev", "--dir", self.root, "--password", PASSWORD,
                     "--mx-port", str(self.mx), "--submission-port", str(self.submission),
                     "--submissions-port", str(self.submissions), "--admin-port", str(self.admin)])
        return self

    def start_serve(self):
        self._spawn([APUS, "serve", "--config", self.config_dir])
        return self

    def _spawn(self, argv):
        assert self.proc is None, "server already running"
        log = open(self.log_path, "ab")
        log.write(("\n==== " + " ".join(argv) + "\n").encode())
        log.flush()
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"apus exited with {self.proc.returncode}:\n{self.log()}")
            if all(port_open(p) for p in (self.mx, self.submission, self.submissions)):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"apus did not listen within 30 s:\n{self.log()}")

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def kill9(self):
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        self.stop()
        if os.environ.get("APUS_INTEROP_KEEP"):
            print(f"kept {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    # ------------------------------------------------------------ files
    @property
    def cert(self):
        return os.path.join(self.config_dir, "certs", HOSTNAME, "fullchain.pem")

    @property
    def config_file(self):
        return os.path.join(self.config_dir, "apus.toml")

    def set_config(self, section, key, value):
        """Replace `key = …` inside [section] of apus.toml (value is written verbatim)."""
        with open(self.config_file) as f:
            lines = f.read().split("\n")
        current, done = "", False
        for i, line in enumerate(lines):
            s = line.strip()
            if s.startswith("[") and s.endswith("]"):
                current = s[1:-1]
            elif current == section and s.split("=")[0].strip() == key and not s.startswith("#"):
                lines[i] = f"{key} = {value}"
                done = True
        if not done:
            raise KeyError(f"[{section}] {key} not in apus.toml")
        with open(self.config_file, "w") as f:
            f.write("\n".join(lines))

    @property
    def maildir_new(self):
        return os.path.join(self.data_dir, "mail", DOMAIN, "dev", "new")

    @property
    def queue_dir(self):
        return os.path.join(self.data_dir, "queue")

    def mail_files(self):
        try:
            names = sorted(os.listdir(self.maildir_new))
        except FileNotFoundError:
            return []
        return [os.path.join(self.maildir_new, n) for n in names]

    def messages_with(self, marker):
        """Contents (bytes) of Maildir files that contain `marker` (bytes)."""
        found = []
        for path in self.mail_files():
            with open(path, "rb") as f:
                data = f.read()
            if marker in data:
                found.append(data)
        return found

    def wait_for(self, marker, count=1, timeout=10.0, settle=0.3):
        """Waits until `count` Maildir files contain marker (then `settle` s more for extras)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages_with(marker)) >= count:
                time.sleep(settle)
                break
            time.sleep(0.05)
        return self.messages_with(marker)

    def queue_files(self):
        try:
            return sorted(os.path.join(self.queue_dir, n) for n in os.listdir(self.queue_dir) if n.endswith(".msg"))
        except FileNotFoundError:
            return []


def parse_queue_file(path):
    """(envelope dict, message bytes) of a queue file; raises ValueError if malformed."""
    with open(path, "rb") as f:
        data = f.read()
    magic = b"APUS-QUEUE 1\n"
    if not data.startswith(magic):
        raise ValueError(f"{path}: no magic line, starts with {data[:20]!r}")
    nl = data.index(b"\n", len(magic))
    envelope = json.loads(data[len(magic):nl])
    return envelope, data[nl + 1:]


def client_tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True          # the dev cert is for mx.example.test (SAN 127.0.0.1 too)
    return ctx


class RawSMTP:
    """A line-level SMTP client over a plain socket for robustness tests."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed (partial: {self.buf!r})")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def first_line(self, text):
        code, lines = self.cmd(text)
        return lines[0]

    def closed_within(self, seconds):
        """True if the server closes the connection within `seconds` (any data is discarded)."""
        self.sock.settimeout(seconds)
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(65536):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True
        return False

    def nothing_within(self, seconds):
        """True if no byte arrives within `seconds`."""
        if self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return True
        finally:
            self.sock.settimeout(10.0)
        self.buf += data
        return False

    def starttls(self, cafile):
        ctx = client_tls_context(cafile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
        if self.buf:
            raise AssertionError(f"plaintext bytes left over before the TLS handshake: {self.buf!r}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


import unittest  # noqa: E402


class ServerTestCase(unittest.TestCase):
    """Starts one `apus dev` for the class; each test checks afterwards that the server still runs."""

    expect_alive = True

    @classmethod
    def setUpClass(cls):
        cls.server = Apus(cls.__name__)
        try:
            cls.start_server()
        except BaseException:
            cls.server.cleanup()
            raise

    @classmethod
    def start_server(cls):
        cls.server.start_dev()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def tearDown(self):
        if self.expect_alive and self.server.proc is not None:
            self.assertTrue(self.server.alive(), "apus is no longer running (crash?):\n" + self.server.log())

    def marker(self):
        """A unique string for this test's message (Subject and body)."""
        return f"interop-{self.id().rsplit('.', 1)[-1]}-{time.time_ns()}"
