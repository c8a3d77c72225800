"""Digest authentication of room control from outside a call
(RFC 3261 section 22, RFC 7616, RFC 8760; src/sip/auth.c).

chorusd runs with auth_users users.conf (chair: moderator of 1000 and
2000, password; viewer: participant of 2000; ops: moderator of every room,
MD5 HA1 only). Room 1000 lists mod=sip:chair@127.0.0.1, room 2000 has a
PIN. The digest responses are computed here with hashlib.
 - REFER to sip:1000@127.0.0.1 without credentials: 401 with two
   WWW-Authenticate: SHA-256 first, then MD5, realm "chorus",
   qop="auth", the same nonce and opaque, no stale;
 - From spoofing the mod= URI, no credentials: 401 (not enough once users
   exist);
 - chair's SHA-256 digest: 202 and the dial-out happens (the callee gets
   an INVITE with Referred-By, sipfrag 200); MD5 digest with method=BYE:
   202, the callee gets BYE;
 - wrong password: 401; the same Authorization again (nc replayed): 401;
   a nonce made up by the client: 401; Authorization for another
   Request-URI: 401;
 - 1024 newer challenges evict a nonce: its right digest gets 401 with
   stale=true, the retry with the new nonce 202;
 - viewer (valid credentials, no moderator role): 403; chair on a room
   outside its rooms=: 403;
 - ops with only an MD5 HA1: SHA-256 401, MD5 accepted;
 - SUBSCRIBE to PIN room 2000's roster: 401 without credentials, 200 with
   viewer's;
 - SIGHUP with chair removed from users.conf: chair's digest gets 401;
 - a second chorusd with auth_trust_from_uri yes: the mod= From URI alone
   gets 202 again, another From still 401;
 - no password appears in the log.
"""
import hashlib
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402
from controltest import expect_status  # noqa: E402

REALM = "chorus"
ROOMS = ('room 1000 name="Main" max=10 mod=sip:chair@127.0.0.1\n'
         'room 2000 name="Board" max=10 pin=2468\n'
         'room 3000 name="Other" max=10\n'
         'auto_create off\n')


def h(alg, s):
    return hashlib.new("sha256" if alg == "SHA-256" else "md5", s.encode()).hexdigest()


def users_text(with_chair=True):
    ops_ha1 = h("MD5", "ops:%s:opspw" % REALM)
    t = "# written by test_auth\n"
    if with_chair:
        t += "user chair chairpw rooms=1000,2000 role=moderator\n"
    t += "user viewer viewpw rooms=2000\n"
    t += "user ops ha1:%s rooms=* role=moderator\n" % ops_ha1
    return t


def parse_chall(v):
    """Parameters of one WWW-Authenticate: Digest value."""
    check(v.startswith("Digest "), "challenge %r is not Digest" % v)
    return {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
            for m in re.finditer(r'([A-Za-z-]+)=(?:"([^"]*)"|([^,\s]+))', v[7:])}


def challenges(r):
    return [parse_chall(v) for v in r.get_all("www-authenticate")]


class Client:
    """One UA sending out-of-dialog requests, with digest state."""

    def __init__(self, d, user, from_user=None):
        self.d = d
        self.ua = ct.SipUA(d.addr, "udp", from_user or user)
        self.nc = 0
        self.cnonce = ct.rand_token(12)

    def close(self):
        self.ua.close()

    def authz(self, ch, method, ruri, user, password, alg, nc=None, uri=None,
              nonce=None):
        self.nc += 1
        nc = "%08x" % (nc if nc is not None else self.nc)
        nonce = nonce or ch["nonce"]
        uri = uri or ruri
        ha1 = h(alg, "%s:%s:%s" % (user, ch["realm"], password))
        ha2 = h(alg, "%s:%s" % (method, uri))
        resp = h(alg, "%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, self.cnonce, ha2))
        return ('Authorization: Digest username="%s", realm="%s", nonce="%s", '
                'uri="%s", response="%s", algorithm=%s, cnonce="%s", qop=auth, '
                'nc=%s, opaque="%s"' % (user, ch["realm"], nonce, uri, resp, alg,
                                        self.cnonce, nc, ch.get("opaque", "")))

    def refer(self, room, target, extra=(), call_id=None):
        branch = "z9hG4bK" + ct.rand_token()
        call_id = call_id or ct.rand_token(16) + "@chorustest"
        req = self.ua.build("REFER", self.ua.room_uri(room), call_id, ct.rand_token(8),
                            1, branch, headers=["Refer-To: <%s>" % target] + list(extra))
        r, _ = self.ua.transact(req, branch, "REFER", timeout=6)
        return r, call_id

    def subscribe(self, room, extra=()):
        branch = "z9hG4bK" + ct.rand_token()
        call_id = ct.rand_token(16) + "@chorustest"
        req = self.ua.build("SUBSCRIBE", self.ua.room_uri(room), call_id, ct.rand_token(8),
                            1, branch, headers=["Event: conference", "Expires: 60",
                                                "Accept: application/conference-info+xml"]
                            + list(extra))
        r, _ = self.ua.transact(req, branch, "SUBSCRIBE", timeout=6)
        return r

    def challenge_for(self, room, alg, target="sip:nobody@127.0.0.1"):
        """Get a fresh challenge (a REFER without credentials)."""
        r, _ = self.refer(room, target)
        expect_status(r, 401, "REFER without credentials")
        for c in challenges(r):
            if c.get("algorithm", "MD5").upper() == alg:
                return c
        check(False, "no %s challenge in %r" % (alg, r.get_all("www-authenticate")))
        return None

    def refer_auth(self, room, target, user, password, alg):
        ch = self.challenge_for(room, alg)
        a = self.authz(ch, "REFER", self.ua.room_uri(room), user, password, alg)
        return self.refer(room, target, extra=[a])


class Uas:
    """A scripted callee that chorus dials out to."""

    def __init__(self, d, user):
        self.ua = ct.SipUA(d.addr, "udp", user)
        self.peer = ct.RtpPeer()
        self.ua.local_sdp = ct.make_sdp(self.peer.port, [0], ptime=20)

    @property
    def uri(self):
        return "sip:%s@%s:%d" % (self.ua.user, self.ua.laddr[0], self.ua.laddr[1])

    def close(self):
        self.ua.close()
        self.peer.close()


def refer_final_frag(ua, call_id, timeout=8.0):
    """Read refer NOTIFYs of one dialog until a terminated one: its sipfrag."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        n = ua.wait_request("NOTIFY", min(0.5, end - time.monotonic()), call_id=call_id)
        if n is None:
            continue
        if "terminated" in (n.get("subscription-state") or ""):
            return n.body.decode("utf-8", "replace").split("\r\n")[0].strip()
    return None


def t_challenge(st, d):
    c = Client(d, "eve")
    try:
        r, _ = c.refer("1000", "sip:hank@127.0.0.1")
        expect_status(r, 401, "REFER without credentials")
        hs = r.get_all("www-authenticate")
        check(len(hs) == 2, "%d WWW-Authenticate headers: %r" % (len(hs), hs))
        a, b = challenges(r)
        check(a.get("algorithm") == "SHA-256", "first challenge algorithm %r" % a.get("algorithm"))
        check(b.get("algorithm") == "MD5", "second challenge algorithm %r" % b.get("algorithm"))
        for x in (a, b):
            check(x.get("realm") == REALM, "realm %r" % x.get("realm"))
            check(x.get("qop") == "auth", "qop %r" % x.get("qop"))
            check(len(x.get("nonce") or "") >= 32, "nonce %r" % x.get("nonce"))
            check(x.get("opaque"), "no opaque")
            check("stale" not in x, "stale in a first challenge")
        check(a["nonce"] == b["nonce"] and a["opaque"] == b["opaque"],
              "nonce/opaque differ between the two challenges")
        # a second challenge has a new nonce
        r2, _ = c.refer("1000", "sip:hank@127.0.0.1")
        expect_status(r2, 401, "second REFER without credentials")
        check(challenges(r2)[0]["nonce"] != a["nonce"], "nonce reused")
    finally:
        c.close()


def t_spoofed_from(st, d):
    c = Client(d, "chair")          # From: sip:chair@127.0.0.1 = mod= of 1000
    try:
        r, _ = c.refer("1000", "sip:hank@127.0.0.1")
        expect_status(r, 401, "REFER from the mod= URI without credentials")
        check(len(r.get_all("www-authenticate")) == 2, "challenges missing")
    finally:
        c.close()


def t_dial_out_and_bye(st, d):
    c = Client(d, "chair")
    hank = Uas(d, "hank")
    try:
        r, cid = c.refer_auth("1000", hank.uri, "chair", "chairpw", "SHA-256")
        expect_status(r, 202, "REFER with chair's SHA-256 digest")
        inv = hank.ua.wait_request("INVITE", 6)
        check(inv is not None, "hank got no INVITE: no dial-out")
        check(inv.ruri.startswith("sip:hank@"), "INVITE Request-URI %r" % inv.ruri)
        check(inv.get("referred-by") is not None, "dial-out INVITE without Referred-By")
        fr = refer_final_frag(c.ua, cid)
        check(fr is not None and fr.startswith("SIP/2.0 200"), "dial-out sipfrag %r" % fr)

        r, cid = c.refer_auth("1000", hank.uri + ";method=BYE", "chair", "chairpw", "MD5")
        expect_status(r, 202, "REFER BYE with chair's MD5 digest")
        check(hank.ua.wait_request("BYE", 6) is not None, "hank got no BYE")
        fr = refer_final_frag(c.ua, cid)
        check(fr is not None and fr.startswith("SIP/2.0 200"), "BYE sipfrag %r" % fr)
    finally:
        hank.close()
        c.close()


def t_wrong_and_replayed(st, d):
    c = Client(d, "chair")
    target = "sip:nobody@127.0.0.1;method=BYE"
    try:
        r, _ = c.refer_auth("1000", target, "chair", "wrongpw", "SHA-256")
        expect_status(r, 401, "REFER with a wrong password (SHA-256)")
        check(all("stale" not in x for x in challenges(r)), "stale after a wrong password")
        r, _ = c.refer_auth("1000", target, "chair", "wrongpw", "MD5")
        expect_status(r, 401, "REFER with a wrong password (MD5)")
        r, _ = c.refer_auth("1000", target, "mallory", "chairpw", "MD5")
        expect_status(r, 401, "REFER by an unknown user")

        # a right one, then the same Authorization again in a new request
        ch = c.challenge_for("1000", "MD5")
        a = c.authz(ch, "REFER", c.ua.room_uri("1000"), "chair", "chairpw", "MD5")
        r, _ = c.refer("1000", target, extra=[a])
        expect_status(r, 202, "REFER with chair's digest (nobody to remove)")
        r, _ = c.refer("1000", target, extra=[a])
        expect_status(r, 401, "the same Authorization replayed (nc not increased)")

        # a nonce the client made up
        a = c.authz(ch, "REFER", c.ua.room_uri("1000"), "chair", "chairpw", "MD5",
                    nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093")
        r, _ = c.refer("1000", target, extra=[a])
        expect_status(r, 401, "a nonce not issued by chorus")

        # credentials for another Request-URI (room 3000) sent to 1000
        ch = c.challenge_for("1000", "MD5")
        a = c.authz(ch, "REFER", c.ua.room_uri("1000"), "chair", "chairpw", "MD5",
                    uri=c.ua.room_uri("3000"))
        r, _ = c.refer("1000", target, extra=[a])
        expect_status(r, 401, "Authorization for another Request-URI")
    finally:
        c.close()


def t_stale_after_slot_reuse(st, d):
    """A nonce whose replay slot was reused by AUTH_SLOTS (1024) newer
    challenges: the right digest gets 401 with stale=true in both
    challenges, and the fresh nonce from that 401 works."""
    c = Client(d, "chair")
    target = "sip:nobody@127.0.0.1;method=BYE"
    try:
        old = c.challenge_for("1000", "SHA-256")
        for i in range(1024):
            r, _ = c.refer("1000", target)
            check(r is not None and r.status == 401, "challenge %d: %s" % (
                i, r.first if r else None))
        a = c.authz(old, "REFER", c.ua.room_uri("1000"), "chair", "chairpw", "SHA-256")
        r, _ = c.refer("1000", target, extra=[a])
        expect_status(r, 401, "right digest with an evicted nonce")
        chs = challenges(r)
        check(len(chs) == 2 and all(x.get("stale") == "true" for x in chs),
              "stale=true missing: %r" % r.get_all("www-authenticate"))
        a = c.authz(chs[0], "REFER", c.ua.room_uri("1000"), "chair", "chairpw", "SHA-256")
        r, _ = c.refer("1000", target, extra=[a])
        expect_status(r, 202, "retry with the nonce of the stale challenge")
    finally:
        c.close()


def t_forbidden(st, d):
    c = Client(d, "viewer")
    target = "sip:nobody@127.0.0.1;method=BYE"
    try:
        r, _ = c.refer_auth("2000", target, "viewer", "viewpw", "SHA-256")
        expect_status(r, 403, "REFER by an authenticated non-moderator")
        r, _ = c.refer_auth("1000", target, "viewer", "viewpw", "SHA-256")
        expect_status(r, 403, "REFER by a user without the room")
        r, _ = c.refer_auth("3000", target, "chair", "chairpw", "MD5")
        expect_status(r, 403, "REFER by a moderator of other rooms")
    finally:
        c.close()


def t_md5_only_user(st, d):
    c = Client(d, "ops")
    target = "sip:nobody@127.0.0.1;method=BYE"
    try:
        r, _ = c.refer_auth("3000", target, "ops", "opspw", "SHA-256")
        expect_status(r, 401, "SHA-256 digest of a user with only an MD5 HA1")
        r, cid = c.refer_auth("3000", target, "ops", "opspw", "MD5")
        expect_status(r, 202, "MD5 digest of the ha1: user")
        fr = refer_final_frag(c.ua, cid)
        check(fr is not None and fr.startswith("SIP/2.0 404"), "BYE nobody sipfrag %r" % fr)
    finally:
        c.close()


def t_roster_subscribe(st, d):
    c = Client(d, "viewer")
    try:
        r = c.subscribe("2000")
        expect_status(r, 401, "SUBSCRIBE to a PIN room's roster without credentials")
        ch = [x for x in challenges(r) if x.get("algorithm") == "SHA-256"][0]
        a = c.authz(ch, "SUBSCRIBE", c.ua.room_uri("2000"), "viewer", "viewpw", "SHA-256")
        r = c.subscribe("2000", extra=[a])
        expect_status(r, 200, "SUBSCRIBE with viewer's digest")
        n = c.ua.wait_request("NOTIFY", 5)
        check(n is not None and b"conference-info" in n.body, "no roster NOTIFY")
        # a room without a PIN needs no credentials (as before)
        r = c.subscribe("3000")
        expect_status(r, 200, "SUBSCRIBE to an open room")
    finally:
        c.close()


def t_sighup_removes_user(st, d):
    with open(os.path.join(d.cfgdir, "users.conf"), "w") as f:
        f.write(users_text(with_chair=False))
    d.signal(signal.SIGHUP)
    ct.wait_for(lambda: "users (was 3)" in d.log_text(), 5, what="users.conf reloaded")
    c = Client(d, "chair")
    try:
        r, _ = c.refer_auth("1000", "sip:nobody@127.0.0.1;method=BYE", "chair", "chairpw",
                            "SHA-256")
        expect_status(r, 401, "REFER by a user removed from users.conf")
    finally:
        c.close()


def trust_from_uri(run):
    """auth_trust_from_uri yes: the mod= From URI alone is enough again
    (the documented, spoofable opt-in); other senders still get 401."""
    d2 = ct.Daemon(run.tmp.path, rooms_text=ROOMS, name="chorusd-trust",
                   conf={"auth_users": "users.conf", "auth_trust_from_uri": "yes"})
    with open(os.path.join(d2.cfgdir, "users.conf"), "w") as f:
        f.write(users_text())
    c = e = None
    try:
        d2.start()
        c = Client(d2, "chair")
        e = Client(d2, "eve")
        r, _ = c.refer("1000", "sip:nobody@127.0.0.1;method=BYE")
        expect_status(r, 202, "mod= From URI with auth_trust_from_uri yes")
        r, _ = e.refer("1000", "sip:nobody@127.0.0.1;method=BYE")
        expect_status(r, 401, "other From URI with auth_trust_from_uri yes")
    finally:
        for x in (c, e):
            if x:
                x.close()
        for p in d2.stop():
            run.fail("daemon-trust", p)


def main():
    run = ct.Runner("auth")
    d = ct.Daemon(run.tmp.path, rooms_text=ROOMS,
                  conf={"auth_users": "users.conf", "auth_realm": REALM})
    with open(os.path.join(d.cfgdir, "users.conf"), "w") as f:
        f.write(users_text())
    st = None
    failed = True
    try:
        d.start()
        for name, fn in (("challenge_401", t_challenge),
                         ("spoofed_from_401", t_spoofed_from),
                         ("dial_out_and_bye", t_dial_out_and_bye),
                         ("wrong_and_replayed", t_wrong_and_replayed),
                         ("stale_after_slot_reuse", t_stale_after_slot_reuse),
                         ("forbidden_403", t_forbidden),
                         ("md5_only_user", t_md5_only_user),
                         ("roster_subscribe", t_roster_subscribe),
                         ("sighup_removes_user", t_sighup_removes_user)):
            run.sub(name, fn, st, d)
        run.sub("trust_from_uri", trust_from_uri, run)
        failed = bool(run.failures)
        log = d.log_text()
        for secret in ("chairpw", "viewpw", "opspw", "wrongpw"):
            if secret in log:
                run.fail("no_secrets_logged", "%r appears in the log" % secret)
    finally:
        probs = d.stop()
        for p in probs:
            run.fail("daemon", p)
        if failed or probs:
            d.dump_log(300)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
