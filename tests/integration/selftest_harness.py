"""Self-test of chorustest without chorusd (not a ctest test: run by hand,
`python3 tests/integration/selftest_harness.py`). Proves the baresip
driving, recording, tone analysis, SIP UA and RTP code against baresip
itself: B2 (auto-answer) is called by the scripted UA and by baresip A."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402


def sip_ua_vs_baresip(r, b):
    with ct.SipUA((ct.HOST, b.sip_port), "udp") as ua:
        o = ua.options(ruri="sip:%s@%s:%d" % (b.name, ct.HOST, b.sip_port))
        ct.check(o is not None and o.status == 200, "OPTIONS to baresip: %s" % o)
        ct.log("OPTIONS ->", o.first, "Allow:", o.get("allow"))
        peer = ct.RtpPeer()
        sdp = ct.make_sdp(peer.port, [8, 0, 101], {101: "telephone-event/8000"}, ptime=20,
                          extra=["a=fmtp:101 0-15"])
        call = ua.invite(b.name, sdp, ruri="sip:%s@%s:%d" % (b.name, ct.HOST, b.sip_port))
        ct.check(call.final is not None and call.final.status == 200,
                 "INVITE to baresip: %s\n%s" % (call.final and call.final.first, ua.format_trace()))
        ans = ct.Sdp(call.final.body)
        ct.log("answer pts", ans.pts, ans.rtpmap, "port", ans.port)
        law = "PCMA" if ans.pts[0] == 8 else "PCMU"
        peer.stream((ans.conn, ans.port), ans.pts[0], law, 3.0, freq=1000)
        ct.check(len(peer.received) > 50, "RTP from baresip: %d packets" % len(peer.received))
        pcm = b"".join(p["payload"] for _, _, p in peer.received if p["pt"] == ans.pts[0])
        x = ct.g711_decode(pcm, law).astype(float) / 32768
        lv = ct.tone_report(x[8000:], 8000, [700, 1000])
        ct.log("baresip sends us", lv)
        ct.check(lv[700] > -30, "700 Hz tone from baresip")
        br = call.bye()
        ct.check(br is not None and br.status == 200, "BYE: %s" % (br and br.first))
        peer.close()
    # TCP OPTIONS
    with ct.SipUA((ct.HOST, b.sip_port), "tcp") as ua:
        o = ua.options(ruri="sip:%s@%s:%d" % (b.name, ct.HOST, b.sip_port))
        ct.check(o is not None and o.status == 200, "OPTIONS over TCP: %s" % o)
        # CANCEL of an INVITE baresip answers: expect 200 or 487 race outcome
        peer = ct.RtpPeer()
        call = ct.Call(ua, "sip:%s@%s:%d" % (b.name, ct.HOST, b.sip_port))
        call.send_invite(ct.make_sdp(peer.port, [0]))
        call.cancel()
        f = call.wait_final(5)
        c = ua.wait_response(lambda m: m.cseq[1] == "CANCEL", 3)
        ct.log("INVITE final:", f and f.first, " CANCEL:", c and c.first)
        ct.check(f is not None, "INVITE final after CANCEL")
        if f.status >= 300:
            call.ack_non2xx()
        else:
            call.ack_2xx()
            call.bye()
        peer.close()


def g711_roundtrip(r):
    import numpy as np
    t = np.arange(8000) / 8000.0
    x = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    for law in ("PCMU", "PCMA"):
        y = ct.g711_decode(ct.g711_encode(x, law), law)
        err = np.max(np.abs(y.astype(int) - x.astype(int)))
        ct.log(law, "max roundtrip error", err)
        ct.check(err < 600, "%s roundtrip error %d" % (law, err))


def two_baresips(r, codec):
    a = ct.Baresip(r.tmp.path, "a" + codec, codec, 440)
    b = ct.Baresip(r.tmp.path, "b" + codec, codec, 700)
    try:
        a.start()
        b.start()
        a.dial("sip:%s@%s:%d" % (b.name, ct.HOST, b.sip_port))
        ct.check(a.wait_event("CALL_ESTABLISHED", 8), "call established: %s" % a.event_types())
        time.sleep(3.0)
        a.command("hangup")
        b.wait_event("CALL_CLOSED", 5)
        time.sleep(0.3)
    finally:
        a.stop()
        b.stop()
    for c, own, other in ((a, 440, 700), (b, 700, 440)):
        x, sr, ch = ct.read_wav(c.recording())
        lv = ct.tone_report(x[int(0.5 * sr):], sr, [own, other])
        ct.log(codec, c.name, "rate", sr, "ch", ch, "secs %.1f" % (len(x) / sr), lv)
        ct.check(lv[other] > -30 and lv[own] < lv[other] - 30, "tones %s" % lv)


def main():
    r = ct.Runner("selftest")
    r.sub("g711", g711_roundtrip, r)
    for codec in ("opus", "G722", "PCMU"):
        r.sub("two baresips " + codec, two_baresips, r, codec)
    b = ct.Baresip(r.tmp.path, "bob", "PCMU", 700)
    b.start()
    r.cleanups.append(b.stop)
    r.sub("sip ua vs baresip", sip_ua_vs_baresip, r, b)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
