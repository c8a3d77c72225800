"""MESSAGE (RFC 3428) relay in a room: a participant's MESSAGE, in its
dialog or out of dialog to the room URI, reaches every other participant
inside their own dialogs with the sender's name; the sender gets 200 and
no copy; a stranger gets 403, an empty room 404."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402
import controltest as cx  # noqa: E402
from controltest import expect_status  # noqa: E402

ROOM = "5000"


class State:
    pass


def setup(st, d):
    st.alice = cx.Participant(d, "alice", 500.0)
    st.bob = cx.Participant(d, "bob", 800.0, transport="tcp")
    st.carol = cx.Participant(d, "carol", 1200.0)
    for p in (st.alice, st.bob, st.carol):
        p.join(ROOM, stream=False,
               headers=())


def got_message(p, text_part, timeout=4.0):
    m = p.ua.wait_request("MESSAGE", timeout, call_id=p.call.call_id)
    check(m is not None, "%s got no MESSAGE in its dialog" % p.user)
    body = m.body.decode("utf-8", "replace")
    check(text_part in body, "%s got %r (expected %r in it)" % (p.user, body, text_part))
    check(m.to_tag == p.call.from_tag, "%s: MESSAGE not in its dialog (To tag %r)" % (
        p.user, m.to_tag))
    return m


def t_in_dialog(st, d):
    r = st.alice.request("MESSAGE", body="hello room", ctype="text/plain")
    expect_status(r, 200, "alice MESSAGE in dialog")
    for p in (st.bob, st.carol):
        m = got_message(p, "hello room")
        body = m.body.decode()
        check(body.startswith("sip:alice@127.0.0.1: "), "sender name missing: %r" % body)
        check("sip:alice@" in (m.get("x-chorus-sender") or ""),
              "X-Chorus-Sender %r" % m.get("x-chorus-sender"))
    extra = st.alice.ua.wait_request("MESSAGE", 0.5, call_id=st.alice.call.call_id)
    check(extra is None, "the sender got its own MESSAGE back")


def ood_message(ua, room, text):
    branch = "z9hG4bK" + ct.rand_token()
    req = ua.build("MESSAGE", ua.room_uri(room), ct.rand_token(16) + "@chorustest",
                   ct.rand_token(8), 1, branch, body=text, ctype="text/plain")
    r, _ = ua.transact(req, branch, "MESSAGE", timeout=5)
    return r


def t_out_of_dialog(st, d):
    bob2 = ct.SipUA(d.addr, "udp", "bob")     # From: sip:bob@127.0.0.1
    eve = ct.SipUA(d.addr, "udp", "eve")
    try:
        r = ood_message(bob2, ROOM, "from outside the dialog")
        expect_status(r, 200, "bob MESSAGE to the room URI")
        for p in (st.alice, st.carol):
            got_message(p, "from outside the dialog")
        r = ood_message(eve, ROOM, "let me in")
        expect_status(r, 403, "MESSAGE from a non-participant")
        r = ood_message(eve, "5999", "anyone?")
        expect_status(r, 404, "MESSAGE to an empty room")
    finally:
        bob2.close()
        eve.close()


def main():
    run = ct.Runner("control_message")
    d = ct.Daemon(run.tmp.path)
    st = State()
    failed = True
    try:
        d.start()
        if run.sub("setup", setup, st, d):
            run.sub("in_dialog", t_in_dialog, st, d)
            run.sub("out_of_dialog", t_out_of_dialog, st, d)
        failed = bool(run.failures)
    finally:
        cx.shutdown(run, d, st, ("alice", "bob", "carol"), failed, 200)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
