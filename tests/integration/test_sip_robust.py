"""Robustness of chorusd's SIP and RTP handling, scripted:
- a retransmitted INVITE (same branch) makes one leg, not two;
- BYE / re-INVITE for an unknown dialog -> 481;
- re-INVITE that changes the codec (PCMU -> PCMA): RTP follows;
- symmetric RTP: a client that sends from another port than its SDP says
  (NAT) gets the mix there (latching);
- RTP from a foreign address to a latched leg is ignored (no RTP bleed);
- SIP over TCP in small pieces and pipelined; compact header names;
- requests without a mandatory header: dropped and logged (no Via/From/
  To/Call-ID/CSeq), 400 + Warning (INVITE without Contact, CSeq method
  mismatch), no leg created;
- garbage on the SIP port (UDP and TCP) and on the RTP port, RTP with an
  unnegotiated payload type: chorusd keeps running and answering.
"""
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

ONE = "onlyone"     # listed room with max=1


def test_invite_retransmission(d):
    with ct.SipUA(d.addr, "udp", "retx") as ua:
        peer = ct.RtpPeer()
        try:
            c = ct.Call(ua, ua.room_uri(ONE))
            c.send_invite(ct.make_sdp(peer.port, [0]))
            ua.send_raw(c.invite_raw)             # a retransmission, same branch
            ua.send_raw(c.invite_raw)
            f = c.wait_final(5)
            check(f is not None and f.status == 200, "INVITE: %s" % (f and f.first))
            # any further finals for this branch must be the same 2xx (retransmits)
            time.sleep(0.5)
            while True:
                m = ua.take_stray(lambda r: r.branch == c.branch)
                if m is None:
                    m = ua.wait_response(lambda r: r.branch == c.branch, 0.2)
                if m is None:
                    break
                check(m.status in (100, 200) and (m.status == 100 or m.to_tag == f.to_tag),
                      "retransmitted INVITE answered %s (To tag %s vs %s)" % (
                          m.first, m.to_tag, f.to_tag))
            c.ack_2xx()
            r = c.bye()
            check(r is not None and r.status == 200, "BYE: %s" % (r and r.first))
        finally:
            peer.close()
    # if the retransmission had made a second leg, the max=1 room would
    # still be occupied now
    time.sleep(0.3)
    with ct.SipUA(d.addr, "udp", "after") as ua:
        peer = ct.RtpPeer()
        try:
            c = ua.invite(ONE, ct.make_sdp(peer.port, [0]))
            check(c.final is not None and c.final.status == 200,
                  "max=1 room after a retransmitted INVITE and BYE: %s (leaked leg?)"
                  % (c.final and c.final.first))
            c.bye()
        finally:
            peer.close()


def test_unknown_dialog(d):
    with ct.SipUA(d.addr, "udp", "nodialog") as ua:
        for method in ("BYE", "INVITE"):
            branch = "z9hG4bK" + ct.rand_token()
            body = ct.make_sdp(20000, [0]) if method == "INVITE" else b""
            req = ua.build(method, ua.room_uri("1000"), ct.rand_token(12) + "@x", "abc", 7,
                           branch, to_tag="doesnotexist", body=body)
            r, _ = ua.transact(req, branch, method, timeout=4)
            check(r is not None, "%s for an unknown dialog: no answer" % method)
            ct.log("%s in unknown dialog -> %s" % (method, r.first))
            if method == "INVITE" and r.status >= 300:
                ua.send_raw(ua.build("ACK", ua.room_uri("1000"), r.get("call-id"), "abc", 7,
                                     branch, to_tag=r.to_tag))
            check(r.status == 481, "%s for an unknown dialog: %s (expected 481)"
                  % (method, r.first))


def test_reinvite_codec_change(d):
    with ct.SipUA(d.addr, "udp", "switch") as ua:
        peer = ct.RtpPeer()
        try:
            c = ua.invite("1000", ct.make_sdp(peer.port, [0]))
            check(c.final is not None and c.final.status == 200, "INVITE: %s"
                  % (c.final and c.final.first))
            a = ct.Sdp(c.final.body)
            peer.start_stream((a.conn, a.port), 0, "PCMU", 600.0)
            time.sleep(1.0)
            t = time.monotonic()
            time.sleep(1.0)
            before = {p["pt"] for p in peer.received_between(t, time.monotonic())}
            check(before == {0}, "before the re-INVITE: payload types %s" % before)
            peer.stop_stream()
            r = c.request("INVITE", body=ct.make_sdp(peer.port, [8]))
            check(r is not None and r.status == 200, "re-INVITE PCMA only: %s" % (r and r.first))
            a2 = ct.Sdp(r.body)
            check(a2.pts and a2.pts[0] == 8, "re-INVITE PCMA only: answer m= %s" % a2.pts)
            peer.start_stream((a2.conn, a2.port), 8, "PCMA", 600.0)
            time.sleep(1.0)
            t = time.monotonic()
            time.sleep(1.0)
            after = [p for p in peer.received_between(t, time.monotonic())]
            pts = {p["pt"] for p in after}
            ct.log("after re-INVITE to PCMA: %d packets, payload types %s" % (len(after), pts))
            check(after, "no RTP after switching to PCMA")
            check(pts == {8}, "after switching to PCMA chorusd sends payload types %s" % pts)
            peer.stop_stream()
            b = c.bye()
            check(b is not None and b.status == 200, "BYE: %s" % (b and b.first))
        finally:
            peer.close()


def test_latching(d):
    """SDP names port P, but RTP is sent from socket Q: the mix must come
    back to Q (symmetric RTP / latching, what NATed phones need)."""
    with ct.SipUA(d.addr, "udp", "natted") as ua, ct.SipUA(d.addr, "udp", "other") as ua2:
        sdp_sock = ct.RtpPeer()      # advertised, never sends
        real = ct.RtpPeer()          # sends and should receive
        other = ct.RtpPeer()
        try:
            c = ua.invite("1000", ct.make_sdp(sdp_sock.port, [0]))
            check(c.final is not None and c.final.status == 200, "INVITE: %s"
                  % (c.final and c.final.first))
            a = ct.Sdp(c.final.body)
            c2 = ua2.invite("1000", ct.make_sdp(other.port, [0]))
            check(c2.final is not None and c2.final.status == 200, "2nd INVITE")
            a2 = ct.Sdp(c2.final.body)
            other.start_stream((a2.conn, a2.port), 0, "PCMU", 800.0)
            real.start_stream((a.conn, a.port), 0, "PCMU", 500.0)
            time.sleep(1.0)
            t = time.monotonic()
            time.sleep(1.5)
            got = real.received_between(t, time.monotonic())
            sdp_sock.drain(0.05)
            pcm = b"".join(p["payload"] for p in got if p["pt"] == 0)
            lv = ct.tone_report(ct.g711_decode(pcm, "PCMU").astype(float) / 32768, 8000,
                                [500.0, 800.0]) if pcm else {}
            ct.log("latching: %d packets to the sending port, %d to the SDP port; %s" % (
                len(got), len(sdp_sock.received), lv))
            check(len(got) >= 50, "latching: only %d RTP packets came back to the port the "
                  "client sends from (%d went to the SDP port)" % (len(got),
                                                                   len(sdp_sock.received)))
            check(lv.get(800.0, -200) > -40, "latched leg does not hear the other leg: %s" % lv)
            real.stop_stream()
            other.stop_stream()
            c.bye()
            c2.bye()
        finally:
            for p in (sdp_sock, real, other):
                p.close()


def test_rtp_bleed(d):
    """After a leg latched to its phone, RTP from another address to that
    leg's port must be ignored: not mixed in, and not answered with the
    conference audio (the 'RTP bleed' class of bugs)."""
    with ct.SipUA(d.addr, "udp", "legit") as ua, ct.SipUA(d.addr, "udp", "other") as ua2:
        legit, other = ct.RtpPeer(), ct.RtpPeer()
        evil = ct.socket.socket(ct.socket.AF_INET, ct.socket.SOCK_DGRAM)
        evil.bind(("127.0.0.3", 0))
        try:
            c = ua.invite("1000", ct.make_sdp(legit.port, [0]))
            check(c.final is not None and c.final.status == 200, "INVITE")
            a = ct.Sdp(c.final.body)
            c2 = ua2.invite("1000", ct.make_sdp(other.port, [0]))
            check(c2.final is not None and c2.final.status == 200, "2nd INVITE")
            a2 = ct.Sdp(c2.final.body)
            legit.start_stream((a.conn, a.port), 0, "PCMU", 500.0)
            other.start_stream((a2.conn, a2.port), 0, "PCMU", 800.0)
            time.sleep(1.0)
            t0 = time.monotonic()
            evil.settimeout(0.001)
            got_evil = 0
            k = 0
            np = ct.np
            while time.monotonic() - t0 < 2.0:
                t = (np.arange(160) + 160 * k) / 8000.0
                pcm = (0.25 * 32767 * np.sin(2 * np.pi * 1500.0 * t)).astype(np.int16)
                evil.sendto(ct.rtp_packet(0, k, 160 * k, 0xBAD, ct.g711_encode(pcm)),
                            (a.conn, a.port))
                k += 1
                end = time.monotonic() + 0.02
                while time.monotonic() < end:
                    try:
                        evil.recvfrom(4096)
                        got_evil += 1
                    except (ct.socket.timeout, OSError):
                        pass
            t1 = time.monotonic()
            x_other = ct.g711_decode(b"".join(
                p["payload"] for p in other.received_between(t0 + 0.3, t1, pt=0)),
                "PCMU").astype(float) / 32768
            x_legit = ct.g711_decode(b"".join(
                p["payload"] for p in legit.received_between(t0 + 0.3, t1, pt=0)),
                "PCMU").astype(float) / 32768
            lo = ct.tone_report(x_other, 8000, [500.0, 1500.0])
            ll = ct.tone_report(x_legit, 8000, [800.0, 1500.0])
            ct.log("RTP from 127.0.0.3 to a latched leg: attacker got %d packets; the other "
                   "leg hears %s; the legit leg hears %s" % (got_evil, lo, ll))
            check(got_evil == 0, "chorusd sent %d packets of conference audio to a foreign "
                  "source that sent RTP to a latched leg" % got_evil)
            check(lo[1500.0] < -50, "the foreign source's tone is mixed in (%.1f dBFS)"
                  % lo[1500.0])
            check(lo[500.0] > -20 and ll[800.0] > -20, "legit audio disturbed: %s %s"
                  % (lo, ll))
            legit.stop_stream()
            other.stop_stream()
            c.bye()
            c2.bye()
        finally:
            legit.close()
            other.close()
            evil.close()


def test_tcp_framing_and_compact(d):
    """SIP over TCP cut into small pieces and two requests in one segment;
    an INVITE written with compact header names (i: f: t: v: l: m: c:)."""
    # two OPTIONS in one TCP segment, then one split into 7-byte pieces
    with ct.SipUA(d.addr, "tcp", "pipe") as ua:
        reqs, branches = [], []
        for i in range(2):
            b = "z9hG4bK" + ct.rand_token()
            branches.append(b)
            reqs.append(ua.build("OPTIONS", "sip:%s:%d" % d.addr, ct.rand_token(10) + "@p",
                                 "t%d" % i, 1, b))
        ua.send_raw(reqs[0] + reqs[1])
        got = {m.branch for m in (ua.wait_response(lambda r: r.branch in branches, 4)
                                  for _ in range(2)) if m is not None}
        check(got == set(branches), "2 pipelined OPTIONS over TCP: answers for %d" % len(got))
        b = "z9hG4bK" + ct.rand_token()
        req = ua.build("OPTIONS", "sip:%s:%d" % d.addr, ct.rand_token(10) + "@p", "t9", 1, b)
        for i in range(0, len(req), 7):
            ua.sock.sendall(req[i:i + 7])
            time.sleep(0.002)
        m = ua.wait_response(lambda r: r.branch == b, 4)
        check(m is not None and m.status == 200, "OPTIONS over TCP in 7-byte pieces: %s"
              % (m and m.first))
    # compact form INVITE over UDP
    with ct.SipUA(d.addr, "udp", "compact") as ua:
        peer = ct.RtpPeer()
        try:
            b = "z9hG4bK" + ct.rand_token()
            body = ct.make_sdp(peer.port, [0])
            cid = ct.rand_token(12) + "@compact"
            req = ("INVITE %s SIP/2.0\r\n"
                   "v: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
                   "f: <sip:compact@127.0.0.1>;tag=ctag\r\n"
                   "t: <%s>\r\n"
                   "i: %s\r\n"
                   "CSeq: 1 INVITE\r\n"
                   "m: <sip:compact@%s:%d>\r\n"
                   "c: application/sdp\r\n"
                   "l: %d\r\n\r\n" % (ua.room_uri("1000"), ua.laddr[0], ua.laddr[1], b,
                                         ua.room_uri("1000"), cid, ua.laddr[0], ua.laddr[1],
                                         len(body))).encode() + body
            call = ct.Call(ua, ua.room_uri("1000"))
            call.call_id, call.from_tag, call.branch, call.invite_raw = cid, "ctag", b, req
            ua.send_raw(req)
            call._next_rt, call._t1, call._got_prov = time.monotonic() + 0.5, 0.5, False
            f = call.wait_final(5)
            check(f is not None and f.status == 200, "compact-form INVITE: %s"
                  % (f and f.first))
            call.ack_2xx()
            r = call.bye()
            check(r is not None and r.status == 200, "BYE after compact INVITE: %s"
                  % (r and r.first))
        finally:
            peer.close()




def test_missing_headers(d):
    """Requests without a mandatory header (RFC 3261 8.1.1), checked for
    every method before sipsess: without Via/From/To/Call-ID/CSeq no valid
    response can be built (a response copies them, 8.2.6.2, and the client
    matches it by branch and CSeq method, 17.1.3): dropped and logged.
    INVITE without Contact and a CSeq method that is not the request's:
    400 with a Warning naming it. No leg is created (the max=1 room stays
    free). Before the fix: no CSeq / no To -> 200 and a leg, no Contact /
    Call-ID / From -> 500 "sipsess_accept failed (Bad message)"."""
    with ct.SipUA(d.addr, "udp", "nohdr") as ua:
        peer = ct.RtpPeer()
        try:
            cases = [("INVITE", h) for h in ("Contact", "Call-ID", "CSeq", "From", "To")]
            cases += [("OPTIONS", "CSeq"), ("OPTIONS", "Call-ID"), ("BYE", "From")]
            for method, hdr in cases:
                b = "z9hG4bK" + ct.rand_token()
                cid = ct.rand_token(10) + "@nohdr"
                req = ua.build(method, ua.room_uri(ONE), cid, "mt", 1, b,
                               body=ct.make_sdp(peer.port, [0]) if method == "INVITE" else b"")
                req = b"\r\n".join(l for l in req.split(b"\r\n")
                                    if not l.lower().startswith(hdr.lower().encode() + b":"))
                ua.send_raw(req)
                m = ua.wait_response(lambda r: r.branch == b and r.status >= 200, 1.5)
                ct.log("%s without %s -> %s" % (method, hdr, m.first if m else None))
                if hdr == "Contact":
                    check(m is not None and m.status == 400,
                          "INVITE without Contact: %s (expected 400)" % (m and m.first))
                    ua.send_raw(ua.build("ACK", ua.room_uri(ONE), cid, "mt", 1, b,
                                         to_tag=m.to_tag))
                    check("Missing Contact" in (m.get("warning") or ""),
                          "400 for a missing Contact: Warning %r" % m.get("warning"))
                    check("Missing Contact" in m.first, "400 reason phrase: %s" % m.first)
                else:
                    check(m is None, "%s without %s answered %s (no valid response can be "
                          "built: expected a silent drop)" % (method, hdr, m and m.first))
                    want = "%s sip:%s" % (method, ONE)
                    ct.wait_for(lambda: any(want in l and "dropped: missing %s" % hdr in l
                                            for l in d.log_text().splitlines()),
                                3, what="log line for %s without %s" % (method, hdr))
            # OPTIONS whose CSeq names another method (RFC 4475 3.1.2.17)
            b = "z9hG4bK" + ct.rand_token()
            req = ua.build("OPTIONS", ua.room_uri(ONE), ct.rand_token(10) + "@x", "mt", 1, b)
            req = req.replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
            ua.send_raw(req)
            m = ua.wait_response(lambda r: r.branch == b and r.status >= 200, 3)
            ct.log("OPTIONS with CSeq INVITE -> %s" % (m.first if m else None))
            check(m is not None and m.status == 400 and
                  "CSeq method mismatch" in (m.get("warning") or ""),
                  "OPTIONS with CSeq INVITE: %s (expected 400 + Warning)" % (m and m.first))
        finally:
            peer.close()
    check(d.alive(), "chorusd died on a request with a missing header")
    # no leg was created: the max=1 room takes a call
    with ct.SipUA(d.addr, "udp", "afternohdr") as ua:
        peer = ct.RtpPeer()
        try:
            c = ua.invite(ONE, ct.make_sdp(peer.port, [0]))
            check(c.final is not None and c.final.status == 200,
                  "max=1 room after the broken INVITEs: %s (a leg was created?)"
                  % (c.final and c.final.first))
            c.bye()
        finally:
            peer.close()
        o = ua.options()
        check(o is not None and o.status == 200, "OPTIONS afterwards: %s" % (o and o.first))


def test_garbage(d):
    rnd = random.Random(1234)
    junk = [b"", b"\r\n\r\n", b"INVITE\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n",
            b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1\r\n\r\n",
            b"OPTIONS sip:x SIP/2.0\r\nContent-Length: -5\r\n\r\n",
            b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\n" + b"X-Long: " + b"a" * 60000 + b"\r\n\r\n",
            b"BYE sip:1000@127.0.0.1 SIP/3.0\r\nCall-ID: \r\nCSeq: x BYE\r\n\r\n"]
    junk += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 1400)))
             for _ in range(30)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for j in junk:
        try:
            s.sendto(j[:65000], d.addr)
        except OSError:
            pass
    s.close()
    for j in junk[:12]:
        try:
            t = socket.create_connection(d.addr, timeout=2)
            t.sendall(j + b"\r\n\r\n")
            t.close()
        except OSError:
            pass
    # a valid call, and garbage + wrong payload type into its RTP port
    with ct.SipUA(d.addr, "udp", "junkrtp") as ua:
        peer = ct.RtpPeer()
        try:
            c = ua.invite("1000", ct.make_sdp(peer.port, [0]))
            check(c.final is not None and c.final.status == 200, "INVITE after SIP garbage: %s"
                  % (c.final and c.final.first))
            a = ct.Sdp(c.final.body)
            dst = (a.conn, a.port)
            for i in range(200):
                kind = i % 4
                if kind == 0:
                    pkt = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
                elif kind == 1:
                    pkt = ct.rtp_packet(18, i, i * 160, 77, b"\x00" * 20)     # G.729, not ours
                elif kind == 2:
                    pkt = ct.rtp_packet(0, i, i * 160, 78, b"")               # empty payload
                else:
                    pkt = b"\x80\x00" + b"\x01" * 6                          # short header
                peer.sock.sendto(pkt, dst)
                # RTCP port too
                peer.sock.sendto(pkt, (a.conn, a.port + 1))
            time.sleep(0.3)
            check(d.alive(), "chorusd died on garbage RTP")
            peer.stream(dst, 0, "PCMU", 1.0, freq=700.0)
            peer.drain(0.2)
            check(len(peer.received) >= 30, "after garbage RTP the leg gets %d packets"
                  % len(peer.received))
            b = c.bye()
            check(b is not None and b.status == 200, "BYE: %s" % (b and b.first))
        finally:
            peer.close()
    with ct.SipUA(d.addr, "udp") as ua:
        o = ua.options()
        check(o is not None and o.status == 200, "OPTIONS after garbage: %s" % (o and o.first))


def main():
    r = ct.Runner("sip_robust")
    d = ct.Daemon(r.tmp.path, rooms_extra='room %s name="One" max=1\n' % ONE)
    try:
        d.start()
    except ct.TestFailure as e:
        r.fail("start", str(e))
        d.stop()
        d.dump_log()
        return r.finish()
    for name, fn in (("INVITE retransmission", test_invite_retransmission),
                     ("unknown dialog 481", test_unknown_dialog),
                     ("re-INVITE codec change", test_reinvite_codec_change),
                     ("symmetric RTP latching", test_latching),
                     ("no RTP bleed to a foreign source", test_rtp_bleed),
                     ("TCP framing, compact headers", test_tcp_framing_and_compact),
                     ("INVITE without mandatory headers", test_missing_headers),
                     ("garbage SIP and RTP", test_garbage)):
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
