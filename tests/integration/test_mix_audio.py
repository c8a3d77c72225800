"""Three real baresip clients in room 1000, each playing its own tone and
recording what it hears: every client must hear both other tones clearly
and its own tone at least 30 dB below the strongest other one (minus-one
mix), at about the level it was sent. Rounds: all opus, all G722, all PCMU,
a mixed room (opus with rtcp-mux, G722 over TCP, PCMU), the mixed room
with ptime 60/40/10, and the mixed room again in a
chorusd mixing at 16 kHz."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

FREQS = (440.0, 700.0, 1100.0)      # not harmonically related, < 4 kHz
HEARD_MIN_DB = -40.0                # another participant's tone: clearly there
SENT_DB = -12.0                     # tone level each client sends (amp 0.25)
GAIN_TOL_DB = 6.0                   # heard level within this of SENT_DB
OWN_BELOW_DB = 30.0                 # own tone: this far below the loudest other
SETTLE_S = 1.5                      # after the last join, before measuring
MEASURE_S = 3.0


def run_room(r, d, label, codecs, transports=None, room="1000", mux=None, ptimes=None,
             acct=None, extra_config=""):
    """3 baresip clients (codecs[i], FREQS[i]) in room; every one must hear
    the others and not itself. acct: extra account params per client."""
    transports = transports or ["udp"] * len(codecs)
    mux = mux or [False] * len(codecs)
    ptimes = ptimes or [None] * len(codecs)
    acct = acct or [""] * len(codecs)
    clients = []
    try:
        for i, (codec, freq) in enumerate(zip(codecs, FREQS)):
            params = acct[i] + (";ptime=%d" % ptimes[i] if ptimes[i] else "")
            c = ct.Baresip(r.tmp.path, "%s-%d-%s" % (label, i, codec.lower()), codec, freq,
                           rtcp_mux=mux[i], account_params=params, extra_config=extra_config)
            c.start()
            clients.append(c)
        for c, tr in zip(clients, transports):
            uri = "sip:%s@%s:%d" % (room, ct.HOST, d.sip_port)
            if tr != "udp":
                uri += ";transport=" + tr
            c.dial(uri)
            ev = c.wait_event("CALL_ESTABLISHED", 10)
            check(ev is not None, "%s: call to %s not established within 10 s; events %s\n%s"
                  % (c.name, uri, c.event_types(), c.log_text()[-1500:]))
            ct.log("%s (%s, %d Hz) joined" % (c.name, c.codec, c.freq))
        time.sleep(SETTLE_S)
        for c in clients:
            c.poll_events()
        start = [c.rec_samples() for c in clients]
        # MEASURE_S of received audio (bounded): a loaded box delays it
        end = ct.wait_audio(clients, start, MEASURE_S, 4 * MEASURE_S)
        for c in clients:
            c.poll_events()
            check("CALL_CLOSED" not in c.event_types(),
                  "%s: call closed during the test: %s" % (c.name, c.events[-1][1]))
        for c in clients:
            c.command("hangup")
        for c in clients:
            c.wait_event("CALL_CLOSED", 3)
    finally:
        for c in clients:
            c.stop()
    problems = []
    for c, s0, s1 in zip(clients, start, end):
        path = c.recording()
        check(path, "%s: no recording" % c.name)
        x, sr, _ = ct.read_wav(path)
        seg = x[s0:s1]
        secs = len(seg) / float(sr)
        others = [f for f in FREQS if f != c.freq]
        lv = ct.tone_report(seg, sr, FREQS)
        ct.log("%s hears (%.1f s at %d Hz, rms %.1f dBFS): %s" % (
            c.name, secs, sr, ct.rms_db(seg), ", ".join("%d Hz %.1f dB" % (f, lv[f])
                                                       for f in FREQS)))
        if secs < MEASURE_S * 0.6:
            problems.append("%s received only %.1f s of audio in %.0f s" % (
                c.name, secs, 4 * MEASURE_S))
            continue
        for f in others:
            if lv[f] < HEARD_MIN_DB:
                problems.append("%s (%s) does not hear the %d Hz tone: %.1f dBFS < %.0f"
                                % (c.name, c.codec, f, lv[f], HEARD_MIN_DB))
            elif abs(lv[f] - SENT_DB) > GAIN_TOL_DB:
                # the mix is a plain sum at 0 dB gain: a tone sent at -12 dBFS
                # should arrive near -12 dBFS (no averaging, no double gain)
                problems.append("%s (%s) hears the %d Hz tone at %.1f dBFS, sent at %.0f "
                                "(more than %.0f dB off)" % (c.name, c.codec, f, lv[f],
                                                             SENT_DB, GAIN_TOL_DB))
        loudest = max(lv[f] for f in others)
        if lv[c.freq] > loudest - OWN_BELOW_DB:
            problems.append("%s (%s) hears its own %d Hz tone at %.1f dBFS, only %.1f dB "
                            "below the loudest other (%.1f)" % (
                                c.name, c.codec, c.freq, lv[c.freq], loudest - lv[c.freq],
                                loudest))
    check(not problems, "; ".join(problems))
    return clients


def main():
    r = ct.Runner("mix_audio")
    d = ct.Daemon(r.tmp.path)
    if not r.start_daemon(d):
        return r.finish()
    rounds = (("opus", ["opus"] * 3, None, None, None),
              ("g722", ["G722"] * 3, None, None, None),
              ("pcmu", ["PCMU"] * 3, None, None, None),
              # the opus client also asks for rtcp-mux
              ("mixed", ["opus", "G722", "PCMU"], ["udp", "tcp", "udp"], [True, False, False],
               None),
              # every client with another packet time
              ("ptimes", ["opus", "G722", "PCMU"], None, None, [60, 40, 10]))
    for label, codecs, trs, mux, ptimes in rounds:
        if not d.alive():
            r.fail(label, "chorusd is not running")
            continue
        r.sub("room of %s" % label, run_room, r, d, label, codecs, trs, "1000", mux, ptimes)
        time.sleep(0.5)
    problems = d.stop()
    for p in problems:
        r.fail("shutdown", p)
    if r.failures:
        d.dump_log()
    # a room mixed at 16 kHz (room_srate 16000): opus and PCMU resampled
    d16 = ct.Daemon(r.tmp.path, conf={"room_srate": "16000"}, name="chorusd16k")
    nfail = len(r.failures)
    try:
        d16.start()
        r.sub("mixed room at room_srate 16000", run_room, r, d16, "mixed16k",
              ["opus", "G722", "PCMU"], ["udp", "udp", "tcp"])
    except ct.TestFailure as e:
        r.fail("start 16 kHz", str(e))
    for p in d16.stop():
        r.fail("shutdown 16 kHz", p)
    if len(r.failures) > nfail:
        d16.dump_log()
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
