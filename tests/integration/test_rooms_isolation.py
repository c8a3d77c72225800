"""Several rooms at once (spread over the media workers), scripted G.711
legs, one tone per leg. In each room: two talkers (sendrecv) and one
listener that joined with a=recvonly but (misbehaving) sends a tone anyway.
- a talker hears the other talker of its room, not itself, not the
  listener, nothing from any other room;
- a listener hears both talkers of its room and nothing from other rooms;
- legs with the same codec and the same mix share an encode in chorusd
  (DESIGN: encode once per codec and mix): that must never leak a mix into
  another room.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

ROOMS = ["5101", "5102", "5103", "5104"]
AMP = 0.15
SENT_DB = 20 * ct.np.log10(AMP)
MEASURE_S = 3.0
JUMPS = []      # phase jumps per heard tone (a frame skipped/inserted)


class Leg:
    def __init__(self, d, room, role, freq, law):
        self.room, self.role, self.freq, self.law = room, role, freq, law
        self.pt = 0 if law == "PCMU" else 8
        self.name = "%s-%s-%d" % (room, role, freq)
        self.ua = ct.SipUA(d.addr, "udp", "%s%d" % (role, freq))
        self.peer = ct.RtpPeer()
        direction = "recvonly" if role == "listener" else None
        c = self.ua.invite(room, ct.make_sdp(self.peer.port, [self.pt], direction=direction))
        check(c.final is not None and c.final.status == 200, "%s INVITE: %s" % (
            self.name, c.final and c.final.first))
        self.call = c
        a = ct.Sdp(c.final.body)
        if role == "listener":
            check(a.direction == "sendonly", "%s: answer to a=recvonly is a=%s" % (
                self.name, a.direction))
        self.peer.start_stream((a.conn, a.port), self.pt, law, freq, amp=AMP)

    def hears(self, t0, t1, freqs):
        pk = self.peer.received_between(t0, t1, pt=self.pt)
        pcm = b"".join(p["payload"] for p in pk)
        x = ct.g711_decode(pcm, self.law).astype(float) / 32768.0 if pcm else ct.np.zeros(0)
        self.x = x
        return len(pk), ct.tone_report(x, 8000, freqs) if len(x) else {f: -200 for f in freqs}

    def close(self):
        self.peer.stop_stream()
        ct.bye_quietly(self.call)
        self.ua.close()
        self.peer.close()


def run(d):
    legs = []
    freq = 300.0
    try:
        for i, room in enumerate(ROOMS):
            # same codec for both talkers in even rooms, mixed in odd ones
            laws = ["PCMU", "PCMU", "PCMU"] if i % 2 == 0 else ["PCMU", "PCMA", "PCMA"]
            for role, law in zip(("talkerA", "talkerB", "listener"), laws):
                legs.append(Leg(d, room, role, freq, law))
                freq += 170.0
        allf = [leg.freq for leg in legs]
        time.sleep(1.5)
        t0 = time.monotonic()
        time.sleep(MEASURE_S)
        t1 = time.monotonic()
        problems = []
        for leg in legs:
            n, lv = leg.hears(t0, t1, allf)
            mates = [x for x in legs if x.room == leg.room and x is not leg]
            should = [x.freq for x in mates if x.role != "listener"]
            shouldnt = [f for f in allf if f not in should]
            jumps = {f: ct.phase_jumps(leg.x, 8000, f) for f in should}
            ct.log("%s: %d pkts, hears %s; loudest unwanted %.1f dB; phase jumps %s" % (
                leg.name, n, " ".join("%d:%.0f" % (f, lv[f]) for f in should),
                max(lv[f] for f in shouldnt), jumps))
            JUMPS.extend(v for v in jumps.values())
            if n < 0.7 * 50 * MEASURE_S:
                problems.append("%s got %d packets in %.0f s" % (leg.name, n, MEASURE_S))
                continue
            for f in should:
                if lv[f] < SENT_DB - 6:
                    problems.append("%s does not hear %d Hz (%.1f dBFS)" % (leg.name, f, lv[f]))
            loud = max([lv[f] for f in should] or [SENT_DB])
            for f in shouldnt:
                if lv[f] > loud - 30:
                    src = next(x for x in legs if x.freq == f)
                    why = ("itself" if src is leg else "the recvonly listener"
                           if src.role == "listener" and src.room == leg.room
                           else "room %s" % src.room)
                    problems.append("%s hears %d Hz from %s at %.1f dBFS" % (
                        leg.name, f, why, lv[f]))
        check(not problems, "; ".join(problems[:10]) +
              (" ... (%d problems)" % len(problems) if len(problems) > 10 else ""))
    finally:
        for leg in legs:
            leg.close()


def main():
    r = ct.Runner("rooms_isolation")
    d = ct.Daemon(r.tmp.path, conf={"media_workers": "2"})
    if not r.start_daemon(d):
        return r.finish()
    r.sub("%d rooms at once" % len(ROOMS), run, d)
    if any(JUMPS):
        # not a failure: jitter-buffer drift corrections on a clean sender
        print("NOTE: %d of %d heard tones had a phase jump (frame skipped or inserted by "
              "chorusd) in %.0f s of clean, evenly paced input" % (
                  sum(1 for j in JUMPS if j), len(JUMPS), MEASURE_S))
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
