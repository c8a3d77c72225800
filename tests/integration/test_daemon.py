"""chorusd as a daemon: command line (--version, --help, -t, bad options),
SIGHUP reload of rooms.conf without dropping calls (and a broken edit
keeping the old rooms), SIGTERM ending a live call with a BYE and exit 0."""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chorustest as ct  # noqa: E402
from chorustest import check  # noqa: E402

CLI_TIMEOUT = 20.0


def _run(args, timeout=CLI_TIMEOUT):
    p = subprocess.run([ct.chorusd_path()] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def _version():
    with open(os.path.join(ct.src_dir(), "CMakeLists.txt")) as fh:
        m = re.search(r"project\(chorus VERSION ([0-9.]+)", fh.read())
    check(m is not None, "no project VERSION in CMakeLists.txt")
    return m.group(1)


def test_version_and_help(r):
    rc, out, err = _run(["--version"])
    check(rc == 0, "--version exit %d: %s" % (rc, err))
    check(out.strip() == "chorusd %s" % _version(),
          "--version printed %r, expected 'chorusd %s'" % (out, _version()))

    rc, out, err = _run(["--help"])
    check(rc == 0, "--help exit %d" % rc)
    for opt in ("-f", "-t", "-v", "--help", "--version"):
        check(opt in out, "--help does not mention %s:\n%s" % (opt, out))

    rc, out, err = _run(["--no-such-option"])
    check(rc != 0, "an unknown option exited 0")
    check("Usage" in err, "unknown option: no usage on stderr: %r" % err)


def test_check_shipped_config(r):
    rc, out, err = _run(["-t", "-f", os.path.join(ct.src_dir(), "conf")])
    check(rc == 0, "-t on the shipped conf/: exit %d\n%s%s" % (rc, out, err))
    check("valid" in out, "-t printed no verdict: %r" % out)


def test_check_reports_bad_value(r):
    d = os.path.join(r.tmp.path, "badconf")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "chorus.conf"), "w") as fh:
        fh.write("# test\nrtp_port_min 16384\nroom_srate 44100\n")
    with open(os.path.join(d, "rooms.conf"), "w") as fh:
        fh.write("room 1000\n")
    rc, out, err = _run(["-t", "-f", d])
    check(rc != 0, "-t accepted room_srate 44100")
    want = "%s/chorus.conf:3: room_srate" % d
    check(want in err, "-t error does not name file:line: key (%r):\n%s" % (want, err))
    check("48000 or 16000" in err, "-t error gives no reason:\n%s" % err)

    rc, out, err = _run(["-t", "-f", os.path.join(r.tmp.path, "nonexistent")])
    check(rc != 0, "-t on a missing directory exited 0")
    check("chorus.conf" in err, "missing config: error does not name the file: %r" % err)


class _Rtp:
    """An RTP peer for the SDP, closed on exit."""

    def __enter__(self):
        self.p = ct.RtpPeer()
        self.port = self.p.port
        return self

    def __exit__(self, *a):
        self.p.close()


def _call(ua, rtp, room, what):
    c = ua.invite(room, ct.make_sdp(rtp.port, [0]))
    check(c.final is not None, "%s: no final response\n%s" % (what, ua.format_trace()))
    return c


def _write_rooms(d, text):
    with open(os.path.join(d.cfgdir, "rooms.conf"), "w") as fh:
        fh.write(text)


def _hup_and_wait(d, marker, what):
    before = d.log_text().count(marker)
    d.signal(signal.SIGHUP)
    ct.wait_for(lambda: d.log_text().count(marker) > before, 5.0,
                what="%s: log line %r after SIGHUP" % (what, marker))
    check(d.alive(), "%s: chorusd died on SIGHUP" % what)


def test_sighup_reload(r, d):
    with ct.SipUA(d.addr, "udp", "keeper") as ua1, ct.SipUA(d.addr, "udp", "newroom") as ua2, \
            _Rtp() as p1, _Rtp() as p2:
        # a live call that must survive the reloads
        keep = _call(ua1, p1, "1000", "call to 1000")
        check(keep.final.status == 200, "call to 1000: %s" % keep.final.first)

        c = _call(ua2, p2, "4321", "4321 before reload")
        check(c.final.status == 404, "4321 before reload: expected 404, got %s"
              % c.final.first)

        _write_rooms(d, "room 1000 max=5\nroom 4321 name=\"New\" max=2\n"
                        "auto_create off\n")
        _hup_and_wait(d, "cfg: room 4321 added", "reload adding 4321")

        c = _call(ua2, p2, "4321", "4321 after reload")
        check(c.final.status == 200, "4321 after reload: expected 200, got %s"
              % c.final.first)
        b = c.bye()
        check(b is not None and b.status == 200, "BYE in 4321: %s" % (b and b.first))

        # a broken edit: reported, the old rooms stay in force
        _write_rooms(d, "room 1000 max=lots\n")
        _hup_and_wait(d, "not reloaded", "broken reload")
        check("rooms.conf:1: room 1000 max" in d.log_text(),
              "broken reload: the error does not name file:line and key")
        c = _call(ua2, p2, "4321", "4321 after broken reload")
        check(c.final.status == 200, "4321 after a broken reload: expected 200 "
              "(old rooms kept), got %s" % c.final.first)
        b = c.bye()
        check(b is not None and b.status == 200, "BYE in 4321: %s" % (b and b.first))

        # the first call is still up: its BYE is answered 200
        b = keep.bye()
        check(b is not None and b.status == 200,
              "call to 1000 after the reloads: BYE answered %s" % (b and b.first))


def test_sigterm_byes_live_call(r, d):
    with ct.SipUA(d.addr, "udp", "leaver") as ua, _Rtp() as p:
        c = _call(ua, p, "1000", "call before SIGTERM")
        check(c.final.status == 200, "call before SIGTERM: %s" % c.final.first)
        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        bye = ua.wait_request("BYE", 8.0, call_id=c.call_id)
        check(bye is not None, "no BYE from chorusd within 8 s of SIGTERM\n%s"
              % ua.format_trace())
        ct.log("BYE %.2f s after SIGTERM" % (time.monotonic() - t0))


def main():
    r = ct.Runner("daemon")
    for name, fn in (("--version/--help", test_version_and_help),
                     ("-t shipped conf", test_check_shipped_config),
                     ("-t bad value", test_check_reports_bad_value)):
        r.sub(name, fn, r)

    d = ct.Daemon(r.tmp.path, rooms_text="room 1000\nauto_create off\n")
    if not r.start_daemon(d):
        return r.finish()

    r.sub("SIGHUP reload", test_sighup_reload, r, d)
    r.sub_while_up(d, "SIGTERM", test_sigterm_byes_live_call, r, d)
    return r.finish_daemon(d)


if __name__ == "__main__":
    sys.exit(main())
