"""chorusd lifecycle with scripted SIP/RTP clients:
- rtp_timeout: a leg that stops sending RTP gets a BYE, a leg that keeps
  sending does not; a leg on hold (a=inactive) does not time out, and
  after resume it does again;
- SIGHUP: a room added to rooms.conf becomes reachable, a live call stays up
  and keeps getting audio;
- SIGTERM with live calls (UDP and TCP): every call gets a BYE, an INVITE
  during shutdown gets 503 (or no answer once the sockets are closed), and
  chorusd exits 0 within a bound.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

RTP_TIMEOUT = 3


def _call(d, tr, room, user):
    ua = ct.SipUA(d.addr, tr, user)
    peer = ct.RtpPeer()
    c = ua.invite(room, ct.make_sdp(peer.port, [0], ptime=20))
    check(c.final is not None and c.final.status == 200, "%s INVITE %s/%s: %s\n%s" % (
        user, room, tr, c.final and c.final.first, ua.format_trace()))
    a = ct.Sdp(c.final.body)
    return ua, peer, c, (a.conn, a.port)


def test_rtp_timeout(d):
    # the quiet leg's INVITE passed "a proxy" (a Record-Route pointing back
    # at us): chorusd's BYE must carry it as Route and target our Contact
    ua1 = ct.SipUA(d.addr, "udp", "quiet")
    p1 = ct.RtpPeer()
    rr = "<sip:%s:%d;lr;chorustest=rr1>" % ua1.laddr
    c1 = ua1.invite("1000", ct.make_sdp(p1.port, [0], ptime=20),
                    headers=["Record-Route: " + rr])
    check(c1.final is not None and c1.final.status == 200, "quiet INVITE: %s"
          % (c1.final and c1.final.first))
    check(rr in (c1.final.get("record-route") or ""),
          "200 does not copy the Record-Route (%r)" % c1.final.get("record-route"))
    a1 = ct.Sdp(c1.final.body)
    dst1 = (a1.conn, a1.port)
    ua2, p2, c2, dst2 = _call(d, "udp", "1000", "talker")
    try:
        p2.start_stream(dst2, 0, "PCMU", 900.0)
        p1.stream(dst1, 0, "PCMU", 1.0, freq=600.0)
        t_stop = time.monotonic()
        bye = ua1.wait_request("BYE", RTP_TIMEOUT + 5, call_id=c1.call_id)
        dt = time.monotonic() - t_stop
        check(bye is not None, "no BYE for a leg silent for %d s (rtp_timeout %d)"
              % (RTP_TIMEOUT + 5, RTP_TIMEOUT))
        ct.log("BYE for the silent leg %.1f s after its last RTP (rtp_timeout %d)"
               % (dt, RTP_TIMEOUT))
        check(dt >= RTP_TIMEOUT - 0.5, "BYE after %.1f s, before rtp_timeout %d" % (
            dt, RTP_TIMEOUT))
        ct.log("BYE: %s / Route: %s" % (bye.first, bye.get("route")))
        check("chorustest=rr1" in (bye.get("route") or ""),
              "chorusd's BYE ignores the Record-Route of the INVITE (Route: %r)"
              % bye.get("route"))
        check(bye.ruri.startswith("sip:quiet@"), "BYE Request-URI %s is not our Contact"
              % bye.ruri)
        # the talking leg is still up
        bye2 = ua2.wait_request("BYE", 0.5, call_id=c2.call_id)
        check(bye2 is None, "the leg that keeps sending RTP got a BYE too")
        t = time.monotonic()
        time.sleep(1.0)
        got = p2.received_between(t, time.monotonic())
        check(len(got) >= 25, "talker gets only %d packets/s after the other leg timed out"
              % len(got))
        r = c2.bye()
        check(r is not None and r.status == 200, "talker BYE: %s" % (r and r.first))
    finally:
        if hasattr(p2, "_thread"):
            p2.stop_stream()
        for x in (ua1, ua2, p1, p2):
            x.close()


def test_hold_no_timeout(d):
    """A leg on hold (a=inactive) sends no RTP and must not time out; once
    resumed and silent again, it must."""
    ua, p, c, dst = _call(d, "udp", "1000", "holder")
    try:
        p.stream(dst, 0, "PCMU", 0.5, freq=600.0)
        r = c.request("INVITE", body=ct.make_sdp(p.port, [0], direction="inactive"))
        check(r is not None and r.status == 200, "hold re-INVITE (a=inactive): %s"
              % (r and r.first))
        bye = ua.wait_request("BYE", RTP_TIMEOUT + 2.5, call_id=c.call_id)
        check(bye is None, "a held (a=inactive) leg got a BYE after %d s without RTP "
              "(rtp_timeout %d): %s" % (RTP_TIMEOUT + 2.5, RTP_TIMEOUT, bye and bye.get("reason")))
        r = c.request("INVITE", body=ct.make_sdp(p.port, [0]))
        check(r is not None and r.status == 200, "resume re-INVITE: %s" % (r and r.first))
        t = time.monotonic()
        p.stream(dst, 0, "PCMU", 1.0, freq=600.0)
        bye = ua.wait_request("BYE", 0.2, call_id=c.call_id)
        check(bye is None, "BYE right after resume while sending RTP (%.1f s)"
              % (time.monotonic() - t))
        t = time.monotonic()
        bye = ua.wait_request("BYE", RTP_TIMEOUT + 5, call_id=c.call_id)
        check(bye is not None, "resumed leg silent for %d s got no BYE" % (RTP_TIMEOUT + 5))
        ct.log("resumed then silent: BYE after %.1f s (Reason: %s)" % (
            time.monotonic() - t, bye.get("reason")))
    finally:
        ua.close()
        p.close()


def test_sighup(d):
    with ct.SipUA(d.addr, "udp") as ua:
        c = ua.invite("hupnew", ct.make_sdp(20000, [0]))
        check(c.final is not None and c.final.status == 404,
              "hupnew before the reload: %s" % (c.final and c.final.first))
    ua2, p2, c2, dst2 = _call(d, "udp", "1000", "stayer")
    try:
        p2.start_stream(dst2, 0, "PCMU", 900.0)
        with open(os.path.join(d.cfgdir, "rooms.conf"), "a") as fh:
            fh.write('room hupnew name="Added by SIGHUP" max=5\n')
        d.signal(signal.SIGHUP)
        ok = None
        st = None
        end = time.monotonic() + 5
        while time.monotonic() < end and not ok:
            with ct.SipUA(d.addr, "udp") as ua:
                peer = ct.RtpPeer()
                try:
                    c = ua.invite("hupnew", ct.make_sdp(peer.port, [0]))
                    st = c.final.status if c.final else None
                    if st == 200:
                        ok = True
                        r = c.bye()
                        check(r is not None and r.status == 200, "BYE in hupnew: %s"
                              % (r and r.first))
                finally:
                    peer.close()
            if not ok:
                time.sleep(0.3)
        check(ok, "room hupnew added to rooms.conf not reachable 5 s after SIGHUP "
              "(last answer %s)" % st)
        check(d.alive(), "chorusd died on SIGHUP")
        t = time.monotonic()
        time.sleep(1.0)
        got = p2.received_between(t, time.monotonic())
        check(len(got) >= 25, "the call across the reload gets %d packets/s" % len(got))
        bye = ua2.wait_request("BYE", 0.1, call_id=c2.call_id)
        check(bye is None, "the call across SIGHUP got a BYE")
        r = c2.bye()
        check(r is not None and r.status == 200, "BYE after reload: %s" % (r and r.first))
    finally:
        p2.stop_stream()
        ua2.close()
        p2.close()


def test_sigterm(d):
    ua1, p1, c1, dst1 = _call(d, "udp", "1000", "u1")
    ua2, p2, c2, dst2 = _call(d, "tcp", "5555", "t2")
    try:
        p1.start_stream(dst1, 0, "PCMU", 500.0)
        p2.start_stream(dst2, 0, "PCMU", 800.0)
        time.sleep(1.0)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        # the shutdown has begun once the BYE arrives; leave it unanswered
        # so chorusd waits for it, and INVITE meanwhile
        b1 = ua1.wait_request("BYE", 5, call_id=c1.call_id, answer=False)
        check(b1 is not None, "no BYE over UDP within 5 s of SIGTERM")
        with ct.SipUA(d.addr, "udp", "late") as ua3:
            peer = ct.RtpPeer()
            c3 = ua3.invite("1000", ct.make_sdp(peer.port, [0]), timeout=3)
            peer.close()
            st = c3.final.status if c3.final else None
            ct.log("INVITE during shutdown ->", c3.final.first if c3.final else None,
                   "Retry-After:", c3.final.get("retry-after") if c3.final else None)
            if c3.final is not None and 200 <= st < 300:
                c3.bye(timeout=2)
            check(st in (503, None), "INVITE during shutdown answered %s (expected 503)"
                  % (c3.final and c3.final.first))
            if st == 503:
                check(c3.final.get("retry-after"), "503 during shutdown without Retry-After")
        ua1._auto_answer(b1)
        b2 = ua2.wait_request("BYE", 5, call_id=c2.call_id)
        ct.log("BYEs after SIGTERM: udp %s, tcp %s (%.1f s)" % (
            b1 is not None, b2 is not None, time.monotonic() - t0))
        check(b2 is not None, "no BYE over TCP after SIGTERM")
        try:
            rc = d.proc.wait(8)
        except Exception:
            rc = None
        ct.log("chorusd exit status %s, %.1f s after SIGTERM" % (rc, time.monotonic() - t0))
        check(rc == 0, "chorusd exit status %s after SIGTERM with live calls" % rc)
    finally:
        for p in (p1, p2):
            p.stop_stream()
        for x in (ua1, ua2, p1, p2):
            x.close()


def main():
    r = ct.Runner("lifecycle")
    d = ct.Daemon(r.tmp.path, conf={"rtp_timeout": str(RTP_TIMEOUT)})
    if not r.start_daemon(d):
        return r.finish()
    for name, fn in (("rtp_timeout", test_rtp_timeout),
                     ("held leg does not time out", test_hold_no_timeout),
                     ("SIGHUP reload", test_sighup),
                     ("SIGTERM with live calls", test_sigterm)):
        r.sub_while_up(d, name, fn, d)
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
