#!/bin/sh
# writers.sh - a file open for writing, as its writer sees it (quorumfs(8),
# Writes): its close commits what it wrote and returns the commit's error,
# whatever other processes and the ZooKeeper protocol do meanwhile.
#
# The ZooKeeper writer is quorumctl, run with subprocess.run from the
# process holding the descriptor, as a tester's script did: the child
# inherits the descriptor and closes it (close_fds, exec), and that close
# committed the writer's buffer, early. The change through the client port
# then replaced the data of an O_TRUNC writer (whose close returned 0),
# and a read-modify-write never saw the conflict (0, not ESTALE).
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
M=$T/m
PORT=$(free_port)
qfs_start "$M" "$T/d" -o "clientPort=$PORT" || { t_fail "mount"; exit 1; }
xv() { getfattr --only-values -n "user.quorumfs.$1" "$2" 2>/dev/null; }

# py OP FILE: one scenario on FILE; prints what the writer saw, then the
# value the file has after the close (zero bytes as @).
py() {
	python3 - "$QUORUMCTL" "127.0.0.1:$PORT" "$M" "$@" <<'PY'
import errno, os, subprocess, sys
ctl, zk, mnt, op, name = sys.argv[1:6]
p = os.path.join(mnt, name)

def zk_op(*args):
    # a child of the writer: it inherits the descriptor and closes it
    subprocess.run([ctl, "-s", zk] + list(args), check=True,
                   stdout=subprocess.DEVNULL)

def close(fd):
    try:
        os.close(fd)
        return "0"
    except OSError as e:
        return errno.errorcode[e.errno]

def value():
    try:
        with open(p) as f:
            return f.read().replace("\0", "@")  # zeros shown as @
    except OSError as e:
        return errno.errorcode[e.errno]

out = []
if op == "trunc":
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"USERDATA-LONGER-THAN-REMOTE")
    zk_op("set", "/" + name, "R")
    out.append(close(fd))
elif op == "rmw":
    fd = os.open(p, os.O_RDWR)
    os.write(fd, b"usr")
    zk_op("set", "/" + name, "SECOND-REMOTE")
    out.append(os.pread(fd, 100, 0).decode())
    out.append(close(fd))
elif op == "deleted":
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"data")
    zk_op("delete", "/" + name)
    out.append(close(fd))
elif op == "child":
    # a child that closes its copy between two writes commits nothing
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"part1-")
    subprocess.run(["true"], check=True)
    out.append(value())
    os.write(fd, b"part2")
    out.append(close(fd))
out.append(value())
print(" ".join(out))
PY
}

# 1. O_TRUNC replaces whatever is there, a change made meanwhile too.
printf orig >"$M/rpl3"
v=$(xv version "$M/rpl3")
t_eq "O_TRUNC writer, a set through the client port meanwhile: close 0, the writer's data" \
	"0 USERDATA-LONGER-THAN-REMOTE" "$(py trunc rpl3)"
t_eq "... committed once, after the set" "$((v + 2))" "$(xv version "$M/rpl3")"

# 2. A read-modify-write commits against the version it opened.
printf orig >"$M/rpl4"
t_eq "read-modify-write, a set meanwhile: its own bytes read back, ESTALE, the set stays" \
	"usrg ESTALE SECOND-REMOTE" "$(py rmw rpl4)"

# 3. The node deleted meanwhile: the commit fails as a local unlink's would.
printf orig >"$M/rpl5"
t_eq "a writer whose node is deleted meanwhile: ENOENT at close" "ENOENT ENOENT" \
	"$(py deleted rpl5)"

# 4. No partial value from a child's close.
printf orig >"$M/part"
v=$(xv version "$M/part")
t_eq "a child closing its copy commits nothing; the writer's close commits it all" \
	"orig 0 part1-part2" "$(py child part)"
t_eq "... as one setData" "$((v + 1))" "$(xv version "$M/part")"

qfs_stop "$QFS_PID" "$M"
