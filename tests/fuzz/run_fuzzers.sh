#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang in <builddir>/fuzz and run each
# for a bounded time over a copy of its seed corpus. Fails on any crash,
# sanitizer report, leak, timeout or out-of-memory.
#
#   tests/fuzz/run_fuzzers.sh <builddir> [seconds-per-target] [target...]
#
# ctest runs it as fuzz.all (see tests/fuzz/CMakeLists.txt). Crash inputs
# are kept in <builddir>/fuzz/artifacts/. Environment: CC (default clang),
# FUZZ_JOBS (build parallelism, default nproc), FUZZ_KEEP_CORPUS=1 keeps
# the grown corpora in <builddir>/fuzz/corpus/ instead of a temp dir.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: run_fuzzers.sh <builddir> [seconds] [target...]}
secs=${2:-15}
shift $(( $# >= 2 ? 2 : 1 ))
fdir="$build/fuzz"
seeds="$src/tests/data/fuzz"
cc=${CC:-clang}
# ctest may hand us gcc via CC from the main build's environment
case "$(basename "$cc")" in clang*) ;; *) cc=clang ;; esac

mkdir -p "$fdir"
echo "fuzz: configuring $fdir with $cc"
cmake -S "$src/tests/fuzz" -B "$fdir" -DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$fdir/configure.log" 2>&1 ||
	{ cat "$fdir/configure.log"; exit 1; }
echo "fuzz: building"
cmake --build "$fdir" --target fuzzers -j"${FUZZ_JOBS:-$(nproc)}" \
	>"$fdir/build.log" 2>&1 || { tail -60 "$fdir/build.log"; exit 1; }

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for b in "$fdir"/fuzz_*; do
		[ -x "$b" ] && [ -f "$b" ] && targets+=("$(basename "$b" | sed 's/^fuzz_//')")
	done
fi

tmp=$(mktemp -d /tmp/chorus-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$fdir/artifacts" "$fdir/logs"

dict_for() {
	case "$1" in
	sip|endpoint) cat "$src/tests/fuzz/sip.dict" "$src/tests/fuzz/sdp.dict" ;;
	sdp) cat "$src/tests/fuzz/sdp.dict" ;;
	command) cat "$src/tests/fuzz/command.dict" ;;
	esac
}

failed=()
printf '%-10s %8s %8s %10s %8s  %s\n' target runs cov exec/s corpus result >"$tmp/summary"
for t in "${targets[@]}"; do
	bin="$fdir/fuzz_$t"
	[ -x "$bin" ] || { echo "fuzz: no target $t"; failed+=("$t"); continue; }

	if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then
		corpus="$fdir/corpus/$t"
	else
		corpus="$tmp/corpus-$t"
	fi
	mkdir -p "$corpus"
	[ -d "$seeds/$t" ] && cp -n "$seeds/$t"/* "$corpus"/ 2>/dev/null || true
	# endpoint: its dialog seeds and every single datagram of fuzz_sip
	[ "$t" = endpoint ] && cp -n "$seeds/sip"/* "$corpus"/ 2>/dev/null || true

	args=(-max_total_time="$secs" -rss_limit_mb=2560 -timeout=10
	      -print_final_stats=1 -artifact_prefix="$fdir/artifacts/$t-")
	dict_for "$t" >"$tmp/$t.dict"
	[ -s "$tmp/$t.dict" ] && args+=(-dict="$tmp/$t.dict")

	# fuzz_endpoint runs a real SIP stack: give it a network namespace
	# with loopback only, so nothing a fuzzed Via/Contact names is reached
	wrap=()
	if [ "$t" = endpoint ]; then
		if unshare -rn true 2>/dev/null; then
			wrap=(unshare -rn sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' sh)
		else
			echo "fuzz: endpoint skipped (no network namespace: unshare -rn)"
			continue
		fi
	fi

	log="$fdir/logs/$t.log"
	echo "fuzz: $t for ${secs}s"
	rc=0
	timeout -k 10 $((secs + 120)) "${wrap[@]}" "$bin" "${args[@]}" "$corpus" \
		>"$log" 2>&1 || rc=$?

	last=$(grep -aE '^#[0-9]+' "$log" | tail -1 || true)
	runs=$(LC_ALL=C sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
	cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
	eps=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.*corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<<"$last")
	res=ok
	if [ $rc -ne 0 ]; then
		res="FAIL rc=$rc"
		failed+=("$t")
		echo "---- $t: last 60 lines of $log"
		tail -60 "$log"
	fi
	printf '%-10s %8s %8s %10s %8s  %s\n' "$t" "${runs:-?}" "${cov:-?}" \
		"${eps:-?}" "${corp:-?}" "$res" >>"$tmp/summary"
done

cat "$tmp/summary"
cp "$tmp/summary" "$fdir/summary.txt"
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: FAILED: ${failed[*]} (inputs in $fdir/artifacts/)"
	exit 1
fi
echo "fuzz: all targets clean"
