"""controltest: helpers for the room-control integration tests
(test_control_*.py) on top of chorustest: scripted participants with a
G.711 tone stream, chorus-control INFO, RFC 4733 DTMF over RTP, conference
SUBSCRIBE/NOTIFY with RFC 4575 parsing and xmllint validation against
tests/data/conference-info.xsd, REFER and MESSAGE.
"""
import os
import struct
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import chorustest as ct
from chorustest import check

NS = {"ci": "urn:ietf:params:xml:ns:conference-info",
      "ch": "urn:x-chorus:conference-info"}
TE_PT = 101


def xsd_path():
    return os.path.join(ct.src_dir(), "tests", "data", "conference-info.xsd")


def xmllint(body):
    """Validate a conference-info document; returns (ok, output)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".xml", delete=False) as fh:
        fh.write(body)
        path = fh.name
    try:
        p = subprocess.run(["xmllint", "--noout", "--schema", xsd_path(), path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
        return p.returncode == 0, p.stdout.decode("utf-8", "replace")
    finally:
        os.unlink(path)


class Roster:
    """One parsed conference-info document."""

    def __init__(self, body):
        self.body = body
        self.root = ET.fromstring(body)
        self.version = int(self.root.get("version"))
        self.state = self.root.get("state")
        self.entity = self.root.get("entity")
        self.users = {}
        for u in self.root.findall("ci:users/ci:user", NS):
            ent = u.get("entity")
            d = {"state": u.get("state", "full"), "el": u}
            roles = [e.text for e in u.findall("ci:roles/ci:entry", NS)]
            d["roles"] = roles
            ep = u.find("ci:endpoint", NS)
            d["status"] = ep.findtext("ci:status", None, NS) if ep is not None else None
            m = ep.find("ci:media", NS) if ep is not None else None
            d["media_id"] = m.get("id") if m is not None else None
            d["media_status"] = m.findtext("ci:status", None, NS) if m is not None else None
            d["muted"] = (m.findtext("ch:muted", None, NS) if m is not None else None)
            d["deaf"] = (m.findtext("ch:deaf", None, NS) if m is not None else None)
            d["gain_in"] = (m.findtext("ch:gain-in", None, NS) if m is not None else None)
            d["gain_out"] = (m.findtext("ch:gain-out", None, NS) if m is not None else None)
            self.users[ent] = d
        cs = self.root.find("ci:conference-state", NS)
        self.user_count = int(cs.findtext("ci:user-count", "-1", NS)) if cs is not None else None
        self.locked = cs.findtext("ci:locked", None, NS) if cs is not None else None

    def user(self, uri_part):
        for ent, d in self.users.items():
            if uri_part in ent:
                return d
        return None


class RosterView:
    """Applies full and partial NOTIFYs like a subscriber (RFC 4575 4.6)."""

    def __init__(self):
        self.version = 0
        self.users = {}
        self.locked = None
        self.user_count = None
        self.docs = []

    def apply(self, r):
        if self.docs and r.version == self.version and r.body == self.docs[-1].body:
            # the same document again (libre repeats it on a refresh);
            # RFC 4575 4.6: a version we already have is discarded
            self.repeats = getattr(self, "repeats", 0) + 1
            return
        check(r.version == self.version + 1,
              "roster version %d after %d (must grow by one)" % (r.version, self.version))
        self.version = r.version
        if r.state == "full":
            self.users = {}
        for ent, d in r.users.items():
            if d["state"] == "deleted":
                self.users.pop(ent, None)
            else:
                self.users[ent] = d
        if r.locked is not None:
            self.locked = r.locked
        if r.user_count is not None:
            self.user_count = r.user_count
        self.docs.append(r)

    def user(self, uri_part):
        for ent, d in self.users.items():
            if uri_part in ent:
                return d
        return None


def telev_payload(event, end, volume, duration):
    return struct.pack("!BBH", event, (0x80 if end else 0) | (volume & 0x3f), duration)


DIGITS = {str(i): i for i in range(10)}
DIGITS.update({"*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15})


class Participant:
    """A scripted G.711 participant: SIP dialog plus a tone stream."""

    def __init__(self, d, user, freq, transport="udp", display=None, amp=0.25):
        self.d = d
        self.user = user
        self.freq = freq
        self.amp = amp
        self.display = display
        self.ua = ct.SipUA(d.addr, transport, user)
        self.peer = ct.RtpPeer()
        self.call = None
        self.dst = None
        self.streaming = False

    @property
    def uri(self):
        return "sip:%s@%s" % (self.user, ct.HOST)

    def join(self, room, ruri=None, headers=(), stream=True, expect=200):
        sdp = ct.make_sdp(self.peer.port, [0, TE_PT],
                          rtpmap={TE_PT: "telephone-event/8000"},
                          extra=["a=fmtp:%d 0-16" % TE_PT], ptime=20)
        hdrs = list(headers)
        self.call = self.ua.invite(room, sdp, headers=hdrs, ruri=ruri)
        f = self.call.final
        check(f is not None, "%s: INVITE to %s: no final response" % (self.user, room))
        if expect is not None:
            check(f.status == expect, "%s: INVITE to %s: %s (expected %d)" % (
                self.user, room, f.first, expect))
        if f.status == 200:
            a = ct.Sdp(f.body)
            self.dst = (a.conn, a.port)
            self.te_pt = a.pt_for("telephone-event") if hasattr(a, "pt_for") else TE_PT
            if stream:
                self.peer.start_stream(self.dst, 0, "PCMU", self.freq, amp=self.amp)
                self.streaming = True
        return f

    def request(self, method, headers=(), body=b"", ctype=None, timeout=8.0):
        return self.call.request(method, headers=headers, body=body, ctype=ctype,
                                 timeout=timeout)

    def info_json(self, obj_or_text, package="chorus-control", ctype="application/json"):
        body = obj_or_text if isinstance(obj_or_text, (bytes, str)) else \
            __import__("json").dumps(obj_or_text)
        hdrs = []
        if package:
            hdrs.append("Info-Package: " + package)
        return self.request("INFO", headers=hdrs, body=body, ctype=ctype)

    def info_dtmf(self, digit, relay=True):
        if relay:
            return self.request("INFO", body="Signal=%s\r\nDuration=160\r\n" % digit,
                                ctype="application/dtmf-relay")
        return self.request("INFO", body=digit, ctype="application/dtmf")

    def rtp_dtmf(self, digits, gap=0.25):
        """Send RFC 4733 events on the media stream (audio paused meanwhile,
        one SSRC and sequence space)."""
        p = self.peer
        pt = getattr(self, "te_pt", None) or TE_PT
        p.sending = False
        time.sleep(0.06)
        for dg in digits:
            ev = DIGITS[dg]
            ts = p.ts
            for k in range(5):
                end = k >= 3
                pkt = ct.rtp_packet(pt, p.seq, ts, p.ssrc,
                                    telev_payload(ev, end, 10, 160 * (k + 1) if not end else 640),
                                    marker=(k == 0))
                p.sock.sendto(pkt, self.dst)
                p.seq = (p.seq + 1) & 0xFFFF
                time.sleep(0.02)
            time.sleep(gap)
        p.sending = True

    def hears(self, t0, t1, freq):
        pk = self.peer.received_between(t0, t1, pt=0)
        pcm = b"".join(q["payload"] for q in pk)
        x = ct.g711_decode(pcm, "PCMU").astype(float) / 32768.0
        if len(x) < 800:
            return -200.0
        return ct.tone_level_db(x, 8000, freq)

    def bye(self):
        if self.streaming:
            self.peer.stop_stream()
            self.streaming = False
        r = self.call.bye()
        return r

    def close(self):
        if self.streaming:
            self.peer.stop_stream()
            self.streaming = False
        self.ua.close()
        self.peer.close()


class Subscription:
    """SUBSCRIBE Event: conference, out of dialog (own UA) or inside a
    participant's dialog."""

    def __init__(self, ua, room=None, call=None, expires=600, event="conference"):
        self.ua = ua
        self.view = RosterView()
        self.call = call
        self.room = room
        self.expires = expires
        self.event = event
        self.call_id = call.call_id if call else ct.rand_token(16) + "@chorustest"
        self.from_tag = call.from_tag if call else ct.rand_token(8)
        self.cseq = 0
        self.to_tag = None
        self.notifies = []
        self.seen_cseq = set()

    def subscribe(self, expires=None):
        hdrs = ["Event: " + self.event, "Accept: application/conference-info+xml",
                "Expires: %d" % (self.expires if expires is None else expires)]
        if self.call:
            r = self.call.request("SUBSCRIBE", headers=hdrs)
            return r
        self.cseq += 1
        branch = "z9hG4bK" + ct.rand_token()
        ruri = self.ua.room_uri(self.room)
        req = self.ua.build("SUBSCRIBE", ruri, self.call_id, self.from_tag, self.cseq, branch,
                            to_tag=self.to_tag, headers=hdrs)
        r, _ = self.ua.transact(req, branch, "SUBSCRIBE", timeout=6)
        if r is not None and r.status < 300 and r.to_tag:
            self.to_tag = r.to_tag
        return r

    def next_notify(self, timeout=5.0, validate=True):
        """Wait for the next conference NOTIFY of this subscription (auto-
        answered 200), check it against the schema, apply it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            n = self.ua.wait_request("NOTIFY", end - time.monotonic(), call_id=self.call_id)
            if n is None:
                break
            if (n.get("event") or "").split(";")[0].strip() != "conference":
                # a refer NOTIFY in the same dialog: keep it for its reader
                self.ua.other_notifies = getattr(self.ua, "other_notifies", [])
                self.ua.other_notifies.append(n)
                continue
            key = n.cseq[0]
            if key in self.seen_cseq:
                continue       # a retransmission (our 200 came late)
            self.seen_cseq.add(key)
            self.notifies.append(n)
            if not n.body.strip():
                return n, None
            if validate:
                ok, out = xmllint(n.body)
                check(ok, "NOTIFY body fails the RFC 4575 schema:\n%s\n%s" % (
                    out, n.body.decode("utf-8", "replace")))
            r = Roster(n.body)
            self.view.apply(r)
            return n, r
        raise ct.TestFailure("no conference NOTIFY within %.1f s" % timeout)

    def notify_until(self, pred, timeout=5.0, what="roster state"):
        """Apply NOTIFYs until pred(view) holds."""
        end = time.monotonic() + timeout
        while True:
            if pred(self.view):
                return
            left = end - time.monotonic()
            if left <= 0:
                raise ct.TestFailure("timeout waiting for %s (roster version %d: %s)" % (
                    what, self.view.version, sorted(self.view.users)))
            self.next_notify(left)


def shutdown(run, d, st, parties, failed, tail):
    """The end of a control test's main(): close the participants named in
    parties that st holds and st's subscriber UA, stop chorusd (each
    problem it had is a failure "daemon"), and print the last tail lines of
    its log if anything failed."""
    for p in parties:
        if hasattr(st, p):
            getattr(st, p).close()
    if hasattr(st, "subua"):
        st.subua.close()
    probs = d.stop()
    for p in probs:
        run.fail("daemon", p)
    if failed or probs:
        d.dump_log(tail)


def warning_text(r):
    return r.get("warning") or ""


def expect_status(r, code, what):
    check(r is not None, "%s: no response" % what)
    check(r.status == code, "%s: %s (expected %d); Warning: %r" % (
        what, r.first, code, warning_text(r)))
