"""Hostile and broken clients over raw sockets: SMTP smuggling, STARTTLS command injection, HTTP, NUL,
overlong lines, too many recipients, oversized messages."""
import socket
import ssl
import time

import apusctl
from apusctl import RawSMTP, USER


class RobustnessTests(apusctl.ServerTestCase):

    def session(self, port=None):
        c = RawSMTP(port or self.server.mx)
        code, lines = c.reply()
        self.assertEqual(code, 220, lines)
        code, lines = c.cmd("EHLO client.test")
        self.assertEqual(code, 250, lines)
        self.addCleanup(c.close)
        return c

    def expect(self, c, command, prefix):
        code, lines = c.cmd(command)
        self.assertTrue(lines[0].startswith(prefix), f"{command!r} -> {lines}, expected {prefix!r}")
        return lines

    def test_smuggling_variants(self):
        # Only <CRLF>.<CRLF> ends DATA. A message containing a bare-LF/CR "end of data" must be refused
        # (550 5.5.2) once its real end arrives, and the smuggled second message must never be accepted.
        variants = {"lf-dot-crlf": b"\n.\r\n", "crlf-dot-lf": b"\r\n.\n", "lf-dot-lf": b"\n.\n",
                    "cr-dot-cr": b"\r.\r"}
        for name, fake_end in variants.items():
            with self.subTest(variant=name):
                m = self.marker() + "-" + name
                c = self.session()
                self.expect(c, "MAIL FROM:<attacker@remote.test>", "250 2.1.0")
                self.expect(c, f"RCPT TO:<{USER}>", "250 2.1.5")
                self.expect(c, "DATA", "354")
                c.send(f"Subject: {m}-first\r\n\r\nfirst part".encode() + fake_end +
                       b"MAIL FROM:<attacker@remote.test>\r\n" + f"RCPT TO:<{USER}>\r\n".encode() + b"DATA\r\n" +
                       f"Subject: {m}-smuggled\r\n\r\nsmuggled\r\n".encode() + b".\r\n")
                code, lines = c.reply()
                self.assertEqual(lines[0][:9], "550 5.5.2", lines)
                # The next reply must be the NOOP's: nothing was answered for the smuggled commands.
                code, lines = c.cmd("NOOP")
                self.assertEqual(lines[0][:9], "250 2.0.0", lines)
                self.expect(c, "QUIT", "221")
        time.sleep(1.0)
        for name in variants:
            self.assertEqual(self.server.messages_with(b"-" + name.encode() + b"-"), [],
                             f"variant {name}: a message was delivered")
        self.assertEqual(self.server.queue_files(), [])

    def test_dot_stuffing_and_null_sender(self):
        m = self.marker()
        c = self.session()
        self.expect(c, "MAIL FROM:<>", "250 2.1.0")
        self.expect(c, f"RCPT TO:<{USER}>", "250 2.1.5")
        self.expect(c, "DATA", "354")
        c.send(f"Subject: {m}\r\n\r\n..leading dot\r\n...\r\n.\r\n")
        code, lines = c.reply()
        self.assertEqual(lines[0][:9], "250 2.0.0", lines)
        got = self.server.wait_for(m.encode())
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].startswith(b"Return-Path: <>\r\n"), got[0][:200])
        self.assertTrue(got[0].endswith(b"\r\n\r\n.leading dot\r\n..\r\n"), got[0][-100:])

    def test_starttls_pipelined_plaintext_discarded(self):
        for port in (self.server.submission, self.server.mx):
            with self.subTest(port=port):
                c = self.session(port)
                # STARTTLS and an injected command in the same packet.
                c.send(b"STARTTLS\r\nNOOP\r\n")
                code, lines = c.reply()
                self.assertEqual(lines[0][:9], "220 2.0.0", lines)
                try:
                    c.starttls(self.server.cert)
                except (ssl.SSLError, ConnectionError, OSError) as e:
                    # Closing the connection is also acceptable; answering the NOOP is not.
                    self.assertNotIn("250", str(e))
                    continue
                code, lines = c.cmd("EHLO client.test")
                self.assertEqual(lines[0], "250-mx.example.test Hello client.test",
                                 f"first reply under TLS is not the EHLO reply (injected NOOP answered?): {lines}")
                self.assertTrue(any(l[4:].startswith("AUTH PLAIN LOGIN") for l in lines), lines)
                self.assertFalse(any("STARTTLS" in l for l in lines), lines)
                self.expect(c, "NOOP", "250 2.0.0")
                self.expect(c, "QUIT", "221")

    def test_http_first_command(self):
        c = RawSMTP(self.server.mx)
        self.addCleanup(c.close)
        c.reply()
        c.send(b"GET / HTTP/1.1\r\nHost: mx.example.test\r\nUser-Agent: curl\r\n\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 500, lines)
        self.assertTrue(c.closed_within(5), "connection still open after an HTTP request")

    def test_post_first_command(self):
        c = RawSMTP(self.server.mx)
        self.addCleanup(c.close)
        c.reply()
        c.send(b"POST /index.php HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")
        code, lines = c.reply()
        self.assertEqual(code, 500, lines)
        self.assertTrue(c.closed_within(5), "connection still open after an HTTP request")

    def test_nul_byte(self):
        c = self.session()
        c.send(b"NO\x00OP\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 500, lines)
        c.send(b"MAIL FROM:<a\x00b@remote.test>\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 500, lines)
        self.expect(c, "NOOP", "250 2.0.0")

    def test_100kb_line(self):
        c = self.session()
        c.send(b"NOOP " + b"x" * 100_000 + b"\r\n")
        code, lines = c.reply()
        self.assertEqual(lines[0][:9], "500 5.5.2", lines)
        self.expect(c, "NOOP", "250 2.0.0")     # exactly one reply for the long line, and the session lives
        c.send(b"MAIL FROM:<" + b"a" * 100_000 + b"@remote.test>\r\n")
        code, lines = c.reply()
        self.assertEqual(lines[0][:9], "500 5.5.2", lines)
        self.expect(c, "NOOP", "250 2.0.0")

    def test_101_recipients(self):
        c = self.session()
        self.expect(c, "MAIL FROM:<sender@remote.test>", "250 2.1.0")
        c.send("".join(f"RCPT TO:<dev+{i}@example.test>\r\n" for i in range(1, 102)))   # pipelined
        replies = [c.reply()[1][0] for _ in range(101)]
        for i, r in enumerate(replies[:100], 1):
            self.assertEqual(r[:9], "250 2.1.5", f"recipient {i}: {r}")
        self.assertEqual(replies[100][:9], "452 4.5.3", replies[100])
        self.expect(c, "RSET", "250")

    def test_bad_sequence_and_unknown(self):
        c = self.session()
        self.expect(c, "DATA", "503 5.5.1")
        self.expect(c, f"RCPT TO:<{USER}>", "503 5.5.1")
        self.expect(c, "FOO bar", "500 5.5.1")
        self.expect(c, "MAIL FROM:<not an address>", "501")
        self.expect(c, "MAIL FROM:<a@remote.test> SIZE=abc", "501")
        self.expect(c, "NOOP", "250 2.0.0")

    def test_too_many_errors_421(self):
        c = self.session()
        for i in range(10):                         # max_errors = 10 (default)
            code, lines = c.cmd("FOO")
            self.assertEqual(code, 500, f"error {i + 1}: {lines}")
        code, lines = c.cmd("FOO")
        self.assertEqual(lines[0][:9], "421 4.7.0", lines)
        self.assertTrue(c.closed_within(5))

    def test_relay_tricks_refused(self):
        c = self.session()
        self.expect(c, "MAIL FROM:<sender@remote.test>", "250 2.1.0")
        for rcpt in ("<victim%elsewhere.test@example.test>", "<@example.test:victim@elsewhere.test>",
                     "<elsewhere.test!victim@example.test>", '<"victim@elsewhere.test"@example.test>',
                     "<victim@[192.0.2.1]>", "<victim@elsewhere.test.>", "<dev@example.test.elsewhere.test>"):
            with self.subTest(rcpt=rcpt):
                code, lines = c.cmd(f"RCPT TO:{rcpt}")
                self.assertEqual(code // 100, 5, f"{rcpt} -> {lines}")
        self.expect(c, "RSET", "250")


class OversizeTests(apusctl.ServerTestCase):
    """A server restarted with `apus serve` and max_message_bytes = 20000."""

    LIMIT = 20000

    @classmethod
    def start_server(cls):
        cls.server.start_dev()
        cls.server.stop()
        cls.server.set_config("limits", "max_message_bytes", str(cls.LIMIT))
        cls.ipv6_port = None
        if socket.has_ipv6:
            try:
                with socket.socket(socket.AF_INET6) as s:
                    s.bind(("::1", 0))
                    cls.ipv6_port = s.getsockname()[1]
            except OSError:
                pass
        if cls.ipv6_port:
            cls.server.set_config("listen", "mx", f'["127.0.0.1:{cls.server.mx}", "[::1]:{cls.ipv6_port}"]')
        cls.server.start_serve()

    def test_ipv6_listener(self):
        if not self.ipv6_port:
            print("\nnote: no IPv6 loopback here, IPv6 listener not tested")
            return
        m = self.marker()
        with socket.create_connection(("::1", self.ipv6_port), timeout=10) as sock:
            f = sock.makefile("rwb")
            def cmd(line):
                if line is not None:
                    f.write(line.encode() + b"\r\n"); f.flush()
                while True:
                    reply = f.readline().decode()
                    if reply[3:4] != "-":
                        return reply
            self.assertTrue(cmd(None).startswith("220 "))
            self.assertTrue(cmd("EHLO client.test").startswith("250 "))
            self.assertTrue(cmd("MAIL FROM:<sender@remote.test>").startswith("250 "))
            self.assertTrue(cmd(f"RCPT TO:<{USER}>").startswith("250 "))
            self.assertTrue(cmd("DATA").startswith("354"))
            self.assertTrue(cmd(f"Subject: {m}\r\n\r\nover IPv6\r\n.").startswith("250 2.0.0"))
        got = self.server.wait_for(m.encode())
        self.assertEqual(len(got), 1)
        self.assertIn(b"[IPv6:::1]", got[0].split(b"\r\n\r\n")[0])   # RFC 5321 address literal

    def session(self):
        c = RawSMTP(self.server.mx)
        self.addCleanup(c.close)
        c.reply()
        code, lines = c.cmd("EHLO client.test")
        self.assertIn(f"250-SIZE {self.LIMIT}", lines)
        return c

    def test_oversized_message_552_after_real_end(self):
        m = self.marker()
        c = self.session()
        self.assertEqual(c.first_line("MAIL FROM:<sender@remote.test>")[:9], "250 2.1.0")
        self.assertEqual(c.first_line(f"RCPT TO:<{USER}>")[:9], "250 2.1.5")
        self.assertEqual(c.cmd("DATA")[0], 354)
        line = b"y" * 998 + b"\r\n"
        c.send(f"Subject: {m}\r\n\r\n".encode() + line * 30)          # 30 KB, over the limit
        self.assertTrue(c.nothing_within(1.0), "the server replied before the end of the message")
        c.send(line * 30 + b".\r\n")
        code, lines = c.reply()
        self.assertEqual(lines[0][:9], "552 5.3.4", lines)
        self.assertEqual(c.first_line("NOOP")[:9], "250 2.0.0")
        # The session still works: a small message goes through.
        self.assertEqual(c.first_line("MAIL FROM:<sender@remote.test>")[:9], "250 2.1.0")
        self.assertEqual(c.first_line(f"RCPT TO:<{USER}>")[:9], "250 2.1.5")
        self.assertEqual(c.cmd("DATA")[0], 354)
        self.assertEqual(c.first_line(f"Subject: {m}-small\r\n\r\nsmall\r\n.")[:9], "250 2.0.0")
        self.assertEqual(len(self.server.wait_for(f"{m}-small".encode())), 1)
        self.assertEqual(len(self.server.messages_with(f"{m}\r\n".encode())), 0)

    def test_size_parameter_too_big(self):
        c = self.session()
        line = c.first_line(f"MAIL FROM:<sender@remote.test> SIZE={self.LIMIT + 1}")
        self.assertEqual(line[:9], "552 5.3.4", line)
        self.assertEqual(c.first_line("NOOP")[:9], "250 2.0.0")
