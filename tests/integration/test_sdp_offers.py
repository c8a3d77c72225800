"""SDP offers real phones send, answered per RFC 3264 (one answer m= line
per offer m= line, in order; refused streams with port 0):
- video first, then audio: video refused, audio accepted, RTP flows;
- RTP/SAVP (SRTP) line then a plain RTP/AVP line ("best effort SRTP" of
  many phones), with srtp off: the SAVP line refused, the AVP line used;
- RTP/AVPF: answered RTP/AVPF;
- a long codec list with dynamic types and odd fmtp: the first supported
  one wins and the peer's payload type number is kept;
- rtcp-mux offered: answered, and RTP works on the one port;
- G722 offered as G722/8000 (RFC 3551): answered as G722/8000.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402


def raw_sdp(lines):
    return ("\r\n".join(lines) + "\r\n").encode()


def head(port_hint=0):
    sid = 4242
    return ["v=0", "o=phone %d %d IN IP4 127.0.0.1" % (sid, sid), "s=-",
            "c=IN IP4 127.0.0.1", "t=0 0"]


def mlines(body):
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return [l.strip() for l in text.replace("\r\n", "\n").split("\n") if l.startswith("m=")]


def flows(a, peer, pt, law, secs=1.0):
    peer.stream((a.conn, a.port), pt, law, secs, freq=700.0)
    peer.drain(0.2)
    return [p for _, _, p in peer.received if p["pt"] == pt]


def offer(d, sdp, what, expect=200):
    ua = ct.SipUA(d.addr, "udp", "phone")
    c = ua.invite("1000", sdp)
    f = c.final
    check(f is not None, "%s: no answer" % what)
    ct.log("%s -> %s" % (what, f.first))
    if f.status != expect:
        if 200 <= f.status < 300:
            c.bye()
        ua.close()
        check(False, "%s: %s (expected %d) %s" % (what, f.first, expect, f.get("warning") or ""))
    return ua, c, f


def test_video_first(d):
    peer = ct.RtpPeer()
    sdp = raw_sdp(head() + ["m=video 40000 RTP/AVP 96", "a=rtpmap:96 H264/90000",
                            "m=audio %d RTP/AVP 0 101" % peer.port,
                            "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000",
                            "a=sendrecv"])
    ua, c, f = offer(d, sdp, "video+audio")
    try:
        ml = mlines(f.body)
        ct.log("answer m= lines: %s" % ml)
        check(len(ml) == 2, "answer has %d m= lines for 2 offered: %s" % (len(ml), ml))
        check(ml[0].startswith("m=video 0 "), "video line not refused first: %s" % ml[0])
        check(ml[1].startswith("m=audio ") and not ml[1].startswith("m=audio 0 "),
              "audio line not accepted second: %s" % ml[1])
        a = ct.Sdp(f.body)      # first audio line
        got = flows(a, peer, 0, "PCMU")
        check(len(got) >= 30, "video+audio: %d RTP packets from chorusd" % len(got))
        c.bye()
    finally:
        ua.close()
        peer.close()


def test_savp_then_avp(d):
    peer = ct.RtpPeer()
    key = "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
    sdp = raw_sdp(head() + ["m=audio %d RTP/SAVP 0" % peer.port, "a=rtpmap:0 PCMU/8000",
                            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " + key,
                            "m=audio %d RTP/AVP 0" % peer.port, "a=rtpmap:0 PCMU/8000"])
    ua, c, f = offer(d, sdp, "SAVP + AVP (srtp off)")
    try:
        ml = mlines(f.body)
        ct.log("answer m= lines: %s" % ml)
        check(len(ml) == 2, "answer has %d m= lines for 2 offered: %s" % (len(ml), ml))
        check(" RTP/SAVP " in ml[0] and ml[0].split()[1] == "0",
              "SAVP line not refused (srtp off): %s" % ml[0])
        check(" RTP/AVP " in ml[1] and ml[1].split()[1] != "0", "AVP line not accepted: %s"
              % ml[1])
        port = int(ml[1].split()[1])
        a = ct.Sdp(f.body)
        a.port = port
        got = flows(a, peer, 0, "PCMU")
        check(len(got) >= 30, "SAVP+AVP: %d RTP packets from chorusd" % len(got))
        c.bye()
    finally:
        ua.close()
        peer.close()


def test_avpf(d):
    peer = ct.RtpPeer()
    sdp = raw_sdp(head() + ["m=audio %d RTP/AVPF 0" % peer.port, "a=rtpmap:0 PCMU/8000",
                            "a=rtcp-fb:* nack"])
    ua, c, f = offer(d, sdp, "RTP/AVPF")
    try:
        ml = mlines(f.body)
        check(ml and " RTP/AVPF " in ml[0] and ml[0].split()[1] != "0",
              "AVPF offer answered %s" % ml)
        c.bye()
    finally:
        ua.close()
        peer.close()


def test_codec_list(d):
    peer = ct.RtpPeer()
    sdp = raw_sdp(head() + [
        "m=audio %d RTP/AVP 18 97 98 112 9 0 8 101" % peer.port,
        "a=rtpmap:18 G729/8000", "a=fmtp:18 annexb=no",
        "a=rtpmap:97 iLBC/8000", "a=fmtp:97 mode=20",
        "a=rtpmap:98 speex/16000",
        "a=rtpmap:112 opus/48000/2", "a=fmtp:112 useinbandfec=1;stereo=0;sprop-stereo=0",
        "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16", "a=ptime:20",
        "a=maxptime:150", "a=sendrecv"])
    ua, c, f = offer(d, sdp, "long codec list (opus as pt 112)")
    try:
        a = ct.Sdp(f.body)
        ct.log("answer m= %s rtpmap %s fmtp %s" % (a.pts, a.rtpmap, a.fmtp))
        check(a.pts and a.pts[0] == 112, "first supported codec is opus as pt 112; answer "
              "m= %s" % a.pts)
        check(a.rtpmap.get(112, "").lower().startswith("opus/48000/2"),
              "opus rtpmap in the answer: %r" % a.rtpmap.get(112))
        for bad in (18, 97, 98):
            check(bad not in a.pts, "answer keeps unsupported pt %d: %s" % (bad, a.pts))
        c.bye()
    finally:
        ua.close()
        peer.close()
    # G.722 first: answered G722/8000 with pt 9, and audio flows at 16 kHz content
    peer = ct.RtpPeer()
    sdp = raw_sdp(head() + ["m=audio %d RTP/AVP 9 0" % peer.port, "a=rtpmap:9 G722/8000",
                            "a=rtpmap:0 PCMU/8000"])
    ua, c, f = offer(d, sdp, "G722 first")
    try:
        a = ct.Sdp(f.body)
        check(a.pts and a.pts[0] == 9, "G722 first: answer m= %s" % a.pts)
        check(a.codec(9).upper() == "G722/8000", "G722 rtpmap %r (RFC 3551: G722/8000)"
              % a.codec(9))
        c.bye()
    finally:
        ua.close()
        peer.close()


def test_rtcp_mux(d):
    peer = ct.RtpPeer()
    sdp = raw_sdp(head() + ["m=audio %d RTP/AVP 0" % peer.port, "a=rtpmap:0 PCMU/8000",
                            "a=rtcp-mux", "a=rtcp:%d" % peer.port])
    ua, c, f = offer(d, sdp, "rtcp-mux")
    try:
        a = ct.Sdp(f.body)
        check(a.attr("rtcp-mux") is not None, "rtcp-mux offered but not answered: %s"
              % a.attrs)
        got = flows(a, peer, 0, "PCMU", 2.0)
        rtcp = [p for _, _, p in peer.received if 72 <= p["pt"] <= 76]
        ct.log("rtcp-mux: %d RTP, %d RTCP-looking packets on the one port" % (len(got),
                                                                             len(rtcp)))
        check(len(got) >= 60, "rtcp-mux: %d RTP packets" % len(got))
        c.bye()
    finally:
        ua.close()
        peer.close()


def main():
    r = ct.Runner("sdp_offers")
    d = ct.Daemon(r.tmp.path)
    try:
        d.start()
    except ct.TestFailure as e:
        r.fail("start", str(e))
        d.stop()
        d.dump_log()
        return r.finish()
    for name, fn in (("video first", test_video_first),
                     ("SAVP then AVP", test_savp_then_avp),
                     ("RTP/AVPF", test_avpf),
                     ("codec list", test_codec_list),
                     ("rtcp-mux", test_rtcp_mux)):
        if not d.alive():
            r.fail(name, "chorusd is not running")
            continue
        r.sub(name, fn, d)
    for p in d.stop():
        r.fail("shutdown", p)
    if r.failures:
        d.dump_log()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
