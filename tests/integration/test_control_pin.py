"""PIN admission. Room 6000 has pin=1234 modpin=9999.
 - alice dials 6000*1234 (PIN in the Request-URI): in the room at once;
 - bob dials 6000: he is answered but kept out of the mix (alice does not
   hear him, he does not hear her) and hears the spoken PIN prompt
   instead; he is not in the roster; his chorus-control INFO gets 403;
   a wrong PIN (RFC 4733 keys) changes nothing, 1234# admits him: the
   roster lists him and he and alice hear each other;
 - carol enters the moderator PIN 9999#: roster role moderator;
 - dave enters three wrong PINs: BYE;
 - 6000*0000 in the Request-URI: 403.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402
import controltest as cx  # noqa: E402
from controltest import expect_status  # noqa: E402

ROOM = "6000"
ROOMS = 'room 6000 name="PIN room" max=10 pin=1234 modpin=9999\n'
FA, FB, FC = 500.0, 800.0, 1200.0
SETTLE_S = 0.8
WIN_S = 1.5
HEARD_DB = -35.0
GONE_DB = -55.0
PROMPT_PIN_S = 5.5        # espeak-ng "pin" prompt, about 5.2 s
PROMPT_WELCOME_S = 2.5    # "welcome", about 2.2 s


class State:
    pass


def measure(p, freqs):
    t0 = time.monotonic() + SETTLE_S
    time.sleep(SETTLE_S + WIN_S)
    return {f: p.hears(t0, t0 + WIN_S, f) for f in freqs}, t0


def speech_db(p, t0, t1):
    pk = p.peer.received_between(t0, t1, pt=0)
    x = ct.g711_decode(b"".join(q["payload"] for q in pk), "PCMU").astype(float) / 32768.0
    return ct.rms_db(x)


def setup(st, d):
    # the roster of a PIN room: a stranger gets 403, a participant 200
    stranger = ct.SipUA(d.addr, "udp", "watcher")
    try:
        expect_status(cx.Subscription(stranger, room=ROOM).subscribe(), 403,
                      "stranger SUBSCRIBE to a PIN room")
    finally:
        stranger.close()
    st.subua = ct.SipUA(d.addr, "udp", "alice")     # From: sip:alice@127.0.0.1
    st.sub = cx.Subscription(st.subua, room=ROOM)
    st.alice = cx.Participant(d, "alice", FA)
    st.bob = cx.Participant(d, "bob", FB)
    st.alice.join(ROOM, ruri="sip:%s*1234@%s:%d" % (ROOM, d.addr[0], d.addr[1]))
    expect_status(st.sub.subscribe(), 200, "participant SUBSCRIBE 6000")
    st.sub.next_notify()
    st.sub.notify_until(lambda v: v.user("sip:alice@") is not None, what="alice listed")


def t_pending(st, d):
    t_join = time.monotonic()
    st.bob.join(ROOM)
    # the PIN prompt plays for about 5 s: bob hears it instead of the mix
    time.sleep(2.6)
    prompt_db = speech_db(st.bob, t_join + 0.2, t_join + 2.5)
    ct.log("pending bob: prompt level %.1f dB rms" % prompt_db)
    check(prompt_db > -40.0, "pending bob hears no prompt (%.1f dB rms)" % prompt_db)
    # after the prompt: silence for bob (deaf), and bob is not in alice's mix
    while time.monotonic() < t_join + PROMPT_PIN_S + 0.5:
        time.sleep(0.1)
    t0 = time.monotonic()
    time.sleep(WIN_S)
    lab = st.alice.hears(t0, t0 + WIN_S, FB)
    lba = st.bob.hears(t0, t0 + WIN_S, FA)
    rms = speech_db(st.bob, t0, t0 + WIN_S)
    ct.log("pending bob after the prompt: alice hears bob %.1f dB, bob hears alice %.1f dB "
           "(rms %.1f dB)" % (lab, lba, rms))
    check(lab < GONE_DB, "bob in the mix before his PIN (%.1f dB)" % lab)
    check(lba < GONE_DB, "pending bob hears the room (%.1f dB)" % lba)
    check(st.sub.view.user("sip:bob@") is None, "pending bob is in the roster")
    r = st.bob.info_json({"cmd": "mute", "target": "self"})
    expect_status(r, 403, "INFO from a leg without PIN")
    r = st.bob.request("REFER", headers=["Refer-To: <sip:6001@%s:%d>" % d.addr])
    expect_status(r, 403, "REFER (move) from a leg without PIN")
    r = st.bob.request("MESSAGE", body="hi", ctype="text/plain")
    expect_status(r, 403, "MESSAGE from a leg without PIN")


def t_wrong_then_right(st, d):
    st.bob.rtp_dtmf("1111#")
    time.sleep(0.5)
    check(st.sub.view.user("sip:bob@") is None, "bob listed after a wrong PIN")
    st.bob.rtp_dtmf("1234#")
    st.sub.notify_until(lambda v: v.user("sip:bob@") is not None, timeout=6,
                        what="bob listed after the right PIN")
    check("participant" in st.sub.view.user("sip:bob@")["roles"], "bob's role")
    time.sleep(PROMPT_WELCOME_S)       # "you are now joining" replaces the mix
    lv, t0 = measure(st.alice, [FB])
    lb = st.bob.hears(t0, t0 + WIN_S, FA)
    ct.log("admitted bob: alice hears bob %.1f dB, bob hears alice %.1f dB" % (lv[FB], lb))
    check(lv[FB] > HEARD_DB, "admitted bob not heard (%.1f dB)" % lv[FB])
    check(lb > HEARD_DB, "admitted bob does not hear alice (%.1f dB)" % lb)


def t_moderator_pin(st, d):
    carol = cx.Participant(d, "carol", FC)
    st.carol = carol
    carol.join(ROOM)
    carol.rtp_dtmf("9999#")
    st.sub.notify_until(lambda v: v.user("sip:carol@") is not None, timeout=6,
                        what="carol listed")
    check("moderator" in st.sub.view.user("sip:carol@")["roles"],
          "moderator PIN did not give the role: %r" % st.sub.view.user("sip:carol@")["roles"])
    r = carol.info_json({"cmd": "lock"})
    expect_status(r, 200, "moderator by PIN locks")
    r = carol.info_json({"cmd": "unlock"})
    expect_status(r, 200, "moderator by PIN unlocks")


def t_three_wrong(st, d):
    dave = cx.Participant(d, "dave", 1500.0)
    try:
        dave.join(ROOM)
        dave.rtp_dtmf("1#2#3#", gap=0.3)
        bye = dave.ua.wait_request("BYE", 6)
        check(bye is not None, "no BYE after three wrong PINs")
        check(st.sub.view.user("sip:dave@") is None, "dave got into the roster")
    finally:
        dave.close()


def t_ruri_wrong_pin(st, d):
    eve = cx.Participant(d, "eve", 1700.0)
    try:
        eve.join(ROOM, ruri="sip:%s*0000@%s:%d" % (ROOM, d.addr[0], d.addr[1]),
                 stream=False, expect=403)
    finally:
        eve.close()


def main():
    run = ct.Runner("control_pin")
    d = ct.Daemon(run.tmp.path, rooms_extra=ROOMS, conf={"log_level": "debug"})
    st = State()
    failed = True
    try:
        d.start()
        if run.sub("setup", setup, st, d):
            for name, fn in (("pending_isolated_prompt", t_pending),
                             ("wrong_then_right_pin", t_wrong_then_right),
                             ("moderator_pin", t_moderator_pin),
                             ("three_wrong_pins_bye", t_three_wrong),
                             ("ruri_wrong_pin_403", t_ruri_wrong_pin)):
                run.sub(name, fn, st, d)
        failed = bool(run.failures)
    finally:
        cx.shutdown(run, d, st, ("alice", "bob", "carol"), failed, 200)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
