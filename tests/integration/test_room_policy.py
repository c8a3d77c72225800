"""Room policy from the config, scripted G.711 legs:
- topk 2: of four talkers at -10, -16, -22 and -28 dBFS only the two
  loudest are mixed; everyone hears those two (minus itself), nobody hears
  the quiet two;
- auto_max_legs 2: an auto-created room takes two legs, the third gets 486;
  a listed room keeps its own max;
- default_max_legs: a listed room without max= takes that many.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

TALKERS = [(500.0, -10.0), (700.0, -16.0), (900.0, -22.0), (1100.0, -28.0)]


class Leg:
    def __init__(self, d, room, name, freq=None, db=None):
        self.ua = ct.SipUA(d.addr, "udp", name)
        self.peer = ct.RtpPeer()
        self.name, self.freq = name, freq
        self.call = self.ua.invite(room, ct.make_sdp(self.peer.port, [0]))
        self.status = self.call.final.status if self.call.final else None
        if self.status == 200 and freq:
            a = ct.Sdp(self.call.final.body)
            self.peer.start_stream((a.conn, a.port), 0, "PCMU", freq, amp=10 ** (db / 20.0))

    def close(self):
        if hasattr(self.peer, "_thread"):
            self.peer.stop_stream()
        if self.status == 200:
            ct.bye_quietly(self.call)
        self.ua.close()
        self.peer.close()


def test_topk(d):
    legs = []
    try:
        for i, (f, db) in enumerate(TALKERS):
            leg = Leg(d, "topkroom", "t%d" % i, f, db)
            legs.append(leg)
            check(leg.status == 200, "talker %d INVITE: %s" % (i, leg.status))
        time.sleep(2.0)
        t0 = time.monotonic()
        time.sleep(2.5)
        t1 = time.monotonic()
        problems = []
        freqs = [f for f, _ in TALKERS]
        for leg, (f, db) in zip(legs, TALKERS):
            pcm = b"".join(p["payload"] for p in leg.peer.received_between(t0, t1, pt=0))
            x = ct.g711_decode(pcm, "PCMU").astype(float) / 32768
            lv = ct.tone_report(x, 8000, freqs)
            ct.log("%s (%d Hz, %.0f dBFS) hears %s" % (leg.name, f, db, " ".join(
                "%d:%.0f" % (g, lv[g]) for g in freqs)))
            for g, gdb in TALKERS[:2]:
                if g != f and lv[g] < gdb - 6:
                    problems.append("%s does not hear top talker %d Hz (%.1f dBFS)" % (
                        leg.name, g, lv[g]))
            for g, gdb in TALKERS[2:]:
                if g != f and lv[g] > -50:
                    problems.append("%s hears %d Hz (%.0f dBFS talker, not in the top 2) at "
                                    "%.1f dBFS" % (leg.name, g, gdb, lv[g]))
        check(not problems, "; ".join(problems))
    finally:
        for leg in legs:
            leg.close()


def test_limits(d):
    legs = []
    try:
        for i in range(3):
            legs.append(Leg(d, "6100", "auto%d" % i))
        st = [leg.status for leg in legs]
        ct.log("auto-created room, auto_max_legs 2: %s" % st)
        check(st == [200, 200, 486], "auto_max_legs 2: answers %s (expected 200, 200, 486)"
              % st)
        for i in range(4):
            legs.append(Leg(d, "deflt", "dflt%d" % i))
        st = [leg.status for leg in legs[3:]]
        ct.log("listed room without max=, default_max_legs 3: %s" % st)
        check(st == [200, 200, 200, 486], "default_max_legs 3: answers %s" % st)
        for i in range(5):
            legs.append(Leg(d, "big", "big%d" % i))
        st = [leg.status for leg in legs[7:]]
        check(st == [200] * 5, "listed room max=5 (above auto_max_legs): %s" % st)
    finally:
        for leg in legs:
            leg.close()


def main():
    r = ct.Runner("room_policy")
    d = ct.Daemon(r.tmp.path, conf={"topk": "2"},
                  rooms_conf={"auto_max_legs": "2", "default_max_legs": "3"},
                  rooms_extra=("room deflt name=\"Default max\"\nroom big max=5\n"
                               "room topkroom max=10\n"))
    if not r.start_daemon(d):
        return r.finish()
    r.sub("topk 2", test_topk, d)
    r.sub("auto_max_legs / default_max_legs", test_limits, d)
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
