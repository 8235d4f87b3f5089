#!/bin/sh
# install-deps.sh - install the Debian 12 packages quorumfs needs. Needs root;
# does nothing for packages already there.
#
#   install-deps.sh          what building and running need (the quickstart)
#   install-deps.sh --test   that, plus what only the test suite and the
#                            benchmarks need: Apache ZooKeeper (Java) and its C
#                            client, kazoo and its test dependencies, clang
#                            (fuzzers), valgrind (tests/run-all.sh uses this)
set -eu
run_pkgs="build-essential autoconf automake pkg-config libfuse3-dev fuse3 libevent-dev
 libsqlite3-dev sqlite3 libssl-dev inotify-tools attr python3 procps psmisc iproute2
 util-linux"
test_pkgs="check python3-kazoo zookeeper zookeeper-bin libzookeeper-mt-dev clang
 libclang-rt-14-dev valgrind python3-pytest python3-zake python3-mock
 python3-objgraph python3-pytest-timeout python3-pure-sasl iptables gdb"
pkgs=$run_pkgs
case "${1:-}" in
--test) pkgs="$run_pkgs $test_pkgs" ;;
"") ;;
*)
	echo "usage: install-deps.sh [--test]" >&2
	exit 2
	;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
[ -e /dev/fuse ] || { echo "install-deps: /dev/fuse is missing (modprobe fuse)" >&2; exit 1; }
