#!/bin/sh
# atomic.sh - a file replaced while readers open it: by a local rename over
# it (write tmp, mv tmp conf) and by a ZooKeeper client's multi (delete and
# create in one transaction). Every open by a reader meanwhile finds the
# file and reads one whole value: never ENOENT (a reader that resolved the
# name just before the replacement holds the old inode, whose znode is
# gone), never a partial or empty value.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
P=$(free_port)
qfs_start "$T/m" "$T/d" -o "clientPort=$P,clientPortAddress=127.0.0.1" || {
	t_fail "mount"
	exit 1
}
wait_until 10 zk_ruok "$P"
cat >"$T/race.py" <<'PY'
# race.py MNT MODE N [QUORUMCTL SERVER]: a child replaces MNT/rn/conf N
# times while this process opens and reads it until the child is done.
import os, re, subprocess, sys
mnt, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = os.path.join(mnt, 'rn')
os.makedirs(d, exist_ok=True)
conf = os.path.join(d, 'conf')
with open(conf, 'w') as f:
    f.write('v-init\n')
pid = os.fork()
if pid == 0:
    code = 1
    try:
        for i in range(n):
            if mode == 'rename':
                tmp = os.path.join(d, 'tmp')
                with open(tmp, 'w') as f:
                    f.write('v%d\n' % i)
                os.rename(tmp, conf)
            else:
                subprocess.run([sys.argv[4], '-s', sys.argv[5], 'multi', '-'],
                               input=b'delete /rn/conf\ncreate /rn/conf v%d\n' % i,
                               check=True, stdout=subprocess.DEVNULL)
        code = 0
    finally:
        os._exit(code)
reads = enoent = bad = 0
whole = re.compile(r'^v(\d+|-init)\n?$')
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    try:
        with open(conf) as f:
            v = f.read()
        reads += 1
        if not whole.match(v):
            bad += 1
            if bad <= 3:
                print('# not a whole value: %r' % v)
    except FileNotFoundError:
        enoent += 1
    if done:
        break
print('writer %d reads %d enoent %d bad %d' % (os.waitstatus_to_exitcode(status), reads, enoent, bad))
PY
for mode in rename multi; do
	if [ $mode = rename ]; then n=300; else n=100; fi
	out=$(timeout 300 python3 "$T/race.py" "$T/m" $mode $n "$QUORUMCTL" "127.0.0.1:$P" 2>&1)
	echo "$out" | grep '^#'
	res=$(echo "$out" | grep '^writer')
	echo "# $mode x$n: $res"
	t_check "$mode: the $n replacements all done" sh -c "echo '$res' | grep -q '^writer 0 '"
	t_check "$mode: readers opened the file more than $n times meanwhile" \
		test "$(echo "$res" | sed 's/.* reads \([0-9]*\) .*/\1/')" -gt $n
	t_check "$mode: no open failed with ENOENT" sh -c "echo '$res' | grep -q ' enoent 0 '"
	t_check "$mode: every read was one whole value" sh -c "echo '$res' | grep -q ' bad 0$'"
done
qfs_stop "$QFS_PID" "$T/m"
exit 0
