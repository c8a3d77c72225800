"""SIP over TLS (src/sip/sip_tls.c, docs/SECURITY.md).

A self-signed certificate for 127.0.0.1 is made with openssl for the test
(one PEM with certificate and key, as tls_cert wants). chorusd listens on
UDP/TCP and on TLS (sip_tls yes, tls_listen on 127.0.0.1).
- OPTIONS over TLS: the server presents that certificate (verified here
  against it, host name 127.0.0.1) and answers 200.
- a scripted call with a sips: Request-URI over TLS, offering RTP/SAVP:
  200 with a=crypto, then BYE in the same TLS connection.
- plain TCP bytes to the TLS port get no SIP answer and leave chorusd up.
- three baresip clients (transport=tls in the dialled URI, srtp module with
  mediaenc=srtp-mand) in a srtp=mandatory room hear each other
  (test_mix_audio's analysis).
"""
import base64
import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

ROOM_SEC = "3300"


def make_cert(dirpath):
    key = os.path.join(dirpath, "key.pem")
    crt = os.path.join(dirpath, "crt.pem")
    pem = os.path.join(dirpath, "tls.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    with open(pem, "w") as out:
        for p in (crt, key):
            with open(p) as fh:
                out.write(fh.read())
    return pem, crt


class TlsUA(ct.SipUA):
    """chorustest's scripted UA over a TLS connection (framing as TCP)."""

    def __init__(self, server, cafile, user="tlsuser"):
        super().__init__(server, "tcp", user)
        ctx = ssl.create_default_context(cafile=cafile)
        self.sock = ctx.wrap_socket(self.sock, server_hostname=server[0])
        self.sock.settimeout(5)
        self.laddr = self.sock.getsockname()
        self.peer_cert = self.sock.getpeercert()

    @property
    def via_transport(self):
        return "TLS"

    def contact(self):
        return "<sip:%s@%s:%d;transport=tls>" % (self.user, self.laddr[0], self.laddr[1])


def test_options(d, tls_port, crt):
    with TlsUA((ct.HOST, tls_port), crt) as ua:
        ct.log("TLS %s, server certificate subject %s" % (ua.sock.version(),
                                                         ua.peer_cert.get("subject")))
        r = ua.options()
        check(r is not None and r.status == 200, "OPTIONS over TLS: %s" % (r and r.first))
        check("SIP/2.0/TLS" in (r.get("via") or ""), "Via of the answer: %r" % r.get("via"))


def test_sips_call(d, tls_port, crt):
    with TlsUA((ct.HOST, tls_port), crt) as ua:
        key = os.urandom(30)
        sdp = ct.make_sdp(ct.free_port(2, tcp=False), [0], extra=[
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(key).decode()])
        sdp = sdp.replace(b"RTP/AVP", b"RTP/SAVP")
        c = ua.invite(ROOM_SEC, sdp, ruri="sips:%s@%s:%d" % (ROOM_SEC, ct.HOST, tls_port))
        f = c.final
        check(f is not None and f.status == 200, "INVITE sips: over TLS: %s" % (f and f.first))
        ct.log("sips: INVITE -> %s, Contact %s" % (f.first, f.get("contact")))
        check(b"RTP/SAVP" in f.body and b"a=crypto:1 AES_CM_128_HMAC_SHA1_80" in f.body,
              "answer is not SRTP:\n%s" % f.body.decode())
        ct_hdr = (f.get("contact") or "").lower()
        check("transport=tls" in ct_hdr or ct_hdr.startswith("<sips:"),
              "Contact of the 200 over TLS is not a TLS/sips URI: %r" % f.get("contact"))
        time.sleep(0.3)
        rb = c.bye()
        check(rb is not None and rb.status == 200, "BYE over TLS: %s" % (rb and rb.first))


def test_plain_to_tls(d, tls_port):
    with socket.create_connection((ct.HOST, tls_port), timeout=3) as s:
        s.sendall(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKx"
                  b"\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS"
                  b"\r\nContent-Length: 0\r\n\r\n")
        s.settimeout(2)
        try:
            data = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            data = b""
        check(b"SIP/2.0 200" not in data, "plain TCP to the TLS port got a SIP answer")
    time.sleep(0.2)
    check(d.alive(), "chorusd died on plain TCP bytes to its TLS port")
    with ct.SipUA(d.addr, "udp") as ua:
        r = ua.options()
        check(r is not None and r.status == 200, "chorusd does not answer after that")


class _Port:
    """What test_mix_audio.run_room reads from the daemon: the port to dial."""

    def __init__(self, port):
        self.sip_port = port


def test_baresip_tls_srtp(r, tls_port):
    import test_mix_audio as mix
    mix.run_room(r, _Port(tls_port), "tls", ["opus", "G722", "PCMU"],
                 transports=["tls"] * 3, room=ROOM_SEC,
                 acct=[";mediaenc=srtp-mand"] * 3,
                 extra_config="module\t\t\tsrtp.so")


def main():
    r = ct.Runner("tls")
    pem, crt = make_cert(r.tmp.path)
    tls_port = ct.free_port(1)
    d = ct.Daemon(r.tmp.path, conf={"sip_tls": "yes", "tls_cert": pem,
                                    "tls_listen": "%s:%d" % (ct.HOST, tls_port),
                                    "srtp": "optional"},
                  rooms_extra='room %s name="tls+srtp" srtp=mandatory\n' % ROOM_SEC)
    if not r.start_daemon(d):
        return r.finish()
    for name, fn, args in (("OPTIONS over TLS", test_options, (d, tls_port, crt)),
                           ("sips: call over TLS with SRTP", test_sips_call,
                            (d, tls_port, crt)),
                           ("plain TCP to the TLS port", test_plain_to_tls, (d, tls_port)),
                           ("baresip over TLS with SRTP", test_baresip_tls_srtp,
                            (r, tls_port))):
        r.sub_while_up(d, name, fn, *args)
    log = d.log_text()
    check_tls = "listening on tls:%s:%d" % (ct.HOST, tls_port) in log
    if not check_tls:
        r.fail("log", "no 'listening on tls:' line")
    return r.finish_daemon(d, 150)


if __name__ == "__main__":
    sys.exit(main())
