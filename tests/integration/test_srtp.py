"""SDES-SRTP with real clients: baresip's srtp module (mediaenc=srtp-mand
offers RTP/SAVP with a=crypto, mediaenc=srtp offers RTP/AVP with
a=crypto) against chorusd with srtp optional, and a room with
srtp=mandatory:
- room with srtp=mandatory: three SRTP clients (opus, G722, PCMU) hear
  each other (minus-one, as test_mix_audio);
- the same room refuses a plain RTP offer: 488 with a Warning;
- room with the global policy (optional): an RTP/SAVP client, an RTP/AVP +
  a=crypto client and a plain RTP client hear each other;
- the answer to an SRTP offer carries chorusd's own key (not the peer's).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402
import test_mix_audio as mix  # noqa: E402

SECURE = "7777"
KEY = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"


def test_plain_refused(d):
    with ct.SipUA(d.addr, "udp", "plain") as ua:
        peer = ct.RtpPeer()
        try:
            c = ua.invite(SECURE, ct.make_sdp(peer.port, [0]))
            f = c.final
            check(f is not None, "plain RTP to the srtp=mandatory room: no answer")
            ct.log("plain RTP to %s -> %s / Warning: %s" % (SECURE, f.first, f.get("warning")))
            if 200 <= f.status < 300:
                c.bye()
            check(f.status == 488, "plain RTP offer to a srtp=mandatory room: %s (expected "
                  "488)" % f.first)
            check(f.get("warning"), "488 without Warning")
        finally:
            peer.close()


def test_own_key(d):
    with ct.SipUA(d.addr, "udp", "savp") as ua:
        peer = ct.RtpPeer()
        try:
            sdp = ("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                   "m=audio %d RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                   "a=crypto:1 AES_CM_128_HMAC_SHA1_80 %s\r\n" % (peer.port, KEY)).encode()
            c = ua.invite(SECURE, sdp)
            f = c.final
            check(f is not None and f.status == 200, "RTP/SAVP offer: %s"
                  % (f and f.first))
            a = ct.Sdp(f.body)
            cr = [x for x in a.attrs if x.startswith("crypto:")]
            ct.log("answer: proto %s, %s" % (a.proto, cr))
            check(a.proto == "RTP/SAVP", "answer proto %s to an RTP/SAVP offer" % a.proto)
            check(len(cr) == 1 and "AES_CM_128_HMAC_SHA1_80" in cr[0],
                  "answer crypto lines %s" % cr)
            check(KEY not in cr[0], "chorusd answered with the offerer's own key")
            c.bye()
        finally:
            peer.close()


def main():
    r = ct.Runner("srtp")
    d = ct.Daemon(r.tmp.path, conf={"srtp": "optional"},
                  rooms_extra='room %s name="Secure" srtp=mandatory\n' % SECURE)
    if not r.start_daemon(d):
        return r.finish()
    srtp_mod = "module\t\t\tsrtp.so\n"

    def room(label, codecs, number, acct):
        clients = mix.run_room(r, d, label, codecs, None, number, None, None, acct, srtp_mod)
        for c, a in zip(clients, acct):
            on = "SRTP is Enabled" in c.log_text()
            ct.log("%s: mediaenc %r, baresip says SRTP enabled: %s" % (c.name, a, on))
            check(on == bool(a), "%s (%s): SRTP enabled = %s" % (c.name, a or "plain", on))

    r.sub("srtp=mandatory room: 3 SRTP clients", room, "sec", ["opus", "G722", "PCMU"],
          SECURE, [";mediaenc=srtp-mand"] * 3)
    r.sub("plain RTP refused by srtp=mandatory", test_plain_refused, d)
    r.sub("answer carries chorusd's key", test_own_key, d)
    r.sub("optional room: SAVP, AVP+crypto and plain clients", room, "opt",
          ["PCMU", "opus", "G722"], "1000", [";mediaenc=srtp-mand", ";mediaenc=srtp", ""])
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
