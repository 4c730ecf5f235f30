"""Per-IP limits (AUTH failures, connections) and reloading users on SIGHUP."""
import signal
import smtplib
import subprocess
import time

import apusctl
from apusctl import HOSTNAME, PASSWORD, RawSMTP, USER


class AuthLimitTests(apusctl.ServerTestCase):
    """Its own server: the failures below block AUTH from 127.0.0.1 for auth_failure_window."""

    def test_auth_failures_then_blocked(self):
        ctx = apusctl.client_tls_context(self.server.cert)
        codes = []
        for _ in range(6):
            with smtplib.SMTP_SSL(timeout=15, context=ctx) as s:
                s.sock = ctx.wrap_socket(__import__("socket").create_connection(("127.0.0.1", self.server.submissions), 15),
                                         server_hostname=HOSTNAME)
                s._host = HOSTNAME
                s.file = None
                s.getreply()
                s.ehlo("client.test")
                try:
                    s.login(USER, "wrong-password")
                    codes.append(235)
                except smtplib.SMTPAuthenticationError as e:
                    codes.append(e.smtp_code)
                except smtplib.SMTPException as e:
                    codes.append(str(e))
        self.assertEqual(codes[:5], [535] * 5, codes)
        self.assertEqual(codes[5], 454, codes)
        # Now even the right password is refused from this address, with a temporary code.
        c = RawSMTP(self.server.submissions)
        c.sock = ctx.wrap_socket(c.sock, server_hostname=HOSTNAME)
        self.addCleanup(c.close)
        c.reply()
        c.cmd("EHLO client.test")
        import base64
        code, lines = c.cmd("AUTH PLAIN " + base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode())
        self.assertEqual(lines[0][:9], "454 4.7.0", lines)


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
