"""A larger room of scripted G.711 participants (no baresip): 8 legs,
PCMU and PCMA, SIP over UDP and TCP, each sending its own tone. Every leg
must hear the 7 others and not itself, and the RTP chorusd sends must be
well formed: the negotiated payload type, one SSRC, sequence numbers +1,
timestamps +160 per 20 ms packet, about 50 packets a second. Then legs
leave one by one and the ones left keep hearing only who is still there."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

N = 8
FREQS = [350.0 + 180.0 * i for i in range(N)]   # 350 .. 1610 Hz
AMP = 0.08                                      # -22 dBFS each; the sum stays < 0.7
SENT_DB = 20 * __import__("math").log10(AMP)
ROOM = "2468"
SETTLE_S = 1.5
MEASURE_S = 3.0


class Leg:
    def __init__(self, d, i):
        self.i = i
        self.freq = FREQS[i]
        self.law = "PCMU" if i % 2 == 0 else "PCMA"
        self.pt = 0 if self.law == "PCMU" else 8
        self.tr = "udp" if i % 3 else "tcp"
        self.ua = ct.SipUA(d.addr, self.tr, "leg%d" % i)
        self.peer = ct.RtpPeer()
        self.call = None

    def join(self):
        other = 8 if self.pt == 0 else 0
        self.call = self.ua.invite(ROOM, ct.make_sdp(self.peer.port, [self.pt, other], ptime=20))
        f = self.call.final
        check(f is not None and f.status == 200, "leg%d (%s/%s) INVITE: %s" % (
            self.i, self.law, self.tr, f and f.first))
        a = ct.Sdp(f.body)
        check(a.pts and a.pts[0] == self.pt, "leg%d offered %d first, answer %s" % (
            self.i, self.pt, a.pts))
        self.peer.start_stream((a.conn, a.port), self.pt, self.law, self.freq, amp=AMP)

    def leave(self):
        self.peer.stop_stream()
        r = self.call.bye()
        check(r is not None and r.status == 200, "leg%d BYE: %s" % (self.i, r and r.first))

    def close(self):
        if hasattr(self.peer, "_thread"):
            self.peer.stop_stream()
        self.ua.close()
        self.peer.close()

    def hears(self, t0, t1):
        pk = self.peer.received_between(t0, t1)
        audio = [p for p in pk if p["pt"] == self.pt]
        pcm = b"".join(p["payload"] for p in audio)
        x = ct.g711_decode(pcm, self.law).astype(float) / 32768.0
        return pk, audio, x


def rtp_problems(leg, pk, audio, secs):
    probs = []
    other = {p["pt"] for p in pk} - {leg.pt, 13}
    if other:
        probs.append("leg%d got payload types %s (negotiated %d)" % (leg.i, other, leg.pt))
    if len(audio) < 0.8 * 50 * secs or len(audio) > 1.2 * 50 * secs:
        probs.append("leg%d got %d packets in %.1f s (expected ~%d)" % (
            leg.i, len(audio), secs, 50 * secs))
    ssrcs = {p["ssrc"] for p in audio}
    if len(ssrcs) != 1:
        probs.append("leg%d: %d SSRCs in one stream" % (leg.i, len(ssrcs)))
    bad_seq = sum(1 for a, b in zip(audio, audio[1:]) if (b["seq"] - a["seq"]) & 0xFFFF != 1)
    bad_ts = sum(1 for a, b in zip(audio, audio[1:])
                 if (b["ts"] - a["ts"]) & 0xFFFFFFFF != 160)
    sizes = {len(p["payload"]) for p in audio}
    if bad_seq:
        probs.append("leg%d: %d sequence number steps != 1 (loopback, no loss)" % (leg.i,
                                                                                  bad_seq))
    if bad_ts:
        probs.append("leg%d: %d timestamp steps != 160" % (leg.i, bad_ts))
    if sizes != {160}:
        probs.append("leg%d: payload sizes %s (expected 160)" % (leg.i, sizes))
    return probs


def measure(legs, present, label):
    t0 = time.monotonic()
    time.sleep(MEASURE_S)
    t1 = time.monotonic()
    problems = []
    for leg in legs:
        pk, audio, x = leg.hears(t0, t1)
        problems += rtp_problems(leg, pk, audio, t1 - t0)
        lv = ct.tone_report(x, 8000, FREQS)
        heard = [f for f in present if f != leg.freq]
        absent = [f for f in FREQS if f not in heard]
        ct.log("%s: leg%d (%s) %d pkts, hears %s | absent max %.1f dB" % (
            label, leg.i, leg.law, len(audio),
            " ".join("%d:%.0f" % (f, lv[f]) for f in heard),
            max(lv[f] for f in absent)))
        for f in heard:
            if lv[f] < SENT_DB - 6:
                problems.append("%s: leg%d hears %d Hz at %.1f dBFS (sent %.1f)" % (
                    label, leg.i, f, lv[f], SENT_DB))
        loud = max(lv[f] for f in heard) if heard else SENT_DB
        for f in absent:
            if lv[f] > loud - 30:
                who = "its own" if f == leg.freq else "a departed leg's"
                problems.append("%s: leg%d hears %s %d Hz tone at %.1f dBFS" % (
                    label, leg.i, who, f, lv[f]))
    return problems


def run(d):
    legs = [Leg(d, i) for i in range(N)]
    try:
        for leg in legs:
            leg.join()
        time.sleep(SETTLE_S)
        problems = measure(legs, FREQS, "all %d" % N)
        # three leave; the five left must stop hearing them
        for leg in legs[:3]:
            leg.leave()
        time.sleep(1.0)
        stay = legs[3:]
        problems += measure(stay, [leg.freq for leg in stay], "after 3 left")
        for leg in stay:
            leg.leave()
        check(not problems, "; ".join(problems[:12]) + (" ... (%d problems)" % len(problems)
                                                        if len(problems) > 12 else ""))
    finally:
        for leg in legs:
            leg.close()


def main():
    r = ct.Runner("room_scripted")
    d = ct.Daemon(r.tmp.path)
    if not r.start_daemon(d):
        return r.finish()
    r.sub("%d scripted G.711 legs" % N, run, d)
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
