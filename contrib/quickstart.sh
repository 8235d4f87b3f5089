#!/bin/sh
# quickstart.sh - on a fresh Debian 12 machine: install what is missing, build,
# and start a standalone quorumfs daemon with its tree mounted at ./run/coord
# (data in ./run/data, ZooKeeper clients on 127.0.0.1:2181).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/install-deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p build run/coord run/data
cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" -s quorumfs quorumctl
cd "$top"
if grep -q " $top/run/coord fuse" /proc/mounts; then
	echo "quorumfs is already mounted at $top/run/coord"
	exit 0
fi
port=${QFS_CLIENT_PORT:-2181}
./build/quorumfs -o "dataDir=$top/run/data,clientPort=$port,clientPortAddress=127.0.0.1" \
	contrib/standalone.cfg "$top/run/coord"
cat <<MSG
quorumfs is running: the tree is mounted at $top/run/coord
  echo hello > run/coord/greeting && cat run/coord/greeting
  ./build/quorumctl -s 127.0.0.1:$port ls /
Logs go to syslog (journalctl -t quorumfs). Stop it with:
  fusermount3 -u $top/run/coord      (or: kill \$(pgrep -f 'quorumfs.*run/coord'))
MSG
