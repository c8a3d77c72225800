"""Adaptive Opus in-band FEC end to end. A PCMU talker sends speech-like
audio; an Opus listener (useinbandfec=1, rtcp-mux) receives the mix and
answers with RTCP receiver reports, as a phone would:
- no report, or reports about another SSRC: chorusd codes no LBRR (FEC)
  data at all (a clean path needs none);
- a report about chorusd's own SSRC with 10 % loss: LBRR appears in the
  packets that follow;
- four clean reports later it is gone again (the send chain keeps the
  worst of the last four reports).
The LBRR flag is read from the packet as RFC 6716 4.2.4 places it.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402  (first: it re-runs us under a python with numpy)
from chorustest import check  # noqa: E402

np = ct.np

ROOM = "4682"
OPUS_PT = 111


def speech_frame(k):
    """20 ms at 8 kHz: 130 Hz harmonics under a 4 Hz syllable envelope
    (SILK only codes LBRR for frames its VAD finds active)."""
    t = (np.arange(160) + 160 * k) / 8000.0
    env = 0.2 + 0.8 * np.abs(np.sin(np.pi * 4.0 * t))
    s = sum(np.sin(2 * np.pi * 130.0 * h * t) / h for h in range(1, 25))
    return ct.g711_encode((2500.0 * env * s).astype(np.int16), "PCMU")


def lbrr(payload):
    """True when a 20 ms mono SILK/hybrid Opus packet carries LBRR."""
    if len(payload) < 2:
        return False
    toc = payload[0]
    config = toc >> 3
    if config >= 16 or toc & 3 or toc & 4:
        return False             # CELT only, several frames, stereo
    ms20 = (config % 4 == 1) if config < 12 else (config % 2 == 1)
    return ms20 and bool((payload[1] >> 6) & 1)


class Talker(threading.Thread):
    def __init__(self, d):
        super().__init__(daemon=True)
        self.ua = ct.SipUA(d.addr, "udp", "talker")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ct.HOST, 0))
        c = self.ua.invite(ROOM, ct.make_sdp(self.sock.getsockname()[1], [0], ptime=20))
        check(c.final is not None and c.final.status == 200, "talker INVITE: %s"
              % (c.final and c.final.first))
        self.call = c
        a = ct.Sdp(c.final.body)
        self.dst = (a.conn, a.port)
        self.stop = threading.Event()
        self.frames = [speech_frame(k) for k in range(100)]   # 2 s loop

    def run(self):
        ssrc = random.randrange(1, 2 ** 32)
        seq, ts, k = random.randrange(65536), random.randrange(2 ** 32), 0
        t0 = time.monotonic()
        while not self.stop.is_set() and k < 3000:           # bounded: 60 s
            self.sock.sendto(ct.rtp_packet(0, seq, ts, ssrc, self.frames[k % 100]),
                             self.dst)
            seq, ts, k = seq + 1, ts + 160, k + 1
            delay = t0 + 0.020 * k - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def close(self):
        self.stop.set()
        self.join(timeout=2)
        ct.bye_quietly(self.call)
        self.ua.close()
        self.sock.close()


class Listener(threading.Thread):
    def __init__(self, d):
        super().__init__(daemon=True)
        self.ua = ct.SipUA(d.addr, "udp", "listener")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ct.HOST, 0))
        self.sock.settimeout(0.1)
        sdp = ct.make_sdp(self.sock.getsockname()[1], [OPUS_PT],
                          {OPUS_PT: "opus/48000/2"}, ptime=20,
                          extra=["a=fmtp:%d useinbandfec=1" % OPUS_PT, "a=rtcp-mux"])
        c = self.ua.invite(ROOM, sdp)
        check(c.final is not None and c.final.status == 200, "listener INVITE: %s"
              % (c.final and c.final.first))
        self.call = c
        a = ct.Sdp(c.final.body)
        check(a.pt_for("opus") is not None, "answer has no opus: %s" % a.text)
        self.pt = a.pt_for("opus")
        self.dst = (a.conn, a.port)
        if a.attr("rtcp-mux") is None:
            self.rtcp_dst = (a.conn, a.port + 1)
        else:
            self.rtcp_dst = self.dst
        self.ssrc = random.randrange(1, 2 ** 32)
        self.rx = []             # (monotonic time, server ssrc, lbrr)
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set() and len(self.rx) < 5000:
            try:
                data = self.sock.recv(2048)
            except socket.timeout:
                continue
            except OSError:
                break
            if len(data) < 2 or 200 <= data[1] <= 206:
                continue          # RTCP from chorusd
            p = ct.rtp_parse(data)
            if p and p["pt"] == self.pt:
                self.rx.append((time.monotonic(), p["ssrc"], lbrr(p["payload"])))

    def server_ssrc(self):
        return self.rx[-1][1] if self.rx else None

    def rr(self, about_ssrc, fraction):
        """RTCP RR (RFC 3550 6.4.2) with one report block."""
        block = struct.pack("!IB3sIIII", about_ssrc, fraction,
                            (fraction * 3).to_bytes(3, "big"), 1000, 10, 0, 0)
        pkt = struct.pack("!BBHI", 0x81, 201, 7, self.ssrc) + block
        self.sock.sendto(pkt, self.rtcp_dst)

    def window(self, t0, t1):
        w = [x[2] for x in self.rx if t0 <= x[0] < t1]
        return len(w), sum(w)

    def window_after_reports(self, what, seconds):
        """(packets, with LBRR) of the next seconds, once the reports
        just sent had 0.2 s to arrive."""
        time.sleep(0.2)
        t = time.monotonic()
        time.sleep(seconds)
        n, k = self.window(t, time.monotonic())
        ct.log("%s: %d packets, %d with LBRR" % (what, n, k))
        return n, k

    def close(self):
        self.stop.set()
        self.join(timeout=2)
        ct.bye_quietly(self.call)
        self.ua.close()
        self.sock.close()


def run(d):
    talker = Talker(d)
    listener = Listener(d)
    try:
        talker.start()
        listener.start()
        ct.wait_for(lambda: len(listener.rx) >= 25, 5.0, what="opus from chorusd")

        # clean path: no report at all, then reports about someone else
        t0 = time.monotonic()
        time.sleep(1.0)
        for _ in range(4):
            listener.rr(listener.server_ssrc() ^ 0x5a5a5a5a, 26)
        time.sleep(1.0)
        n, k = listener.window(t0, time.monotonic())
        ct.log("no report / other SSRC: %d packets, %d with LBRR" % (n, k))
        check(n >= 50, "too few packets: %d" % n)
        check(k == 0, "LBRR without any reported loss: %d of %d" % (k, n))

        # 10 % loss reported on our stream (fraction 26/256)
        listener.rr(listener.server_ssrc(), 26)
        n, k = listener.window_after_reports("10 % loss reported", 1.5)
        check(n >= 50, "too few packets: %d" % n)
        check(k >= n // 4, "LBRR after a 10 %% loss report in only %d of %d" % (k, n))

        # three clean reports: the worst of the last four is still 10 %
        for _ in range(3):
            listener.rr(listener.server_ssrc(), 0)
        n, k = listener.window_after_reports("3 clean reports", 1.0)
        check(k > 0, "FEC off after only 3 clean reports")

        # the fourth: off
        listener.rr(listener.server_ssrc(), 0)
        n, k = listener.window_after_reports("4 clean reports", 1.0)
        check(n >= 30, "too few packets: %d" % n)
        check(k == 0, "LBRR after 4 clean reports: %d of %d" % (k, n))
    finally:
        listener.close()
        talker.close()


def main():
    r = ct.Runner("opus_fec")
    d = ct.Daemon(r.tmp.path)
    if not r.start_daemon(d):
        return r.finish()
    r.sub("adaptive opus FEC from receiver reports", run, d)
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
