"""A real client uses the keypad and moves itself between rooms. First
baresip's ctrl_tcp "sndcode *6" (RFC 4733 telephone-event) mutes and
unmutes it (room 7000's roster). Then baresip 1.0's "transfer"
(ctrl_tcp) sends REFER inside its call's dialog (sipevent_drefer,
Refer-To: the URI given). chorus takes a Refer-To that names another of
its rooms as "move me": the leg changes rooms in the same dialog and the
sipfrag NOTIFY says 200.

Checked: the REFER arrives in baresip's dialog (same Call-ID; chorus
logs the move of that leg), room 7001's roster lists baresip, the
scripted participant in 7001 hears baresip's tone and baresip hears it;
room 7000's roster drops it.

baresip 1.0 fact (src/call.c sipsub_notify_handler): a 2xx sipfrag is
taken as "transfer done" and baresip hangs up its call ("Call
transfered"), so the call ends right after the move; the audio checks
therefore use the moments between the move and that BYE, which the test
measures from baresip's recording and the scripted leg's RTP.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402
import controltest as cx  # noqa: E402
from controltest import expect_status  # noqa: E402

R1, R2 = "7000", "7001"
ROOMS = ('room 7000 name="From" max=10\nroom 7001 name="To" max=10\n'
         'room 7002 name="PIN" max=10 pin=2468 mod=sip:watcher3@127.0.0.1\n')
FB, FP = 440.0, 900.0


def main():
    run = ct.Runner("control_baresip")
    d = ct.Daemon(run.tmp.path, rooms_extra=ROOMS, conf={"log_level": "debug"})
    b = ct.Baresip(run.tmp.path, "B", "PCMU", FB)
    p = None
    subua = None
    failed = True

    def body():
        nonlocal p, subua
        p = cx.Participant(d, "pat", FP)
        p.join(R2)
        subua = ct.SipUA(d.addr, "udp", "watcher")
        s1 = cx.Subscription(subua, room=R1)
        s2 = cx.Subscription(ct.SipUA(d.addr, "udp", "watcher2"), room=R2)
        run.cleanups.append(s2.ua.close)
        expect_status(s1.subscribe(), 200, "SUBSCRIBE 7000")
        s1.next_notify()
        expect_status(s2.subscribe(), 200, "SUBSCRIBE 7001")
        s2.next_notify()

        b.start()
        b.dial("sip:%s@%s:%d" % (R1, d.addr[0], d.addr[1]))
        check(b.wait_event("CALL_ESTABLISHED", 10) is not None, "baresip call not established")
        s1.notify_until(lambda v: len(v.users) == 1, what="baresip in 7000")
        time.sleep(1.0)

        # its keypad (ctrl_tcp sndcode: RFC 4733 telephone-event) mutes it
        r = b.command("sndcode", "*6")
        check(r.get("ok"), "baresip sndcode failed: %s" % r)
        s1.notify_until(lambda v: v.user("sip:B@") and v.user("sip:B@")["muted"] == "true",
                        timeout=6, what="baresip muted by its own *6")
        r = b.command("sndcode", "*6")
        s1.notify_until(lambda v: v.user("sip:B@") and v.user("sip:B@")["muted"] == "false",
                        timeout=6, what="baresip unmuted by *6 again")

        n0 = len(b.events)
        t_move = time.monotonic()
        r = b.command("transfer", "sip:%s@%s:%d" % (R2, d.addr[0], d.addr[1]))
        ct.log("baresip transfer -> %s" % r)
        check(r.get("ok"), "baresip transfer command failed: %s" % r)
        # baresip hangs up as soon as it reads the 200 sipfrag, so room
        # 7001 may report its arrival and departure in one partial NOTIFY
        s2.notify_until(lambda v: any(any("sip:B@" in e for e in doc.users)
                                      for doc in v.docs[1:]),
                        timeout=6, what="baresip in a 7001 NOTIFY")
        s1.notify_until(lambda v: len(v.users) == 0, timeout=6, what="baresip gone from 7000")
        ev = b.wait_event("CALL_CLOSED", 6, since=n0)
        ct.log("baresip after the sipfrag: %s" % (ev and ev.get("param")))
        t_end = time.monotonic()
        log = d.log_text()
        check("moved from %s to %s" % (R1, R2) in log, "chorusd did not log the move")
        check("REFER" not in [l for l in log.splitlines() if "rejected" in l],
              "a REFER was rejected")
        # audio in 7001 between the move and baresip's own hang-up
        lv = p.hears(t_move + 0.3, t_end, FB)
        ct.log("pat in 7001 heard baresip at %.1f dB in the %.1f s after the move"
               % (lv, t_end - t_move))
        if t_end - t_move > 0.6:
            check(lv > -40.0, "baresip not heard in 7001 after its move (%.1f dB)" % lv)
        blog = b.log_text()
        check("transferring call to sip:%s@" % R2 in blog, "baresip did not send the REFER")

    def pin_opus():
        """An opus baresip in a PIN room hears the spoken prompt (the
        engine encodes it in the leg's own codec) and gets in with its
        keypad."""
        c = ct.Baresip(run.tmp.path, "C", "opus", 700.0)
        run.cleanups.append(c.stop)
        ua = ct.SipUA(d.addr, "udp", "watcher3")
        run.cleanups.append(ua.close)
        s = cx.Subscription(ua, room="7002")
        expect_status(s.subscribe(), 200, "SUBSCRIBE 7002")
        s.next_notify()
        c.start()
        c.dial("sip:7002@%s:%d" % (d.addr[0], d.addr[1]))
        check(c.wait_event("CALL_ESTABLISHED", 10) is not None, "opus call not established")
        time.sleep(2.5)
        x, sr, _ = ct.read_wav(c.recording())
        seg = x[int(0.3 * sr):]
        lv = ct.rms_db(seg)
        ct.log("opus baresip in the PIN room: %.1f s recorded, rms %.1f dB" % (
            len(x) / float(sr), lv))
        check(len(seg) > sr, "opus baresip recorded only %.1f s" % (len(x) / float(sr)))
        check(lv > -40.0, "no PIN prompt heard over opus (rms %.1f dB)" % lv)
        check(len(s.view.users) == 0, "pending opus baresip in the roster")
        r = c.command("sndcode", "2468#")
        check(r.get("ok"), "sndcode failed: %s" % r)
        s.notify_until(lambda v: len(v.users) == 1, timeout=8, what="opus baresip admitted")

    try:
        d.start()
        run.sub("baresip_opus_pin_prompt", pin_opus)
        run.sub("baresip_transfer_moves_itself", body)
        failed = bool(run.failures)
    finally:
        if p:
            p.close()
        if subua:
            subua.close()
        b.stop()
        probs = d.stop()
        for x in probs:
            run.fail("daemon", x)
        if failed or probs:
            d.dump_log(150)
            print(b.log_text()[-3000:])
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
