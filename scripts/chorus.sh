#!/usr/bin/env bash
# chorus set-up, build, run and test, for a Debian bookworm machine (as root).
#   bash scripts/chorus.sh run    install what is missing, build, start chorusd on conf/
#   bash scripts/chorus.sh test   install what is missing, build with ASan+UBSan, run ctest
#   bash scripts/chorus.sh bench  install, build (release), run bench/mixbench
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

# Debian packages the build, the server, the tests and the benchmarks use.
PKGS=(build-essential cmake pkg-config
      libre-dev librem-dev libopus-dev libsrtp2-dev libsimde-dev libcmocka-dev
      libspandsp-dev libssl-dev
      baresip-core sox espeak-ng gnuplot-nox libxml2-utils
      python3 python3-numpy python3-cryptography openssl procps iproute2
      clang-14 libclang-rt-14-dev util-linux libxml2-dev)   # fuzz.all (tests/fuzz)

install_deps() {
	local missing=()
	for p in "${PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "chorus: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
}

jobs() { nproc 2>/dev/null || echo 2; }

# A self-signed certificate for local SIP over TLS, made once, only if
# missing (to use it: "tls_cert tls.pem" and "sip_tls yes" in conf/chorus.conf).
tls_selfsigned() {
	local pem=conf/tls.pem tmp
	[ -e "$pem" ] && return 0
	tmp=$(mktemp -d)
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
		-keyout "$tmp/key.pem" -out "$tmp/crt.pem" \
		-subj "/CN=$(hostname -f 2>/dev/null || hostname)" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
		2>/dev/null
	(umask 077; cat "$tmp/crt.pem" "$tmp/key.pem" > "$pem")
	rm -rf "$tmp"
	echo "chorus: made a self-signed TLS certificate in $pem"
}

build() {  # build DIR cmake-args...
	local dir=$1; shift
	cmake -S . -B "$dir" "$@" >/dev/null
	cmake --build "$dir" -j"$(jobs)"
}

cmd=${1:-run}
case "$cmd" in
run)
	install_deps
	build build -DCMAKE_BUILD_TYPE=Release
	tls_selfsigned
	exec ./build/src/chorusd -f conf
	;;
test)
	install_deps
	build build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCHORUS_SANITIZE=ON -DCHORUS_WERROR=ON
	cd build-test
	ctest --output-on-failure --timeout 900 -j1
	;;
bench)
	install_deps
	build build -DCMAKE_BUILD_TYPE=Release
	shift
	exec ./build/bench/mixbench "$@"
	;;
*)
	echo "usage: $0 run|test|bench" >&2
	exit 2
	;;
esac
