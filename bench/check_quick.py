#!/usr/bin/env python3
"""Smoke test for mixbench: run `mixbench --quick --json` and check the
OUTPUT FORMAT, never the timing.

Every stdout line must be a JSON object with impl, n, rate, topk and
ns_per_participant_frame; every number must be positive and finite; every
implementation mixbench says it measures (--list-impls: the kernels of
mix_isa_supported(), memcpy, aumix) must be present for every point.

usage: check_quick.py MIXBENCH
"""
import json
import math
import platform
import subprocess
import sys

QUICK_N = {2, 10, 100, 1000}
RATES = {16000, 48000}
TOPKS = {0, 3}
KNOWN = {"scalar", "sse2", "avx2", "avx512", "neon", "aumix", "memcpy"}
REQUIRED = ("impl", "n", "rate", "topk", "ns_per_participant_frame")
POSITIVE = ("ns_per_participant_frame", "ns_per_participant_frame_mean",
            "us_per_tick", "core_pct", "ticks", "reps")
# single-tick percentiles may be 0 when a tick is shorter than the clock
# overhead mixbench subtracts; they must still be there and ordered
SPREAD = ("ns_per_participant_frame_p10", "ns_per_participant_frame_p90")
# aumix is O(N^2): mixbench may skip it where it would blow its CPU budget,
# but never for rooms this small
AUMIX_MUST_RUN_UP_TO = 100
TIMEOUT_S = 600


def fail(msg):
    print("check_quick: FAIL: " + msg)
    sys.exit(1)


def positive(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) \
        and math.isfinite(v) and v > 0


def main():
    if len(sys.argv) != 2:
        fail("usage: check_quick.py MIXBENCH")
    exe = sys.argv[1]

    lst = subprocess.run([exe, "--list-impls"], capture_output=True,
                         text=True, timeout=60)
    if lst.returncode != 0:
        fail("--list-impls exited %d" % lst.returncode)
    expected = set(lst.stdout.split())
    unknown = expected - KNOWN
    if unknown:
        fail("--list-impls names unknown impls %s" % sorted(unknown))
    # the floor, the baseline and the reference kernel are always measured
    must = {"scalar", "memcpy", "aumix"}
    if platform.machine() in ("x86_64", "AMD64"):
        must.add("sse2")        # part of the x86-64 baseline ISA
    if not must <= expected:
        fail("--list-impls lacks %s" % sorted(must - expected))

    run = subprocess.run([exe, "--quick", "--json"], capture_output=True,
                         text=True, timeout=TIMEOUT_S)
    sys.stderr.write(run.stderr)
    if run.returncode != 0:
        fail("mixbench --quick --json exited %d" % run.returncode)

    seen = {}
    lines = run.stdout.splitlines()
    if not lines:
        fail("no output")
    for i, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            fail("line %d is not JSON (%s): %r" % (i, e, line))
        if not isinstance(obj, dict):
            fail("line %d is not an object" % i)
        for k in REQUIRED:
            if k not in obj:
                fail("line %d lacks %r: %s" % (i, k, line))
        impl, n, rate, topk = obj["impl"], obj["n"], obj["rate"], obj["topk"]
        if impl not in expected:
            fail("line %d: impl %r not announced" % (i, impl))
        if n not in QUICK_N or rate not in RATES or topk not in TOPKS:
            fail("line %d: unexpected point n=%r rate=%r topk=%r"
                 % (i, n, rate, topk))
        key = (impl, n, rate, topk)
        if key in seen:
            fail("line %d: duplicate point %s" % (i, key))
        seen[key] = obj

        if obj.get("skipped"):
            if impl != "aumix" or n <= AUMIX_MUST_RUN_UP_TO:
                fail("line %d: %s n=%d skipped" % (i, impl, n))
            if obj["ns_per_participant_frame"] is not None:
                fail("line %d: skipped point carries a number" % i)
            continue
        for k in POSITIVE:
            if k not in obj or not positive(obj[k]):
                fail("line %d: %r missing or not positive: %s"
                     % (i, k, line))
        p10, p90 = (obj.get(k) for k in SPREAD)
        if not all(isinstance(v, (int, float)) and math.isfinite(v)
                   for v in (p10, p90)) or not \
                0 <= p10 <= obj["ns_per_participant_frame"] <= p90:
            fail("line %d: p10 <= median <= p90 does not hold: %s"
                 % (i, line))
        if impl != "memcpy" and impl != "aumix":
            if not positive(obj.get("vs_memcpy")):
                fail("line %d: kernel without a positive vs_memcpy" % i)
        if impl == "aumix" and obj.get("frames") != n * obj["ticks"]:
            fail("line %d: aumix delivered %r frames in %r ticks of %d"
                 % (i, obj.get("frames"), obj["ticks"], n))

    # every impl at every point: aumix has no top-K, so only topk=0; top-3
    # of a 2-leg room is everybody, so no topk=3 at n=2
    missing = []
    for n in QUICK_N:
        for rate in RATES:
            for topk in TOPKS:
                if topk >= n and topk:
                    continue
                for impl in expected:
                    if impl == "aumix" and topk:
                        continue
                    if (impl, n, rate, topk) not in seen:
                        missing.append((impl, n, rate, topk))
    if missing:
        fail("missing points: %s" % sorted(missing))

    print("check_quick: OK: %d lines, impls %s"
          % (len(lines), " ".join(sorted(expected))))


if __name__ == "__main__":
    main()
