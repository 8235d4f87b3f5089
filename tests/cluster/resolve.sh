#!/bin/sh
# resolve.sh - peer host names are resolved again before every dial
# (issue 8: "host names resolve again when a peer reconnects"). Three
# members whose server.N lines name hosts (qfs-nI.test), each daemon in a
# mount namespace of its own with its own /etc/hosts bound over the real
# one (its FUSE mount stays in there too: this test talks to the client
# ports). Member 3 is killed and comes back on another address, 127.0.0.4,
# with a hosts file that names only itself: it cannot dial the others, so
# the ensemble takes it back only if members 1 and 2 look its name up again
# and dial the new address. Its start with two names that do not resolve
# also shows that such a name no longer stops a daemon from starting.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"

if ! command -v unshare >/dev/null || ! unshare -m true 2>/dev/null; then
	t_skip "peer names resolved again" "unshare -m is not available (needs root)"
	exit 0
fi
qc_init 3
CFG=$T/names.cfg
sed 's/^server\.\([0-9]\)=127\.0\.0\.1:/server.\1=qfs-n\1.test:/' "$QC_CFG" >"$CFG"

hosts() { # FILE LINES...: rewritten in place (the bind mount holds the inode)
	h_f=$1
	shift
	printf '%s\n' "127.0.0.1 localhost" "$@" >"$h_f.new"
	cat "$h_f.new" >"$h_f"
}
for i in 1 2 3; do
	: >"$T/hosts$i"
	hosts "$T/hosts$i" "127.0.0.1 qfs-n1.test" "127.0.0.2 qfs-n2.test" "127.0.0.3 qfs-n3.test"
done

spawn() { # I
	sp_d=$(qc_get QC_DATA "$1")
	sp_m=$(qc_get QC_MNT "$1")
	mkdir -p "$sp_d" "$sp_m"
	echo "=== start $(date +%T.%N)" >>"$sp_d.log"
	# unshare execs sh, sh execs the daemon: $! is the daemon.
	unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts$1" \
		"$QUORUMFS" -f -d -o "myid=$1,dataDir=$sp_d,clientPort=$(qc_get QC_CPORT "$1")" \
		"$CFG" "$sp_m" >>"$sp_d.log" 2>&1 &
	eval "QC_PID_$1=$!"
	QFS_PIDS="$QFS_PIDS $!"
	QC_STARTED="$QC_STARTED $1"
}

# zk I CODE: kazoo against member I alone (c), bounded.
zk() {
	timeout 60 "$QC_PY" - "127.0.0.1:$(qc_get QC_CPORT "$1")" "$2" <<'PY'
import logging, sys
logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
c = KazooClient(hosts=sys.argv[1], timeout=10)
c.start(timeout=20)
try:
    exec(sys.argv[2])
finally:
    c.stop()
    c.close()
PY
}

for i in 1 2 3; do spawn $i; done
if ! wait_until 30 qc_ruok 1 || ! wait_until 30 qc_ruok 2 || ! wait_until 30 qc_ruok 3 ||
	! qc_wait_leader 30; then
	t_fail "3 members named by host name elect a leader"
	for i in 1 2 3; do tail -5 "$(qc_get QC_DATA $i).log" | sed 's/^/# /'; done
	exit 1
fi
t_ok "3 members named by host name elect a leader (member $QC_LEADER)"
t_eq "a write on member 1 is read on member 3" \
	"$(zk 1 'c.create("/a", b"one")' && zk 3 'c.sync("/a"); print(c.get("/a")[0].decode())')" one

# Member 3 moves to 127.0.0.4 and can no longer resolve the others.
qc_kill9 3
for i in 1 2; do
	hosts "$T/hosts$i" "127.0.0.1 qfs-n1.test" "127.0.0.2 qfs-n2.test" "127.0.0.4 qfs-n3.test"
done
hosts "$T/hosts3" "127.0.0.4 qfs-n3.test"
t_eq "members 1 and 2 commit without it" "$(zk 1 'c.create("/b", b"two"); print("ok")')" ok
: >"$QC_DATA_3.log"
spawn 3
t_check "member 3 comes up on 127.0.0.4 though it cannot resolve the other names" \
	wait_until 30 qc_ruok 3
t_eq "member 3 rejoins: it serves the write made while it was away (sync, then read)" \
	"$(zk 3 'c.sync("/b"); print(c.get("/b")[0].decode())' 2>&1 | tail -1)" two
t_check "member 1 looked qfs-n3.test up again and dialled 127.0.0.4" \
	grep -Eq "peer 3: qfs-n3.test (now )?resolves to 127.0.0.4" "$QC_DATA_1.log"
t_check "member 3 logged its unresolvable peers (and did not stop)" \
	grep -q "peer 1: cannot resolve qfs-n1.test" "$QC_DATA_3.log"
t_eq "a write on member 3 reaches member 2" \
	"$(zk 3 'c.create("/c", b"three")' && zk 2 'c.sync("/c"); print(c.get("/c")[0].decode())')" three
