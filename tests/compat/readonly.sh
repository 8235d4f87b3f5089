#!/bin/sh
# readonly.sh - with the data disk full, reads keep working over the
# protocol and the client says why writes fail (issue 7, item 13).
#
# The data directory is on a small tmpfs, filled up. A new session is a
# transaction, so it cannot be logged: a client that set canBeReadOnly
# (quorumctl, kazoo with read_only=True) gets a read-only session (the
# ConnectResponse's readOnly flag) whose reads work and whose writes get
# NOTREADONLY, which quorumctl explains; any other client's connection is
# closed and the log says why. Once space is freed, sessions are full again.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
qfs_init

mkdir -p "$T/small"
if ! mount -t tmpfs -o size=4m tmpfs "$T/small" 2>/dev/null; then
	t_fail "mount a small tmpfs for the data directory" "needs root (as tests/fs/errors.sh)"
	exit 0
fi
trap 'umount -l "$T/small" 2>/dev/null; qfs_cleanup' EXIT
# The data directory on the small disk, its log (DATADIR.log) off it.
mkdir -p "$T/small/d"
ln -s "$T/small/d" "$T/d"
PORT=$(free_port)
if ! qfs_start "$T/mnt" "$T/d" -o "clientPort=$PORT,4lw.commands.whitelist=srvr isro"; then
	t_fail "daemon starts"
	exit 0
fi
Q="$QUORUMCTL -s 127.0.0.1:$PORT"
$Q create /x before >/dev/null
t_eq "a value written before the disk fills" before "$($Q get /x)"

isro() {
	python3 - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"isro")
print(s.recv(16).decode())
PY
}
# connect_plain: a ConnectRequest without canBeReadOnly; prints what came
# back ("session" or "closed").
connect_plain() {
	python3 - "$PORT" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
req = struct.pack(">iqiq", 0, 0, 10000, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0"
s.sendall(struct.pack(">i", len(req)) + req)
d = s.recv(64)
print("session" if len(d) >= 4 else "closed")
PY
}

# Fill the disk (the daemon's own writes see ENOSPC from now on).
dd if=/dev/zero of="$T/small/filler" bs=64k 2>/dev/null
$Q create /y >/dev/null 2>&1 # may fail or not: the log may have had room
dd if=/dev/zero of="$T/small/filler2" bs=4k 2>/dev/null
sync

$Q get /x >"$T/get.out" 2>"$T/get.err"
rc=$?
t_eq "quorumctl get on a full disk: exit 0" 0 "$rc"
t_eq "quorumctl get on a full disk: the value" before "$(cat "$T/get.out")"
sed 's/^/# get: /' "$T/get.err"
t_eq "quorumctl ls on a full disk" x "$($Q ls / 2>/dev/null | grep -x x)"
$Q set /x after >"$T/set.out" 2>"$T/set.err"
t_eq "quorumctl set on a full disk: exit 1" 1 $?
sed 's/^/# set: /' "$T/set.err"
t_check "quorumctl says the server is read-only" grep -q "server is read-only" "$T/set.err"
t_eq "the value is unchanged" before "$($Q get /x 2>/dev/null)"
t_eq "isro says ro while sessions are read-only" ro "$(isro)"
t_check "the log says a read-only session was given, and why" \
	grep -q "cannot create a session (No space left on device): a read-only session" "$T/d.log" ||
	grep -E "cannot create a session|log write" "$T/d.log" | head -5 | sed 's/^/# log: /'

if /usr/bin/python3 -c 'import kazoo' 2>/dev/null; then
	timeout 60 /usr/bin/python3 - "$PORT" >"$T/kz.out" 2>&1 <<'PY'
import sys
from kazoo.client import KazooClient
from kazoo.exceptions import NotReadOnlyCallError
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1], read_only=True)
zk.start(timeout=10)
print("state %s" % zk.client_state)
print("get %s" % zk.get("/x")[0].decode())
try:
    zk.set("/x", b"k")
    print("set: ok")
except NotReadOnlyCallError:
    print("set: NotReadOnlyCallError")
zk.stop()
PY
	sed 's/^/# kazoo: /' "$T/kz.out"
	t_check "kazoo (read_only=True) connects read-only" grep -qx "state CONNECTED_RO" "$T/kz.out"
	t_check "kazoo reads" grep -qx "get before" "$T/kz.out"
	t_check "kazoo's write gets NotReadOnlyCallError" grep -qx "set: NotReadOnlyCallError" "$T/kz.out"
else
	t_fail "kazoo is installed (python3-kazoo)"
fi

t_eq "a client without canBeReadOnly is closed" closed "$(connect_plain)"
t_check "... and the log says why" \
	grep -q "cannot create a session (No space left on device): closing the connection" \
	"$T/d.log"

# A read-only session lives as long as its connection: one silent for its
# timeout (4 s, asked 4000 ms) is closed, as an expired session would be.
timeout 30 python3 - "$PORT" >"$T/silent.out" 2>&1 <<'PY'
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
req = struct.pack(">iqiq", 0, 0, 4000, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\1"
s.sendall(struct.pack(">i", len(req)) + req)
n = struct.unpack(">i", s.recv(4))[0]
resp = s.recv(n)
print("readonly %d" % resp[-1])
t0 = time.monotonic()
while s.recv(4096):
    pass
print("closed after %.0f s" % (time.monotonic() - t0))
PY
sed 's/^/# /' "$T/silent.out"
t_check "a raw client with canBeReadOnly gets readOnly=1" grep -qx "readonly 1" "$T/silent.out"
t_check "a silent read-only session is closed within 4-10 s" \
	grep -qE "^closed after ([4-9]|10) s" "$T/silent.out"

# Space again: full sessions, writes work.
rm -f "$T/small/filler" "$T/small/filler2"
wait_until 10 sh -c "$Q set /x after >/dev/null 2>&1"
t_eq "after freeing space, writes work again" after "$($Q get /x)"
t_eq "isro says rw again" rw "$(isro)"
qfs_stop "$QFS_PID" "$T/mnt" || t_fail "daemon stops cleanly"
umount "$T/small"
