#!/bin/sh
# ephemeral.sh - ephemeral nodes made through the mount belong to its
# session (DESIGN.md section 2): a lock directory is EEXIST while held and
# goes on rmdir, on a clean stop and after kill -9 once the daemon is back,
# each time with IN_DELETE for a watcher.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
D=$T/d
PORT=$(free_port)
OPTS="clientPort=$PORT,tickTime=200"
qfs_start "$M" "$D" -o "$OPTS" || { t_fail "mount"; exit 1; }
mkerr() { python3 -c "
import errno, os, sys
try: os.mkdir(sys.argv[1]); print('OK')
except OSError as e: print(errno.errorcode[e.errno])" "$1"; }
watch_start() {
	: >"$1.err"
	inotifywait -m -e create,delete --format '%e %f' "$2" >"$1" 2>"$1.err" &
	WPID=$!
	QFS_PIDS="$QFS_PIDS $WPID"
	wait_until 10 grep -q "Watches established" "$1.err"
}

mkdir "$M/locks"
setfattr -n user.quorumfs.child_kind -v ephemeral "$M/locks"
t_eq "take the lock: mkdir" OK "$(mkerr "$M/locks/deploy")"
t_eq "the lock is an ephemeral node" ephemeral \
	"$(getfattr --only-values -n user.quorumfs.kind "$M/locks/deploy")"
t_eq "held: a second mkdir fails EEXIST" EEXIST "$(mkerr "$M/locks/deploy")"
t_check "user.quorumfs.owner names the holder" sh -c \
	"getfattr --only-values -n user.quorumfs.owner '$M/locks/deploy' | grep -q '$M'"
rmdir "$M/locks/deploy"
t_eq "released by rmdir, taken again" OK "$(mkerr "$M/locks/deploy")"
echo note >"$M/locks/file"
t_eq "a file under child_kind=ephemeral is ephemeral too" ephemeral \
	"$(getfattr --only-values -n user.quorumfs.kind "$M/locks/file")"

# Clean stop: the session closes, its ephemerals go with their events.
watch_start "$T/w1" "$M/locks"
qfs_stop "$QFS_PID" "$M"
t_check "clean stop unmounts" sh -c "! grep -q ' $M fuse' /proc/mounts"
wait_until 5 sh -c "grep -q '^DELETE file' '$T/w1' && grep -q '^DELETE,ISDIR deploy' '$T/w1'"
kill "$WPID" 2>/dev/null
t_check "clean stop: the watcher saw IN_DELETE|IN_ISDIR for the lock" \
	grep -q "^DELETE,ISDIR deploy" "$T/w1"
t_check "clean stop: the watcher saw IN_DELETE for the ephemeral file" \
	grep -q "^DELETE file" "$T/w1"
qfs_start "$M" "$D" -o "$OPTS" || { t_fail "remount"; exit 1; }
t_check "after a clean stop and restart the lock is gone" test ! -e "$M/locks/deploy"
t_check "the persistent lock directory stays" test -d "$M/locks"

# Crash: kill -9 while held; the daemon that comes back closes the dead
# run's session, and a watcher started on the new mount sees the lock go.
t_eq "take the lock again" OK "$(mkerr "$M/locks/deploy")"
qfs_kill9 "$QFS_PID" "$M"
qfs_start "$M" "$D" -o "$OPTS" || { t_fail "restart after kill -9"; exit 1; }
watch_start "$T/w2" "$M/locks"
t_check "after kill -9 and restart the lock goes" wait_until 15 test ! -e "$M/locks/deploy"
wait_until 5 grep -q "^DELETE,ISDIR deploy" "$T/w2"
kill "$WPID" 2>/dev/null
t_check "after kill -9: the watcher saw IN_DELETE|IN_ISDIR" grep -q "^DELETE,ISDIR deploy" "$T/w2"
t_eq "the lock can be taken by the new run" OK "$(mkerr "$M/locks/deploy")"

# fusermount3 -u: the daemon shuts down cleanly by itself, session closed.
mkdir "$M/locks/byumount"
fusermount3 -u "$M"
t_check "fusermount3 -u: the daemon exits" wait_until 10 sh -c "! kill -0 $QFS_PID"
wait "$QFS_PID" 2>/dev/null
t_eq "fusermount3 -u: exit status 0" 0 "$?"
qfs_start "$M" "$D" -o "$OPTS" || { t_fail "restart after fusermount3 -u"; exit 1; }
t_check "fusermount3 -u closed the session: its lock is gone at once" \
	test ! -e "$M/locks/byumount"

# A ZooKeeper client holds an ephemeral and dies without closing its
# session: the session expires (1 s), and the daemon's deletion raises the
# events an rm would.
cat >"$T/zkeph.py" <<'PY'
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def send(body): s.sendall(struct.pack(">i", len(body)) + body)
def recv():
    n = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
    return s.recv(n, socket.MSG_WAITALL)
def zstr(b): return struct.pack(">i", len(b)) + b
# ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly
send(struct.pack(">iqiq", 0, 0, 1000, 0) + zstr(b"\0" * 16) + b"\0")
recv()
# create(xid 1, op 1): path, data, acl world:anyone:cdrwa, flags EPHEMERAL
acl = struct.pack(">ii", 1, 31) + zstr(b"world") + zstr(b"anyone")
send(struct.pack(">ii", 1, 1) + zstr(sys.argv[2].encode()) + zstr(b"held") + acl +
     struct.pack(">i", 1))
xid, zxid, err = struct.unpack(">iqi", recv()[:16])
print("created" if err == 0 else "error %d" % err, flush=True)
time.sleep(120) # never pings: killed before that
PY
mkdir "$M/zk"
watch_start "$T/w3" "$M/zk"
python3 "$T/zkeph.py" "$PORT" /zk/held >"$T/zk.out" &
ZPID=$!
QFS_PIDS="$QFS_PIDS $ZPID"
t_check "a ZooKeeper client made an ephemeral" wait_until 5 test -e "$M/zk/held"
kill -KILL "$ZPID"
t_check "its session expires and the ephemeral goes" wait_until 10 test ! -e "$M/zk/held"
wait_until 5 grep -q "DELETE held" "$T/w3"
kill "$WPID" 2>/dev/null
t_eq "the watcher saw it made and removed, as echo then rm" \
	"CREATE held DELETE held" "$(tr '\n' ' ' <"$T/w3" | sed 's/ $//')"
qfs_stop "$QFS_PID" "$M"
