"""SDP offers real phones send, answered per RFC 3264 (one answer m= line
per offer m= line, in order; refused streams with port 0):
- video first, then audio: video refused, audio accepted, RTP flows;
- RTP/SAVP (SRTP) line then a plain RTP/AVP line ("best effort SRTP" of
  many phones), with srtp off: the SAVP line refused, the AVP line used;
- RTP/AVPF: answered RTP/AVPF;
- a long codec list with dynamic types and odd fmtp: the first supported
  one wins and the peer's payload type number is kept;
- rtcp-mux offered: answered, and RTP works on the one port;
- G722 offered as G722/8000 (RFC 3551): answered as G722/8000;
- c=IN IP6 in an INVITE over IPv4: media bound in IPv6 (or 488 + Warning
  "address family mismatch" without an IPv6 address).
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


def test_ipv6_offer_to_ipv4(d):
    """c=IN IP6 ::1 in an INVITE that arrived over IPv4: an IPv4 media
    socket cannot send to [::1] (before: 200 with c=IN IP4 and chorusd
    sending to [::1] from its IPv4 socket, i.e. nothing). With an IPv6
    loopback: 200 with c=IN IP6 and RTP both ways over IPv6; without one:
    488 + Warning "address family mismatch"."""
    try:
        s6 = ct.socket.socket(ct.socket.AF_INET6, ct.socket.SOCK_DGRAM)
        s6.bind(("::1", 0))
    except OSError:
        s6 = None
    port = s6.getsockname()[1] if s6 else 40002
    sdp = raw_sdp(["v=0", "o=phone 4243 4243 IN IP6 ::1", "s=-", "c=IN IP6 ::1", "t=0 0",
                   "m=audio %d RTP/AVP 0" % port, "a=rtpmap:0 PCMU/8000", "a=sendrecv"])
    if s6 is None:
        ua, c, f = offer(d, sdp, "IPv6 offer, no IPv6 here", expect=488)
        ua.close()
        check("address family mismatch" in (f.get("warning") or ""),
              "488 without the Warning: %r" % f.get("warning"))
        return
    ua, c, f = offer(d, sdp, "IPv6 offer over IPv4 SIP")
    other = ct.RtpPeer()
    ua2 = ct.SipUA(d.addr, "udp", "other")
    try:
        a = ct.Sdp(f.body)
        ct.log("answer: c=%s port %s" % (a.conn, a.port))
        check(":" in (a.conn or ""), "answer to an IPv6 offer has c= %s (not IPv6)" % a.conn)
        c2 = ua2.invite("1000", ct.make_sdp(other.port, [0]))
        check(c2.final is not None and c2.final.status == 200, "second leg")
        a2 = ct.Sdp(c2.final.body)
        s6.settimeout(0.005)
        got, k, t0 = 0, 0, time.monotonic()
        other.start_stream((a2.conn, a2.port), 0, "PCMU", 800.0)
        while time.monotonic() - t0 < 2.0:
            pcm = (0.25 * 32767 * ct.np.sin(2 * ct.np.pi * 500.0 *
                                            (ct.np.arange(160) + 160 * k) / 8000.0))
            s6.sendto(ct.rtp_packet(0, k, 160 * k, 0x6666, ct.g711_encode(
                pcm.astype(ct.np.int16))), (a.conn, a.port))
            k += 1
            end = time.monotonic() + 0.02
            while time.monotonic() < end:
                try:
                    s6.recvfrom(4096)
                    got += 1
                except (ct.socket.timeout, OSError):
                    pass
        t1 = time.monotonic()
        other.stop_stream()
        pl = b"".join(p["payload"] for p in other.received_between(t0 + 0.5, t1, pt=0))
        lv = ct.tone_report(ct.g711_decode(pl, "PCMU").astype(float) / 32768, 8000,
                            [500.0]) if pl else {500.0: -200.0}
        ct.log("IPv6 leg: got %d RTP packets over IPv6; the IPv4 leg hears it at %.1f dBFS"
               % (got, lv[500.0]))
        check(got >= 60, "IPv6 leg got %d RTP packets in 2 s" % got)
        check(lv[500.0] > -30, "the IPv4 leg does not hear the IPv6 leg: %s" % lv)
        c2.bye()
        c.bye()
    finally:
        ua.close()
        ua2.close()
        other.close()
        s6.close()


def main():
    r = ct.Runner("sdp_offers")
    d = ct.Daemon(r.tmp.path)
    if not r.start_daemon(d):
        return r.finish()
    for name, fn in (("video first", test_video_first),
                     ("SAVP then AVP", test_savp_then_avp),
                     ("RTP/AVPF", test_avpf),
                     ("codec list", test_codec_list),
                     ("rtcp-mux", test_rtcp_mux),
                     ("IPv6 offer over IPv4 SIP", test_ipv6_offer_to_ipv4)):
        r.sub_while_up(d, name, fn, d)
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
