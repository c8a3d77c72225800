"""chorustest: harness for the chorus integration tests.

Starts the real chorusd (env CHORUSD) with a temporary config on 127.0.0.1,
drives baresip clients (aufile source, sndfile recorder, ctrl_tcp control),
speaks SIP over raw sockets, writes and analyses test tones.

Rules kept here: every process we start is stopped by its PID, every wait
is bounded, every address is 127.0.0.1.
"""
import os
import sys

# numpy comes from Debian's python3-numpy; a pyenv/venv interpreter found
# first on PATH may lack it, so re-run the test under the system python.
try:
    import numpy as np
except ImportError:  # pragma: no cover
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3") \
            and not os.environ.get("CHORUSTEST_REEXEC"):
        os.environ["CHORUSTEST_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

import json
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import wave

HOST = "127.0.0.1"


# --------------------------------------------------------------------------
# small helpers

class TestFailure(Exception):
    pass


def log(*a):
    print("[%7.2f]" % (time.monotonic() - _T0), *a, flush=True)


_T0 = time.monotonic()


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(pred, timeout, step=0.05, what="condition"):
    """Poll pred() until it returns a true value or timeout s pass."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise TestFailure("timeout (%.1f s) waiting for %s" % (timeout, what))
        time.sleep(step)


def _port_free(port, udp=True, tcp=True):
    socks = []
    try:
        if udp:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks.append(s)
            s.bind((HOST, port))
        if tcp:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((HOST, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


_used_ports = set()


def free_port(span=1, udp=True, tcp=True):
    """A port p such that p..p+span-1 are free for UDP and TCP on 127.0.0.1."""
    rnd = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(500):
        p = rnd.randrange(21000, 32000)
        rng = range(p, p + span)
        if any(q in _used_ports for q in rng):
            continue
        if all(_port_free(q, udp, tcp) for q in rng):
            _used_ports.update(rng)
            return p
    raise TestFailure("no free port found")


def rtp_range(width=200):
    """A per-test RTP port range (even start) in 33000..60999, free now."""
    rnd = random.Random(os.getpid() * 7919 + int(time.time()))
    for _ in range(200):
        lo = rnd.randrange(33000, 61000 - width) & ~1
        rng = range(lo, lo + width)
        if any(q in _used_ports for q in rng):
            continue
        # sample a few ports; a full scan of 200 ports is cheap enough too
        if all(_port_free(q, udp=True, tcp=False) for q in rng[::7]):
            _used_ports.update(rng)
            return lo, lo + width - 1
    raise TestFailure("no free RTP range found")


_started = []   # every Popen we started, for the exit safety net


def _kill_leftovers():
    """Safety net if a test dies with an exception before its cleanup:
    kill what we started, by PID."""
    for p in _started:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


import atexit  # noqa: E402
atexit.register(_kill_leftovers)


def stop_pid(proc, name, timeout=8.0, sig=signal.SIGTERM):
    """Stop a subprocess.Popen by its PID: sig, bounded wait, then SIGKILL.
    Returns (returncode, killed)."""
    if proc.poll() is not None:
        return proc.returncode, False
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(timeout), False
    except subprocess.TimeoutExpired:
        log("%s (pid %d) did not exit within %.1f s: SIGKILL" % (name, proc.pid, timeout))
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return proc.wait(5), True


class TempDir:
    """A temporary directory kept when CHORUSTEST_KEEP=1 or on failure."""

    def __init__(self, prefix):
        self.path = tempfile.mkdtemp(prefix=prefix)
        self.keep = bool(os.environ.get("CHORUSTEST_KEEP"))

    def cleanup(self, failed=False):
        if self.keep or failed:
            log("kept work dir", self.path)
            return
        shutil.rmtree(self.path, ignore_errors=True)


# --------------------------------------------------------------------------
# chorusd

SAN_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                "WARNING: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def chorusd_path():
    p = os.environ.get("CHORUSD")
    if not p:
        b = os.environ.get("CHORUS_BUILD")
        if b:
            p = os.path.join(b, "src", "chorusd")
    if not p or not os.path.exists(p):
        raise TestFailure("chorusd binary not found (env CHORUSD=%r)" % p)
    return p


def src_dir():
    return os.environ.get("CHORUS_SRC") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))


def _rewrite_conf(text, overrides):
    """Replace live "key value" lines for keys in overrides (a key set
    twice is an error for chorusd, so later duplicates are dropped);
    append keys that were not present. A value of None removes the key."""
    out = []
    done = set()
    for line in text.splitlines():
        m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\s|$)", line)
        key = m.group(1) if m else None
        if key in overrides:
            if key not in done and overrides[key] is not None:
                out.append("%s\t%s" % (key, overrides[key]))
            done.add(key)
            continue
        out.append(line)
    for k, v in overrides.items():
        if k not in done and v is not None:
            out.append("%s\t%s" % (k, v))
    return "\n".join(out) + "\n"


# Defaults from the brief, used while conf/chorus.conf does not exist.
_FALLBACK_CHORUS_CONF = """# chorus.conf written by chorustest (no conf/chorus.conf in the tree)
sip_listen 127.0.0.1:5060
sip_udp yes
sip_tcp yes
rtp_port_min 40000
rtp_port_max 40999
media_workers 2
room_srate 48000
codecs opus,G722,PCMU,PCMA
rtp_timeout 30
log_level info
"""


class Daemon:
    """One chorusd on 127.0.0.1 with a temporary config dir.

    conf: extra chorus.conf key -> value overrides.
    rooms_extra: text appended to rooms.conf (e.g. a small room).
    """

    def __init__(self, workdir, conf=None, rooms_extra="", rooms_text=None,
                 name="chorusd", admission=False, rooms_conf=None):
        self.workdir = workdir
        self.name = name
        self.cfgdir = os.path.join(workdir, "conf-" + name)
        self.logpath = os.path.join(workdir, name + ".log")
        self.sip_port = free_port(1)
        self.rtp_min, self.rtp_max = rtp_range(200)
        self.proc = None
        self.logf = None
        self.conf_overrides = dict(conf or {})
        self.rooms_extra = rooms_extra
        self.rooms_text = rooms_text
        self.admission = admission   # keep pike/overload limits of conf/
        self.rooms_conf = dict(rooms_conf or {})   # rooms.conf key -> value
        self._write_config()

    @property
    def addr(self):
        return (HOST, self.sip_port)

    def _write_config(self):
        os.makedirs(self.cfgdir, exist_ok=True)
        srcconf = os.path.join(src_dir(), "conf")
        for f in ("chorus.conf", "rooms.conf"):
            p = os.path.join(srcconf, f)
            if os.path.exists(p):
                shutil.copy(p, os.path.join(self.cfgdir, f))
        cpath = os.path.join(self.cfgdir, "chorus.conf")
        if os.path.exists(cpath):
            with open(cpath) as fh:
                text = fh.read()
        else:
            text = _FALLBACK_CHORUS_CONF
        ov = {
            "sip_listen": "%s:%d" % (HOST, self.sip_port),
            "rtp_port_min": str(self.rtp_min),
            "rtp_port_max": str(self.rtp_max),
        }
        # keys that would make chorusd open something outside 127.0.0.1
        # or our port range are pointed at loopback / turned off
        if re.search(r"(?m)^\s*sip_tls\s", text):
            ov["sip_tls"] = "no"
        if re.search(r"(?m)^\s*tls_listen\s", text):
            ov["tls_listen"] = "%s:%d" % (HOST, free_port(1))
        if re.search(r"(?m)^\s*public_addr\s", text):
            ov["public_addr"] = None
        for key in ("http_listen", "ctrl_listen", "metrics_listen", "api_listen"):
            if re.search(r"(?m)^\s*%s\s" % key, text):
                ov[key] = "%s:%d" % (HOST, free_port(1))
        if not self.admission:
            # every test client comes from 127.0.0.1 and a loaded CI box
            # may push a worker over its budget: flood bans and overload
            # 503s are not what these tests are about (0 = off)
            for key in ("pike_rate", "overload_permille"):
                if re.search(r"(?m)^\s*%s\s" % key, text):
                    ov[key] = "0"
        ov.update(self.conf_overrides)
        with open(cpath, "w") as fh:
            fh.write(_rewrite_conf(text, ov))
        rpath = os.path.join(self.cfgdir, "rooms.conf")
        if self.rooms_text is not None:
            rtext = self.rooms_text
        elif os.path.exists(rpath):
            with open(rpath) as fh:
                rtext = fh.read()
        else:
            rtext = "# rooms.conf written by chorustest\n"
        if self.rooms_conf:
            rtext = _rewrite_conf(rtext, self.rooms_conf)
        if self.rooms_extra:
            rtext = rtext.rstrip("\n") + "\n\n# added by chorustest\n" + self.rooms_extra
        with open(rpath, "w") as fh:
            fh.write(rtext)

    def start(self, timeout=15.0):
        exe = chorusd_path()
        self.logf = open(self.logpath, "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        log("start %s -f %s (SIP %d, RTP %d-%d)" % (exe, self.cfgdir, self.sip_port,
                                                   self.rtp_min, self.rtp_max))
        self.proc = subprocess.Popen([exe, "-f", self.cfgdir], stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, env=env)
        _started.append(self.proc)
        # wait until it answers OPTIONS on UDP (bounded)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise TestFailure("chorusd exited early with status %s" % self.proc.returncode)
            try:
                with SipUA(self.addr, "udp") as ua:
                    r = ua.options(timeout=0.5, retrans=False)
                    if r is not None:
                        log("chorusd answers OPTIONS: %d %s" % (r.status, r.reason))
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TestFailure("chorusd did not answer OPTIONS on %s:%d within %.0f s"
                          % (HOST, self.sip_port, timeout))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        return read_text(self.logpath)

    def signal(self, sig):
        """Send sig to chorusd by its PID (SIGTERM: stop() then only waits)."""
        if sig == signal.SIGTERM:
            self.terminated = True
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=10.0):
        """SIGTERM, bounded wait, SIGKILL. Returns a list of problems."""
        problems = []
        if self.proc is None:
            return problems
        if getattr(self, "terminated", False):
            try:
                rc = self.proc.wait(timeout)
                if rc != 0:
                    problems.append("chorusd exit status %s after SIGTERM (expected 0)" % rc)
            except subprocess.TimeoutExpired:
                stop_pid(self.proc, "chorusd", 1, signal.SIGKILL)
                problems.append("chorusd did not exit within %.0f s of SIGTERM" % timeout)
        elif self.proc.poll() is not None:
            problems.append("chorusd died during the test (status %s)" % self.proc.returncode)
        else:
            rc, killed = stop_pid(self.proc, "chorusd", timeout)
            if killed:
                problems.append("chorusd did not exit within %.0f s of SIGTERM" % timeout)
            elif rc != 0:
                problems.append("chorusd exit status %s after SIGTERM (expected 0)" % rc)
        if self.logf:
            self.logf.close()
            self.logf = None
        text = self.log_text()
        for pat in SAN_PATTERNS:
            if pat in text:
                problems.append("sanitizer report in chorusd log: %r" % pat)
        return problems

    def dump_log(self, tail=400):
        lines = self.log_text().splitlines()
        print("----- chorusd log (%s, last %d of %d lines) -----" % (self.logpath,
              min(tail, len(lines)), len(lines)))
        for l in lines[-tail:]:
            print("  | " + l)
        print("----- end of chorusd log -----", flush=True)


# --------------------------------------------------------------------------
# SIP over sockets

_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact",
            "l": "content-length", "c": "content-type", "k": "supported",
            "e": "content-encoding", "s": "subject", "o": "event", "u": "allow-events",
            "r": "refer-to", "b": "referred-by", "x": "session-expires"}


def rand_token(n=10):
    return "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


class SipMsg:
    def __init__(self, raw, src=None):
        self.raw = raw
        self.src = src
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("utf-8", "replace").split("\r\n")
        self.first = lines[0]
        self.headers = []
        for l in lines[1:]:
            if l[:1] in (" ", "\t") and self.headers:
                n, v = self.headers[-1]
                self.headers[-1] = (n, v + " " + l.strip())
                continue
            n, _, v = l.partition(":")
            n = n.strip().lower()
            n = _COMPACT.get(n, n)
            self.headers.append((n, v.strip()))
        self.body = body
        if self.first.startswith("SIP/2.0"):
            parts = self.first.split(" ", 2)
            self.is_request = False
            self.status = int(parts[1])
            self.reason = parts[2] if len(parts) > 2 else ""
            self.method = None
        else:
            parts = self.first.split(" ")
            self.is_request = True
            self.method = parts[0]
            self.ruri = parts[1] if len(parts) > 1 else ""
            self.status = None
            self.reason = None

    def get(self, name, default=None):
        name = name.lower()
        for n, v in self.headers:
            if n == name:
                return v
        return default

    def get_all(self, name):
        """All values, comma-separated header values split (not for
        headers with quoted commas such as Warning)."""
        name = name.lower()
        return [v for n, v in self.headers if n == name]

    def tokens(self, name):
        out = []
        for v in self.get_all(name):
            out += [t.strip() for t in v.split(",") if t.strip()]
        return out

    @property
    def cseq(self):
        v = self.get("cseq", "0 X").split()
        return int(v[0]), v[1]

    @property
    def branch(self):
        via = self.get("via", "")
        m = re.search(r";\s*branch=([^;,\s]+)", via)
        return m.group(1) if m else None

    @property
    def to_tag(self):
        m = re.search(r";\s*tag=([^;,\s>]+)", self.get("to", ""))
        return m.group(1) if m else None

    @property
    def from_tag(self):
        m = re.search(r";\s*tag=([^;,\s>]+)", self.get("from", ""))
        return m.group(1) if m else None

    def contact_uri(self):
        c = self.get("contact")
        if not c:
            return None
        m = re.search(r"<([^>]+)>", c)
        return m.group(1) if m else c.split(";")[0].strip()

    def summary(self):
        return self.first

    def __str__(self):
        return self.raw.decode("utf-8", "replace")


class Dialog:
    def __init__(self, call_id, local_tag, remote_tag, local_uri, remote_uri,
                 remote_target, route_set, cseq):
        self.call_id = call_id
        self.local_tag = local_tag
        self.remote_tag = remote_tag
        self.local_uri = local_uri
        self.remote_uri = remote_uri
        self.remote_target = remote_target
        self.route_set = route_set
        self.cseq = cseq


class SipUA:
    """A scripted SIP user agent over UDP or TCP to one server address.

    Synchronous: calls block with bounded timeouts. Requests that arrive
    from the server while we wait (BYE, re-INVITE, OPTIONS, NOTIFY) are
    answered 200 automatically (re-INVITE with our last SDP) and kept in
    self.incoming.
    """

    def __init__(self, server, transport="udp", user="tester"):
        self.server = server
        self.transport = transport.lower()
        self.user = user
        if self.transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((HOST, 0))
        elif self.transport == "tcp":
            self.sock = socket.create_connection(server, timeout=3)
        else:
            raise ValueError(transport)
        self.laddr = self.sock.getsockname()
        self.tbuf = b""
        self.queue = []        # received messages not yet consumed
        self.incoming = []     # requests from the server we answered
        self.trace = []        # (dir, first line) for failure reports
        self.local_sdp = None  # answer re-INVITEs with this

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # ---- wire

    @property
    def via_transport(self):
        return self.transport.upper()

    def contact(self):
        return "<sip:%s@%s:%d;transport=%s>" % (self.user, self.laddr[0], self.laddr[1],
                                                 self.transport)

    def send_raw(self, data, dst=None):
        if isinstance(data, str):
            data = data.encode()
        self.trace.append((">>", data.split(b"\r\n", 1)[0].decode("utf-8", "replace")))
        if self.transport == "udp":
            self.sock.sendto(data, dst or self.server)
        else:
            self.sock.sendall(data)

    def _read_one(self, timeout):
        """Read one SIP message from the socket, or None on timeout."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if self.transport == "tcp":
                msg = self._tcp_extract()
                if msg:
                    return msg
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                if self.transport == "udp":
                    data, src = self.sock.recvfrom(65535)
                    if not data.strip():
                        continue      # keep-alive
                    msg = SipMsg(data, src)
                    self.trace.append(("<<", msg.first))
                    return msg
                data = self.sock.recv(65535)
                if not data:
                    raise TestFailure("TCP connection closed by chorusd")
                self.tbuf += data
            except socket.timeout:
                return None

    def _tcp_extract(self):
        while self.tbuf.startswith(b"\r\n"):
            self.tbuf = self.tbuf[2:]
        i = self.tbuf.find(b"\r\n\r\n")
        if i < 0:
            return None
        head = self.tbuf[:i].decode("utf-8", "replace")
        m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
        clen = int(m.group(1)) if m else 0
        total = i + 4 + clen
        if len(self.tbuf) < total:
            return None
        raw, self.tbuf = self.tbuf[:total], self.tbuf[total:]
        msg = SipMsg(raw, self.server)
        self.trace.append(("<<", msg.first))
        return msg

    def recv(self, timeout):
        """Next message (queued first). Server requests are auto-answered
        and also returned."""
        if self.queue:
            return self.queue.pop(0)
        msg = self._read_one(timeout)
        if msg is not None and msg.is_request:
            self._auto_answer(msg)
        return msg

    def _auto_answer(self, req):
        self.incoming.append(req)
        if req.method == "ACK":
            return
        body = ""
        ctype = None
        if req.method == "INVITE" and self.local_sdp:
            body, ctype = self.local_sdp, "application/sdp"
            if req.body.strip():
                # mirror the offer's direction (hold: sendonly -> recvonly)
                d = {"sendonly": "recvonly", "recvonly": "sendonly",
                     "inactive": "inactive"}.get(Sdp(req.body).direction, "sendrecv")
                body = set_sdp_direction(body, d)
        extra = []
        if req.method in ("INVITE",):
            extra.append("Contact: " + self.contact())
        self.send_raw(self.response_to(req, 200, "OK", extra, body, ctype),
                      dst=req.src if self.transport == "udp" else None)

    def response_to(self, req, code, reason, extra=(), body="", ctype=None):
        lines = ["SIP/2.0 %d %s" % (code, reason)]
        for n in ("via", "from", "to", "call-id", "cseq"):
            for v in req.get_all(n):
                name = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID",
                        "cseq": "CSeq"}[n]
                if n == "to" and ";tag=" not in v and code > 100:
                    v += ";tag=" + getattr(self, "_resp_tag", "r" + rand_token(6))
                lines.append("%s: %s" % (name, v))
        lines += list(extra)
        lines.append("User-Agent: chorustest")
        if ctype:
            lines.append("Content-Type: " + ctype)
        b = body.encode() if isinstance(body, str) else body
        lines.append("Content-Length: %d" % len(b))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + b

    # ---- request building

    def build(self, method, ruri, call_id, from_tag, cseq, branch, to_uri=None,
              to_tag=None, from_uri=None, headers=(), body=b"", ctype=None,
              route_set=(), content_length=None):
        from_uri = from_uri or "sip:%s@%s" % (self.user, HOST)
        to_uri = to_uri or ruri
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (self.via_transport, self.laddr[0],
                                                            self.laddr[1], branch),
                 "Max-Forwards: 70"]
        for r in route_set:
            lines.append("Route: " + r)
        lines += ["From: <%s>;tag=%s" % (from_uri, from_tag),
                  "To: <%s>%s" % (to_uri, ";tag=" + to_tag if to_tag else ""),
                  "Call-ID: %s" % call_id,
                  "CSeq: %d %s" % (cseq, method)]
        if method in ("INVITE", "SUBSCRIBE", "REFER") or (method == "ACK" and body):
            lines.append("Contact: " + self.contact())
        lines += list(headers)
        lines.append("User-Agent: chorustest")
        if isinstance(body, str):
            body = body.encode()
        if body:
            lines.append("Content-Type: " + (ctype or "application/sdp"))
        lines.append("Content-Length: %d" % (len(body) if content_length is None
                                            else content_length))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    # ---- transactions

    def transact(self, req, branch, method, timeout=8.0, retrans=True,
                 provisional=None):
        """Send req, retransmit on UDP (Timer A/E), collect the final
        response of this transaction. Returns (final or None, [provisionals])."""
        provs = []
        self.send_raw(req)
        t1 = 0.5
        next_rt = time.monotonic() + t1
        end = time.monotonic() + timeout
        got_prov = False
        while time.monotonic() < end:
            wait = min(end, next_rt) - time.monotonic()
            msg = self.recv(max(0.0, wait))
            now = time.monotonic()
            if msg is None:
                if (retrans and self.transport == "udp" and now >= next_rt
                        and not (method == "INVITE" and got_prov)):
                    self.send_raw(req)
                    t1 = min(t1 * 2, 4.0)
                    next_rt = now + t1
                elif now >= next_rt:
                    next_rt = now + 3600
                continue
            if msg.is_request:
                continue
            if msg.branch != branch or msg.cseq[1] != method:
                self.queue_stray(msg)
                continue
            if msg.status < 200:
                provs.append(msg)
                got_prov = True
                if method != "INVITE":
                    t1 = 4.0
                if provisional:
                    provisional(msg)
                continue
            return msg, provs
        return None, provs

    def queue_stray(self, msg):
        # responses for other transactions (e.g. the INVITE's 487 while we
        # wait for the CANCEL's 200) are kept for whoever asks next
        self.strays = getattr(self, "strays", [])
        self.strays.append(msg)

    def take_stray(self, pred):
        for i, m in enumerate(getattr(self, "strays", [])):
            if pred(m):
                return self.strays.pop(i)
        return None

    def wait_response(self, pred, timeout):
        """A response matching pred, from strays or the wire."""
        m = self.take_stray(pred)
        if m:
            return m
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = self.recv(end - time.monotonic())
            if msg is None:
                break
            if msg.is_request:
                continue
            if pred(msg):
                return msg
            self.queue_stray(msg)
        return None

    def wait_request(self, method, timeout, call_id=None, answer=True):
        """Wait for a request from the server (auto-answered 200 unless
        answer=False, then it is only queued). Returns it or None."""
        def match(m):
            return m.method == method and (call_id is None or m.get("call-id") == call_id)
        for m in self.incoming:
            if match(m):
                self.incoming.remove(m)
                return m
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if answer:
                msg = self.recv(end - time.monotonic())
                if msg is None:
                    break
                if msg.is_request and match(msg):
                    self.incoming.remove(msg)
                    return msg
                if not msg.is_request:
                    self.queue_stray(msg)
            else:
                msg = self._read_one(end - time.monotonic())
                if msg is None:
                    break
                if msg.is_request and match(msg):
                    return msg
                if msg.is_request:
                    self._auto_answer(msg)
                else:
                    self.queue_stray(msg)
        return None

    def options(self, ruri=None, timeout=4.0, retrans=True, headers=()):
        ruri = ruri or "sip:%s:%d" % self.server
        branch = "z9hG4bK" + rand_token()
        req = self.build("OPTIONS", ruri, rand_token(16) + "@chorustest", rand_token(8), 1,
                         branch, headers=["Accept: application/sdp"] + list(headers))
        r, _ = self.transact(req, branch, "OPTIONS", timeout=timeout, retrans=retrans)
        return r

    def room_uri(self, room):
        return "sip:%s@%s:%d" % (room, self.server[0], self.server[1])

    def invite(self, room, sdp=None, headers=(), timeout=10.0, ack=True,
               ruri=None, provisional=None):
        """Send an INVITE, wait for the final response, ACK it. Returns a
        Call (call.final is the final response or None)."""
        call = Call(self, ruri or self.room_uri(room))
        call.send_invite(sdp, headers)
        call.wait_final(timeout, provisional=provisional)
        if ack and call.final is not None:
            if call.final.status >= 300:
                call.ack_non2xx()
            elif 200 <= call.final.status < 300 and call.final.body.strip() and sdp is None:
                pass    # late offer: the caller sends the ACK with its answer
            else:
                call.ack_2xx()
        return call

    def format_trace(self):
        return "\n".join("    %s %s" % t for t in self.trace)


class Call:
    """One INVITE dialog from the scripted UA."""

    def __init__(self, ua, ruri):
        self.ua = ua
        self.ruri = ruri
        self.call_id = rand_token(16) + "@chorustest"
        self.from_tag = rand_token(8)
        self.cseq = 1
        self.branch = None
        self.invite_raw = None
        self.final = None
        self.provisionals = []
        self.dialog = None
        self.sdp = None

    def send_invite(self, sdp=None, headers=(), content_length=None, ctype=None):
        self.branch = "z9hG4bK" + rand_token()
        self.sdp = sdp
        if sdp is not None:
            self.ua.local_sdp = sdp
        self.invite_raw = self.ua.build("INVITE", self.ruri, self.call_id, self.from_tag,
                                        self.cseq, self.branch, headers=headers,
                                        body=sdp or b"", ctype=ctype,
                                        content_length=content_length)
        self.ua.send_raw(self.invite_raw)
        self._next_rt = time.monotonic() + 0.5
        self._t1 = 0.5
        self._got_prov = False

    def wait_final(self, timeout=10.0, provisional=None):
        """Wait for the INVITE's final response (retransmitting on UDP
        until a provisional arrives)."""
        m = self.ua.take_stray(lambda r: r.branch == self.branch and r.cseq[1] == "INVITE"
                               and r.status >= 200)
        if m:
            self.final = m
            self._on_final()
            return m
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            wait = min(end, self._next_rt) - time.monotonic()
            msg = self.ua.recv(max(0.0, wait))
            now = time.monotonic()
            if msg is None:
                if self.ua.transport == "udp" and not self._got_prov and now >= self._next_rt:
                    self.ua.send_raw(self.invite_raw)
                    self._t1 = min(self._t1 * 2, 4.0)
                    self._next_rt = now + self._t1
                elif now >= self._next_rt:
                    self._next_rt = now + 3600
                continue
            if msg.is_request:
                continue
            if msg.branch != self.branch or msg.cseq[1] != "INVITE":
                self.ua.queue_stray(msg)
                continue
            if msg.status < 200:
                self.provisionals.append(msg)
                self._got_prov = True
                if provisional:
                    provisional(msg)
                continue
            self.final = msg
            self._on_final()
            return msg
        return None

    def _on_final(self):
        r = self.final
        if 200 <= r.status < 300:
            rr = r.get_all("record-route")
            self.dialog = Dialog(self.call_id, self.from_tag, r.to_tag,
                                 "sip:%s@%s" % (self.ua.user, HOST), self.ruri,
                                 r.contact_uri() or self.ruri, list(reversed(rr)), self.cseq)

    def ack_non2xx(self):
        """ACK for a non-2xx final response: same branch, To tag of the response."""
        req = self.ua.build("ACK", self.ruri, self.call_id, self.from_tag, self.cseq,
                            self.branch, to_tag=self.final.to_tag)
        self.ua.send_raw(req)

    def ack_2xx(self, body=None):
        """ACK for a 2xx: a new transaction inside the dialog (body = late-offer answer)."""
        d = self.dialog
        req = self.ua.build("ACK", d.remote_target, self.call_id, self.from_tag, self.cseq,
                            "z9hG4bK" + rand_token(), to_uri=d.remote_uri, to_tag=d.remote_tag,
                            body=body or b"", route_set=d.route_set)
        if body:
            self.ua.local_sdp = body
        self.ua.send_raw(req)

    def cancel(self):
        """Send CANCEL for the pending INVITE (same branch, R-URI, CSeq number)."""
        req = self.ua.build("CANCEL", self.ruri, self.call_id, self.from_tag, self.cseq,
                            self.branch)
        self.ua.send_raw(req)
        return req

    def request(self, method, headers=(), body=b"", ctype=None, timeout=8.0):
        """An in-dialog request (BYE, INFO, re-INVITE...). Returns the final response."""
        d = self.dialog
        d.cseq += 1
        self.cseq = d.cseq
        branch = "z9hG4bK" + rand_token()
        req = self.ua.build(method, d.remote_target, self.call_id, self.from_tag, d.cseq,
                            branch, to_uri=d.remote_uri, to_tag=d.remote_tag, headers=headers,
                            body=body, ctype=ctype, route_set=d.route_set)
        if method == "INVITE":
            self.branch = branch
            self.invite_raw = req
            self.ua.send_raw(req)
            self._next_rt = time.monotonic() + 0.5
            self._t1 = 0.5
            self._got_prov = False
            r = self.wait_final(timeout)
            if r is not None and r.status >= 200:
                if r.status < 300:
                    self.ack_2xx()
                else:
                    self.ack_non2xx()
            return r
        r, _ = self.ua.transact(req, branch, method, timeout=timeout)
        return r

    def bye(self, timeout=8.0):
        return self.request("BYE", timeout=timeout)


def read_text(path):
    """A log file as text ("" while it does not exist)."""
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def bye_quietly(call, timeout=3):
    """BYE at cleanup, best effort: that the call is gone already (or was
    never set up, or chorusd has stopped) is not what the test checks."""
    try:
        call.bye(timeout=timeout)
    except Exception:  # noqa
        pass


# --------------------------------------------------------------------------
# SDP

def make_sdp(port, pts, rtpmap=None, ptime=None, extra=(), addr=HOST, direction=None,
             sess_id=None):
    """Audio SDP offering payload types pts (order = preference).
    rtpmap: {pt: "NAME/rate[/ch]"} for pts without a static mapping."""
    static = {0: "PCMU/8000", 8: "PCMA/8000", 9: "G722/8000", 3: "GSM/8000",
              18: "G729/8000"}
    rtpmap = rtpmap or {}
    sid = sess_id or random.randrange(1, 2 ** 31)
    lines = ["v=0",
             "o=chorustest %d %d IN IP4 %s" % (sid, sid, addr),
             "s=chorustest",
             "c=IN IP4 %s" % addr,
             "t=0 0",
             "m=audio %d RTP/AVP %s" % (port, " ".join(str(p) for p in pts))]
    for p in pts:
        m = rtpmap.get(p) or static.get(p)
        if m:
            lines.append("a=rtpmap:%d %s" % (p, m))
    lines += list(extra)
    if ptime:
        lines.append("a=ptime:%d" % ptime)
    if direction:
        lines.append("a=" + direction)
    return ("\r\n".join(lines) + "\r\n").encode()


def set_sdp_direction(sdp, direction):
    """Replace/insert the direction attribute of an SDP (bytes)."""
    text = sdp.decode() if isinstance(sdp, bytes) else sdp
    lines = [l for l in text.replace("\r\n", "\n").split("\n") if l and l not in (
        "a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive")]
    lines.append("a=" + direction)
    return ("\r\n".join(lines) + "\r\n").encode()


class Sdp:
    """Minimal SDP parser: session c=, first audio m= line and its attributes."""

    def __init__(self, body):
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        self.text = body
        self.conn = None
        self.port = None
        self.proto = None
        self.pts = []
        self.rtpmap = {}
        self.fmtp = {}
        self.attrs = []
        self.direction = "sendrecv"
        self.media_count = 0
        in_audio = False
        for line in body.replace("\r\n", "\n").split("\n"):
            line = line.strip()
            if line.startswith("c=") and (self.conn is None or in_audio):
                self.conn = line.split()[-1]
            elif line.startswith("m="):
                self.media_count += 1
                in_audio = line.startswith("m=audio") and self.port is None
                if in_audio:
                    f = line[2:].split()
                    self.port = int(f[1])
                    self.proto = f[2]
                    self.pts = [int(x) for x in f[3:] if x.isdigit()]
            elif line.startswith("a=") and (in_audio or self.port is None):
                a = line[2:]
                if in_audio:
                    self.attrs.append(a)
                if a.startswith("rtpmap:"):
                    pt, _, enc = a[7:].partition(" ")
                    self.rtpmap[int(pt)] = enc.strip()
                elif a.startswith("fmtp:"):
                    pt, _, v = a[5:].partition(" ")
                    self.fmtp[int(pt)] = v.strip()
                elif a in ("sendrecv", "sendonly", "recvonly", "inactive"):
                    self.direction = a

    def attr(self, name):
        for a in self.attrs:
            if a == name or a.startswith(name + ":"):
                return a.partition(":")[2]
        return None

    def codec(self, pt):
        static = {0: "PCMU/8000", 8: "PCMA/8000", 9: "G722/8000", 3: "GSM/8000"}
        return self.rtpmap.get(pt) or static.get(pt)

    def pt_for(self, name):
        for pt in self.pts:
            c = self.codec(pt)
            if c and c.split("/")[0].lower() == name.lower():
                return pt
        return None


# --------------------------------------------------------------------------
# RTP

def rtp_packet(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, ssrc) + payload


def rtp_parse(data):
    if len(data) < 12 or (data[0] >> 6) != 2:
        return None
    cc = data[0] & 0x0F
    x = (data[0] >> 4) & 1
    pt = data[1] & 0x7F
    seq, ts, ssrc = struct.unpack("!HII", data[2:12])
    off = 12 + 4 * cc
    if x and len(data) >= off + 4:
        ln = struct.unpack("!H", data[off + 2:off + 4])[0]
        off += 4 + 4 * ln
    payload = data[off:]
    if data[0] & 0x20 and payload:
        payload = payload[:-payload[-1]]
    return {"pt": pt, "seq": seq, "ts": ts, "ssrc": ssrc, "payload": payload,
            "marker": bool(data[1] & 0x80)}


def _lin2ulaw(x):
    """int16 numpy array -> G.711 mu-law bytes."""
    BIAS, CLIP = 0x84, 32635
    x = x.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), CLIP) + BIAS
    exp = np.floor(np.log2(mag)).astype(np.int32) - 7
    exp = np.clip(exp, 0, 7)
    mant = (mag >> (exp + 3)) & 0x0F
    return (~(sign | (exp << 4) | mant) & 0xFF).astype(np.uint8).tobytes()


def _ulaw2lin(b):
    u = ~np.frombuffer(b, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = u & 0x80
    exp = (u >> 4) & 7
    mant = u & 0x0F
    mag = (((mant << 3) + 0x84) << exp) - 0x84
    return np.where(sign, -mag, mag).astype(np.int16)


def _lin2alaw(x):
    x = x.astype(np.int32) >> 3            # 13-bit
    sign = np.where(x >= 0, 0x80, 0)
    mag = np.where(x >= 0, x, -x - 1)
    mag = np.minimum(mag, 0xFFF)
    exp = np.zeros_like(mag)
    for e in range(1, 8):
        exp = np.where(mag >= (0x20 << (e - 1)), e, exp)
    mant = np.where(exp == 0, mag >> 1, mag >> exp) & 0x0F
    return ((sign | (exp << 4) | mant) ^ 0x55).astype(np.uint8).tobytes()


def _alaw2lin(b):
    a = np.frombuffer(b, dtype=np.uint8).astype(np.int32) ^ 0x55
    sign = a & 0x80
    exp = (a >> 4) & 7
    mant = a & 0x0F
    mag = np.where(exp == 0, (mant << 4) + 8, ((mant << 4) + 0x108) << np.maximum(exp - 1, 0))
    return np.where(sign, mag, -mag).astype(np.int16)


def g711_encode(pcm16, law="PCMU"):
    return _lin2ulaw(pcm16) if law.upper() == "PCMU" else _lin2alaw(pcm16)


def g711_decode(data, law="PCMU"):
    return _ulaw2lin(data) if law.upper() == "PCMU" else _alaw2lin(data)


class RtpPeer:
    """A UDP socket that streams a G.711 tone to a remote address and
    collects what comes back (on the same socket, symmetric RTP)."""

    def __init__(self, port=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if port is None:
            port = free_port(2, tcp=False) & ~1
            # free_port returned an odd/even start; make sure we own the even one
        try:
            self.sock.bind((HOST, port))
        except OSError:
            self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.ssrc = random.randrange(1, 2 ** 32)
        self.seq = random.randrange(0, 65536)
        self.ts = random.randrange(0, 2 ** 32)
        self.received = []     # (time, src, parsed)

    def close(self):
        self.sock.close()

    def _recv_rtp(self):
        """Read one datagram (within the socket's timeout, else
        socket.timeout) and keep it with its arrival time if it is RTP."""
        data, src = self.sock.recvfrom(4096)
        p = rtp_parse(data)
        if p is not None:
            self.received.append((time.monotonic(), src, p))

    def stream(self, dst, pt, law, seconds, freq=1000.0, ptime=20, amp=0.3,
               collect=True):
        """Send seconds of a tone as G.711 RTP in real time; collect replies."""
        n = 8000 * ptime // 1000
        t0 = time.monotonic()
        k = 0
        phase = 0
        while True:
            due = t0 + k * ptime / 1000.0
            now = time.monotonic()
            if now - t0 >= seconds:
                break
            if now >= due:
                t = (np.arange(n) + phase) / 8000.0
                pcm = (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
                phase += n
                pkt = rtp_packet(pt, self.seq, self.ts, self.ssrc, g711_encode(pcm, law),
                                 marker=(k == 0))
                self.sock.sendto(pkt, dst)
                self.seq += 1
                self.ts += n
                k += 1
                continue
            if collect:
                self.sock.settimeout(max(0.0005, due - now))
                try:
                    self._recv_rtp()
                except socket.timeout:
                    pass
            else:
                time.sleep(max(0.0, due - now))

    def start_stream(self, dst, pt, law, freq, ptime=20, amp=0.25):
        """stream() in a background thread until stop_stream(); received
        packets keep their arrival times for received_between()."""
        import threading
        self._stop = False
        self.sending = True    # cleared: keep receiving, stop sending
        self.sent_times = []   # when each packet really left (send jitter)

        def run():
            n = 8000 * ptime // 1000
            t0 = time.monotonic()
            k = 0
            phase = 0
            while not self._stop:
                due = t0 + k * ptime / 1000.0
                now = time.monotonic()
                if now >= due:
                    if self.sending:
                        t = (np.arange(n) + phase) / 8000.0
                        pcm = (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)
                        pkt = rtp_packet(pt, self.seq, self.ts, self.ssrc,
                                         g711_encode(pcm, law), marker=(k == 0))
                        try:
                            self.sock.sendto(pkt, dst)
                            self.sent_times.append(now)
                        except OSError:
                            pass
                        self.seq += 1
                    phase += n
                    self.ts += n
                    k += 1
                    continue
                self.sock.settimeout(max(0.0005, due - now))
                try:
                    self._recv_rtp()
                except (socket.timeout, OSError):
                    pass

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop_stream(self):
        self._stop = True
        self._thread.join(5)

    def max_send_gap(self, t0, t1):
        """Largest gap between two sent packets in [t0, t1) (our own jitter)."""
        ts = [t for t in list(self.sent_times) if t0 <= t < t1]
        return max((b - a for a, b in zip(ts, ts[1:])), default=0.0)

    def received_between(self, t0, t1, pt=None):
        return [p for t, _, p in list(self.received)
                if t0 <= t < t1 and (pt is None or p["pt"] == pt)]

    def drain(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.sock.settimeout(max(0.001, end - time.monotonic()))
            try:
                self._recv_rtp()
            except socket.timeout:
                pass


# --------------------------------------------------------------------------
# tones and analysis

def write_tone(path, freq, srate, seconds=60.0, amp=0.25, channels=1):
    """A sine tone WAV, 16-bit. amp 0.25 = -12 dBFS peak."""
    n = int(srate * seconds)
    t = np.arange(n) / float(srate)
    x = (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    if channels > 1:
        x = np.repeat(x[:, None], channels, axis=1).reshape(-1)
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(srate)
        w.writeframes(x.tobytes())
    return path


def read_wav(path):
    """Read a 16-bit PCM WAV, tolerating a header whose lengths are not yet
    finalised (a file still being written). Returns (float mono array in
    [-1,1] (first channel), srate, channels)."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TestFailure("%s: not a WAV file" % path)
    pos = 12
    srate = ch = bits = None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        clen = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt, ch, srate = struct.unpack("<HHI", data[pos + 8:pos + 16])
            bits = struct.unpack("<H", data[pos + 22:pos + 24])[0]
            if bits != 16:
                raise TestFailure("%s: %d-bit WAV not supported" % (path, bits))
        elif cid == b"data":
            pcm = data[pos + 8:]
            if 0 < clen <= len(pcm) and clen != 0xFFFFFFFF:
                pcm = pcm[:clen]
            pcm = pcm[:len(pcm) - len(pcm) % (2 * ch)]
            x = np.frombuffer(pcm, dtype="<i2").reshape(-1, ch)[:, 0]
            return x.astype(np.float64) / 32768.0, srate, ch
        pos += 8 + clen + (clen & 1)
    raise TestFailure("%s: no data chunk" % path)


def tone_level_db(x, srate, freq):
    """Level of a sinusoid at freq in dBFS (a full-scale sine = 0 dB),
    Hann-windowed single-bin DFT (Goertzel-equivalent)."""
    n = len(x)
    if n < srate // 10:
        return -200.0
    w = np.hanning(n)
    t = np.arange(n) / float(srate)
    c = np.abs(np.dot(x * w, np.exp(-2j * np.pi * freq * t)))
    amp = 2.0 * c / np.sum(w)
    return 20.0 * np.log10(amp + 1e-12)


def tone_level_blocks_db(x, srate, freq, block_s=0.2):
    """Level of a sinusoid at freq in dBFS, measured in blocks of block_s
    and power-averaged: insensitive to phase jumps (a frame skipped or
    concealed by a jitter buffer), unlike one DFT over the whole signal.
    A tone present half the time reads 3 dB low."""
    n = int(srate * block_s)
    if len(x) < n:
        return tone_level_db(x, srate, freq)
    w = np.hanning(n)
    t = np.arange(n) / float(srate)
    ref = np.exp(-2j * np.pi * freq * t) * w
    nb = len(x) // n
    blocks = np.asarray(x[:nb * n]).reshape(nb, n)
    amp = 2.0 * np.abs(blocks @ ref) / np.sum(w)
    return 10.0 * np.log10(np.mean(amp ** 2) + 1e-24)


def phase_jumps(x, srate, freq, frame_s=0.02, min_deg=30.0):
    """Count phase discontinuities of a steady tone at freq, frame by frame
    (a skipped or inserted frame shows as a jump). Frames where the tone is
    weak are ignored."""
    n = int(srate * frame_s)
    nb = len(x) // n
    if nb < 3:
        return 0
    t = np.arange(nb * n) / float(srate)
    z = (np.asarray(x[:nb * n]) * np.exp(-2j * np.pi * freq * t)).reshape(nb, n).sum(axis=1)
    strong = np.abs(z) > 0.25 * np.median(np.abs(z))
    d = np.angle(z[1:] * np.conj(z[:-1]), deg=True)
    return int(np.sum((np.abs(d) > min_deg) & strong[1:] & strong[:-1]))


def rms_db(x):
    if len(x) == 0:
        return -200.0
    return 20.0 * np.log10(np.sqrt(np.mean(np.square(x))) + 1e-12)


def tone_report(x, srate, freqs):
    return {f: tone_level_blocks_db(x, srate, f) for f in freqs}


# --------------------------------------------------------------------------
# baresip

CODEC_RATE = {"opus": 48000, "G722": 16000, "PCMU": 8000, "PCMA": 8000}
CODEC_NAME = {"opus": "opus/48000/2", "G722": "G722/16000/1", "PCMU": "PCMU/8000/1",
              "PCMA": "PCMA/8000/1"}


def netstring(b):
    return str(len(b)).encode() + b":" + b + b","


class Baresip:
    """One headless baresip 1.0 client: aufile plays a tone WAV, sndfile
    records what it decodes (dump-*-dec.wav), ctrl_tcp drives it.
    The alsa 'null' PCM is the player, so no sound card is needed."""

    def __init__(self, workdir, name, codec="opus", freq=440.0, tone_seconds=60.0,
                 rtp_ports=None, extra_config="", rtcp_mux=False, account_params=""):
        self.name = name
        self.codec = codec
        self.freq = freq
        self.dir = os.path.join(workdir, "baresip-" + name)
        self.recdir = os.path.join(self.dir, "rec")
        os.makedirs(self.recdir, exist_ok=True)
        self.sip_port = free_port(3)          # +1 is baresip's TLS listener
        self.ctrl_port = free_port(1, udp=False)
        self.srate = CODEC_RATE[codec]
        self.wav = write_tone(os.path.join(self.dir, "tone-%d.wav" % int(freq)), freq,
                              self.srate, tone_seconds)
        self.logpath = os.path.join(self.dir, "baresip.log")
        lo, hi = rtp_ports or rtp_range(40)
        cfg = """# written by chorustest
poll_method		epoll
sip_listen		{host}:{sip}
call_local_timeout	120
call_max_calls		4
audio_player		alsa,null
audio_source		aufile,{wav}
audio_alert		alsa,null
ausrc_channels		1
auplay_channels		1
audio_level		no
ausrc_format		s16
auplay_format		s16
auenc_format		s16
audec_format		s16
audio_buffer		20-160
rtp_tos			0
rtp_ports		{lo}-{hi}
rtcp_mux		{mux}
jitter_buffer_delay	5-10
rtp_stats		no
net_interface		{host}
module_path		/usr/lib/baresip/modules
module			opus.so
module			g722.so
module			g711.so
module			sndfile.so
module			aufile.so
module			alsa.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		{host}:{ctrl}
snd_path		{rec}
statmode_default	off
opus_bitrate		32000
{extra}
""".format(host=HOST, sip=self.sip_port, wav=self.wav, lo=lo, hi=hi, ctrl=self.ctrl_port,
           rec=self.recdir, extra=extra_config, mux="yes" if rtcp_mux else "no")
        with open(os.path.join(self.dir, "config"), "w") as fh:
            fh.write(cfg)
        with open(os.path.join(self.dir, "accounts"), "w") as fh:
            fh.write("<sip:%s@%s:%d>;regint=0;answermode=auto;audio_codecs=%s%s\n"
                     % (name, HOST, self.sip_port, CODEC_NAME[codec], account_params))
        self.proc = None
        self.sock = None
        self.rbuf = b""
        self.events = []
        self.responses = {}
        self.token = 0

    def start(self, timeout=8.0, lifetime=300):
        self.logf = open(self.logpath, "wb")
        # -t bounds its life even if we were killed before stopping it
        self.proc = subprocess.Popen(["baresip", "-f", self.dir, "-t", str(int(lifetime))],
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=self.dir)
        _started.append(self.proc)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise TestFailure("baresip %s exited at start (status %s):\n%s"
                                  % (self.name, self.proc.returncode, self.log_text()[-2000:]))
            try:
                self.sock = socket.create_connection((HOST, self.ctrl_port), timeout=0.5)
                self.sock.settimeout(0.5)
                return
            except OSError:
                time.sleep(0.1)
        raise TestFailure("baresip %s: ctrl_tcp %d not listening after %.0f s"
                          % (self.name, self.ctrl_port, timeout))

    def log_text(self):
        return read_text(self.logpath)

    def _pump(self, timeout):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            got = self._parse()
            if got or left <= 0:
                return got
            self.sock.settimeout(max(0.01, left))
            try:
                d = self.sock.recv(65536)
                if not d:
                    raise TestFailure("baresip %s closed ctrl_tcp" % self.name)
                self.rbuf += d
            except socket.timeout:
                pass

    def _parse(self):
        got = False
        while True:
            m = re.match(rb"(\d+):", self.rbuf)
            if not m:
                return got
            n = int(m.group(1))
            start = m.end()
            if len(self.rbuf) < start + n + 1:
                return got
            obj = json.loads(self.rbuf[start:start + n].decode("utf-8", "replace"))
            self.rbuf = self.rbuf[start + n + 1:]
            got = True
            if obj.get("event"):
                self.events.append((time.monotonic(), obj))
            elif obj.get("response"):
                self.responses[obj.get("token")] = obj

    def command(self, cmd, params=None, timeout=5.0):
        self.token += 1
        tok = str(self.token)
        d = {"command": cmd, "token": tok}
        if params is not None:
            d["params"] = params
        self.sock.sendall(netstring(json.dumps(d).encode()))
        end = time.monotonic() + timeout
        while tok not in self.responses and time.monotonic() < end:
            self._pump(end - time.monotonic())
        r = self.responses.pop(tok, None)
        if r is None:
            raise TestFailure("baresip %s: no response to %s" % (self.name, cmd))
        return r

    def event_types(self):
        return [e["type"] for _, e in self.events]

    def wait_event(self, etype, timeout, since=0, abort=("CALL_CLOSED",)):
        """Wait for an event of type etype (index >= since). Returns the
        event, or None on timeout or when an abort event comes first."""
        end = time.monotonic() + timeout
        while True:
            for i, (_, e) in enumerate(self.events):
                if i >= since and e.get("type") == etype:
                    return e
                if i >= since and e.get("type") in abort and etype not in abort:
                    return None
            left = end - time.monotonic()
            if left <= 0:
                return None
            self._pump(min(left, 0.2))

    def poll_events(self, seconds=0.0):
        self._pump(seconds)

    def dial(self, uri):
        r = self.command("dial", uri)
        if not r.get("ok"):
            raise TestFailure("baresip %s: dial failed: %s" % (self.name, r))

    def recording(self, kind="dec"):
        files = sorted(f for f in os.listdir(self.recdir) if f.endswith("-%s.wav" % kind))
        return os.path.join(self.recdir, files[-1]) if files else None

    def rec_samples(self):
        """Samples written so far to the decode recording (file may be open)."""
        p = self.recording()
        if not p:
            return 0
        try:
            x, _, _ = read_wav(p)
            return len(x)
        except (TestFailure, OSError, struct.error):
            return 0

    def wait_recorded(self, seconds, timeout):
        """Wait (bounded) until the decode recording holds seconds of audio;
        returns the seconds recorded. Better than a fixed sleep on a loaded
        machine: the recording only grows while RTP arrives."""
        end = time.monotonic() + timeout
        sr = CODEC_RATE[self.codec]
        while True:
            p = self.recording()
            if p:
                try:
                    _, sr, _ = read_wav(p)
                except (TestFailure, OSError, struct.error):
                    pass
            got = self.rec_samples() / float(sr)
            if got >= seconds or time.monotonic() >= end:
                return got
            time.sleep(0.1)

    def stop(self):
        if self.proc is None:
            return None
        if self.sock:
            try:
                self.sock.sendall(netstring(json.dumps({"command": "quit", "token": "q"}).encode()))
            except OSError:
                pass
        try:
            # quit waits for BYE transactions: bounded, then SIGTERM/SIGKILL
            rc = self.proc.wait(2)
        except subprocess.TimeoutExpired:
            rc, _ = stop_pid(self.proc, "baresip " + self.name, 3)
        if self.sock:
            self.sock.close()
            self.sock = None
        self.logf.close()
        return rc


def wait_audio(clients, marks, seconds, timeout):
    """Wait until every client's decode recording grew by seconds of audio
    since marks (rec_samples() values), or timeout s passed; returns the
    new marks. On a loaded machine audio arrives late, not wrongly: measure
    a window of audio, not a window of wall-clock time."""
    end = time.monotonic() + timeout
    while True:
        now = [c.rec_samples() for c in clients]
        if all(n - m >= seconds * CODEC_RATE[c.codec] for c, n, m in zip(clients, now, marks)):
            return now
        if time.monotonic() >= end:
            return now
        time.sleep(0.1)


# --------------------------------------------------------------------------
# test runner

class Runner:
    """Runs named checks, records failures, keeps going where sensible;
    main() exits non-zero if anything failed."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = []
        self.tmp = TempDir("chorustest-%s-" % name)
        self.cleanups = []

    def sub(self, name, fn, *a, **kw):
        log("=== %s" % name)
        try:
            fn(*a, **kw)
            self.passed.append(name)
            log("--- PASS %s" % name)
            return True
        except TestFailure as e:
            self.failures.append((name, str(e)))
            log("--- FAIL %s: %s" % (name, e))
            return False
        except Exception as e:  # noqa: a crash in the test is a failure too
            import traceback
            traceback.print_exc()
            self.failures.append((name, "%s: %s" % (type(e).__name__, e)))
            log("--- FAIL %s (exception)" % name)
            return False

    def fail(self, name, msg):
        self.failures.append((name, msg))
        log("--- FAIL %s: %s" % (name, msg))

    def sub_while_up(self, d, name, fn, *a, **kw):
        """sub(), unless chorusd d is no longer running: then the check
        fails at once (the daemon's own problems come at finish_daemon)."""
        if not d.alive():
            self.fail(name, "chorusd is not running")
            return False
        return self.sub(name, fn, *a, **kw)

    def start_daemon(self, d):
        """Start chorusd d. If it does not come up: record that, stop it
        and print its log, and return False (main() then returns
        self.finish())."""
        try:
            d.start()
        except TestFailure as e:
            self.fail("start", str(e))
            d.stop()
            d.dump_log()
            return False
        return True

    def finish_daemon(self, d, tail=400):
        """Stop chorusd d, record each problem it had as a "shutdown"
        failure, print the last tail lines of its log if anything failed,
        and finish(): main()'s exit status."""
        for p in d.stop():
            self.fail("shutdown", p)
        if self.failures:
            d.dump_log(tail)
        return self.finish()

    def finish(self):
        for c in reversed(self.cleanups):
            try:
                c()
            except Exception as e:  # noqa
                log("cleanup error:", e)
        print("\n==== %s: %d passed, %d failed" % (self.name, len(self.passed),
                                                 len(self.failures)))
        for n, m in self.failures:
            print("FAILED %s: %s" % (n, m))
        self.tmp.cleanup(failed=bool(self.failures))
        sys.stdout.flush()
        return 1 if self.failures else 0
