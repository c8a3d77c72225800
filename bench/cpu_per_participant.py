#!/usr/bin/env python3
"""cpu_per_participant: chorusd's CPU cost per participant, everyone talking.

For each room size N: start a fresh chorusd (Release build) on 127.0.0.1 with
a temporary config (media_workers 2, one room with max=1000, admission
limits off, log_level debug so the workers' once-a-second load lines are in
the log), run bench/loadgen with N legs in that room, and measure over the
loadgen's measurement window (it prints WINDOW START / WINDOW END):

  - the daemon's CPU time, utime+stime from /proc/<pid>/stat, and per
    thread from /proc/<pid>/task/*/stat;
  - the media workers' own load (permille of the frame budget) and late
    ticks from the daemon's log;
  - packets the clients received against what a daemon that keeps up sends
    (one per leg per 20 ms), from loadgen's report;
  - the daemon's RSS at start, in the window and after the calls ended;
  - loadgen's own CPU (it shares the machine's cores).

  bench/cpu_per_participant.py --n 20,50,100 --seconds 20
  bench/cpu_per_participant.py --break-search --max 600

Every process it starts is stopped by PID, every wait is bounded, every
address is 127.0.0.1.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
ROOM = "7000"
FRAME_MS = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


def port_free(port, tcp=False):
    kinds = [socket.SOCK_DGRAM] + ([socket.SOCK_STREAM] if tcp else [])
    for k in kinds:
        s = socket.socket(socket.AF_INET, k)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_port(rnd):
    for _ in range(500):
        p = rnd.randrange(21000, 32000)
        if port_free(p, tcp=True):
            return p
    raise RuntimeError("no free SIP port")


def rtp_range(rnd, width):
    for _ in range(200):
        lo = rnd.randrange(33000, 61000 - width) & ~1
        if all(port_free(q) for q in range(lo, lo + width, 11)):
            return lo, lo + width - 1
    raise RuntimeError("no free RTP range")


def rewrite_conf(text, ov):
    """Replace "key value" lines of keys in ov (None drops the key),
    append the rest; chorusd refuses a key set twice."""
    out, done = [], set()
    for line in text.splitlines():
        m = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\s|$)", line)
        key = m.group(1) if m else None
        if key in ov:
            if key not in done and ov[key] is not None:
                out.append("%s\t%s" % (key, ov[key]))
            done.add(key)
            continue
        out.append(line)
    for k, v in ov.items():
        if k not in done and v is not None:
            out.append("%s\t%s" % (k, v))
    return "\n".join(out) + "\n"


def proc_cpu(pid):
    """(process ticks, {tid: (name, ticks)}) from /proc; utime+stime."""
    def ticks(path):
        with open(path) as f:
            s = f.read()
        name = s[s.index("(") + 1:s.rindex(")")]
        rest = s[s.rindex(")") + 2:].split()
        # fields 14, 15 (utime, stime) -> rest[11], rest[12]
        return name, int(rest[11]) + int(rest[12])
    _, total = ticks("/proc/%d/stat" % pid)
    threads = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            threads[int(tid)] = ticks("/proc/%d/task/%s/stat" % (pid, tid))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return total, threads


def sched_wait(pid):
    """{tid: (name, run_ns, runqueue_wait_ns)} from schedstat: how long each
    thread waited for a CPU while runnable (the machine is shared)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                run, wait, _ = f.read().split()
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            out[int(tid)] = (name, int(run), int(wait))
        except (OSError, ValueError):
            pass
    return out


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return -1


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def wait_options(port, timeout):
    """Bounded wait until chorusd answers OPTIONS on UDP."""
    end = time.monotonic() + timeout
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((HOST, 0))
    s.settimeout(0.2)
    lport = s.getsockname()[1]
    try:
        while time.monotonic() < end:
            cid = "%x@loadprobe" % random.getrandbits(48)
            msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%x\r\n"
                   "Max-Forwards: 70\r\nTo: <sip:%s:%d>\r\n"
                   "From: <sip:probe@%s:%d>;tag=%x\r\nCall-ID: %s\r\n"
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" %
                   (HOST, port, HOST, lport, random.getrandbits(40), HOST, port,
                    HOST, lport, random.getrandbits(32), cid))
            s.sendto(msg.encode(), (HOST, port))
            try:
                data = s.recv(4096)
                if data.startswith(b"SIP/2.0 "):
                    return True
            except socket.timeout:
                pass
        return False
    finally:
        s.close()


def stop_pid(proc, timeout=10.0):
    if proc.poll() is not None:
        return proc.returncode
    os.kill(proc.pid, signal.SIGTERM)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        return proc.wait(5)


LOAD_RE = re.compile(r"media: worker (\d+): load (\d+) permille, (\d+) late ticks")
LATE_RE = re.compile(r"media: worker (\d+): tick (\d+) us late \((\d+) late ticks, (\d+) resyncs\)")


def parse_log(text):
    loads, late, warns, errors = {}, 0, [], []
    for line in text.splitlines():
        m = LOAD_RE.search(line)
        if m:
            loads.setdefault(int(m.group(1)), []).append(int(m.group(2)))
            late += int(m.group(3))
            continue
        if LATE_RE.search(line):
            warns.append(line.strip())
        elif re.search(r"\b(error|warning|rejected|fail)", line, re.I) and \
                "debug" not in line.lower():
            errors.append(line.strip())
    return loads, late, warns, errors


def run_one(args, n, rnd, workdir):
    port = free_port(rnd)
    lo, hi = rtp_range(rnd, max(200, 2 * n + 200))
    cfgdir = os.path.join(workdir, "conf-%d" % n)
    os.makedirs(cfgdir, exist_ok=True)
    # every key is optional (defaults = conf/); write only what we change,
    # so a key added to conf/ after this chorusd was built cannot break it
    text = "# chorus.conf written by bench/cpu_per_participant.py\n"
    ov = {
        "sip_listen": "%s:%d" % (HOST, port),
        "sip_tcp": "no",
        "sip_tls": "no",
        "public_addr": None,
        "rtp_port_min": str(lo),
        "rtp_port_max": str(hi),
        "media_workers": str(args.workers),
        "log_level": "debug",
        "pike_rate": "0",
        "max_dialogs_per_source": "0",
        "max_legs_total": "0",
        "overload_permille": "0",
        "rtp_timeout": "30",
        "join_tones": "no",
    }
    for kv in args.set:
        k, v = kv.split("=", 1)
        ov[k] = v
    with open(os.path.join(cfgdir, "chorus.conf"), "w") as f:
        f.write(rewrite_conf(text, ov))
    with open(os.path.join(cfgdir, "rooms.conf"), "w") as f:
        for k in range(args.rooms):
            f.write('room %d name="load%d" max=1000\n' % (int(ROOM) + k, k))
        f.write('default_max_legs 50\nauto_create off\n')

    logpath = os.path.join(workdir, "chorusd-%d.log" % n)
    logf = open(logpath, "wb")
    d = subprocess.Popen([args.chorusd, "-f", cfgdir], stdin=subprocess.DEVNULL,
                         stdout=logf, stderr=subprocess.STDOUT, cwd=workdir)
    lg = None
    res = {"n": n, "codec": args.codec + (" no-FEC" if args.no_fec else ""), "rooms": args.rooms, "set": args.set}
    try:
        if not wait_options(port, 15):
            raise RuntimeError("chorusd did not answer OPTIONS (log %s)" % logpath)
        time.sleep(0.3)
        res["rss_start_kb"] = rss_kb(d.pid)
        if args.rt:
            # shield the media workers from the other jobs on this shared
            # machine (as a production box would with rt_priority)
            for tid in os.listdir("/proc/%d/task" % d.pid):
                with open("/proc/%d/task/%s/comm" % (d.pid, tid)) as f:
                    if f.read().startswith("chorus-media"):
                        subprocess.run(["chrt", "-f", "-p", str(args.rt), tid],
                                       check=True, timeout=10)

        cmd = [args.loadgen, "-s", "%s:%d" % (HOST, port), "-r", ROOM, "-k", str(args.rooms),
               "-n", str(n), "-t", str(args.seconds), "-c", args.codec,
               "-w", str(args.settle), "-R", str(args.rate), "-q"]
        if args.no_fec:
            cmd.append("--no-fec")
        if args.rt:
            cmd = ["chrt", "-f", str(args.rt)] + cmd
        res["loadgen_cmd"] = " ".join(cmd)
        lg = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, bufsize=1)
        t0 = c0 = th0 = t1 = c1 = th1 = None
        lg0 = lg1 = None
        log_off0 = log_off1 = 0
        out = []
        deadline = time.monotonic() + 120 + args.seconds + args.settle
        for line in lg.stdout:            # bounded: loadgen bounds itself
            out.append(line)
            if line.startswith("WINDOW START"):
                t0 = time.monotonic()
                c0, th0 = proc_cpu(d.pid)
                sw0 = sched_wait(d.pid)
                lg0 = proc_cpu(lg.pid)[0]
                logf.flush()
                log_off0 = os.path.getsize(logpath)
            elif line.startswith("WINDOW END"):
                t1 = time.monotonic()
                c1, th1 = proc_cpu(d.pid)
                sw1 = sched_wait(d.pid)
                lg1 = proc_cpu(lg.pid)[0]
                res["rss_window_kb"] = rss_kb(d.pid)
                log_off1 = os.path.getsize(logpath)
            if time.monotonic() > deadline:
                break
        try:
            lg.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(lg.pid, signal.SIGKILL)
            lg.wait(5)
        res["loadgen_rc"] = lg.returncode
        err = lg.stderr.read()
        res["loadgen_stderr"] = err[-2000:]
        text = "".join(out)
        res["loadgen_out"] = text
        m = re.search(r"^JSON (\{.*\})$", text, re.M)
        if m:
            res["gen"] = json.loads(m.group(1))
        if t0 is None or t1 is None:
            raise RuntimeError("no measurement window: %s %s" % (text[-500:], err[-500:]))

        time.sleep(1.5)  # calls ended: let the daemon free them
        res["rss_end_kb"] = rss_kb(d.pid)

        win = t1 - t0
        cpu_s = (c1 - c0) / CLK_TCK
        res["window_s"] = win
        res["cpu_s"] = cpu_s
        res["cpu_pct"] = 100.0 * cpu_s / win
        frames = win * 1000.0 / FRAME_MS
        res["us_per_part_frame"] = cpu_s * 1e6 / (n * frames)
        # per frame the daemon actually mixed, encoded and sent: stays
        # meaningful when an overloaded worker skips ticks
        rxw = res.get("gen", {}).get("rx_win", 0)
        res["us_per_sent_frame"] = cpu_s * 1e6 / rxw if rxw else 0.0
        res["gen_cpu_pct"] = 100.0 * (lg1 - lg0) / CLK_TCK / win
        thr = {}
        for tid, (name, tk) in th1.items():
            b = th0.get(tid, (name, 0))[1]
            thr.setdefault(name, 0.0)
            thr[name] += 100.0 * (tk - b) / CLK_TCK / win
        res["threads_pct"] = thr
        with open(logpath, "rb") as f:
            f.seek(log_off0)
            wtext = f.read(max(0, log_off1 - log_off0)).decode(errors="replace")
        loads, late, warns, _ = parse_log(wtext)
        res["late_ticks"] = late
        res["worker_load_permille"] = {w: (sum(v) / len(v), max(v)) for w, v in loads.items()}
        res["late_warnings"] = warns[:5]
        wait = {}
        for tid, (name, _, w) in sw1.items():
            if tid in sw0:
                wait[name] = wait.get(name, 0.0) + 100.0 * (w - sw0[tid][2]) / 1e9 / win
        res["runqueue_wait_pct"] = wait

        # more rounds on the same daemon: does RSS keep growing?
        res["rss_rounds_kb"] = [res["rss_end_kb"]]
        for _ in range(1, args.rounds):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=180 + args.seconds + args.settle)
            time.sleep(1.5)
            res["rss_rounds_kb"].append(rss_kb(d.pid))
    finally:
        if lg is not None and lg.poll() is None:
            os.kill(lg.pid, signal.SIGKILL)
            lg.wait(5)
        res["chorusd_rc"] = stop_pid(d)
        logf.close()
    with open(logpath, errors="replace") as f:
        full = f.read()
    _, _, _, errors = parse_log(full)
    res["log_errors"] = errors[:10]
    res["log_errors_n"] = len(errors)
    # each leg's own receive figures, logged at BYE
    legst = {"legs": 0, "lost": 0, "late": 0, "dup": 0}
    for m in re.finditer(r"media stats: rx (\d+) pkts .*?lost (\d+) late (\d+) dup (\d+)", full):
        legst["legs"] += 1
        legst["lost"] += int(m.group(2))
        legst["late"] += int(m.group(3))
        legst["dup"] += int(m.group(4))
    res["leg_rx_stats"] = legst
    return res


def broke(r, late_limit):
    g = r.get("gen", {})
    if g.get("connected") != r["n"] or g.get("closed"):
        return "not all legs connected/stayed"
    if g.get("rx_loss_pct", 100) > 1.0:
        return "clients missed %.1f %% of packets" % g["rx_loss_pct"]
    ticks = r["window_s"] * 1000.0 / FRAME_MS
    if r["late_ticks"] > late_limit * ticks:
        return "%d late ticks" % r["late_ticks"]
    # a worker busy for more than 90 % of its frame budget has no margin
    # left: the next participant (or a neighbour's build) makes it late
    for w, (avg, _) in r.get("worker_load_permille", {}).items():
        if avg > 900:
            return "worker %d at %.0f permille" % (w, avg)
    return None


def row(r):
    g = r.get("gen", {})
    loads = r.get("worker_load_permille", {})
    lstr = "/".join("%.0f" % loads[w][0] for w in sorted(loads)) or "-"
    return ("| %4d | %-4s | %6.1f | %7.1f | %7.1f | %5d | %s | %d/%d (%.2f %%) | %5.1f | %s | %s |" %
            (r["n"], r["codec"], r["cpu_pct"], r["us_per_part_frame"],
             r["us_per_sent_frame"], r["late_ticks"],
             lstr, g.get("rx_win", 0), g.get("rx_expected", 0), g.get("rx_loss_pct", 0),
             r["gen_cpu_pct"], "%d→%d→%d MB" % (r["rss_start_kb"] // 1024,
                                                r.get("rss_window_kb", 0) // 1024,
                                                r["rss_end_kb"] // 1024),
             r.get("break") or "ok"))


HEADER = ("|    N | codec | daemon CPU % of one core | µs CPU / participant / 20 ms frame "
          "| µs CPU / frame sent | late ticks | worker load ‰ (avg per worker) | packets received / expected (loss) "
          "| loadgen CPU % | daemon RSS start→window→end | verdict |\n"
          "|---:|---|---:|---:|---:|---:|---|---|---:|---|---|")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    build = os.environ.get("CHORUS_BUILD", os.path.join(SRC, "build-load"))
    ap.add_argument("--chorusd", default=os.path.join(build, "src", "chorusd"))
    ap.add_argument("--loadgen", default=os.path.join(build, "bench", "loadgen"))
    ap.add_argument("--n", default="20", help="room sizes, comma separated")
    ap.add_argument("--codec", default="opus", choices=("opus", "pcmu", "g722"))
    ap.add_argument("--seconds", type=int, default=20, help="measurement window")
    ap.add_argument("--settle", type=int, default=3)
    ap.add_argument("--rate", type=int, default=100, help="calls per second")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rooms", type=int, default=1,
                    help="spread the legs over this many rooms (default one room)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="extra chorus.conf setting (repeatable), e.g. topk=3")
    ap.add_argument("--break-search", action="store_true",
                    help="after --n, keep adding --step legs until it breaks or --max")
    ap.add_argument("--step", type=int, default=100)
    ap.add_argument("--keep-going", action="store_true",
                    help="measure every size of --n even past the break")
    ap.add_argument("--max", type=int, default=600)
    ap.add_argument("--late-limit", type=float, default=0.05,
                    help="late ticks above this share of ticks = broken")
    ap.add_argument("--no-fec", action="store_true",
                    help="loadgen offers Opus without useinbandfec=1")
    ap.add_argument("--rt", type=int, default=0, metavar="PRIO",
                    help="SCHED_FIFO priority (chrt) for the media workers and loadgen; 0 = off")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run loadgen this many times on the same daemon (RSS after each)")
    ap.add_argument("--json", help="write every result to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (logs)")
    a = ap.parse_args()

    for exe in (a.chorusd, a.loadgen):
        if not os.access(exe, os.X_OK):
            sys.exit("not found: %s (build: cmake -S . -B build-load "
                     "-DCMAKE_BUILD_TYPE=Release && cmake --build build-load "
                     "--target chorusd loadgen)" % exe)
    sizes = [int(x) for x in a.n.split(",") if x]
    if any(n < 1 or n > min(a.max, 2000) for n in sizes):
        sys.exit("sizes must be 1..%d" % min(a.max, 2000))

    rnd = random.Random(os.getpid() ^ int(time.time()))
    workdir = tempfile.mkdtemp(prefix="chorus-cpu-")
    print("date:    %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print("cpu:     %s, %d online" % (cpu_model(), os.cpu_count()))
    print("load:    %s" % open("/proc/loadavg").read().strip())
    print("chorusd: %s (media_workers %d%s)" % (a.chorusd, a.workers,
                                             ", workers and loadgen SCHED_FIFO %d" % a.rt
                                             if a.rt else ", normal scheduling"))
    print("window:  %d s after %d s settle; codec %s; everyone talking; %d room(s)%s" %
          (a.seconds, a.settle, a.codec, a.rooms,
           "; " + " ".join(a.set) if a.set else ""))
    print()
    print(HEADER, flush=True)
    results = []
    broken = None
    queue = list(sizes)
    while queue:
        n = queue.pop(0)
        try:
            r = run_one(a, n, rnd, workdir)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            print("| %4d | %s | run failed: %s |" % (n, a.codec, e), flush=True)
            a.keep = True
            break
        r["break"] = broke(r, a.late_limit)
        results.append(r)
        print(row(r), flush=True)
        if r["break"]:
            broken = broken or r
            if not a.keep_going:
                break
        if not queue and a.break_search and not broken and n + a.step <= a.max:
            queue.append(n + a.step)
    print()
    for r in results:
        thr = ", ".join("%s %.1f%%" % (k, v) for k, v in sorted(r["threads_pct"].items()))
        print("N=%d threads: %s" % (r["n"], thr))
        print("N=%d threads waiting for a CPU while runnable: %s" % (r["n"], ", ".join(
            "%s %.1f%%" % (k, v) for k, v in sorted(r["runqueue_wait_pct"].items()) if v >= 0.05)))
        if len(r["rss_rounds_kb"]) > 1:
            print("N=%d RSS after each round: %s MB" % (r["n"], " ".join(
                "%.1f" % (k / 1024) for k in r["rss_rounds_kb"])))
        loads = r.get("worker_load_permille", {})
        print("N=%d worker load permille avg/max: %s" % (r["n"], ", ".join(
            "w%d %.0f/%d" % (w, loads[w][0], loads[w][1]) for w in sorted(loads))))
        if r["late_warnings"]:
            print("N=%d late-tick warnings: %s" % (r["n"], r["late_warnings"][0]))
        if r["log_errors_n"]:
            print("N=%d log: %d warning/error lines, first: %s" %
                  (r["n"], r["log_errors_n"], r["log_errors"][0]))
        ls = r.get("leg_rx_stats", {})
        print("N=%d daemon's per-leg stats at BYE: %d legs, lost %d, late %d, dup %d" %
              (r["n"], ls.get("legs", 0), ls.get("lost", 0), ls.get("late", 0), ls.get("dup", 0)))
        g = r.get("gen", {})
        print("N=%d sample leg 0: level %.1f dBFS, %.0f %% frames audible; setup %.2f s; "
              "loadgen late ticks %s; chorusd exit %s" %
              (r["n"], g.get("sample_level_dbfs", -999), g.get("sample_audible_pct", 0),
               g.get("setup_s", 0), g.get("gen_late_ticks"), r["chorusd_rc"]))
    if broken:
        print("break: N=%d (%s)" % (broken["n"], broken["break"]))
    elif a.break_search:
        print("no break up to N=%d" % results[-1]["n"])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    if a.keep:
        print("work dir:", workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
