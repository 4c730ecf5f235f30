"""Per-IP limits (AUTH failures, connections) and reloading users on SIGHUP."""
import base64
import signal
import smtplib
import subprocess
import time

import apusctl
from apusctl import HOSTNAME, PASSWORD, RawSMTP, USER


class AuthLimitTests(apusctl.ServerTestCase):
    """Its own server: the failures below block AUTH from 127.0.0.1 for auth_failure_window."""

    def tls_session(self):
        c = RawSMTP(self.server.submissions)
        c.sock = apusctl.client_tls_context(self.server.cert).wrap_socket(c.sock, server_hostname=HOSTNAME)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("EHLO client.test")[0], 250)
        return c

    def test_auth_failures_then_blocked(self):
        bad = "AUTH PLAIN " + base64.b64encode(f"\0{USER}\0wrong-password".encode()).decode()
        good = "AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
        c = self.tls_session()
        self.assertEqual(c.first_line(good)[:9], "235 2.7.0")
        replies = []
        for i in range(6):
            c = self.tls_session()
            replies.append(c.first_line(bad)[:9])
        # max_auth_failures = 5: five 535, then refused with a temporary code, even the right password.
        self.assertEqual(replies, ["535 5.7.8"] * 5 + ["454 4.7.0"])
        c = self.tls_session()
        self.assertEqual(c.first_line(good)[:9], "454 4.7.0")


class ConnectionAndReloadTests(apusctl.ServerTestCase):

    def test_connections_per_ip_limit(self):
        limit = 20                                   # max_connections_per_ip default
        time.sleep(0.5)
        conns = []
        try:
            for _ in range(limit):
                c = RawSMTP(self.server.mx)
                conns.append(c)
                code, lines = c.reply()
                self.assertEqual(code, 220, lines)
            extra = RawSMTP(self.server.mx)
            conns.append(extra)
            code, lines = extra.reply()
            self.assertEqual(lines[0][:9], "421 4.7.0", lines)
            self.assertTrue(extra.closed_within(5))
        finally:
            for c in conns:
                c.close()
        # Once closed, connections are accepted again.
        deadline = time.monotonic() + 5
        while True:
            c = RawSMTP(self.server.mx)
            code, lines = c.reply()
            c.close()
            if code == 220 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(code, 220, lines)

    def test_sighup_reloads_users(self):
        m = self.marker()
        user = f"u{time.time_ns() % 10**8}@example.test"
        c = RawSMTP(self.server.mx)
        self.addCleanup(c.close)
        c.reply()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<sender@remote.test>")
        self.assertEqual(c.first_line(f"RCPT TO:<{user}>")[:9], "550 5.1.1")
        p = subprocess.run([apusctl.APUS, "user", "add", user, "--password", "pw-" + m, "--config", self.server.config_dir],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while True:
            line = c.first_line(f"RCPT TO:<{user}>")
            if line.startswith("250") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(line[:9], "250 2.1.5")
        c.cmd("RSET")
        # The new user can log in and send as themselves.
        ctx = apusctl.client_tls_context(self.server.cert)
        with smtplib.SMTP("127.0.0.1", self.server.submission, local_hostname="client.test", timeout=30) as s:
            s._host = HOSTNAME
            s.starttls(context=ctx)
            self.assertEqual(s.login(user, "pw-" + m)[0], 235)
            self.assertEqual(s.sendmail(user, [USER], f"Subject: {m}\r\n\r\nhi\r\n".encode()), {})
        self.assertEqual(len(self.server.wait_for(m.encode())), 1)
