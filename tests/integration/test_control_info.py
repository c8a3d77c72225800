"""Room control from inside the call: chorus-control INFO (RFC 6086),
legacy DTMF INFO, RFC 4733 keypad DTMF, and the conference roster
(RFC 4575 SUBSCRIBE/NOTIFY) that shows every change.

Room 3000 has mod=sip:mod@127.0.0.1. Scripted G.711 participants:
mod (500 Hz), bob (800 Hz), carol (1200 Hz). A separate UA subscribes to
the room out of dialog and follows every NOTIFY (schema-valid, version
+1 each time, full then partial). Mute changes are also checked in the
audio: a muted participant's tone disappears from what the others hear.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402
import controltest as cx  # noqa: E402
from controltest import expect_status  # noqa: E402

ROOM = "3000"
ROOMS = 'room 3000 name="Control" max=10 mod=sip:mod@127.0.0.1\n'
FM, FB, FC = 500.0, 800.0, 1200.0
SETTLE_S = 0.8
WIN_S = 1.5
HEARD_DB = -35.0
GONE_DB = -55.0


def window(p, freq):
    t0 = time.monotonic() + SETTLE_S
    time.sleep(SETTLE_S + WIN_S)
    return p.hears(t0, t0 + WIN_S, freq)


class State:
    pass


def setup(st, d):
    st.mod = cx.Participant(d, "mod", FM, display="Moderator")
    st.bob = cx.Participant(d, "bob", FB)
    st.carol = cx.Participant(d, "carol", FC, transport="tcp")
    st.subua = ct.SipUA(d.addr, "udp", "watcher")
    st.sub = cx.Subscription(st.subua, room=ROOM)
    for p in (st.mod, st.bob, st.carol):
        f = p.join(ROOM)
        check("chorus-control" in (f.get("recv-info") or ""),
              "%s: 200 OK without Recv-Info: chorus-control (%r)" % (p.user, f.get("recv-info")))


def t_options_recv_info(st, d):
    r = st.subua.options()
    expect_status(r, 200, "OPTIONS")
    check("chorus-control" in (r.get("recv-info") or ""), "OPTIONS without Recv-Info")
    allow = {t.upper() for t in r.tokens("allow")}
    for m in ("INFO", "REFER", "SUBSCRIBE", "NOTIFY", "MESSAGE"):
        check(m in allow, "OPTIONS Allow lacks %s: %r" % (m, r.get_all("allow")))


def t_subscribe_full(st, d):
    r = st.sub.subscribe()
    expect_status(r, 200, "SUBSCRIBE conference")
    n, doc = st.sub.next_notify()
    check(doc is not None and doc.state == "full" and doc.version == 1,
          "first NOTIFY must be full version 1: %r" % (doc and doc.body,))
    check("active" in (n.get("subscription-state") or ""),
          "Subscription-State %r" % n.get("subscription-state"))
    check(len(doc.users) == 3, "full roster has %d users: %s" % (len(doc.users),
                                                                 list(doc.users)))
    m = doc.user("sip:mod@")
    check(m and "moderator" in m["roles"], "mod not a moderator: %r" % ((m and m["roles"]),))
    b = doc.user("sip:bob@")
    check(b and "participant" in b["roles"] and b["status"] == "connected",
          "bob: %r" % ((b and (b["roles"], b["status"])),))
    check(doc.user_count == 3, "user-count %s" % doc.user_count)
    st.bob_id = b["media_id"]


def t_audio_baseline(st, d):
    lb = window(st.mod, FB)
    lc = st.mod.hears(time.monotonic() - WIN_S, time.monotonic(), FC)
    ct.log("mod hears bob %.1f dB, carol %.1f dB" % (lb, lc))
    check(lb > HEARD_DB and lc > HEARD_DB, "mod does not hear bob/carol (%.1f/%.1f dB)"
          % (lb, lc))


def t_mute_self(st, d):
    r = st.bob.info_json({"cmd": "mute", "target": "self"})
    expect_status(r, 200, "bob mute self")
    st.sub.notify_until(lambda v: v.user("sip:bob@") and v.user("sip:bob@")["muted"] == "true",
                        what="bob muted in the roster")
    doc = st.sub.view.docs[-1]
    check(doc.state == "partial", "change NOTIFY is %s, not partial" % doc.state)
    b = st.sub.view.user("sip:bob@")
    check(b["status"] == "muted-via-focus", "bob's endpoint status %r" % b["status"])
    lb = window(st.mod, FB)
    lc = st.mod.hears(time.monotonic() - WIN_S, time.monotonic(), FC)
    ct.log("bob muted: mod hears bob %.1f dB, carol %.1f dB" % (lb, lc))
    check(lb < GONE_DB, "bob muted but mod still hears him (%.1f dB)" % lb)
    check(lc > HEARD_DB, "carol lost while bob muted (%.1f dB)" % lc)


def t_forbidden(st, d):
    r = st.bob.info_json({"cmd": "mute", "target": "sip:carol@127.0.0.1"})
    expect_status(r, 403, "participant mutes carol")
    r = st.bob.info_json({"cmd": "lock"})
    expect_status(r, 403, "participant locks")
    r = st.bob.info_json({"cmd": "role", "target": "self", "role": "moderator"})
    expect_status(r, 403, "participant promotes itself")
    r = st.bob.info_json({"cmd": "mute", "target": "all"})
    expect_status(r, 403, "participant mutes all")


def t_bad_requests(st, d):
    r = st.bob.info_json(b'{"cmd":"mute",')
    expect_status(r, 400, "truncated JSON")
    check(r.get("warning", "").startswith("399 "), "400 without Warning: %r" % r.get("warning"))
    r = st.bob.info_json({"cmd": "explode", "target": "self"})
    expect_status(r, 400, "unknown command")
    check(r.get("warning"), "unknown command: no Warning")
    r = st.bob.info_json({"cmd": "gain", "target": "self", "in_db": 50})
    expect_status(r, 400, "gain out of range")
    r = st.bob.info_json({"cmd": "gain", "target": "self", "in_db": -6, "out_db": 3})
    expect_status(r, 200, "gain in range")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["gain_in"] == "-6" and
                        v.user("sip:bob@")["gain_out"] == "3", what="bob's gains in the roster")
    r = st.mod.info_json({"cmd": "mute", "target": "sip:nobody@127.0.0.1"})
    expect_status(r, 404, "unknown URI target")
    r = st.mod.info_json({"cmd": "mute", "target": 999999})
    expect_status(r, 404, "unknown id target")
    r = st.bob.info_json({"cmd": "mute", "target": "self"}, package=None)
    expect_status(r, 469, "JSON INFO without Info-Package")
    check("chorus-control" in (r.get("recv-info") or ""), "469 without Recv-Info")
    r = st.bob.info_json({"cmd": "mute", "target": "self"}, package="foo-package")
    expect_status(r, 469, "unknown Info-Package")
    r = st.bob.info_json("mute me", ctype="text/plain")
    expect_status(r, 415, "chorus-control as text/plain")


def t_moderator_targets(st, d):
    r = st.mod.info_json({"cmd": "mute", "target": "all"})
    expect_status(r, 200, "mod mutes all")
    st.sub.notify_until(lambda v: v.user("sip:carol@")["muted"] == "true" and
                        v.user("sip:bob@")["muted"] == "true", what="all muted")
    check(st.sub.view.user("sip:mod@")["muted"] == "false", "mod muted itself with 'all'")
    r = st.mod.info_json({"cmd": "unmute", "target": "sip:carol@127.0.0.1"})
    expect_status(r, 200, "mod unmutes carol by URI")
    st.sub.notify_until(lambda v: v.user("sip:carol@")["muted"] == "false",
                        what="carol unmuted")
    r = st.mod.info_json({"cmd": "unmute", "target": int(st.bob_id)})
    expect_status(r, 200, "mod unmutes bob by roster id")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["muted"] == "false", what="bob unmuted")
    r = st.mod.info_json({"cmd": "deaf", "target": st.bob_id})
    expect_status(r, 200, "mod deafens bob by id string")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["deaf"] == "true", what="bob deaf")
    lm = window(st.bob, FM)
    ct.log("bob deaf: hears mod %.1f dB" % lm)
    check(lm < GONE_DB, "deaf bob still hears mod (%.1f dB)" % lm)
    r = st.mod.info_json({"cmd": "undeaf", "target": st.bob_id})
    expect_status(r, 200, "mod undeafens bob")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["deaf"] == "false", what="bob hears")


def t_legacy_dtmf_info(st, d):
    for dg in "*6":
        r = st.carol.info_dtmf(dg, relay=True)
        expect_status(r, 200, "dtmf-relay INFO %s" % dg)
    st.sub.notify_until(lambda v: v.user("sip:carol@")["muted"] == "true",
                        what="carol muted by *6 (dtmf-relay INFO)")
    for dg in "*6":
        r = st.carol.info_dtmf(dg, relay=False)
        expect_status(r, 200, "application/dtmf INFO %s" % dg)
    st.sub.notify_until(lambda v: v.user("sip:carol@")["muted"] == "false",
                        what="carol unmuted by *6 (application/dtmf INFO)")


def t_rtp_dtmf(st, d):
    st.bob.rtp_dtmf("*6")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["muted"] == "true", timeout=6,
                        what="bob muted by *6 over RTP (RFC 4733)")
    lb = window(st.mod, FB)
    ct.log("bob muted by RTP *6: mod hears bob %.1f dB" % lb)
    check(lb < GONE_DB, "bob muted by keypad but still heard (%.1f dB)" % lb)
    st.bob.rtp_dtmf("*6")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["muted"] == "false", timeout=6,
                        what="bob unmuted by *6 over RTP")
    lb = window(st.mod, FB)
    ct.log("bob unmuted by RTP *6: mod hears bob %.1f dB" % lb)
    check(lb > HEARD_DB, "bob unmuted by keypad but not heard (%.1f dB)" % lb)
    # a participant's *5 (lock) is denied: the room stays unlocked
    st.bob.rtp_dtmf("*5")
    time.sleep(0.3)
    check(st.sub.view.locked in (None, "false"), "participant locked the room by *5")
    # moderator *8: mute all others, and again: unmute them
    st.mod.rtp_dtmf("*8")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["muted"] == "true" and
                        v.user("sip:carol@")["muted"] == "true", timeout=6,
                        what="*8 mutes all others")
    st.mod.rtp_dtmf("*8")
    st.sub.notify_until(lambda v: v.user("sip:bob@")["muted"] == "false" and
                        v.user("sip:carol@")["muted"] == "false", timeout=6,
                        what="*8 again unmutes them")
    # *0: the spoken menu replaces what carol hears for a while
    st.carol.rtp_dtmf("*0")
    t0 = time.monotonic()
    time.sleep(2.0)
    pk = st.carol.peer.received_between(t0, t0 + 2.0, pt=0)
    x = ct.g711_decode(b"".join(q["payload"] for q in pk), "PCMU").astype(float) / 32768.0
    lb = ct.tone_level_db(x, 8000, FB)
    ct.log("carol during the *0 menu prompt: rms %.1f dB, bob's tone %.1f dB"
           % (ct.rms_db(x), lb))
    check(ct.rms_db(x) > -40.0, "no menu prompt after *0 (rms %.1f dB)" % ct.rms_db(x))
    check(lb < -25.0, "carol still hears the mix during the menu prompt (%.1f dB)" % lb)


def t_lock(st, d):
    r = st.mod.info_json({"cmd": "lock"})
    expect_status(r, 200, "mod locks")
    st.sub.notify_until(lambda v: v.locked == "true", what="roster locked")
    dave = cx.Participant(d, "dave", 1500.0)
    try:
        dave.join(ROOM, stream=False, expect=403)
    finally:
        dave.close()
    r = st.mod.info_json({"cmd": "unlock"})
    expect_status(r, 200, "mod unlocks")
    st.sub.notify_until(lambda v: v.locked == "false", what="roster unlocked")


def t_role(st, d):
    r = st.mod.info_json({"cmd": "role", "target": "sip:bob@127.0.0.1", "role": "moderator"})
    expect_status(r, 200, "mod makes bob moderator")
    st.sub.notify_until(lambda v: "moderator" in v.user("sip:bob@")["roles"],
                        what="bob moderator in roster")
    r = st.bob.info_json({"cmd": "mute", "target": "sip:carol@127.0.0.1"})
    expect_status(r, 200, "new moderator bob mutes carol")
    st.sub.notify_until(lambda v: v.user("sip:carol@")["muted"] == "true", what="carol muted")
    r = st.bob.info_json({"cmd": "role", "target": "self", "role": "participant"})
    expect_status(r, 200, "bob steps down")
    st.sub.notify_until(lambda v: "participant" in v.user("sip:bob@")["roles"],
                        what="bob participant again")


def t_hold(st, d):
    sdp = ct.set_sdp_direction(st.carol.call.sdp, "sendonly")
    r = st.carol.request("INVITE", body=sdp, ctype="application/sdp")
    expect_status(r, 200, "carol hold re-INVITE")
    st.sub.notify_until(lambda v: v.user("sip:carol@")["status"] == "on-hold",
                        what="carol on-hold in roster")
    sdp = ct.set_sdp_direction(st.carol.call.sdp, "sendrecv")
    r = st.carol.request("INVITE", body=sdp, ctype="application/sdp")
    expect_status(r, 200, "carol resume re-INVITE")
    st.sub.notify_until(lambda v: v.user("sip:carol@")["status"] != "on-hold",
                        what="carol resumed in roster")


def t_dialog_subscribe(st, d):
    s2 = cx.Subscription(st.carol.ua, call=st.carol.call)
    r = s2.subscribe()
    expect_status(r, 200, "SUBSCRIBE in carol's dialog")
    n, doc = s2.next_notify()
    check(doc.state == "full" and doc.version == 1 and len(doc.users) == 3,
          "in-dialog first NOTIFY: %s v%d %d users" % (doc.state, doc.version, len(doc.users)))
    st.carol_sub = s2


def t_refresh(st, d):
    v0 = st.sub.view.version
    r = st.sub.subscribe()
    expect_status(r, 200, "refreshing SUBSCRIBE")
    st.sub.notify_until(lambda v: v.version > v0 and v.docs[-1].state == "full",
                        what="full state after the refresh")
    check(st.sub.view.version == v0 + 1, "refresh: version %d after %d" % (
        st.sub.view.version, v0))
    check(len(st.sub.view.users) == 3, "full state after refresh has %d users"
          % len(st.sub.view.users))


def t_bad_subscribe(st, d):
    s = cx.Subscription(st.subua, room=ROOM, event="presence")
    r = s.subscribe()
    expect_status(r, 489, "SUBSCRIBE Event: presence")
    s = cx.Subscription(st.subua, room="12345")
    r = s.subscribe()
    expect_status(r, 404, "SUBSCRIBE to a room that cannot exist")


def t_kick_and_leave(st, d):
    r = st.mod.info_json({"cmd": "kick", "target": "sip:carol@127.0.0.1"})
    expect_status(r, 200, "mod kicks carol")
    bye = st.carol.ua.wait_request("BYE", 5)
    check(bye is not None, "kicked carol got no BYE")
    if hasattr(st, "carol_sub"):
        # her in-dialog roster subscription ended with her call
        end = time.monotonic() + 3
        term = None
        while term is None and time.monotonic() < end:
            n = st.carol.ua.wait_request("NOTIFY", end - time.monotonic(),
                                         call_id=st.carol.call.call_id)
            if n is not None and "terminated" in (n.get("subscription-state") or ""):
                term = n
        check(term is not None, "carol's in-dialog subscription not terminated")
    st.carol.streaming and st.carol.peer.stop_stream()
    st.carol.streaming = False
    st.sub.notify_until(lambda v: v.user("sip:carol@") is None, what="carol deleted")
    r = st.bob.bye()
    expect_status(r, 200, "bob BYE")
    st.sub.notify_until(lambda v: v.user("sip:bob@") is None and v.user_count == 1,
                        what="bob deleted, user-count 1")


def t_unsubscribe(st, d):
    r = st.sub.subscribe(expires=0)
    expect_status(r, 200, "SUBSCRIBE Expires: 0")
    end = time.monotonic() + 5
    got = None
    while time.monotonic() < end and got is None:
        n = st.subua.wait_request("NOTIFY", end - time.monotonic(), call_id=st.sub.call_id)
        if n is not None and "terminated" in (n.get("subscription-state") or ""):
            got = n
    check(got is not None, "no terminating NOTIFY after Expires: 0")


def main():
    run = ct.Runner("control_info")
    d = ct.Daemon(run.tmp.path, rooms_extra=ROOMS, conf={"log_level": "debug"})
    st = State()
    failed = True
    try:
        d.start()
        run.sub("setup", setup, st, d)
        for name, fn in (("options_recv_info", t_options_recv_info),
                         ("subscribe_full", t_subscribe_full),
                         ("audio_baseline", t_audio_baseline),
                         ("mute_self", t_mute_self),
                         ("forbidden_403", t_forbidden),
                         ("bad_requests", t_bad_requests),
                         ("moderator_targets", t_moderator_targets),
                         ("legacy_dtmf_info", t_legacy_dtmf_info),
                         ("rtp_dtmf_menu", t_rtp_dtmf),
                         ("lock", t_lock),
                         ("role", t_role),
                         ("hold_in_roster", t_hold),
                         ("dialog_subscribe", t_dialog_subscribe),
                         ("refresh_full_state", t_refresh),
                         ("bad_subscribe", t_bad_subscribe),
                         ("kick_and_leave", t_kick_and_leave),
                         ("unsubscribe", t_unsubscribe)):
            if run.failures and name != "bad_subscribe":
                # later steps depend on the earlier state
                if len(run.failures) > 3:
                    break
            run.sub(name, fn, st, d)
        failed = bool(run.failures)
    finally:
        cx.shutdown(run, d, st, ("mod", "bob", "carol"), failed, 250)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
