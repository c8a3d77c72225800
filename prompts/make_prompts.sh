#!/bin/sh
# make_prompts.sh OUTDIR TEXTS: one <name>-<rate>.wav per line of TEXTS
# ("name|text"), 16-bit mono at 48000 and 16000 Hz (the room rates).
# espeak-ng speaks, sox resamples and levels (-3 dBFS peak).
set -e
out=$1
texts=$2
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -v '^#' "$texts" | while IFS='|' read -r name text; do
	[ -n "$name" ] || continue
	espeak-ng -v en-us -s 150 -w "$tmp/$name.wav" "$text"
	for rate in 48000 16000; do
		sox "$tmp/$name.wav" -r $rate -c 1 -b 16 "$out/$name-$rate.wav" \
			gain -n -3
	done
done
