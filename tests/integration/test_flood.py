"""Floods and caps (src/sip/guard.c, docs/SECURITY.md).

- flood: one UDP socket on 127.0.0.1 sends 1,000 distinct INVITEs per
  second for 5 s (5,000 datagrams, paced in 10 ms slices) to a live room.
  chorusd must ban that source (exactly one ban line in its log), answer
  only the INVITEs that came before the ban (a few hundred at most) and
  none of its later requests (an OPTIONS after the flood gets no answer),
  while two callers from other loopback addresses (127.0.0.2, 127.0.0.3)
  who call in during the flood get 200 OK and hear each other's tone.
- caps: max_dialogs_per_source and max_legs_total give 503 with
  Retry-After; a freed dialog makes room again; other sources are not
  affected by one source's cap.
- overload: with one media worker and overload_permille 1 (0.1 % of the
  frame budget), a room of four talking legs keeps that worker above the
  line: a fifth INVITE gets 503 with Retry-After naming the overloaded
  worker, and the four go on hearing each other.

Loopback only: 127.0.0.0/8 addresses other than 127.0.0.1 need no setup
on Linux.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

ROOM = "3100"
FLOOD_RATE = 1000          # INVITEs per second
FLOOD_S = 5.0
FLOOD_MAX = 5000           # hard bound on datagrams
PIKE_RATE, PIKE_BURST, PIKE_BAN = 100, 200, 60


def cpu_s(pid):
    """User + system CPU seconds of a process so far (Linux /proc)."""
    with open("/proc/%d/stat" % pid) as fh:
        f = fh.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / float(os.sysconf("SC_CLK_TCK"))


def ua_at(server, ip, user):
    """A scripted UDP UA whose socket is bound to ip (not 127.0.0.1)."""
    ua = ct.SipUA(server, "udp", user)
    ua.sock.close()
    ua.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ua.sock.bind((ip, 0))
    ua.laddr = ua.sock.getsockname()
    return ua


def rtp_at(ip):
    peer = ct.RtpPeer()
    peer.sock.close()
    peer.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.sock.bind((ip, 0))
    peer.port = peer.sock.getsockname()[1]
    return peer


class Party:
    def __init__(self, d, ip, name, freq):
        self.ip, self.name, self.freq = ip, name, freq
        self.ua = ua_at(d.addr, ip, name)
        self.peer = rtp_at(ip)
        self.call = None

    def join(self, room=ROOM):
        self.call = self.ua.invite(room, ct.make_sdp(self.peer.port, [0], ptime=20,
                                                     addr=self.ip))
        return self.call.final

    def stream(self):
        a = ct.Sdp(self.call.final.body)
        self.peer.start_stream((a.conn, a.port), 0, "PCMU", self.freq, amp=0.2)

    def heard(self, t0, t1):
        pk = self.peer.received_between(t0, t1, pt=0)
        pcm = b"".join(p["payload"] for p in pk)
        x = ct.g711_decode(pcm, "PCMU").astype(float) / 32768.0
        return len(pk), x

    def close(self):
        if hasattr(self.peer, "_thread"):
            self.peer.stop_stream()
        self.ua.close()
        self.peer.close()


class Flooder(threading.Thread):
    """Sends FLOOD_RATE INVITEs/s from one socket on 127.0.0.1 and records
    the Call-IDs that got any response, and when."""

    def __init__(self, d):
        super().__init__(daemon=True)
        self.ua = ct.SipUA(d.addr, "udp", "flood")
        self.ua.sock.setblocking(False)
        self.sent = 0
        self.answered = {}        # call-id -> first response time
        self.codes = {}
        self.t0 = None
        self.sdp = ct.make_sdp(40000, [0], ptime=20)

    def _drain(self):
        while True:
            try:
                data, _ = self.ua.sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            m = ct.SipMsg(data)
            if m.is_request:
                continue
            cid = m.get("call-id")
            if cid not in self.answered:
                self.answered[cid] = time.monotonic() - self.t0
            self.codes[m.status] = self.codes.get(m.status, 0) + 1

    def run(self):
        self.t0 = time.monotonic()
        while self.sent < FLOOD_MAX:
            el = time.monotonic() - self.t0
            if el >= FLOOD_S + 1.0:
                break              # bounded even on a stalled machine
            due = min(FLOOD_MAX, int(el * FLOOD_RATE) + 1)
            while self.sent < due:
                k = self.sent
                req = self.ua.build("INVITE", self.ua.room_uri(ROOM),
                                    "flood%06d-%s@chorustest" % (k, ct.rand_token(6)),
                                    ct.rand_token(8), 1, "z9hG4bK" + ct.rand_token(),
                                    body=self.sdp)
                try:
                    self.ua.sock.sendto(req, self.ua.server)
                except (BlockingIOError, OSError):
                    pass           # a full socket buffer: counted as sent anyway
                self.sent += 1
            self._drain()
            time.sleep(0.01)
        self.elapsed = time.monotonic() - self.t0
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            self._drain()
            time.sleep(0.02)


def stop_checked(r, d):
    for p in d.stop():
        r.fail("shutdown %s" % d.name, p)


def test_flood(r):
    d = ct.Daemon(r.tmp.path, conf={
        "pike_rate": str(PIKE_RATE), "pike_burst": str(PIKE_BURST),
        "pike_ban_s": str(PIKE_BAN), "max_dialogs_per_source": "10",
        "rtp_timeout": "30"})
    d.start()
    r.cleanups.append(lambda: stop_checked(r, d))
    a = Party(d, "127.0.0.2", "alice", 700.0)
    b = Party(d, "127.0.0.3", "bob", 1100.0)
    try:
        fl = Flooder(d)
        cpu0 = cpu_s(d.proc.pid)
        fl.start()
        time.sleep(1.5)            # the ban is in place by now
        check(fl.is_alive(), "the flood ended early")
        fa = a.join()
        check(fa is not None and fa.status == 200,
              "alice (127.0.0.2) during the flood: %s" % (fa and fa.first))
        fb = b.join()
        check(fb is not None and fb.status == 200,
              "bob (127.0.0.3) during the flood: %s" % (fb and fb.first))
        a.stream()
        b.stream()
        t_meas = time.monotonic() + 1.0
        fl.join(FLOOD_S + 5)
        check(not fl.is_alive(), "flooder did not finish")
        cpu = cpu_s(d.proc.pid) - cpu0
        ct.log("chorusd used %.2f s of CPU during the %.1f s flood (%.0f%% of one core, "
               "media of the two callers included)" % (cpu, fl.elapsed,
                                                       100.0 * cpu / fl.elapsed))
        ct.log("flood: %d INVITEs in %.2f s from 127.0.0.1; %d got an answer %s; "
               "last first-answer at %.2f s" % (
                   fl.sent, fl.elapsed, len(fl.answered), sorted(fl.codes.items()),
                   max(fl.answered.values()) if fl.answered else -1))
        check(fl.sent == FLOOD_MAX, "only %d INVITEs sent" % fl.sent)
        # before the ban: the bucket (burst) plus its refill over the
        # ~0.2 s the flood takes to empty it, with slack for pacing
        bound = PIKE_BURST + PIKE_RATE * 1 + 20
        check(0 < len(fl.answered) <= bound,
              "%d flood INVITEs were answered (expected 1..%d)" % (len(fl.answered), bound))
        check(max(fl.answered.values()) < 1.0,
              "a flood INVITE sent after the ban was answered (at %.2f s)"
              % max(fl.answered.values()))

        # later requests from the banned source: no answer at all
        fl.ua.sock.setblocking(True)
        r_opt = fl.ua.options(timeout=2.0)
        check(r_opt is None, "banned source got %s to OPTIONS" % (r_opt and r_opt.first))

        # one ban line for 127.0.0.1
        log = d.log_text()
        bans = [l for l in log.splitlines() if "guard:" in l and "banned" in l]
        ct.log("ban lines: %s" % bans)
        check(len(bans) == 1 and "127.0.0.1" in bans[0],
              "expected one ban line for 127.0.0.1, got %d: %s" % (len(bans), bans[:3]))
        check("127.0.0.2" not in log.split("banned")[0][-200:], "alice banned?")

        # alice and bob hear each other (the flood was on meanwhile)
        wait = t_meas + 2.5 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        t1 = time.monotonic()
        for me, other in ((a, b), (b, a)):
            n, x = me.heard(t_meas, t1)
            lvl = ct.tone_level_db(x, 8000, other.freq)
            own = ct.tone_level_db(x, 8000, me.freq)
            ct.log("%s: %d packets, %.0f Hz (other) %.1f dBFS, %.0f Hz (own) %.1f dBFS"
                   % (me.name, n, other.freq, lvl, me.freq, own))
            check(n >= 0.8 * 50 * (t1 - t_meas), "%s got only %d RTP packets in %.1f s"
                  % (me.name, n, t1 - t_meas))
            check(lvl > -25.0, "%s does not hear %s (%.1f dBFS)" % (me.name, other.name, lvl))
            check(own < lvl - 20.0, "%s hears itself (%.1f dBFS)" % (me.name, own))
        for p in (a, b):
            p.peer.stop_stream()
            rb = p.call.bye()
            check(rb is not None and rb.status == 200, "%s BYE: %s" % (p.name, rb and rb.first))
    except ct.TestFailure:
        d.dump_log(60)
        raise
    finally:
        a.close()
        b.close()


def test_caps(r):
    d = ct.Daemon(r.tmp.path, name="chorusd-caps", conf={
        "max_legs_total": "4", "max_dialogs_per_source": "2", "retry_after": "7",
        "pike_rate": "100", "overload_permille": "800", "pike_exempt": "127.0.0.9"})
    d.start()
    r.cleanups.append(lambda: stop_checked(r, d))
    parties = []
    try:
        p1 = [Party(d, "127.0.0.4", "p1a", 500.0), Party(d, "127.0.0.4", "p1b", 600.0),
              Party(d, "127.0.0.4", "p1c", 700.0)]
        p2 = [Party(d, "127.0.0.5", "p2a", 800.0), Party(d, "127.0.0.5", "p2b", 900.0)]
        p3 = Party(d, "127.0.0.6", "p3", 1000.0)
        parties = p1 + p2 + [p3]
        for p in p1[:2]:
            f = p.join()
            check(f is not None and f.status == 200, "%s: %s" % (p.name, f and f.first))
        f = p1[2].join()
        check(f is not None and f.status == 503, "third dialog from 127.0.0.4: %s (want 503)"
              % (f and f.first))
        check(f.get("retry-after") == "7", "503 without Retry-After: 7 (%r)"
              % f.get("retry-after"))
        ct.log("per-source cap: %s, Retry-After %s" % (f.first, f.get("retry-after")))
        for p in p2:
            f = p.join()
            check(f is not None and f.status == 200, "%s (other source): %s"
                  % (p.name, f and f.first))
        f = p3.join()
        check(f is not None and f.status == 503, "fifth leg with max_legs_total 4: %s"
              % (f and f.first))
        check(f.get("retry-after") == "7", "total cap 503 without Retry-After: 7")
        ct.log("total cap: %s, Retry-After %s" % (f.first, f.get("retry-after")))
        rb = p1[0].call.bye()
        check(rb is not None and rb.status == 200, "BYE: %s" % (rb and rb.first))
        time.sleep(0.3)
        f = p1[2].join()
        check(f is not None and f.status == 200, "after a BYE 127.0.0.4 may call again: %s"
              % (f and f.first))
        log = d.log_text()
        check("max_dialogs_per_source" in log and "max_legs_total" in log,
              "the 503s are not logged with their reason")
        for p in (p1[1], p1[2], p2[0], p2[1]):
            rb = p.call.bye()
            check(rb is not None and rb.status == 200, "%s BYE: %s" % (p.name, rb and rb.first))
        # a source in pike_exempt (a trunk): three dialogs despite the cap of 2
        trunk = [Party(d, "127.0.0.9", "trunk%d" % i, 400.0 + 100 * i) for i in range(3)]
        parties += trunk
        time.sleep(0.3)
        for p in trunk:
            f = p.join()
            check(f is not None and f.status == 200, "%s from the exempt 127.0.0.9: %s"
                  % (p.name, f and f.first))
        ct.log("exempt source: 3 dialogs from 127.0.0.9 with max_dialogs_per_source 2")
        for p in trunk:
            p.call.bye()
    except ct.TestFailure:
        d.dump_log(60)
        raise
    finally:
        for p in parties:
            p.close()


def test_overload(r):
    d = ct.Daemon(r.tmp.path, name="chorusd-load", conf={
        "media_workers": "1", "overload_permille": "1", "pike_rate": "100",
        "max_dialogs_per_source": "0", "max_legs_total": "0"})
    d.start()
    r.cleanups.append(lambda: stop_checked(r, d))
    ps = [Party(d, "127.0.0.%d" % (10 + i), "load%d" % i, f)
          for i, f in enumerate((500.0, 800.0, 1100.0, 1400.0))]
    late = Party(d, "127.0.0.20", "late", 1700.0)
    try:
        for p in ps:
            f = p.join(room="3600")
            check(f is not None and f.status == 200, "%s: %s" % (p.name, f and f.first))
            p.stream()
        time.sleep(2.5)           # the worker publishes its load once a second
        f = late.join(room="3600")
        check(f is not None and f.status == 503, "INVITE to an overloaded worker: %s "
              "(want 503)" % (f and f.first))
        check(f.get("retry-after"), "503 without Retry-After")
        lines = [l for l in d.log_text().splitlines() if "overloaded" in l]
        ct.log("overload: %s; %s" % (f.first, lines[-1] if lines else "no log line"))
        check(lines, "the overload 503 is not logged")
        t0 = time.monotonic()
        time.sleep(2.0)
        t1 = time.monotonic()
        for p in ps:
            n, x = p.heard(t0, t1)
            others = [q for q in ps if q is not p]
            lv = [ct.tone_level_db(x, 8000, q.freq) for q in others]
            check(n >= 0.8 * 50 * (t1 - t0) and min(lv) > -30,
                  "%s after the 503: %d packets, others at %s dBFS" % (
                      p.name, n, ["%.1f" % v for v in lv]))
        for p in ps:
            p.peer.stop_stream()
            p.call.bye()
    except ct.TestFailure:
        d.dump_log(40)
        raise
    finally:
        for p in ps + [late]:
            p.close()


def main():
    r = ct.Runner("flood")
    r.sub("flood", test_flood, r)
    r.sub("caps", test_caps, r)
    r.sub("overload", test_overload, r)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
