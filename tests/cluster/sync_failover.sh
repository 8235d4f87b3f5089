#!/bin/sh
# sync_failover.sh - syncs held across leader changes never stall a member.
# 3 participants and 1 observer on loopback; fsync of a directory (a read
# index, qcore_sync) runs in a loop on the observer's and the followers'
# mounts while the leader is killed and restarted a few times. A sync held
# while there is no leader is re-asked when a leader is known; on a member
# whose new epoch is not durable yet that read index fails at once, and
# re-activating the release event for it made the loop spin forever in one
# libevent pass (chaos --seed 11). After each failover every member must
# answer srvr again.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init

N=4
ROUNDS=${QFS_SYNC_ROUNDS:-4}
head -c 32 /dev/urandom | base64 >"$T/secret"
CFG=$T/zoo.cfg
{
	echo "tickTime=100"
	echo "initLimit=10"
	echo "syncLimit=5"
	echo "mountSessionTimeout=3000"
	echo "clusterName=sync-failover-test"
	echo "clusterSecretFile=$T/secret"
	i=1
	while [ $i -le $N ]; do
		role=""
		[ $i -eq 4 ] && role=":observer"
		echo "server.$i=127.0.0.1:$(free_port):$(free_port)$role"
		i=$((i + 1))
	done
} >"$CFG"

start() {
	mkdir -p "$T/m$1" "$T/d$1"
	eval "CP$1=\${CP$1:-$(free_port)}"
	eval "cp=\$CP$1"
	"$QUORUMFS" -f -d -o "dataDir=$T/d$1,myid=$1,clientPort=$cp" "$CFG" "$T/m$1" \
		>>"$T/d$1.log" 2>&1 &
	eval "PID$1=$!"
	QFS_PIDS="$QFS_PIDS $!"
	QFS_MOUNTS="$QFS_MOUNTS $T/m$1"
}

# mode I: the Mode line of member I's srvr answer (empty if none in 2 s).
mode() {
	eval "cp=\$CP$1"
	python3 - "$cp" <<'PY' 2>/dev/null | sed -n 's/^Mode: //p'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"srvr")
out = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    out += d
print(out.decode())
PY
}
serving() { [ -n "$(mode "$1")" ]; }
# within SECONDS COMMAND...: like wait_until, but bounded in wall time (a
# stalled member makes each srvr take its whole 2 s timeout).
within() {
	wi_end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$wi_end" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	"$@"
}
all_serving() {
	for j in 1 2 3 4; do serving $j || return 1; done
}
find_leader() {
	leader=""
	for j in 1 2 3; do
		[ "$(mode $j)" = leader ] && leader=$j && return 0
	done
	return 1
}

i=1
while [ $i -le $N ]; do
	start $i
	i=$((i + 1))
done
i=1
while [ $i -le $N ]; do
	if ! wait_until 20 is_mounted "$T/m$i"; then
		t_fail "member $i mounts" "log: $(tail -5 "$T/d$i.log")"
		exit 1
	fi
	i=$((i + 1))
done
t_check "a write" sh -c "echo one >'$T/m1/one'"

# fsync of the mount's root directory (qcore_sync), in a loop, on members
# 1..4 (the killed member's loop just fails while it is down).
: >"$T/go"
SYNCERS=""
for j in 1 2 3 4; do
	python3 - "$T/m$j" "$T/go" <<'PY' 2>/dev/null &
import os, sys
while os.path.exists(sys.argv[2]):
    try:
        fd = os.open(sys.argv[1], os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
PY
	SYNCERS="$SYNCERS $!"
done

r=1
while [ $r -le "$ROUNDS" ]; do
	if ! within 20 find_leader; then
		t_fail "round $r: a leader" "modes: $(mode 1) $(mode 2) $(mode 3) $(mode 4)"
		break
	fi
	find_leader
	old=$leader
	eval "kill -KILL \$PID$old"
	fusermount3 -u -z "$T/m$old" 2>/dev/null
	within 20 find_leader
	start "$old"
	wait_until 20 is_mounted "$T/m$old"
	if within 20 all_serving; then
		t_ok "round $r: every member answers srvr after member $old was killed"
	else
		t_fail "round $r: every member answers srvr after member $old was killed" \
			"modes: '$(mode 1)' '$(mode 2)' '$(mode 3)' '$(mode 4)'"
		break
	fi
	r=$((r + 1))
done
rm -f "$T/go"
# Not waited for: an fsync on a stalled member only ends with its daemon.
# One that saw $T/go vanish has exited already (kill's status is not the
# test's: it made the script exit 1 with every check passed, in CI).
for p in $SYNCERS; do
	kill -KILL "$p" 2>/dev/null || :
done
