#!/bin/sh
# quickstart.sh - on a fresh Debian 12 machine: install what building and
# running need, build, and start a local ensemble on 127.0.0.1: three
# participants and one observer, each a daemon with its own mount (./run/n1
# ... ./run/n4), data directory (./run/d1 ...) and client port (2181 ...
# 2184), from contrib/loopback.cfg. Then a short tour: a write on n1 read on
# n3, a lock taken on n2, a watch on n4, `quorumctl status`.
#
#   sh contrib/quickstart.sh               the ensemble and the tour
#   sh contrib/quickstart.sh --standalone  one standalone daemon at ./run/coord
#                                          (client port 2181), no tour
#   sh contrib/quickstart.sh --stop        stop what either started
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mode=ensemble
case "${1:-}" in
--standalone) mode=standalone ;;
--stop) mode=stop ;;
"") ;;
*)
	echo "usage: quickstart.sh [--standalone | --stop]" >&2
	exit 2
	;;
esac
run=$top/run
mounted() { grep -q " $1 fuse" /proc/mounts; }

# running PID: a quorumfs process that has not exited (a zombie has)
running() {
	[ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = quorumfs ] &&
		! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

if [ $mode = stop ]; then
	for m in "$run/coord" "$run/n1" "$run/n2" "$run/n3" "$run/n4"; do
		if mounted "$m"; then
			# the daemon stops cleanly when its mount goes (quorumfs(8))
			fusermount3 -u "$m" && echo "unmounted $m"
		fi
	done
	# Return once the members have exited (they flush and close their
	# logs first), so that a start right after finds their data free.
	for i in 1 2 3 4; do
		f=$run/d$i.pid
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		n=0
		while running "$pid" && [ $n -lt 300 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		if running "$pid"; then
			echo "member $i (pid $pid) is still running after 30 s; see run/d$i.log"
		else
			echo "member $i stopped"
			rm -f "$f"
		fi
	done
	exit 0
fi

sh contrib/install-deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure -q; } && make -j"$(nproc)" -s quorumfs quorumctl)
Q=$top/build/quorumfs
CTL=$top/build/quorumctl

if [ $mode = standalone ]; then
	mkdir -p "$run/coord" "$run/data"
	if mounted "$run/coord"; then
		echo "quorumfs is already mounted at $run/coord"
		exit 0
	fi
	port=${QFS_CLIENT_PORT:-2181}
	"$Q" -o "dataDir=$run/data,clientPort=$port,clientPortAddress=127.0.0.1" \
		contrib/standalone.cfg "$run/coord"
	cat <<MSG
quorumfs is running standalone: the tree is mounted at $run/coord
  echo hello > run/coord/greeting && cat run/coord/greeting
  ./build/quorumctl -s 127.0.0.1:$port ls /
Logs go to syslog (journalctl -t quorumfs). Stop it with:
  sh contrib/quickstart.sh --stop      (or: fusermount3 -u $run/coord)
MSG
	exit 0
fi

# --- the ensemble ---
mkdir -p "$run"
if [ ! -s "$run/cluster.secret" ]; then
	(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/cluster.secret")
fi
sed "s|@RUN@|$run|g" contrib/loopback.cfg >"$run/zoo.cfg"
for i in 1 2 3 4; do
	mkdir -p "$run/n$i" "$run/d$i"
	if mounted "$run/n$i"; then
		echo "member $i is already running (mounted at run/n$i)"
		continue
	fi
	port=$(sed -n "s/^server\.$i=.*;127\.0\.0\.1:\([0-9]*\)$/\1/p" "$run/zoo.cfg")
	# each member in the background, in a session of its own; logs
	# in run/dN.log
	setsid "$Q" -f -o "myid=$i,dataDir=$run/d$i,clientPort=$port" "$run/zoo.cfg" "$run/n$i" \
		>>"$run/d$i.log" 2>&1 &
	echo $! >"$run/d$i.pid" # for --stop, which waits for the exit
done

# wait (bounded) for the mounts and a leader
srvr_mode() { # PORT
	python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
    s.sendall(b"srvr")
    out = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    for l in out.decode().splitlines():
        if l.startswith("Mode: "):
            print(l[6:])
except OSError:
    pass
PY
}
end=$(($(date +%s) + 60))
while [ "$(date +%s)" -lt $end ]; do
	up=0 leader=0
	for n in 1 2 3 4; do
		mounted "$run/n$n" && up=$((up + 1))
		[ "$(srvr_mode 218$n)" = leader ] && leader=$((leader + 1))
	done
	[ $up = 4 ] && [ $leader = 1 ] && break
	sleep 0.1
done
if [ $up != 4 ] || [ $leader != 1 ]; then
	echo "quickstart: the ensemble did not come up ($up of 4 mounts, $leader leaders); logs:" >&2
	for n in 1 2 3 4; do tail -5 "$run/d$n.log" | sed "s/^/  d$n.log: /" >&2; done
	exit 1
fi

# --- the tour: each command shown, then run ---
cd "$top"
show() {
	echo "\$ $*"
	sh -c "$*" 2>&1 | sed 's/^/  /'
}
cat <<MSG
A local quorumfs ensemble is running: 3 participants and 1 observer on
127.0.0.1, each mounting the same tree (run/n1 ... run/n4) and serving
ZooKeeper clients (127.0.0.1:2181 ... 2184). The configuration is run/zoo.cfg.

1. A write on n1 is committed by a quorum before echo returns; n3 reads it
   (sync first to be sure n3 has caught up):
MSG
show "mkdir -p run/n1/app && echo 'max_conns=500' > run/n1/app/db.conf"
show "sync run/n3/app/db.conf && cat run/n3/app/db.conf"
cat <<MSG

2. A lock: in a directory whose children are ephemeral, mkdir is a
   cluster-wide try-lock, held by n2 until rmdir or until n2's daemon dies:
MSG
show "mkdir -p run/n1/locks && setfattr -n user.quorumfs.child_kind -v ephemeral run/n1/locks"
show "sync run/n2/locks; mkdir run/n2/locks/deploy && echo 'n2 holds the lock'"
show "sync run/n3/locks; mkdir run/n3/locks/deploy || echo 'n3: busy'"
show "getfattr --only-values -n user.quorumfs.owner run/n3/locks/deploy; echo"
cat <<MSG

3. A watch on n4 (the observer) is an inotify event for a change made on n1:
MSG
inotifywait -t 10 -e close_write --format '%e %w%f' run/n4/app >"$run/tour.watch" 2>"$run/tour.err" &
wp=$!
i=0
while ! grep -q "Watches established" "$run/tour.err" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
echo "\$ inotifywait -e close_write run/n4/app &     # on n4"
show "echo 'max_conns=600' > run/n1/app/db.conf            # on n1"
wait $wp 2>/dev/null || true
sed 's/^/  inotifywait on n4: /' "$run/tour.watch"
show "rmdir run/n2/locks/deploy && echo 'n2 released the lock'"
cat <<MSG

4. The ensemble:
MSG
show "./build/quorumctl status -c run/zoo.cfg"
cat <<MSG

ZooKeeper clients: ./build/quorumctl -s 127.0.0.1:2181,127.0.0.1:2182,127.0.0.1:2183 ls /
Logs: run/d1.log ... run/d4.log. Stop everything with:
  sh contrib/quickstart.sh --stop
MSG
