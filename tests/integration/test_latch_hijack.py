"""RTP latching must not let a third party take over a leg's media
(strict latching, docs/SECURITY.md "RTP latching").

- intruder first: before the phone's first packet a foreign source
  (127.0.0.3) sends three RTP packets to the new leg's port, and keeps
  sending while the phone talks. Before the fix chorusd latched to it on
  the first packet: the intruder got the conference audio and the phone
  nothing. Now: the intruder gets nothing, the phone gets the mix, the
  other leg hears the phone and not the intruder.
- intruder latched, phone takes back: the intruder sends a long
  in-sequence burst first (enough to pass the probation of a NATed phone),
  then the phone starts from its SDP address: the phone's packets re-latch
  at once, the intruder gets nothing after that.
- NAT: SDP names port P, RTP comes from port Q: after a few packets the mix
  goes to Q; a stranger sending afterwards gets nothing.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

INTRUDER = "127.0.0.3"


class Intruder:
    """A foreign RTP source that streams a 1500 Hz tone and counts what
    chorusd sends it back."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((INTRUDER, 0))
        self.sock.settimeout(0.001)
        self.k = 0
        self.got = []            # arrival times of packets from chorusd

    def close(self):
        self.sock.close()

    def send(self, dst):
        t = (ct.np.arange(160) + 160 * self.k) / 8000.0
        pcm = (0.25 * 32767 * ct.np.sin(2 * ct.np.pi * 1500.0 * t)).astype(ct.np.int16)
        self.sock.sendto(ct.rtp_packet(0, self.k, 160 * self.k, 0xBAD, ct.g711_encode(pcm)),
                         dst)
        self.k += 1

    def run(self, dst, seconds):
        """Send every 20 ms for seconds (dst None: only listen)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if dst is not None:
                self.send(dst)
            due = time.monotonic() + 0.02
            while time.monotonic() < due:
                try:
                    self.sock.recvfrom(4096)
                    self.got.append(time.monotonic())
                except (socket.timeout, OSError):
                    pass

    def got_since(self, t):
        return len([x for x in self.got if x >= t])


def levels(peer, t0, t1, freqs):
    pcm = b"".join(p["payload"] for p in peer.received_between(t0, t1, pt=0))
    if not pcm:
        return {f: -200.0 for f in freqs}
    return ct.tone_report(ct.g711_decode(pcm, "PCMU").astype(float) / 32768, 8000, freqs)


def two_legs(ua, ua2, phone_port, other):
    c2 = ua2.invite("1000", ct.make_sdp(other.port, [0]))
    check(c2.final is not None and c2.final.status == 200, "other leg INVITE: %s"
          % (c2.final and c2.final.first))
    a2 = ct.Sdp(c2.final.body)
    other.start_stream((a2.conn, a2.port), 0, "PCMU", 800.0)
    c = ua.invite("1000", ct.make_sdp(phone_port, [0]))
    check(c.final is not None and c.final.status == 200, "phone INVITE: %s"
          % (c.final and c.final.first))
    return c, c2, ct.Sdp(c.final.body)


def test_intruder_first(d):
    with ct.SipUA(d.addr, "udp", "victim") as ua, ct.SipUA(d.addr, "udp", "other") as ua2:
        phone, other, evil = ct.RtpPeer(), ct.RtpPeer(), Intruder()
        try:
            c, c2, a = two_legs(ua, ua2, phone.port, other)
            dst = (a.conn, a.port)
            for _ in range(3):
                evil.send(dst)
                time.sleep(0.02)
            phone.start_stream(dst, 0, "PCMU", 500.0)
            t0 = time.monotonic()
            evil.run(dst, 3.0)          # keeps sending while the phone talks
            t1 = time.monotonic()
            lp = levels(phone, t0 + 1.0, t1, [800.0, 1500.0])
            lo = levels(other, t0 + 1.0, t1, [500.0, 1500.0])
            n_phone = len(phone.received_between(t0, t1))
            ct.log("intruder first: intruder got %d packets, phone %d (hears %s), other leg "
                   "hears %s" % (len(evil.got), n_phone, lp, lo))
            check(not evil.got, "the intruder got %d packets of conference audio"
                  % len(evil.got))
            check(n_phone >= 100, "the phone got only %d packets in 3 s" % n_phone)
            check(lp[800.0] > -30, "the phone does not hear the other leg: %s" % lp)
            check(lo[500.0] > -30, "the other leg does not hear the phone: %s" % lo)
            check(lo[1500.0] < -50, "the intruder's tone is in the mix (%.1f dBFS)"
                  % lo[1500.0])
            phone.stop_stream()
            other.stop_stream()
            c.bye()
            c2.bye()
        finally:
            for x in (phone, other, evil):
                x.close()


def test_phone_takes_back(d):
    with ct.SipUA(d.addr, "udp", "victim2") as ua, ct.SipUA(d.addr, "udp", "other2") as ua2:
        phone, other, evil = ct.RtpPeer(), ct.RtpPeer(), Intruder()
        try:
            c, c2, a = two_legs(ua, ua2, phone.port, other)
            dst = (a.conn, a.port)
            evil.run(dst, 0.6)          # 30 in-sequence packets: passes probation
            ct.log("intruder alone for 0.6 s: got %d packets (latched, as a NATed phone "
                   "would be)" % len(evil.got))
            phone.start_stream(dst, 0, "PCMU", 500.0)
            t0 = time.monotonic()
            evil.run(dst, 3.0)
            t1 = time.monotonic()
            late = evil.got_since(t0 + 0.2)
            lp = levels(phone, t0 + 1.0, t1, [800.0])
            lo = levels(other, t0 + 1.0, t1, [500.0, 1500.0])
            ct.log("phone starts: intruder got %d packets after it (from 200 ms on: %d); "
                   "phone hears %s, other leg hears %s" % (evil.got_since(t0), late, lp, lo))
            check(late == 0, "the intruder still got %d packets after the phone sent from its "
                  "SDP address" % late)
            check(lp[800.0] > -30, "the phone does not hear the other leg: %s" % lp)
            check(lo[500.0] > -30, "the other leg does not hear the phone: %s" % lo)
            check(lo[1500.0] < -50, "the intruder's tone is in the mix (%.1f dBFS)"
                  % lo[1500.0])
            phone.stop_stream()
            other.stop_stream()
            c.bye()
            c2.bye()
        finally:
            for x in (phone, other, evil):
                x.close()


def test_nat(d):
    with ct.SipUA(d.addr, "udp", "natted") as ua, ct.SipUA(d.addr, "udp", "other3") as ua2:
        sdp_sock, real, other, evil = ct.RtpPeer(), ct.RtpPeer(), ct.RtpPeer(), Intruder()
        try:
            c, c2, a = two_legs(ua, ua2, sdp_sock.port, other)
            dst = (a.conn, a.port)
            real.start_stream(dst, 0, "PCMU", 500.0)
            time.sleep(1.0)
            t0 = time.monotonic()
            evil.run(dst, 2.0)
            t1 = time.monotonic()
            n_real = len(real.received_between(t0, t1))
            lr = levels(real, t0, t1, [800.0])
            lo = levels(other, t0, t1, [500.0, 1500.0])
            sdp_sock.drain(0.05)
            ct.log("NAT: %d packets to the sending port (hears %s), other leg hears %s, "
                   "stranger got %d" % (n_real, lr, lo, len(evil.got)))
            check(n_real >= 80, "NAT: only %d packets in 2 s reached the port the client "
                  "sends from" % n_real)
            check(lr[800.0] > -30, "NAT client does not hear the other leg: %s" % lr)
            check(lo[500.0] > -30, "the other leg does not hear the NAT client: %s" % lo)
            check(not evil.got and lo[1500.0] < -50,
                  "a stranger after the NAT latch got %d packets / is mixed at %.1f dBFS"
                  % (len(evil.got), lo[1500.0]))
            real.stop_stream()
            other.stop_stream()
            c.bye()
            c2.bye()
        finally:
            for x in (sdp_sock, real, other, evil):
                x.close()


def main():
    r = ct.Runner("latch_hijack")
    d = ct.Daemon(r.tmp.path)
    try:
        d.start()
    except ct.TestFailure as e:
        r.fail("start", str(e))
        d.stop()
        d.dump_log()
        return r.finish()
    for name, fn in (("intruder sends first", test_intruder_first),
                     ("phone takes its leg back", test_phone_takes_back),
                     ("NAT client latches, stranger does not", test_nat)):
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
