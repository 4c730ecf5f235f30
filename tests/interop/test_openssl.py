"""`openssl s_client`: STARTTLS on 587 and 25, implicit TLS on 465, TLS 1.2 minimum."""
import re
import shutil
import subprocess

import apusctl
from apusctl import HOSTNAME


def s_client(args, stdin, timeout=20):
    exe = shutil.which("openssl")
    if exe is None:
        raise AssertionError("openssl is not installed (apt-get install openssl)")
    p = subprocess.run([exe, "s_client", "-crlf", "-ign_eof", *args], input=stdin, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def reply_after(out, first_line):
    """The reply lines starting at `first_line` up to the final `NNN ` line."""
    lines = out.splitlines()
    try:
        i = lines.index(first_line)
    except ValueError:
        raise AssertionError(f"{first_line!r} not in output:\n{out}")
    reply = []
    for line in lines[i:]:
        reply.append(line)
        if re.match(r"^\d{3} ", line):
            break
    return reply


class OpenSSLTests(apusctl.ServerTestCase):

    def check_starttls(self, port):
        rc, out, err = s_client(["-starttls", "smtp", "-connect", f"127.0.0.1:{port}", "-servername", HOSTNAME,
                                 "-CAfile", self.server.cert, "-verify_return_error"],
                                "EHLO client.test\nQUIT\n")
        self.assertEqual(rc, 0, out + err)
        m = re.search(r"^New, (TLSv1\.[23]), Cipher is (\S+)", out, re.M)
        self.assertIsNotNone(m, out)
        self.assertIn("Verify return code: 0 (ok)", out)
        ehlo = reply_after(out, "250-mx.example.test Hello client.test")
        self.assertTrue(any(re.match(r"^250[ -]AUTH PLAIN LOGIN$", l) for l in ehlo), ehlo)
        self.assertFalse(any("STARTTLS" in l for l in ehlo), ehlo)
        self.assertRegex(out, r"(?m)^221 2\.0\.0 ")
        return m.group(1)

    def test_starttls_587(self):
        self.check_starttls(self.server.submission)

    def test_starttls_25(self):
        self.check_starttls(self.server.mx)

    def test_tls12_accepted(self):
        rc, out, err = s_client(["-starttls", "smtp", "-connect", f"127.0.0.1:{self.server.submission}",
                                 "-servername", HOSTNAME, "-tls1_2"], "QUIT\n")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"(?m)^New, TLSv1\.2, Cipher is ECDHE-")

    def test_implicit_tls_465(self):
        rc, out, err = s_client(["-connect", f"127.0.0.1:{self.server.submissions}", "-servername", HOSTNAME,
                                 "-CAfile", self.server.cert, "-verify_return_error"],
                                "EHLO client.test\nQUIT\n")
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"(?m)^New, TLSv1\.[23], ")
        self.assertRegex(out, r"(?m)^220 mx\.example\.test ")
        ehlo = reply_after(out, "250-mx.example.test Hello client.test")
        self.assertTrue(any(re.match(r"^250[ -]AUTH PLAIN LOGIN$", l) for l in ehlo), ehlo)
        self.assertFalse(any("STARTTLS" in l for l in ehlo), ehlo)

    def test_tls11_refused(self):
        # SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all, so the refusal is the server's.
        for args in (["-starttls", "smtp", "-connect", f"127.0.0.1:{self.server.submission}"],
                     ["-connect", f"127.0.0.1:{self.server.submissions}"]):
            with self.subTest(args=args[-1]):
                rc, out, err = s_client([*args, "-servername", HOSTNAME, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                                        "QUIT\n")
                self.assertNotEqual(rc, 0, out + err)
                self.assertIn("New, (NONE), Cipher is (NONE)", out)
                self.assertIn("alert protocol version", err)

    def test_tls12_cbc_suites_refused(self):
        # Only AEAD suites: a client offering nothing but CBC (LUCKY13-prone, SHA-1 MAC) gets no handshake.
        cbc = "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:AES128-SHA:AES256-SHA:AES128-SHA256"
        for args in (["-starttls", "smtp", "-connect", f"127.0.0.1:{self.server.submission}"],
                     ["-connect", f"127.0.0.1:{self.server.submissions}"]):
            with self.subTest(args=args[-1]):
                rc, out, err = s_client([*args, "-servername", HOSTNAME, "-tls1_2", "-cipher", cbc], "QUIT\n")
                self.assertNotEqual(rc, 0, out + err)
                self.assertNotRegex(out, r"(?m)^New, TLSv1\.2, Cipher is ")

    def test_tls12_server_cipher_order(self):
        # The client lists AES128-GCM first; the server's order puts AES256-GCM first and wins.
        client_order = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384")
        for args in (["-starttls", "smtp", "-connect", f"127.0.0.1:{self.server.submission}"],
                     ["-connect", f"127.0.0.1:{self.server.submissions}"]):
            with self.subTest(args=args[-1]):
                rc, out, err = s_client([*args, "-servername", HOSTNAME, "-tls1_2", "-cipher", client_order], "QUIT\n")
                self.assertEqual(rc, 0, out + err)
                self.assertRegex(out, r"(?m)^New, TLSv1\.2, Cipher is ECDHE-(ECDSA|RSA)-AES256-GCM-SHA384")
