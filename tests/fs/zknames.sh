#!/bin/sh
# zknames.sh - a child a ZooKeeper client named .data, the name the mount
# reserves for a directory's own data: the listing shows .data once (the
# directory's data, what a lookup finds), the child stays reachable over
# the protocol, and rm -r stops at ENOTEMPTY instead of looping on a name
# listed twice.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init
P=$(free_port)
qfs_start "$T/m" "$T/d" -o "clientPort=$P,clientPortAddress=127.0.0.1" || {
	t_fail "mount"
	exit 1
}
wait_until 10 zk_ruok "$P"
S=127.0.0.1:$P
"$QUORUMCTL" -s "$S" create /zd >/dev/null &&
	"$QUORUMCTL" -s "$S" create /zd/.data secret >/dev/null &&
	"$QUORUMCTL" -s "$S" create /zd/other x >/dev/null &&
	"$QUORUMCTL" -s "$S" set /zd own >/dev/null
t_eq "a ZooKeeper client made /zd/.data and /zd/other, and set /zd" 0 "$?"
wait_until 10 test -e "$T/m/zd/other"
t_eq "ls -a lists .data once" ". .. .data other" "$(ls -a "$T/m/zd" | tr '\n' ' ' | sed 's/ $//')"
t_eq "zd/.data is the directory's own data" "own" "$(cat "$T/m/zd/.data")"
t_eq "the child is there for ZooKeeper clients" "secret" "$("$QUORUMCTL" -s "$S" get /zd/.data)"
t_eq "find lists .data once" 1 "$(find "$T/m/zd" -name .data | wc -l)"
err=$(rm -r "$T/m/zd" 2>&1)
t_check "rm -r of its parent stops at ENOTEMPTY ($err)" sh -c "echo '$err' | grep -q 'Directory not empty'"
t_check "having removed the rest" test ! -e "$T/m/zd/other"
qfs_stop "$QFS_PID" "$T/m"
exit 0
