"""What a listener hears through chorusd when the talker's RTP is not
clean. One scripted talker (PCMU) and one scripted listener (PCMU, sends
silence) in a room:
- latency: a tone burst reaches the listener within LATENCY_MAX_S;
- jitter (0..60 ms), reordering, duplicates and 5 % loss: the tone arrives
  at about its level and mostly clean (energy mostly at the tone);
- an SSRC change with a timestamp and sequence jump (a phone restarting its
  stream): the tone carries on;
- a 2 s gap (DTX / silence suppression) then the tone again: it comes back
  without a built-up delay;
- only telephone-event (RFC 4733) packets: the listener hears no noise;
- RTP with a CSRC list, a header extension and/or padding: the payload is
  found and decoded right.
"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402  (first: it re-runs us under a python with numpy)
from chorustest import check  # noqa: E402

np = ct.np

FREQ = 1000.0
AMP = 0.25                 # -12 dBFS
LATENCY_MAX_S = 0.200      # loopback, 20 ms frames, jitter buffer >= 20 ms
ROOM = "3579"


def tone_frame(k, freq=FREQ, amp=AMP):
    t = (np.arange(160) + 160 * k) / 8000.0
    return ct.g711_encode((amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16), "PCMU")


SILENT = ct.g711_encode(np.zeros(160, dtype=np.int16), "PCMU")


class Talker:
    def __init__(self, d):
        self.ua = ct.SipUA(d.addr, "udp", "talker")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ct.HOST, 0))
        self.port = self.sock.getsockname()[1]
        c = self.ua.invite(ROOM, ct.make_sdp(self.port, [0, 101], {101: "telephone-event/8000"},
                                             ptime=20, extra=["a=fmtp:101 0-15"]))
        check(c.final is not None and c.final.status == 200, "talker INVITE: %s"
              % (c.final and c.final.first))
        self.call = c
        a = ct.Sdp(c.final.body)
        self.dst = (a.conn, a.port)
        self.ssrc = random.randrange(1, 2 ** 32)
        self.seq = random.randrange(65536)
        self.ts = random.randrange(2 ** 32)
        self.k = 0           # 20 ms frames sent since start (tone phase)

    def packet(self, payload, pt=0, marker=False, advance=True):
        p = ct.rtp_packet(pt, self.seq, self.ts, self.ssrc, payload, marker)
        if advance:
            self.seq = (self.seq + 1) & 0xFFFF
            self.ts = (self.ts + 160) & 0xFFFFFFFF
        return p

    def play(self, schedule):
        """schedule: list of (offset_s, bytes); sent in real time from now.
        Returns the start time."""
        t0 = time.monotonic()
        for off, pkt in sorted(schedule, key=lambda x: x[0]):
            delay = t0 + off - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.sock.sendto(pkt, self.dst)
        return t0

    def frames(self, n, tone=True, marker_first=False):
        out = []
        for i in range(n):
            out.append(self.packet(tone_frame(self.k) if tone else SILENT,
                                   marker=marker_first and i == 0))
            self.k += 1
        return out

    def close(self):
        ct.bye_quietly(self.call)
        self.ua.close()
        self.sock.close()


class Listener:
    def __init__(self, d):
        self.ua = ct.SipUA(d.addr, "tcp", "listener")
        self.peer = ct.RtpPeer()
        c = self.ua.invite(ROOM, ct.make_sdp(self.peer.port, [0], ptime=20))
        check(c.final is not None and c.final.status == 200, "listener INVITE: %s"
              % (c.final and c.final.first))
        self.call = c
        a = ct.Sdp(c.final.body)
        self.peer.start_stream((a.conn, a.port), 0, "PCMU", 300.0, amp=0.0)

    def between(self, t0, t1):
        pk = [(t, p) for t, _, p in list(self.peer.received) if t0 <= t < t1 and p["pt"] == 0]
        return pk

    def audio(self, t0, t1):
        pk = self.between(t0, t1)
        pcm = b"".join(p["payload"] for _, p in pk)
        return ct.g711_decode(pcm, "PCMU").astype(float) / 32768.0 if pcm else np.zeros(0)

    def onset(self, t0, t1, thresh_db=-30.0):
        """Arrival time of the first packet in [t0,t1) whose level exceeds thresh."""
        for t, p in self.between(t0, t1):
            x = ct.g711_decode(p["payload"], "PCMU").astype(float) / 32768.0
            if ct.rms_db(x) > thresh_db:
                return t
        return None

    def close(self):
        self.peer.stop_stream()
        ct.bye_quietly(self.call)
        self.ua.close()
        self.peer.close()


def purity(x, freq=FREQ, srate=8000):
    """Fraction of the signal's energy within +-50 Hz of freq."""
    if len(x) < srate // 4:
        return 0.0
    w = np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x * w)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / srate)
    band = spec[(f > freq - 50) & (f < freq + 50)].sum()
    return float(band / (spec.sum() + 1e-20))


def run(d):
    problems = []
    lis = Listener(d)
    tk = Talker(d)
    try:
        # warm up: silence so the jitter buffer and latching settle
        tk.play([(i * 0.02, p) for i, p in enumerate(tk.frames(50, tone=False))])

        # 1. latency of a burst onset
        lat = []
        for burst in range(3):
            sched = [(i * 0.02, p) for i, p in enumerate(tk.frames(25, tone=True,
                                                                     marker_first=True))]
            sched += [(0.5 + i * 0.02, p) for i, p in enumerate(tk.frames(25, tone=False))]
            t0 = tk.play(sched)
            time.sleep(0.1)
            on = lis.onset(t0, t0 + 1.0)
            lat.append(None if on is None else on - t0)
        ct.log("burst onset latency through chorusd: %s" % ", ".join(
            "%.0f ms" % (v * 1000) if v is not None else "none" for v in lat))
        if any(v is None for v in lat):
            problems.append("listener did not hear %d of 3 tone bursts" % lat.count(None))
        elif min(lat) > LATENCY_MAX_S:
            problems.append("burst onset latency %.0f ms > %.0f ms" % (min(lat) * 1000,
                                                                       LATENCY_MAX_S * 1000))

        # 2. jitter, reordering, duplicates, 5 % loss for 4 s
        rnd = random.Random(99)
        pkts = tk.frames(200, tone=True)
        sched = []
        lost = 0
        for i, p in enumerate(pkts):
            if rnd.random() < 0.05:
                lost += 1
                continue
            off = i * 0.02 + rnd.uniform(0, 0.06)
            sched.append((off, p))
            if rnd.random() < 0.03:
                sched.append((off + 0.005, p))       # duplicate
        t0 = tk.play(sched)
        time.sleep(0.3)
        x = lis.audio(t0 + 0.5, t0 + 4.0)
        lv = ct.tone_level_db(x, 8000, FREQ)
        pu = purity(x)
        ct.log("jitter/reorder/dup/%d lost: listener %.1f s, tone %.1f dBFS, purity %.3f" % (
            lost, len(x) / 8000.0, lv, pu))
        if lv < -12 - 6:
            problems.append("under jitter/loss the tone arrives at %.1f dBFS (sent -12)" % lv)
        if pu < 0.8:
            problems.append("under jitter/loss only %.0f %% of the energy is the tone" % (pu * 100))

        # 3. SSRC change with seq/ts jump
        tk.ssrc ^= 0x5A5A5A5A
        tk.seq = (tk.seq + 30000) & 0xFFFF
        tk.ts = (tk.ts + 8000 * 1000) & 0xFFFFFFFF
        t0 = tk.play([(i * 0.02, p) for i, p in enumerate(tk.frames(100, tone=True,
                                                                     marker_first=True))])
        time.sleep(0.3)
        on = lis.onset(t0 - 0.5, t0 + 2.0)
        x = lis.audio(t0 + 0.5, t0 + 2.0)
        lv = ct.tone_level_db(x, 8000, FREQ)
        ct.log("after an SSRC change: tone %.1f dBFS over %.1f s" % (lv, len(x) / 8000.0))
        if lv < -18:
            problems.append("after an SSRC/seq/ts change the tone is at %.1f dBFS" % lv)

        # 4. 2 s gap (DTX), then the tone: no built-up delay
        tk.ts = (tk.ts + 16000) & 0xFFFFFFFF     # timestamps jump by the gap
        time.sleep(2.0)
        t0 = tk.play([(i * 0.02, p) for i, p in enumerate(tk.frames(50, tone=True,
                                                                     marker_first=True))])
        time.sleep(0.3)
        on = lis.onset(t0, t0 + 1.5)
        ct.log("tone after a 2 s gap heard after %s" % (
            "%.0f ms" % ((on - t0) * 1000) if on else "never"))
        if on is None:
            problems.append("tone after a 2 s gap not heard")
        elif on - t0 > LATENCY_MAX_S + 0.05:
            problems.append("tone after a 2 s gap heard only after %.0f ms" % ((on - t0) * 1000))

        # 5. only telephone-event packets for 1.5 s: no noise in the mix
        # RFC 4733: 3 events of 500 ms; one timestamp per event, seq +1 per packet
        sched = []
        for ev in range(3):
            ts_ev = tk.ts
            for j in range(25):
                end = 0x80 if j == 24 else 0
                payload = bytes([5, end | 10]) + (160 * (j + 1)).to_bytes(2, "big")
                sched.append(((ev * 25 + j) * 0.02,
                              ct.rtp_packet(101, tk.seq, ts_ev, tk.ssrc, payload, j == 0)))
                tk.seq = (tk.seq + 1) & 0xFFFF
            tk.ts = (tk.ts + 160 * 25) & 0xFFFFFFFF
        t0 = tk.play(sched)
        time.sleep(0.3)
        x = lis.audio(t0 + 0.3, t0 + 1.5)
        ct.log("telephone-event only: listener rms %.1f dBFS over %.1f s"
               % (ct.rms_db(x), len(x) / 8000.0))
        if len(x) and ct.rms_db(x) > -50:
            problems.append("while the talker sends only telephone-event packets the "
                            "listener hears %.1f dBFS rms (event payload decoded as audio?)"
                            % ct.rms_db(x))
        # 6. header variants: CSRC list, header extension, padding
        for variant in ("csrc", "ext", "pad", "all"):
            sched = []
            for i in range(50):
                cc = 3 if variant in ("csrc", "all") else 0
                x = 1 if variant in ("ext", "all") else 0
                pad = 1 if variant in ("pad", "all") else 0
                hdr = struct.pack("!BBHII", 0x80 | pad << 5 | x << 4 | cc, 0, tk.seq, tk.ts,
                                  tk.ssrc)
                hdr += b"".join(struct.pack("!I", 1000 + j) for j in range(cc))
                if x:
                    hdr += struct.pack("!HH", 0xBEDE, 2) + b"\x10\xaa\x00\x00\x22\x01\x02\x03"
                tail = b"\x00" * 7 + b"\x08" if pad else b""
                sched.append((i * 0.02, hdr + tone_frame(tk.k) + tail))
                tk.k += 1
                tk.seq = (tk.seq + 1) & 0xFFFF
                tk.ts = (tk.ts + 160) & 0xFFFFFFFF
            t0 = tk.play(sched)
            time.sleep(0.2)
            x = lis.audio(t0 + 0.3, t0 + 1.0)
            lv, pu = ct.tone_level_blocks_db(x, 8000, FREQ), purity(x)
            ct.log("RTP with %s: tone %.1f dBFS, purity %.3f" % (variant, lv, pu))
            if lv < -18 or pu < 0.9:
                problems.append("RTP with %s: tone %.1f dBFS, purity %.2f (header parsed "
                                "wrong?)" % (variant, lv, pu))
    finally:
        tk.close()
        lis.close()
    check(not problems, "; ".join(problems))


def main():
    r = ct.Runner("rtp_conditions")
    d = ct.Daemon(r.tmp.path)
    if not r.start_daemon(d):
        return r.finish()
    r.sub("talker RTP conditions", run, d)
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
