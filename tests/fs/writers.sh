#!/bin/sh
# writers.sh - a file open for writing, as its writer sees it (quorumfs(8),
# Writes): its close commits what it wrote and returns the commit's error,
# whatever other processes and the ZooKeeper protocol do meanwhile, and it
# sees the size its own writes and ftruncate(2) made (others see the
# committed one).
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
elif op == "ftrunc":
    # the tester's case: a cut, then a write at the end
    with open(p, "r+") as f:
        f.truncate(4)
        out.append(str(os.fstat(f.fileno()).st_size))
        out.append(str(os.stat(p).st_size))
        f.seek(0, 2)
        f.write("END")
elif op == "grow":
    fd = os.open(p, os.O_RDWR)
    os.ftruncate(fd, 10)
    out.append(str(os.fstat(fd).st_size))
    out.append(close(fd))
    out.append(str(os.stat(p).st_size))
elif op == "seekend":
    # a shorter value written after O_TRUNC: the end is the writer's
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"abcdefgh")
    out.append(str(os.lseek(fd, 0, os.SEEK_END)))
    os.write(fd, b"Z")
    out.append(close(fd))
elif op == "others":
    # another process sees the committed size until the close, and its
    # stat does not leave the writer a stale end; the other process was
    # started before the descriptor was opened (it holds no copy)
    sh = subprocess.Popen(["sh"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
    fd = os.open(p, os.O_RDWR)
    os.ftruncate(fd, 4)
    sh.stdin.write("stat -c %s '" + p + "'\n")
    sh.stdin.flush()
    out.append(sh.stdout.readline().strip())
    out.append(str(os.lseek(fd, 0, os.SEEK_END)))
    os.write(fd, b"END")
    out.append(close(fd))
    sh.stdin.close()
    sh.wait()
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

# 5. ftruncate(2): the writer sees the size it set.
printf 0123456789abcdef >"$M/rp2"
t_eq "ftruncate to 4: fstat and stat say 4, a write at the end lands at 4" \
	"4 4 0123END" "$(py ftrunc rp2)"
t_eq "... and the size after the close is 7" 7 "$(stat -c %s "$M/rp2")"
t_eq "ftruncate growing to 10: fstat says 10, and stat after the close" \
	"10 0 10 0123END@@@" "$(py grow rp2)"
printf 0123456789abcdef >"$M/se"
t_eq "O_TRUNC then 8 bytes: SEEK_END is 8" "8 0 abcdefghZ" "$(py seekend se)"
printf 0123456789abcdef >"$M/ot"
t_eq "another process sees the committed size until the close; the writer's end stays 4" \
	"16 4 0 0123END" "$(py others ot)"

# 6. Appenders (O_APPEND) at once: every line lands, as on a local disk.
# The second commit meets the first's value and is made again on top of
# it; a shell ignores a failed close of "echo line >> log", so an ESTALE
# here lost lines silently.
: >"$M/log"
(i=0; while [ $i -lt 100 ]; do echo "A$i" >>"$M/log"; i=$((i + 1)); done) &
a=$!
(i=0; while [ $i -lt 100 ]; do echo "B$i" >>"$M/log"; i=$((i + 1)); done) &
b=$!
wait $a $b
t_eq "two shells appending 100 lines each: 200 lines kept" 200 "$(wc -l <"$M/log")"
t_eq "  each once" 200 "$(sort -u "$M/log" | wc -l)"
seq 0 99 | sed 's/^/A/' >"$T/A.want"
seq 0 99 | sed 's/^/B/' >"$T/B.want"
t_check "  each shell's lines in its order" \
	sh -c "grep '^A' '$M/log' | cmp -s - '$T/A.want' && grep '^B' '$M/log' | cmp -s - '$T/B.want'"
printf 'base\n' >"$M/app2"
t_eq "three descriptors appending, then closed in turn: every line" \
	"base line0 line1 line2" "$(python3 -c "
import os, sys
p = sys.argv[1]
fds = [os.open(p, os.O_WRONLY | os.O_APPEND) for _ in range(3)]
for i, fd in enumerate(fds):
    os.write(fd, b'line%d\n' % i)
for fd in fds:
    os.close(fd)
print(' '.join(open(p).read().split()))
" "$M/app2")"
printf 'start\n' >"$M/app3"
t_eq "an append with a ZooKeeper client's set in between lands on the new value" \
	"remote appended" "$(python3 -c "
import os, subprocess, sys
p, ctl, srv = sys.argv[1:4]
fd = os.open(p, os.O_WRONLY | os.O_APPEND)
os.write(fd, b'appended\n')
subprocess.run([ctl, '-s', srv, 'set', '/app3', 'remote\n'], check=True, pass_fds=())
os.close(fd)
print(' '.join(open(p).read().split()))
" "$M/app3" "$QUORUMCTL" "127.0.0.1:$PORT")"

qfs_stop "$QFS_PID" "$M"
