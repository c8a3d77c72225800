"""REFER to the conference focus (RFC 3515, RFC 4579, RFC 4488).

Room 4000 has mod=sip:mod@127.0.0.1; room 4001 is where bob moves.
 - dial-out: the moderator REFERs carol (a scripted UAS) into the room
   from its dialog: 202, NOTIFY Event: refer with message/sipfrag
   "SIP/2.0 100 Trying" then "SIP/2.0 200 OK" (Subscription-State
   terminated); carol's INVITE carries Referred-By; carol is in the
   roster and heard in the mix;
 - a busy target: sipfrag 486;
 - method=BYE removes carol (sipfrag 200 once she got BYE), an unknown
   participant gives sipfrag 404; Refer-Sub: false: 202 with Refer-Sub:
   false and no NOTIFY;
 - out of dialog to the room URI from the moderator's URI: dial-out works;
   from another URI: 403;
 - 403 for a participant adding or removing someone, 400 without
   Refer-To, with two, or with a non-SIP one;
 - move: bob REFERs himself to room 4001 in his own dialog: same dialog,
   he leaves 4000's roster and mix and frank in 4001 hears him.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402
import controltest as cx  # noqa: E402
from controltest import expect_status  # noqa: E402

ROOM, ROOM2 = "4000", "4001"
ROOMS = ('room 4000 name="Refer" max=10 mod=sip:mod@127.0.0.1\n'
         'room 4001 name="Other" max=10\n'
         'room 4002 name="Optional SRTP" max=10 mod=sip:sam@127.0.0.1 srtp=optional\n')
FM, FB, FC, FF, FE = 500.0, 800.0, 1200.0, 650.0, 950.0
SETTLE_S = 0.8
WIN_S = 1.5
HEARD_DB = -35.0
GONE_DB = -55.0


class State:
    pass


class Uas:
    """A scripted callee chorus dials out to."""

    def __init__(self, d, user, freq):
        self.ua = ct.SipUA(d.addr, "udp", user)
        self.peer = ct.RtpPeer()
        self.ua.local_sdp = ct.make_sdp(self.peer.port, [0], ptime=20)
        self.freq = freq
        self.invite = None
        self.streaming = False

    @property
    def uri(self):
        return "sip:%s@%s:%d" % (self.ua.user, self.ua.laddr[0], self.ua.laddr[1])

    def answer(self, timeout=6.0):
        inv = self.ua.wait_request("INVITE", timeout)
        check(inv is not None, "%s: no INVITE from chorus" % self.ua.user)
        self.invite = inv
        a = ct.Sdp(inv.body)
        self.peer.start_stream((a.conn, a.port), 0, "PCMU", self.freq)
        self.streaming = True
        return inv

    def reject(self, code, reason, timeout=6.0):
        inv = self.ua.wait_request("INVITE", timeout, answer=False)
        check(inv is not None, "%s: no INVITE from chorus" % self.ua.user)
        self.ua.send_raw(self.ua.response_to(inv, code, reason), dst=inv.src)
        # chorus ACKs the non-2xx; read it so nothing is left over
        self.ua.recv(0.5)
        return inv

    def hears(self, t0, t1, freq):
        pk = self.peer.received_between(t0, t1, pt=0)
        x = ct.g711_decode(b"".join(q["payload"] for q in pk), "PCMU").astype(float) / 32768.0
        return ct.tone_level_db(x, 8000, freq) if len(x) > 800 else -200.0

    def close(self):
        if self.streaming:
            self.peer.stop_stream()
            self.streaming = False
        self.ua.close()
        self.peer.close()


def refer_notifies(ua, call_id, n_expected, timeout=8.0):
    """Collect refer NOTIFYs of one dialog until a terminated one."""
    got = []
    seen = set()
    end = time.monotonic() + timeout
    pool = getattr(ua, "other_notifies", [])
    while time.monotonic() < end:
        n = None
        for m in list(pool):
            if m.get("call-id") == call_id:
                pool.remove(m)
                n = m
                break
        if n is None:
            n = ua.wait_request("NOTIFY", min(0.5, end - time.monotonic()), call_id=call_id)
        if n is None:
            continue
        if not (n.get("event") or "").startswith("refer"):
            continue
        if n.cseq[0] in seen:
            continue
        seen.add(n.cseq[0])
        got.append(n)
        if "terminated" in (n.get("subscription-state") or ""):
            break
    return got


def frag(n):
    return n.body.decode("utf-8", "replace").split("\r\n")[0].strip()


def check_sipfrag(notifies, final, what):
    check(len(notifies) >= 2, "%s: %d refer NOTIFYs (%s)" % (
        what, len(notifies), [frag(n) for n in notifies]))
    for n in notifies:
        ct_ = (n.get("content-type") or "").lower()
        check(ct_.startswith("message/sipfrag"), "%s: NOTIFY Content-Type %r" % (what, ct_))
    check(frag(notifies[0]) == "SIP/2.0 100 Trying", "%s: first sipfrag %r" % (
        what, frag(notifies[0])))
    check(frag(notifies[-1]).startswith("SIP/2.0 %d" % final), "%s: final sipfrag %r "
          "(expected %d)" % (what, frag(notifies[-1]), final))
    check("terminated" in (notifies[-1].get("subscription-state") or ""),
          "%s: last NOTIFY Subscription-State %r" % (what, notifies[-1].get("subscription-state")))
    for n in notifies[:-1]:
        check("active" in (n.get("subscription-state") or "") or
              "pending" in (n.get("subscription-state") or ""),
              "%s: NOTIFY before the final one is %r" % (what, n.get("subscription-state")))


def setup(st, d):
    st.mod = cx.Participant(d, "mod", FM)
    st.bob = cx.Participant(d, "bob", FB)
    st.frank = cx.Participant(d, "frank", FF)
    st.mod.join(ROOM)
    st.bob.join(ROOM)
    st.frank.join(ROOM2)
    st.subua = ct.SipUA(d.addr, "udp", "watcher")
    st.sub = cx.Subscription(st.subua, room=ROOM)
    expect_status(st.sub.subscribe(), 200, "SUBSCRIBE 4000")
    st.sub.next_notify()


def t_dial_out(st, d):
    carol = Uas(d, "carol", FC)
    st.carol = carol
    r = st.mod.request("REFER", headers=["Refer-To: <%s>" % carol.uri,
                                         "Referred-By: <sip:mod@127.0.0.1>"])
    expect_status(r, 202, "moderator REFER carol")
    inv = carol.answer()
    check("sip:mod@127.0.0.1" in (inv.get("referred-by") or ""),
          "INVITE to carol without Referred-By: %r" % inv.get("referred-by"))
    check("sip:%s@" % ROOM in (inv.get("from") or ""), "INVITE From %r is not the room"
          % inv.get("from"))
    ns = refer_notifies(st.mod.ua, st.mod.call.call_id, 2)
    check_sipfrag(ns, 200, "dial-out")
    check((ns[0].get("event") or "").startswith("refer"), "Event %r" % ns[0].get("event"))
    st.sub.notify_until(lambda v: v.user("sip:carol@") is not None, what="carol in roster")
    t0 = time.monotonic() + SETTLE_S
    time.sleep(SETTLE_S + WIN_S)
    lc = st.mod.hears(t0, t0 + WIN_S, FC)
    lm = carol.hears(t0, t0 + WIN_S, FM)
    ct.log("mod hears carol %.1f dB, carol hears mod %.1f dB" % (lc, lm))
    check(lc > HEARD_DB, "dialed-out carol not heard (%.1f dB)" % lc)
    check(lm > HEARD_DB, "dialed-out carol hears nothing (%.1f dB)" % lm)


def t_dial_out_srtp_policy(st, d):
    """The room's SRTP policy reaches the callee: an srtp=optional room
    offers a=crypto in the dial-out INVITE; a plain answer is accepted."""
    sam = cx.Participant(d, "sam", FM)
    ivy = Uas(d, "ivy", FE)
    try:
        sam.join("4002", stream=False)
        r = sam.request("REFER", headers=["Refer-To: <%s>" % ivy.uri])
        expect_status(r, 202, "moderator REFER ivy from the SRTP room")
        inv = ivy.answer()
        check("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in inv.body.decode(errors="replace"),
              "dial-out INVITE from an srtp=optional room carries no a=crypto:\n%s"
              % inv.body.decode(errors="replace"))
        ns = refer_notifies(sam.ua, sam.call.call_id, 2)
        check_sipfrag(ns, 200, "dial-out with a plain answer in an srtp=optional room")
    finally:
        sam.close()
        ivy.close()


def t_dial_busy(st, d):
    dave = Uas(d, "dave", 1500.0)
    try:
        r = st.mod.request("REFER", headers=["Refer-To: %s" % dave.uri])
        expect_status(r, 202, "REFER dave")
        dave.reject(486, "Busy Here")
        ns = refer_notifies(st.mod.ua, st.mod.call.call_id, 2)
        check_sipfrag(ns, 486, "dial-out to a busy UA")
    finally:
        dave.close()


def t_errors(st, d):
    r = st.bob.request("REFER", headers=["Refer-To: <sip:zed@127.0.0.1:9>"])
    expect_status(r, 403, "participant REFER dial-out")
    r = st.bob.request("REFER", headers=["Refer-To: <sip:mod@127.0.0.1;method=BYE>"])
    expect_status(r, 403, "participant REFER BYE of the moderator")
    r = st.mod.request("REFER", headers=[])
    expect_status(r, 400, "REFER without Refer-To")
    r = st.mod.request("REFER", headers=["Refer-To: <sip:a@127.0.0.1:9>",
                                         "Refer-To: <sip:b@127.0.0.1:9>"])
    expect_status(r, 400, "REFER with two Refer-To")
    r = st.mod.request("REFER", headers=["Refer-To: <http://example.com/x>"])
    expect_status(r, 400, "REFER with an http Refer-To")
    r = st.mod.request("REFER", headers=["Refer-To: <sip:>"])
    expect_status(r, 400, "REFER with an unparseable Refer-To")


def t_bye_method(st, d):
    r = st.mod.request("REFER", headers=["Refer-To: <sip:nobody@127.0.0.1;method=BYE>"])
    expect_status(r, 202, "REFER BYE unknown")
    ns = refer_notifies(st.mod.ua, st.mod.call.call_id, 2)
    check_sipfrag(ns, 404, "BYE for an unknown participant")
    r = st.mod.request("REFER", headers=["Refer-To: <%s;method=BYE>" % st.carol.uri])
    expect_status(r, 202, "REFER BYE carol")
    bye = st.carol.ua.wait_request("BYE", 5)
    check(bye is not None, "carol got no BYE")
    st.carol.close()
    ns = refer_notifies(st.mod.ua, st.mod.call.call_id, 2)
    check_sipfrag(ns, 200, "BYE for carol")
    st.sub.notify_until(lambda v: v.user("sip:carol@") is None, what="carol gone from roster")


def t_refer_sub_false(st, d):
    gina = Uas(d, "gina", 1700.0)
    try:
        r = st.mod.request("REFER", headers=["Refer-To: <%s>" % gina.uri, "Refer-Sub: false"])
        expect_status(r, 202, "REFER with Refer-Sub: false")
        check((r.get("refer-sub") or "").lower() == "false",
              "202 without Refer-Sub: false (%r)" % r.get("refer-sub"))
        gina.answer()
        st.sub.notify_until(lambda v: v.user("sip:gina@") is not None, what="gina in roster")
        ns = refer_notifies(st.mod.ua, st.mod.call.call_id, 0, timeout=1.0)
        check(not ns, "NOTIFY sent despite Refer-Sub: false: %s" % [frag(n) for n in ns])
        r = st.mod.request("REFER", headers=["Refer-To: <%s;method=BYE>" % gina.uri,
                                             "Refer-Sub: false"])
        expect_status(r, 202, "REFER BYE gina, Refer-Sub: false")
        check(gina.ua.wait_request("BYE", 5) is not None, "gina got no BYE")
        ns = refer_notifies(st.mod.ua, st.mod.call.call_id, 0, timeout=1.0)
        check(not ns, "NOTIFY sent despite Refer-Sub: false (BYE)")
    finally:
        gina.close()


def ood_refer(ua, room, target, extra=()):
    branch = "z9hG4bK" + ct.rand_token()
    call_id = ct.rand_token(16) + "@chorustest"
    req = ua.build("REFER", ua.room_uri(room), call_id, ct.rand_token(8), 1, branch,
                   headers=["Refer-To: <%s>" % target] + list(extra))
    r, _ = ua.transact(req, branch, "REFER", timeout=6)
    return r, call_id


def t_out_of_dialog(st, d):
    hank = Uas(d, "hank", FE)
    moda = ct.SipUA(d.addr, "udp", "mod")        # From: sip:mod@127.0.0.1
    eve = ct.SipUA(d.addr, "udp", "eve")
    try:
        r, _ = ood_refer(eve, ROOM, hank.uri)
        expect_status(r, 403, "out-of-dialog REFER from a non-moderator")
        r, cid = ood_refer(moda, ROOM, hank.uri)
        expect_status(r, 202, "out-of-dialog REFER from the moderator URI")
        hank.answer()
        ns = refer_notifies(moda, cid, 2)
        check_sipfrag(ns, 200, "out-of-dialog dial-out")
        st.sub.notify_until(lambda v: v.user("sip:hank@") is not None, what="hank in roster")
        r, cid = ood_refer(moda, ROOM, hank.uri + ";method=BYE")
        expect_status(r, 202, "out-of-dialog REFER BYE hank")
        check(hank.ua.wait_request("BYE", 5) is not None, "hank got no BYE")
        ns = refer_notifies(moda, cid, 2)
        check_sipfrag(ns, 200, "out-of-dialog BYE")
        r, _ = ood_refer(moda, "9999999", hank.uri)
        expect_status(r, 404, "out-of-dialog REFER to no room")
    finally:
        hank.close()
        moda.close()
        eve.close()


def t_move(st, d):
    t0 = time.monotonic() + SETTLE_S
    time.sleep(SETTLE_S + WIN_S)
    check(st.mod.hears(t0, t0 + WIN_S, FB) > HEARD_DB, "mod does not hear bob before the move")
    check(st.frank.hears(t0, t0 + WIN_S, FB) < GONE_DB, "frank hears bob before the move")
    r = st.bob.request("REFER", headers=["Refer-To: <sip:%s@%s:%d>" % (ROOM2, d.addr[0],
                                                                       d.addr[1])])
    expect_status(r, 202, "bob REFERs himself to 4001")
    ns = refer_notifies(st.bob.ua, st.bob.call.call_id, 2)
    check_sipfrag(ns, 200, "move")
    st.sub.notify_until(lambda v: v.user("sip:bob@") is None, what="bob gone from 4000")
    t0 = time.monotonic() + SETTLE_S
    time.sleep(SETTLE_S + WIN_S)
    lm = st.mod.hears(t0, t0 + WIN_S, FB)
    lf = st.frank.hears(t0, t0 + WIN_S, FB)
    lb = st.bob.hears(t0, t0 + WIN_S, FF)
    lbm = st.bob.hears(t0, t0 + WIN_S, FM)
    ct.log("after move: mod hears bob %.1f, frank hears bob %.1f, bob hears frank %.1f, "
           "bob hears mod %.1f" % (lm, lf, lb, lbm))
    check(lm < GONE_DB, "mod still hears bob after his move (%.1f dB)" % lm)
    check(lf > HEARD_DB, "frank does not hear bob in 4001 (%.1f dB)" % lf)
    check(lb > HEARD_DB, "bob does not hear frank in 4001 (%.1f dB)" % lb)
    check(lbm < GONE_DB, "bob still hears mod (%.1f dB)" % lbm)
    m = re.search(r"leg \d+ moved to room %s \(media worker (\d+) -> (\d+)\)" % ROOM2,
                  d.log_text())
    check(m is not None, "no move line in the chorusd log")
    ct.log("move between media workers %s -> %s" % (m.group(1), m.group(2)))
    check(m.group(1) != m.group(2), "both rooms on one worker: the move did not cross workers")
    # the same dialog goes on: an INFO in it acts in the new room
    r = st.bob.info_json({"cmd": "mute", "target": "self"})
    expect_status(r, 200, "INFO in the moved dialog")


def outbound_proxy(run):
    """outbound_proxy set: the dial-out INVITE goes to the proxy with a
    Route header and the target as Request-URI; the proxy's 404 comes
    back as the final sipfrag."""
    proxy = ct.SipUA(("127.0.0.1", 9), "udp", "proxy")
    d2 = ct.Daemon(run.tmp.path, rooms_extra=ROOMS, name="chorusd-proxy",
                   conf={"outbound_proxy": "sip:%s:%d" % proxy.laddr})
    mod = None
    try:
        d2.start()
        mod = cx.Participant(d2, "mod", FM)
        mod.join(ROOM, stream=False)
        r = mod.request("REFER", headers=["Refer-To: <sip:zed@192.0.2.1:5060>"])
        expect_status(r, 202, "REFER via the outbound proxy")
        inv = proxy.wait_request("INVITE", 6, answer=False)
        check(inv is not None, "no INVITE at the outbound proxy")
        check(inv.ruri == "sip:zed@192.0.2.1:5060", "Request-URI %r" % inv.ruri)
        route = inv.get("route") or ""
        check("%s:%d" % proxy.laddr in route and ";lr" in route, "Route %r" % route)
        proxy.send_raw(proxy.response_to(inv, 404, "Not Found"), dst=inv.src)
        ns = refer_notifies(mod.ua, mod.call.call_id, 2)
        check_sipfrag(ns, 404, "dial-out through the proxy")
    finally:
        if mod:
            mod.close()
        proxy.close()
        for p in d2.stop():
            run.fail("daemon-proxy", p)


def main():
    run = ct.Runner("control_refer")
    # two workers: rooms go to the least loaded one, so 4000 (mod, bob)
    # and 4001 (frank) run on different workers and bob's move crosses
    d = ct.Daemon(run.tmp.path, rooms_extra=ROOMS,
                  conf={"log_level": "debug", "media_workers": "2"})
    st = State()
    failed = True
    try:
        d.start()
        if run.sub("setup", setup, st, d):
            for name, fn in (("dial_out", t_dial_out),
                             ("dial_out_srtp_policy", t_dial_out_srtp_policy),
                             ("dial_busy_486", t_dial_busy),
                             ("errors_400_403", t_errors),
                             ("bye_method", t_bye_method),
                             ("refer_sub_false", t_refer_sub_false),
                             ("out_of_dialog", t_out_of_dialog),
                             ("move", t_move)):
                run.sub(name, fn, st, d)
        run.sub("outbound_proxy", outbound_proxy, run)
        failed = bool(run.failures)
    finally:
        cx.shutdown(run, d, st, ("mod", "bob", "frank", "carol"), failed, 300)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
