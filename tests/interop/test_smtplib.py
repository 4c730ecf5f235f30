"""Python's smtplib as a client: STARTTLS on 587, implicit TLS on 465, SMTPUTF8 and 8BITMIME."""
import email.message
import smtplib

import apusctl
from apusctl import HOSTNAME, PASSWORD, USER


class SmtplibTests(apusctl.ServerTestCase):

    def tls(self):
        return apusctl.client_tls_context(self.server.cert)

    def message(self, marker, to=USER):
        return (f"From: <{USER}>\r\nTo: <{to}>\r\nSubject: {marker}\r\n"
                f"Message-ID: <{marker}@interop.test>\r\n\r\nbody {marker}\r\n").encode()

    def test_starttls_587_login_sendmail(self):
        m = self.marker()
        with smtplib.SMTP("127.0.0.1", self.server.submission, local_hostname="client.test", timeout=15) as s:
            s._host = HOSTNAME                  # the name starttls() checks the certificate against
            code, _ = s.ehlo()
            self.assertEqual(code, 250)
            self.assertTrue(s.has_extn("starttls"))
            self.assertFalse(s.has_extn("auth"))
            code, _ = s.starttls(context=self.tls())
            self.assertEqual(code, 220)
            s.ehlo()
            self.assertIn("PLAIN", s.esmtp_features.get("auth", ""))
            self.assertNotIn("starttls", s.esmtp_features)
            code, _ = s.login(USER, PASSWORD)
            self.assertEqual(code, 235)
            refused = s.sendmail(USER, [USER], self.message(m))
            self.assertEqual(refused, {})
        self.assertEqual(len(self.server.wait_for(m.encode())), 1)

    def test_smtp_ssl_465(self):
        m = self.marker()
        s = SMTPSSLByIP(HOSTNAME, self.server.submissions, context=self.tls())
        try:
            s.ehlo("client.test")
            self.assertNotIn("starttls", s.esmtp_features)
            code, _ = s.login(USER, PASSWORD)
            self.assertEqual(code, 235)
            self.assertEqual(s.sendmail(USER, [USER], self.message(m)), {})
            self.assertEqual(s.noop()[0], 250)
        finally:
            s.quit()
        self.assertEqual(len(self.server.wait_for(m.encode())), 1)

    def test_smtputf8_unknown_recipient_550_511(self):
        m = self.marker()
        msg = email.message.EmailMessage()
        msg["From"] = USER
        msg["To"] = "jörg@example.test"
        msg["Subject"] = m
        msg.set_content(f"Grüße {m}\n")
        with smtplib.SMTP("127.0.0.1", self.server.mx, local_hostname="client.test", timeout=15) as s:
            s.ehlo()
            self.assertTrue(s.has_extn("smtputf8"))
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.send_message(msg, from_addr="sender@remote.test")
            code, text = cm.exception.recipients["jörg@example.test"]
            self.assertEqual(code, 550, text)
            self.assertTrue(text.startswith(b"5.1.1"), text)
            self.assertEqual(s.noop()[0], 250)       # the session goes on
        self.assertEqual(self.server.messages_with(m.encode()), [])

    def test_smtputf8_utf8_sender_accepted(self):
        m = self.marker()
        msg = email.message.EmailMessage()
        msg["From"] = "jörg@bücher.test"
        msg["To"] = USER
        msg["Subject"] = m
        msg.set_content(f"Grüße {m}\n")
        with smtplib.SMTP("127.0.0.1", self.server.mx, local_hostname="client.test", timeout=15) as s:
            self.assertEqual(s.send_message(msg), {})
        got = self.server.wait_for(m.encode())
        self.assertEqual(len(got), 1)
        # The UTF-8 local part survives; the domain may be stored as U-label or A-label (IDNA).
        self.assertRegex(got[0], "^Return-Path: <jörg@(bücher|xn--bcher-kva)\\.test>\r\n".encode())
        self.assertIn(b" with UTF8SMTP", got[0])

    def test_8bitmime_body_byte_exact(self):
        m = self.marker()
        body = ("Grüße aus Köln, ça va? ½ ≠ ∞ 日本語\r\n"
                ".a line that starts with a dot\r\n"
                "..two dots\r\n"
                "\r\n"
                "trailing spaces   \r\n"
                "tab\tinside\r\n").encode("utf-8") + bytes(range(0x80, 0x100)).replace(b"\r", b"") + b"\r\n"
        message = (f"From: <{USER}>\r\nTo: <{USER}>\r\nSubject: {m}\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + body
        with smtplib.SMTP("127.0.0.1", self.server.mx, local_hostname="client.test", timeout=15) as s:
            s.ehlo()
            self.assertTrue(s.has_extn("8bitmime"))
            self.assertEqual(s.sendmail("sender@remote.test", [USER], message, mail_options=["BODY=8BITMIME"]), {})
        got = self.server.wait_for(m.encode())
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].endswith(message), "stored message differs from what was sent:\n%r" % got[0][-600:])


class SMTPSSLByIP(smtplib.SMTP_SSL):
    """SMTP_SSL to 127.0.0.1 that verifies the certificate for `hostname` (no DNS needed)."""

    def __init__(self, hostname, port, context):
        self._verify_name = hostname
        super().__init__(timeout=15, context=context)
        self.connect_by_ip(port)

    def connect_by_ip(self, port):
        import socket
        sock = socket.create_connection(("127.0.0.1", port), 15)
        self.sock = self.context.wrap_socket(sock, server_hostname=self._verify_name)
        self.file = None
        self._host = self._verify_name
        code, msg = self.getreply()
        if code != 220:
            raise smtplib.SMTPConnectError(code, msg)
