"""swaks against the three listeners: plain MX delivery, AUTH PLAIN/LOGIN over STARTTLS and implicit TLS,
and the refusals (wrong password, AUTH before TLS, relay, unknown user, foreign MAIL FROM)."""
import re
import shutil
import subprocess

import apusctl
from apusctl import PASSWORD, USER


def swaks(*args, timeout=30):
    """Runs swaks; returns (exit status, transcript)."""
    exe = shutil.which("swaks")
    if exe is None:
        raise AssertionError("swaks is not installed (apt-get install swaks)")
    p = subprocess.run([exe, "--timeout", "10", *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def received_headers(message):
    """The unfolded Received header fields of a message (bytes)."""
    head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    unfolded = re.sub(r"\r\n[ \t]+", " ", head)
    return [line for line in unfolded.split("\r\n") if line.lower().startswith("received:")]


class SwaksTests(apusctl.ServerTestCase):

    def auth_args(self, port, mechanism, tls, sender=USER, password=PASSWORD):
        return ["--server", f"127.0.0.1:{port}", tls, "--tls-verify", "--tls-ca-path", self.server.cert,
                "--auth", mechanism, "--auth-user", USER, "--auth-password", password,
                "--from", sender, "--to", USER]

    def test_mx_plain_delivery(self):
        m = self.marker()
        rc, out = swaks("--server", f"127.0.0.1:{self.server.mx}", "--from", "someone@remote.test",
                        "--to", USER, "--header", f"Subject: {m}", "--body", f"body {m}")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"<-  250 2\.0\.0 .*queued as [0-9a-f]{16}")
        msgs = self.server.wait_for(m.encode())
        self.assertEqual(len(msgs), 1, f"expected exactly one Maildir file with {m}")
        rec = received_headers(msgs[0])
        self.assertGreaterEqual(len(rec), 1, msgs[0][:500])
        self.assertIn("by mx.example.test", rec[0])
        self.assertIn(" with ESMTP id ", rec[0])
        self.assertIn("127.0.0.1", rec[0])
        for r in rec:
            self.assertNotIn("example.test>", r.replace("mx.example.test", ""), f"recipient in Received: {r}")
            self.assertNotIn(" for ", r, f"recipient in Received: {r}")
        self.assertIn(f"body {m}".encode(), msgs[0])

    def check_auth(self, port, mechanism, tls):
        m = self.marker()
        rc, out = swaks(*self.auth_args(port, mechanism, tls), "--header", f"Subject: {m}")
        self.assertEqual(rc, 0, out)
        # swaks marks what it sends/reads over TLS with ~> / <~
        self.assertIn("=== TLS started with cipher TLSv1.", out)
        self.assertIn(f" ~> AUTH {mechanism}", out)
        self.assertIn("<~  235 2.7.0", out)
        self.assertRegex(out, r"<~  250 2\.0\.0 .*queued as [0-9a-f]{16}")
        msgs = self.server.wait_for(m.encode())
        self.assertEqual(len(msgs), 1, out)
        rec = received_headers(msgs[0])[0]
        self.assertIn(" with ESMTPSA ", rec)        # RFC 3848: authenticated, over TLS
        self.assertIn("TLSv1.", rec)

    def test_auth_plain_587_starttls(self):
        self.check_auth(self.server.submission, "PLAIN", "--tls")

    def test_auth_login_587_starttls(self):
        self.check_auth(self.server.submission, "LOGIN", "--tls")

    def test_auth_plain_465_implicit_tls(self):
        self.check_auth(self.server.submissions, "PLAIN", "--tlsc")

    def test_auth_login_465_implicit_tls(self):
        self.check_auth(self.server.submissions, "LOGIN", "--tlsc")

    def test_wrong_password_535(self):
        rc, out = swaks(*self.auth_args(self.server.submission, "PLAIN", "--tls", password="wrong"))
        self.assertNotEqual(rc, 0, out)
        self.assertIn("<~* 535 5.7.8", out)

    def test_no_auth_before_starttls_587(self):
        # EHLO in plaintext on 587 must not offer AUTH; forcing AUTH must be refused.
        rc, out = swaks("--server", f"127.0.0.1:{self.server.submission}", "--quit-after", "EHLO")
        self.assertEqual(rc, 0, out)
        ehlo = [l for l in out.splitlines() if l.startswith("<-  250")]
        self.assertTrue(any("STARTTLS" in l for l in ehlo), out)
        self.assertFalse(any("AUTH" in l for l in ehlo), out)
        rc, out = swaks("--server", f"127.0.0.1:{self.server.submission}", "--auth", "PLAIN",
                        "--auth-user", USER, "--auth-password", PASSWORD, "--from", USER, "--to", USER)
        self.assertNotEqual(rc, 0, out)
        self.assertNotIn("235", out)
        # And a client that sends AUTH anyway gets 538 5.7.11 (or 530 5.7.0), never 235.
        c = apusctl.RawSMTP(self.server.submission)
        try:
            c.reply()
            c.cmd("EHLO raw.test")
            code, lines = c.cmd("AUTH PLAIN AGRldkBleGFtcGxlLnRlc3QAaW50ZXJvcC1wdw==")
            self.assertIn(code, (530, 538), lines)
            self.assertRegex(lines[0], r"^(538 5\.7\.11|530 5\.7\.0) ")
        finally:
            c.close()

    def test_no_relay_without_auth(self):
        rc, out = swaks("--server", f"127.0.0.1:{self.server.mx}", "--from", "someone@remote.test",
                        "--to", "victim@elsewhere.test")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("<** 550 5.7.1", out)

    def test_unknown_user(self):
        rc, out = swaks("--server", f"127.0.0.1:{self.server.mx}", "--from", "someone@remote.test",
                        "--to", "nobody@example.test")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("<** 550 5.1.1", out)

    def test_foreign_mail_from_refused(self):
        rc, out = swaks(*self.auth_args(self.server.submission, "PLAIN", "--tls", sender="boss@example.test"))
        self.assertNotEqual(rc, 0, out)
        self.assertIn("<~  235 2.7.0", out)
        self.assertIn("<~* 550 5.7.1", out)


class AdminHTTPTests(apusctl.ServerTestCase):
    """The admin listener of `apus dev` read by curl, as Prometheus or a load balancer would."""

    def curl(self, path):
        exe = shutil.which("curl") or "/usr/bin/curl"
        p = subprocess.run([exe, "-s", "-o", "-", "-w", "\n%{http_code}", f"http://127.0.0.1:{self.server.admin}{path}"],
                           capture_output=True, text=True, timeout=10)
        body, _, code = p.stdout.rpartition("\n")
        return int(code or 0), body

    def test_healthz_and_metrics_count_a_delivery(self):
        code, body = self.curl("/healthz")
        self.assertEqual((code, body.strip()), (200, "ok"))
        before = self.accepted_mx()
        m = self.marker()
        rc, out = swaks("--server", f"127.0.0.1:{self.server.mx}", "--from", "someone@remote.test",
                        "--to", USER, "--header", f"Subject: {m}")
        self.assertEqual(rc, 0, out)
        self.server.wait_for(m.encode())
        self.assertEqual(self.accepted_mx(), before + 1)
        self.assertEqual(self.curl("/nope")[0], 404)

    def accepted_mx(self):
        code, body = self.curl("/metrics")
        self.assertEqual(code, 200, body)
        self.assertIn("# TYPE apus_messages_accepted_total counter", body)
        found = re.search(r'^apus_messages_accepted_total\{listener="mx"\} (\d+)$', body, re.M)
        self.assertIsNotNone(found, body)
        return int(found.group(1))
