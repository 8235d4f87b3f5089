#!/bin/sh
# limits.sh - the largest value through the mount (issue 7, item 8): the
# mount and the wire share ZNODE_MAX_DATA (src/tree/tree.h), the largest
# value every default ZooKeeper client can read back. A file of exactly that
# size is written, read back and read by a protocol client; one byte more is
# EFBIG and commits nothing. (tests/compat/limits_zk.sh: the wire side.)
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
qfs_init

MAX=$(sed -n 's/^#define ZNODE_MAX_DATA \([0-9]*\).*/\1/p' "$QFS_SRCDIR/src/tree/tree.h")
MAXC=$(echo "$MAX" | sed 's/\(...\)\(...\)$/,\1,\2/')
t_check "ZNODE_MAX_DATA ($MAXC) is the number quorumfs(8) documents" \
	grep -q "at most $MAXC bytes" "$QFS_SRCDIR/man/quorumfs.8"
t_check "... and quorumfs.conf(5)" grep -q "$MAXC bytes" "$QFS_SRCDIR/man/quorumfs.conf.5"

# write PATH N [OFFSET]: write N bytes of 'm' (at OFFSET), close; prints OK
# or the errno name of the first failure.
write() {
	python3 - "$@" <<'PY'
import errno, os, sys
p, n = sys.argv[1], int(sys.argv[2])
off = int(sys.argv[3]) if len(sys.argv) > 3 else None
try:
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | (0 if off is not None else os.O_TRUNC), 0o644)
    try:
        if off is not None:
            os.lseek(fd, off, 0)
        os.write(fd, b"m" * n)
    finally:
        os.close(fd)
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))
PY
}

PORT=$(free_port)
if ! qfs_start "$T/mnt" "$T/data" -o "clientPort=$PORT"; then
	t_fail "daemon starts"
	exit 0
fi
M=$T/mnt
t_eq "a file of exactly $MAX bytes is written" OK "$(write "$M/max" "$MAX")"
t_eq "its size is $MAX" "$MAX" "$(stat -c %s "$M/max")"
t_eq "it reads back whole" "$MAX" "$(wc -c <"$M/max")"
t_eq "... and only 'm's" 0 "$(tr -d m <"$M/max" | wc -c)"
t_eq "the protocol reads $MAX bytes" "$MAX" "$("$QUORUMCTL" -s "127.0.0.1:$PORT" get /max | wc -c)"
echo small >"$M/over"
t_eq "one byte more ($((MAX + 1))): EFBIG" EFBIG "$(write "$M/over" $((MAX + 1)))"
t_eq "... which commits nothing" small "$(cat "$M/over")"
t_eq "exactly 1 MiB: EFBIG" EFBIG "$(write "$M/over" 1048576)"
t_eq "a write ending one byte past the limit: EFBIG" EFBIG "$(write "$M/max" 1 "$MAX")"
t_eq "... the file keeps its size" "$MAX" "$(stat -c %s "$M/max")"
t_eq "truncate to the limit works" 0 "$(truncate -s "$MAX" "$M/over" 2>&1; echo $?)"
t_eq "truncate one past the limit: File too large" \
	"truncate: failed to truncate '$M/over' at $((MAX + 1)) bytes: File too large" \
	"$(truncate -s $((MAX + 1)) "$M/over" 2>&1)"
qfs_stop "$QFS_PID" "$M" || t_fail "daemon stops cleanly"
