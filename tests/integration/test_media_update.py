"""Media changes inside a call, scripted, with a talker T (PCMU, 900 Hz) in
the room so the subject S always has something to hear:
- send ptime 10 / 30 / 60 asked by the offer: packet size, packet rate and
  a continuous tone (no phase jumps) at each;
- a re-INVITE without SDP: chorusd offers, the answer in the ACK moves S to
  PCMA on a new port, and the mix follows;
- hold by UPDATE (a=sendonly) and resume by UPDATE;
- old-style hold with c=0.0.0.0 in a re-INVITE, then resume.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

ROOM = "4455"
FT, FS = 900.0, 600.0


class Party:
    def __init__(self, d, name, ptime=20, pts=(0,), tr="udp"):
        self.d = d
        self.ua = ct.SipUA(d.addr, tr, name)
        self.peer = ct.RtpPeer()
        self.call = self.ua.invite(ROOM, ct.make_sdp(self.peer.port, list(pts), ptime=ptime))
        f = self.call.final
        check(f is not None and f.status == 200, "%s INVITE: %s" % (name, f and f.first))
        self.ans = ct.Sdp(f.body)

    def dst(self):
        return (self.ans.conn, self.ans.port)

    def close(self):
        if hasattr(self.peer, "_thread") and not self.peer._stop:
            self.peer.stop_stream()
        ct.bye_quietly(self.call)
        self.ua.close()
        self.peer.close()


def window(peer, secs, pt):
    t0 = time.monotonic()
    time.sleep(secs)
    return [p for p in peer.received_between(t0, time.monotonic()) if p["pt"] == pt]


def decode(pk, law):
    pcm = b"".join(p["payload"] for p in pk)
    return ct.g711_decode(pcm, law).astype(float) / 32768.0 if pcm else ct.np.zeros(0)


def test_ptime(d, talker):
    problems = []
    for ptime in (10, 30, 60):
        s = Party(d, "ptime%d" % ptime, ptime=ptime)
        try:
            s.peer.start_stream(s.dst(), 0, "PCMU", FS, ptime=ptime)
            time.sleep(1.0)
            pk = window(s.peer, 2.0, 0)
            sizes = {len(p["payload"]) for p in pk}
            x = decode(pk, "PCMU")
            lv = ct.tone_level_blocks_db(x, 8000, FT)
            jumps = ct.phase_jumps(x, 8000, FT)
            ts_steps = {(b["ts"] - a["ts"]) & 0xFFFFFFFF for a, b in zip(pk, pk[1:])}
            ct.log("ptime %d: answer a=ptime:%s, %d packets in 2 s, sizes %s, ts steps %s, "
                   "tone %.1f dBFS, %d phase jumps" % (ptime, s.ans.attr("ptime"), len(pk),
                                                       sizes, ts_steps, lv, jumps))
            want = 8 * ptime
            if sizes != {want}:
                problems.append("ptime %d: payload sizes %s (expected %d)" % (ptime, sizes, want))
            if ts_steps != {want}:
                problems.append("ptime %d: timestamp steps %s (expected %d)" % (ptime, ts_steps,
                                                                                want))
            rate = len(pk) / 2.0
            if abs(rate - 1000.0 / ptime) > 0.15 * 1000.0 / ptime:
                problems.append("ptime %d: %.1f packets/s (expected %.1f)" % (
                    ptime, rate, 1000.0 / ptime))
            if lv < -18:
                problems.append("ptime %d: talker heard at %.1f dBFS" % (ptime, lv))
            if jumps:
                problems.append("ptime %d: %d phase jumps in the talker's tone (samples lost "
                                "or repeated when repacketising)" % (ptime, jumps))
        finally:
            s.close()
    check(not problems, "; ".join(problems))


def test_reinvite_late_offer(d, talker):
    s = Party(d, "relate")
    newpeer = ct.RtpPeer()
    try:
        s.peer.start_stream(s.dst(), 0, "PCMU", FS)
        time.sleep(0.5)
        c = s.call
        # re-INVITE without a body: chorusd must offer in its 200
        dlg = c.dialog
        dlg.cseq += 1
        c.cseq = dlg.cseq
        branch = "z9hG4bK" + ct.rand_token()
        req = s.ua.build("INVITE", dlg.remote_target, c.call_id, c.from_tag, dlg.cseq, branch,
                         to_uri=dlg.remote_uri, to_tag=dlg.remote_tag, route_set=dlg.route_set)
        c.branch, c.invite_raw = branch, req
        s.ua.send_raw(req)
        c._next_rt, c._t1, c._got_prov = time.monotonic() + 0.5, 0.5, False
        f = c.wait_final(5)
        check(f is not None and f.status == 200, "re-INVITE without SDP: %s" % (f and f.first))
        offer = ct.Sdp(f.body)
        check(offer.port, "200 to a re-INVITE without SDP has no offer: %r" % f.body[:200])
        pt = offer.pt_for("PCMA")
        check(pt is not None, "chorusd's re-offer lacks PCMA: %s" % offer.rtpmap)
        s.peer.stop_stream()
        c.ack_2xx(ct.make_sdp(newpeer.port, [pt], {pt: "PCMA/8000"}))
        newpeer.start_stream((offer.conn, offer.port), pt, "PCMA", FS)
        time.sleep(1.0)
        pk = [p for p in window(newpeer, 1.5, pt)]
        old = window(s.peer, 0.5, 0)
        x = decode(pk, "PCMA")
        lv = ct.tone_level_blocks_db(x, 8000, FT)
        ct.log("after the late-offer re-INVITE: %d PCMA packets on the new port, %d PCMU on "
               "the old; talker %.1f dBFS" % (len(pk), len(old), lv))
        check(len(pk) >= 50, "after the answer in the ACK (PCMA, new port) the new port gets "
              "%d PCMA packets in 1.5 s" % len(pk))
        check(lv > -18, "after the re-INVITE the talker is heard at %.1f dBFS" % lv)
        newpeer.stop_stream()
    finally:
        s.close()
        newpeer.close()


def _listen_level(party, pt, law, secs=1.5):
    pk = window(party.peer, secs, pt)
    return len(pk), ct.rms_db(decode(pk, law)) if pk else -200.0


def test_update_hold(d, talker):
    s = Party(d, "updater")
    try:
        s.peer.start_stream(s.dst(), 0, "PCMU", FS)
        time.sleep(1.0)
        n0, _ = _listen_level(s, 0, "PCMU", 1.0)
        tl = ct.tone_level_blocks_db(decode(window(talker.peer, 1.5, 0), "PCMU"), 8000, FS)
        check(n0 > 30 and tl > -18, "before hold: S gets %d pkts, T hears S at %.1f" % (n0, tl))
        r = s.call.request("UPDATE", body=ct.make_sdp(s.peer.port, [0], direction="sendonly"))
        check(r is not None and r.status == 200, "UPDATE a=sendonly: %s" % (r and r.first))
        check(ct.Sdp(r.body).direction in ("recvonly", "inactive"),
              "answer to UPDATE a=sendonly: a=%s" % ct.Sdp(r.body).direction)
        time.sleep(0.5)
        n1, lvl1 = _listen_level(s, 0, "PCMU")
        tl1 = ct.tone_level_blocks_db(decode(window(talker.peer, 1.5, 0), "PCMU"), 8000, FS)
        ct.log("held by UPDATE: S gets %d pkts (rms %.1f), T hears S at %.1f dBFS" % (
            n1, lvl1, tl1))
        check(n1 == 0 or lvl1 < -50, "held by UPDATE, S still gets audio (%d pkts, %.1f dBFS)"
              % (n1, lvl1))
        check(tl1 < -50, "held by UPDATE (still sending), T hears S at %.1f dBFS" % tl1)
        r = s.call.request("UPDATE", body=ct.make_sdp(s.peer.port, [0]))
        check(r is not None and r.status == 200, "UPDATE resume: %s" % (r and r.first))
        time.sleep(0.5)
        n2, _ = _listen_level(s, 0, "PCMU")
        tl2 = ct.tone_level_blocks_db(decode(window(talker.peer, 1.5, 0), "PCMU"), 8000, FS)
        check(n2 > 50 and tl2 > -18, "after UPDATE resume: S gets %d pkts, T hears S at %.1f"
              % (n2, tl2))
    finally:
        s.close()


def test_c0_hold(d, talker):
    s = Party(d, "oldhold")
    try:
        s.peer.start_stream(s.dst(), 0, "PCMU", FS)
        time.sleep(1.0)
        sdp = ct.make_sdp(s.peer.port, [0]).replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 0.0.0.0")
        r = s.call.request("INVITE", body=sdp)
        check(r is not None and r.status == 200, "re-INVITE c=0.0.0.0: %s" % (r and r.first))
        a = ct.Sdp(r.body)
        ct.log("answer to c=0.0.0.0: a=%s" % a.direction)
        time.sleep(0.5)
        n1, lvl1 = _listen_level(s, 0, "PCMU")
        tl1 = ct.tone_level_blocks_db(decode(window(talker.peer, 1.5, 0), "PCMU"), 8000, FS)
        ct.log("held by c=0.0.0.0: S gets %d pkts, T hears S at %.1f dBFS" % (n1, tl1))
        check(n1 == 0 or lvl1 < -50, "held by c=0.0.0.0, S still gets audio (%d pkts)" % n1)
        check(tl1 < -50, "held by c=0.0.0.0 (still sending), T hears S at %.1f dBFS" % tl1)
        r = s.call.request("INVITE", body=ct.make_sdp(s.peer.port, [0]))
        check(r is not None and r.status == 200, "resume re-INVITE: %s" % (r and r.first))
        time.sleep(0.5)
        n2, _ = _listen_level(s, 0, "PCMU")
        tl2 = ct.tone_level_blocks_db(decode(window(talker.peer, 1.5, 0), "PCMU"), 8000, FS)
        check(n2 > 50 and tl2 > -18, "after resume: S gets %d pkts, T hears S at %.1f" % (
            n2, tl2))
    finally:
        s.close()


def main():
    r = ct.Runner("media_update")
    d = ct.Daemon(r.tmp.path)
    if not r.start_daemon(d):
        return r.finish()
    talker = None
    try:
        talker = Party(d, "talker")
        talker.peer.start_stream(talker.dst(), 0, "PCMU", FT)
        for name, fn in (("send ptime 10/30/60", test_ptime),
                         ("re-INVITE without SDP", test_reinvite_late_offer),
                         ("hold/resume by UPDATE", test_update_hold),
                         ("hold with c=0.0.0.0", test_c0_hold)):
            r.sub_while_up(d, name, fn, d, talker)
    except ct.TestFailure as e:
        r.fail("talker", str(e))
    finally:
        if talker:
            talker.close()
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
