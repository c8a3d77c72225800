"""Hold and resume in a chorus room.

Part 1, a real client: baresip A (440 Hz) holds and resumes (its "hold"
and "resume" commands, a re-INVITE with a=sendonly then a=sendrecv) while
B (700 Hz) and C (1100 Hz) listen: while A is held they must not hear it,
it must get no audio (or silence), and after resume they hear it again.
baresip 1.0 stops sending RTP while it holds, so part 1 alone cannot tell
whether chorusd honours hold; hence

Part 2, a scripted client S (PCMU, 1250 Hz) that keeps sending its tone
while it holds (a=sendonly is allowed to send): chorusd must answer
recvonly/inactive, keep S's audio out of the mix and send S nothing but
silence; after resume (a=sendrecv) S is heard again and hears B and C.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

FA, FB, FC, FS = 440.0, 700.0, 1100.0, 1250.0
PHASE_S = 2.5
SETTLE_S = 1.5
HEARD_MIN_DB = -40.0
GONE_BELOW_DB = 30.0
SILENCE_DB = -50.0


def marks(clients):
    return [c.rec_samples() for c in clients]


def phase(clients, m0):
    """PHASE_S of audio received by the listeners B, C (clients[1:]) after
    marks m0 (bounded); the held A's recording is read as it is."""
    m = ct.wait_audio(clients[1:], m0[1:], PHASE_S, 4 * PHASE_S)
    return [clients[0].rec_samples()] + m


def levels(c, s0, s1, freqs):
    x, sr, _ = ct.read_wav(c.recording())
    seg = x[s0:s1]
    return seg, sr, ct.tone_report(seg, sr, freqs)


def describe(lv):
    return ", ".join("%d Hz %.1f dB" % (f, v) for f, v in sorted(lv.items()))


def check_phase(problems, phase, listeners, m0, m1, present, absent):
    """Every listener hears every tone in present (but its own) and none
    in absent (30 dB below the loudest present one)."""
    for i, c in enumerate(listeners):
        seg, sr, lv = levels(c, m0[i], m1[i], [FA, FB, FC, FS])
        ct.log("%s: %s hears (%.1f s): %s" % (phase, c.name, len(seg) / float(sr), describe(lv)))
        if len(seg) < 0.5 * PHASE_S * sr:
            problems.append("%s: %s received only %.1f s of audio" % (phase, c.name,
                                                                      len(seg) / float(sr)))
            continue
        heard = [f for f in present if f != c.freq]
        for f in heard:
            if lv[f] < HEARD_MIN_DB:
                problems.append("%s: %s does not hear %d Hz (%.1f dBFS)" % (phase, c.name, f,
                                                                           lv[f]))
        if heard:
            loud = max(lv[f] for f in heard)
            for f in absent:
                if lv[f] > loud - GONE_BELOW_DB:
                    problems.append("%s: %s still hears the held %d Hz tone at %.1f dBFS "
                                    "(loudest other %.1f)" % (phase, c.name, f, lv[f], loud))


def part1(r, d, a, b, c):
    problems = []
    clients = [a, b, c]
    for x in clients:
        x.dial("sip:1000@%s:%d" % (ct.HOST, d.sip_port))
        check(x.wait_event("CALL_ESTABLISHED", 10),
              "%s: not established: %s" % (x.name, x.event_types()))
    time.sleep(SETTLE_S)
    m0 = marks(clients)
    m1 = phase(clients, m0)
    h = a.command("hold")
    check(h.get("ok"), "baresip hold command failed: %s" % h)
    time.sleep(SETTLE_S)
    m2 = marks(clients)
    m3 = phase(clients, m2)
    h = a.command("resume")
    check(h.get("ok"), "baresip resume command failed: %s" % h)
    time.sleep(SETTLE_S)
    m4 = marks(clients)
    m5 = phase(clients, m4)
    for x in clients:
        x.poll_events()
        check("CALL_CLOSED" not in x.event_types(), "%s: call closed during hold test: %s"
              % (x.name, x.events[-1][1]))
    a.command("hangup")
    a.wait_event("CALL_CLOSED", 3)

    check_phase(problems, "before hold", [b, c], m0[1:], m1[1:], [FA, FB, FC], [])
    check_phase(problems, "A held", [b, c], m2[1:], m3[1:], [FB, FC], [FA])
    check_phase(problems, "A resumed", [b, c], m4[1:], m5[1:], [FA, FB, FC], [])
    # what A itself received while held: nothing, or silence
    if m3[0] > m2[0]:
        seg, sr, lv = levels(a, m2[0], m3[0], [FB, FC])
        ct.log("A while held received %.1f s, rms %.1f dBFS: %s" % (
            len(seg) / float(sr), ct.rms_db(seg), describe(lv)))
        if ct.rms_db(seg) > SILENCE_DB:
            problems.append("held A still receives audio (rms %.1f dBFS: %s)"
                            % (ct.rms_db(seg), describe(lv)))
    else:
        ct.log("A while held received no audio")
    check(not problems, "; ".join(problems))


def s_hears(peer, t0, t1):
    pk = peer.received_between(t0, t1, pt=0)
    pcm = b"".join(p["payload"] for p in pk)
    x = ct.g711_decode(pcm, "PCMU").astype(float) / 32768.0 if pcm else []
    lv = ct.tone_report(x, 8000, [FB, FC, FS]) if len(x) else {}
    return len(pk), x, lv


def part2(r, d, b, c):
    problems = []
    listeners = [b, c]
    peer = ct.RtpPeer()
    ua = ct.SipUA(d.addr, "udp", "scripted")
    try:
        call = ua.invite("1000", ct.make_sdp(peer.port, [0], ptime=20))
        check(call.final is not None and call.final.status == 200,
              "scripted INVITE: %s" % (call.final and call.final.first))
        ans = ct.Sdp(call.final.body)
        peer.start_stream((ans.conn, ans.port), 0, "PCMU", FS)
        time.sleep(SETTLE_S)
        m0, t0 = marks(listeners), time.monotonic()
        time.sleep(PHASE_S)
        m1, t1 = marks(listeners), time.monotonic()

        hold_sdp = ct.make_sdp(peer.port, [0], ptime=20, direction="sendonly")
        hr = call.request("INVITE", body=hold_sdp)
        check(hr is not None, "hold re-INVITE: no response\n%s" % ua.format_trace())
        check(hr.status == 200, "hold re-INVITE (a=sendonly): %s" % hr.first)
        hdir = ct.Sdp(hr.body).direction
        ct.log("hold answer direction:", hdir)
        if hdir not in ("recvonly", "inactive"):
            problems.append("answer to a=sendonly is a=%s (RFC 3264: recvonly or inactive)"
                            % hdir)
        time.sleep(SETTLE_S)
        m2, t2 = marks(listeners), time.monotonic()
        time.sleep(PHASE_S)
        m3, t3 = marks(listeners), time.monotonic()

        rr = call.request("INVITE", body=ct.make_sdp(peer.port, [0], ptime=20,
                                                     direction="sendrecv"))
        check(rr is not None and rr.status == 200, "resume re-INVITE: %s"
              % (rr and rr.first))
        rdir = ct.Sdp(rr.body).direction
        if rdir != "sendrecv":
            problems.append("answer to the resume re-INVITE is a=%s" % rdir)
        time.sleep(SETTLE_S)
        m4, t4 = marks(listeners), time.monotonic()
        time.sleep(PHASE_S)
        m5, t5 = marks(listeners), time.monotonic()
        peer.stop_stream()
        br = call.bye()
        check(br is not None and br.status == 200, "scripted BYE: %s" % (br and br.first))
    finally:
        ua.close()
        peer.close()

    check_phase(problems, "S in", listeners, m0, m1, [FB, FC, FS], [])
    check_phase(problems, "S held (still sending)", listeners, m2, m3, [FB, FC], [FS])
    check_phase(problems, "S resumed", listeners, m4, m5, [FB, FC, FS], [])
    for phase, a0, a1, expect in (("S in", t0, t1, True), ("S held", t2, t3, False),
                                  ("S resumed", t4, t5, True)):
        n, x, lv = s_hears(peer, a0, a1)
        ct.log("%s: S received %d PCMU packets, rms %.1f dBFS: %s" % (
            phase, n, ct.rms_db(x) if len(x) else -200, describe(lv) if lv else "-"))
        if expect:
            if n < 0.5 * PHASE_S * 50:
                problems.append("%s: S received only %d packets in %.0f s" % (phase, n, PHASE_S))
                continue
            for f in (FB, FC):
                if lv[f] < HEARD_MIN_DB:
                    problems.append("%s: S does not hear %d Hz (%.1f dBFS)" % (phase, f, lv[f]))
            if lv[FS] > max(lv[FB], lv[FC]) - GONE_BELOW_DB:
                problems.append("%s: S hears its own tone (%.1f dBFS)" % (phase, lv[FS]))
        elif n and ct.rms_db(x) > SILENCE_DB:
            problems.append("%s: chorusd still sends S audio (%d packets, rms %.1f dBFS: %s)"
                            % (phase, n, ct.rms_db(x), describe(lv)))
    check(not problems, "; ".join(problems))


def main():
    r = ct.Runner("hold")
    d = ct.Daemon(r.tmp.path)
    if not r.start_daemon(d):
        return r.finish()
    a = ct.Baresip(r.tmp.path, "A", "opus", FA)
    b = ct.Baresip(r.tmp.path, "B", "opus", FB)
    c = ct.Baresip(r.tmp.path, "C", "PCMU", FC)
    try:
        for x in (a, b, c):
            x.start()
        r.sub("baresip hold/resume", part1, r, d, a, b, c)
        if d.alive() and all(x.wait_event("CALL_ESTABLISHED", 0) for x in (b, c)):
            r.sub("scripted hold/resume while sending", part2, r, d, b, c)
        else:
            r.fail("scripted hold/resume while sending", "B/C not in the room or chorusd gone")
    except ct.TestFailure as e:
        r.fail("setup", str(e))
    finally:
        for x in (b, c):
            try:
                if x.sock:
                    x.command("hangup")
            except ct.TestFailure:
                pass
        for x in (a, b, c):
            x.stop()
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
