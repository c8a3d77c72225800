"""re-INVITE races on one dialog (RFC 3261 14.1/14.2), as libre 1.1's
sipsess handles them for chorusd (docs/SECURITY.md):

- overlap: a re-INVITE without SDP makes chorusd offer in its 200 OK and
  wait for the answer in the ACK; a second re-INVITE (with an offer) in
  that time gets 500 with Retry-After (RFC 3261 14.2, RFC 3264: one offer
  at a time); after the ACK with the answer the next re-INVITE is taken.
  (A re-INVITE that carried its own offer is complete with the 200, so a
  next one before the ACK is simply answered.)
- glare: chorusd is the session-timer refresher of a phone that does not
  allow UPDATE, so it sends a re-INVITE at half the interval (45 s of a
  90 s Session-Expires); the phone holds that re-INVITE and sends its own:
  chorusd answers 491 Request Pending. The phone answers chorusd's
  re-INVITE with 491 too; chorusd tries again a little later (libre: 1 s,
  3 s when it owns the Call-ID) and the call goes on.

Over TCP (no retransmissions to keep apart). Takes about a minute.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

ROOM = "3400"


def test_overlap(d):
    with ct.SipUA(d.addr, "tcp", "overlap") as ua:
        peer = ct.RtpPeer()
        try:
            sdp = ct.make_sdp(peer.port, [0])
            c = ua.invite(ROOM, sdp)
            check(c.final is not None and c.final.status == 200, "INVITE: %s"
                  % (c.final and c.final.first))
            # re-INVITE #1 without SDP: chorusd offers, the answer is due in the ACK
            d1 = c.dialog
            d1.cseq += 1
            br1 = "z9hG4bK" + ct.rand_token()
            req1 = ua.build("INVITE", d1.remote_target, c.call_id, c.from_tag, d1.cseq, br1,
                            to_uri=d1.remote_uri, to_tag=d1.remote_tag)
            r1, _ = ua.transact(req1, br1, "INVITE", timeout=5)
            check(r1 is not None and r1.status == 200 and b"m=audio" in r1.body,
                  "re-INVITE #1 (no SDP): %s" % (r1 and r1.first))
            # re-INVITE #2 before the ACK of #1
            d1.cseq += 1
            br2 = "z9hG4bK" + ct.rand_token()
            req2 = ua.build("INVITE", d1.remote_target, c.call_id, c.from_tag, d1.cseq, br2,
                            to_uri=d1.remote_uri, to_tag=d1.remote_tag, body=sdp)
            r2, _ = ua.transact(req2, br2, "INVITE", timeout=5)
            check(r2 is not None and r2.status == 500 and r2.get("retry-after"),
                  "re-INVITE while the previous 200 awaits its ACK: %s, Retry-After %r"
                  % (r2 and r2.first, r2 and r2.get("retry-after")))
            ct.log("overlapping re-INVITE: %s, Retry-After %s" % (r2.first, r2.get("retry-after")))
            ua.send_raw(ua.build("ACK", d1.remote_target, c.call_id, c.from_tag, d1.cseq, br2,
                                 to_uri=d1.remote_uri, to_tag=r2.to_tag))
            # ACK #1 with our answer (2xx ACK: new branch, CSeq of #1)
            ans = ct.make_sdp(peer.port, [ct.Sdp(r1.body).pts[0]])
            ua.send_raw(ua.build("ACK", d1.remote_target, c.call_id, c.from_tag, d1.cseq - 1,
                                 "z9hG4bK" + ct.rand_token(), to_uri=d1.remote_uri,
                                 to_tag=d1.remote_tag, body=ans))
            time.sleep(0.2)
            r3 = c.request("INVITE", body=sdp, ctype="application/sdp")
            check(r3 is not None and r3.status == 200, "re-INVITE after the ACK: %s"
                  % (r3 and r3.first))
            rb = c.bye()
            check(rb is not None and rb.status == 200, "BYE: %s" % (rb and rb.first))
        finally:
            peer.close()


def test_glare(d):
    with ct.SipUA(d.addr, "tcp", "glare") as ua:
        peer = ct.RtpPeer()
        try:
            sdp = ct.make_sdp(peer.port, [0])
            c = ua.invite(ROOM, sdp, headers=["Session-Expires: 90;refresher=uas",
                                               "Supported: timer",
                                               "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS"])
            f = c.final
            check(f is not None and f.status == 200, "INVITE: %s" % (f and f.first))
            check("refresher=uas" in (f.get("session-expires") or ""),
                  "chorusd is not the refresher: Session-Expires %r" % f.get("session-expires"))
            peer.start_stream((ct.Sdp(f.body).conn, ct.Sdp(f.body).port), 0, "PCMU", 500.0)
            t0 = time.monotonic()
            theirs = ua.wait_request("INVITE", 60, call_id=c.call_id, answer=False)
            check(theirs is not None, "no refreshing re-INVITE from chorusd within 60 s")
            ct.log("chorusd's refresh re-INVITE after %.1f s; sending ours" % (
                time.monotonic() - t0))
            # ours, while theirs is pending
            d1 = c.dialog
            d1.cseq += 1
            br = "z9hG4bK" + ct.rand_token()
            req = ua.build("INVITE", d1.remote_target, c.call_id, c.from_tag, d1.cseq, br,
                           to_uri=d1.remote_uri, to_tag=d1.remote_tag, body=sdp)
            r, _ = ua.transact(req, br, "INVITE", timeout=5)
            check(r is not None and r.status == 491, "our re-INVITE during chorusd's: %s "
                  "(want 491)" % (r and r.first))
            ct.log("glare: chorusd answered %s" % r.first)
            ua.send_raw(ua.build("ACK", d1.remote_target, c.call_id, c.from_tag, d1.cseq, br,
                                 to_uri=d1.remote_uri, to_tag=r.to_tag))
            # and theirs gets 491 from us: chorusd must retry, not hang up
            ua.send_raw(ua.response_to(theirs, 491, "Request Pending"))
            t1 = time.monotonic()
            again = ua.wait_request("INVITE", 10, call_id=c.call_id, answer=True)
            check(again is not None, "chorusd did not retry its re-INVITE after our 491")
            ct.log("chorusd retried its re-INVITE %.1f s after our 491 (answered 200)"
                   % (time.monotonic() - t1))
            time.sleep(1.0)
            check(not any(m.method == "BYE" for m in ua.incoming),
                  "chorusd hung up after the glare")
            rb = c.bye()
            check(rb is not None and rb.status == 200, "BYE after the glare: %s"
                  % (rb and rb.first))
        finally:
            if hasattr(peer, "_thread"):
                peer.stop_stream()
            peer.close()


def main():
    r = ct.Runner("glare")
    d = ct.Daemon(r.tmp.path, conf={"session_expires": "90"})
    if not r.start_daemon(d):
        return r.finish()
    for name, fn in (("overlapping re-INVITE 500 + Retry-After", test_overlap),
                     ("re-INVITE glare 491", test_glare)):
        r.sub_while_up(d, name, fn, d)
    return r.finish_daemon(d, 80)


if __name__ == "__main__":
    sys.exit(main())
