#!/bin/sh
# mirror.sh - quorumctl mirror: a live tree copied into another cluster and
# kept in step (DESIGN section 5, migration). quorumfs into quorumfs: the
# first pass (binary data, ACLs, ephemerals left out, what the copy alone
# has removed, or kept with --keep), then changes followed as they happen,
# an ACL change found by the rescan, a subtree under another name, and a
# source restarted under the mirror. Then Apache ZooKeeper into quorumfs.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/compat/quorumctl_zk.sh"
qfs_init
PY=/usr/bin/python3
CTL="$QFS_BUILDDIR/quorumctl"

# tree PORT ROOT: every persistent node under ROOT (paths relative to it),
# with its data (hex) and ACL, sorted; /zookeeper left out. The comparison
# of two clusters' trees.
tree() {
	"$PY" - "$1" "$2" <<'PY'
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1], auth_data=[("digest", "super:S3CRET")])
zk.start(timeout=10)
root = sys.argv[2]
out = []
def walk(p):
    if p == "/zookeeper":
        return
    data, st = zk.get(p)
    if st.ephemeralOwner:
        return
    acl, _ = zk.get_acls(p)
    rel = p[len(root):] if root != "/" else p
    out.append("%s %s %s" % (rel or "/", (data or b"").hex(),
               ",".join(sorted("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acl))))
    for k in zk.get_children(p):
        walk((p if p != "/" else "") + "/" + k)
walk(root)
print("\n".join(sorted(out)))
zk.stop()
PY
}
same() { # PORT_A ROOT_A PORT_B ROOT_B
	tree "$1" "$2" >"$T/ta" && tree "$3" "$4" >"$T/tb" && cmp -s "$T/ta" "$T/tb"
}
kz() { # PORT PYTHON... (zk is connected, as super)
	p=$1
	shift
	"$PY" -c "
import sys
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, make_acl
zk = KazooClient(hosts='127.0.0.1:$p', auth_data=[('digest', 'super:S3CRET')])
zk.start(timeout=10)
$*
zk.stop()"
}

SUPER=$("$PY" -c 'import base64, hashlib; print(base64.b64encode(hashlib.sha1(b"super:S3CRET").digest()).decode())')
PA=$(free_port)
PB=$(free_port)
for s in a b; do
	port=$PA
	[ $s = b ] && port=$PB
	if ! qfs_start "$T/$s" "$T/d$s" -o "clientPort=$port,superDigest=super:$SUPER"; then
		t_fail "server $s starts"
		exit 0
	fi
	eval "PID_$s=$QFS_PID"
done

# The source: nested nodes, binary data, a digest ACL, an ephemeral owned by
# a session that stays open (a background client), a sequential node.
kz "$PA" "
zk.create('/app/conf', b'max=5', makepath=True)
zk.create('/app/bin', bytes(range(256)) * 4)
zk.create('/app/deep/a/b/c', b'leaf', makepath=True)
zk.create('/app/q/item-', b'1', makepath=True, sequence=True)
zk.create('/secret', b'pw', acl=[make_digest_acl('ops', 'pass', all=True)])
zk.create('/empty')
"
"$PY" -c "
import sys, time
from kazoo.client import KazooClient
zk = KazooClient(hosts='127.0.0.1:$PA')
zk.start(timeout=10)
zk.create('/app/lock', b'me', ephemeral=True)
print('held', flush=True)
time.sleep(120)
" >"$T/eph.out" 2>&1 &
EPH=$!
QFS_PIDS="$QFS_PIDS $EPH"
wait_until 20 grep -q held "$T/eph.out"
# The copy already has something the source does not.
kz "$PB" "zk.create('/stale/x', b'old', makepath=True)"

"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror --once \
	--from-auth digest:super:S3CRET "127.0.0.1:$PA" >"$T/once.out" 2>"$T/once.err"
rc=$?
sed 's/^/# once: /' "$T/once.err"
t_check "mirror --once exits 0" [ "$rc" = 0 ]
t_check "the copy equals the source (data, binary, ACLs)" same "$PA" / "$PB" /
t_check "the digest ACL came with the node" grep -q "^/secret 7077 digest:ops:" "$T/tb"
t_check "the ephemeral was left out" sh -c "! grep -q '^/app/lock ' '$T/tb'"
t_check "what only the copy had is gone" sh -c "! grep -q '^/stale' '$T/tb'"
t_check "the summary counts the ephemeral skipped" grep -q "1 ephemeral skipped, 0 failed" "$T/once.err"
kz "$PB" "zk.create('/extra', b'mine')"
"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror --once --keep \
	--from-auth digest:super:S3CRET "127.0.0.1:$PA" 2>/dev/null
has_extra() { tree "$PB" / | grep -q '^/extra '; }
t_check "--keep leaves what only the copy has" has_extra
"$CTL" -s "127.0.0.1:$PB" mirror --once "127.0.0.1:$PA" 2>"$T/noauth.err"
rc=$?
sed 's/^/# without auth: /' "$T/noauth.err" | head -3
t_check "a node the mirror may not read is an error naming it (exit $rc)" \
	sh -c "[ $rc = 1 ] && grep -q '/secret: ZNOAUTH\|/secret: NoAuth\|source /secret' '$T/noauth.err'"

# Following: changes appear in the copy as they happen.
"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror --rescan 1 \
	--from-auth digest:super:S3CRET "127.0.0.1:$PA" >"$T/follow.out" 2>"$T/follow.err" &
MIR=$!
QFS_PIDS="$QFS_PIDS $MIR"
t_check "the mirror follows" wait_until 20 grep -q "mirror: following" "$T/follow.err"
kz "$PA" "
zk.set('/app/conf', b'max=6')
zk.create('/app/new/child', b'n', makepath=True)
zk.delete('/app/deep', recursive=True)
"
t_check "a set, a create and a recursive delete arrive" wait_until 20 same "$PA" / "$PB" /
sed -n '1,8s/^/# follow: /p' "$T/follow.out"
t_check "... and are printed as they are applied" grep -qx "updated /app/conf" "$T/follow.out"
kz "$PA" "zk.set_acls('/app/conf', [make_acl('world', 'anyone', read=True)])"
t_check "an ACL change (no watch fires) arrives with the rescan" wait_until 20 same "$PA" / "$PB" /
# The source restarted under the mirror: it connects again and catches up.
qfs_stop "$PID_a" "$T/a"
t_check "the mirror notices the source is gone" wait_until 30 grep -q "connecting again" "$T/follow.err"
if qfs_start "$T/a" "$T/da" -o "clientPort=$PA,superDigest=super:$SUPER"; then
	kz "$PA" "zk.create('/after-restart', b'r')"
	t_check "after the source restarts, new changes arrive" wait_until 30 same "$PA" / "$PB" /
else
	t_fail "the source restarts"
fi
t_check "the mirror is still running" kill -0 "$MIR"
kill -TERM "$MIR"
wait "$MIR"
rc=$?
t_check "SIGTERM stops it with exit 0 (exit $rc)" [ "$rc" = 0 ]

# A subtree under another name.
"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror --once \
	--from-auth digest:super:S3CRET "127.0.0.1:$PA" /app /moved/app 2>/dev/null
t_check "mirror PATH TO copies a subtree under another name" same "$PA" /app "$PB" /moved/app
"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror --once \
	--from-auth digest:super:S3CRET "127.0.0.1:$PA" / /whole 2>"$T/whole.err"
t_check "mirror / TO copies the whole tree under a node" same "$PA" / "$PB" /whole
kz "$PA" "zk.delete('/app', recursive=True)"
"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror --once \
	--from-auth digest:super:S3CRET "127.0.0.1:$PA" /app /moved/app 2>/dev/null
t_check "a subtree gone from the source goes from the copy" \
	[ "$(kz "$PB" "print(zk.exists('/moved/app') is None, zk.exists('/moved') is not None)")" = "True True" ]
t_check "bad paths are a usage error" sh -c "'$CTL' -s 127.0.0.1:$PB mirror 127.0.0.1:$PA app 2>/dev/null; [ \$? = 2 ]"

# A child list larger than a client's usual 1 MiB (6,000 names of 200
# bytes): the mirror reads it (it used to drop the connection over it and
# reconnect forever).
kz "$PA" "
zk.ensure_path('/wide')
rs = [zk.create_async('/wide/%05d' % k + 'x' * 195) for k in range(6000)]
[r.get(timeout=60) for r in rs]"
timeout 120 "$CTL" -s "127.0.0.1:$PB" mirror --once "127.0.0.1:$PA" /wide >"$T/wide.out" 2>"$T/wide.err"
rc=$?
t_check "a child list over 1 MiB: mirror --once exits 0 (exit $rc)" [ "$rc" = 0 ]
t_eq "... and copies every child" 6000 \
	"$(kz "$PB" "print(len(zk.get_children('/wide')))")"

# A queue's sequential counter: the source created ten entries and consumed
# seven; the copy's next sequential entry must take number 10, not an old
# number (entry-0000000008 would collide with a copied one).
kz "$PA" "
zk.ensure_path('/queue')
for k in range(10): zk.create('/queue/entry-', b'%d' % k, sequence=True)
for k in range(7): zk.delete('/queue/entry-%010d' % k)"
timeout 120 "$CTL" -s "127.0.0.1:$PB" mirror --once "127.0.0.1:$PA" /queue >"$T/q.out" 2>"$T/q.err"
rc=$?
t_check "a queue: mirror --once exits 0 (exit $rc)" [ "$rc" = 0 ]
t_check "... and says it raised one counter" grep -q "1 counters raised" "$T/q.err"
t_eq "the copy's next sequential entry takes number 10" "/queue/entry-0000000010" \
	"$(kz "$PB" "print(zk.create('/queue/entry-', b'n', sequence=True))")"
t_eq "... and no scratch child is left" "entry-0000000007 entry-0000000008 entry-0000000009 entry-0000000010" \
	"$(kz "$PB" "print(' '.join(sorted(zk.get_children('/queue'))))")"
timeout 120 "$CTL" -s "127.0.0.1:$PB" mirror --once --keep "127.0.0.1:$PA" /queue >"$T/q2.out" 2>"$T/q2.err"
t_check "a second pass raises nothing (the counter is never lowered)" grep -q "0 counters raised" "$T/q2.err"
kill "$EPH" 2>/dev/null

# While following (no rescan for ten minutes): ephemeral sequential nodes
# made and gone on the source leave nothing to copy, but move its counter;
# the copy's follows at once.
"$CTL" -s "127.0.0.1:$PB" mirror --rescan 600 "127.0.0.1:$PA" /queue \
	>"$T/qf.out" 2>"$T/qf.err" &
MIR=$!
QFS_PIDS="$QFS_PIDS $MIR"
seqs() { kz "$1" "s = zk.exists('/queue'); print((s.cversion + s.numChildren) // 2)"; }
if wait_until 20 grep -q "mirror: following" "$T/qf.err"; then
	kz "$PA" "
for k in range(5): zk.create('/queue/worker-', b'', ephemeral=True, sequence=True)"
	want=$(seqs "$PA")
	echo "# the source's counter: $want; the copy's before: $(seqs "$PB")"
	caught_up() { [ "$(seqs "$PB")" -ge "$want" ]; }
	t_check "following, the copy's counter reaches the source's ($want)" \
		wait_until 20 caught_up
	t_check "... and says so" grep -qx "counter /queue" "$T/qf.out"
else
	t_fail "the mirror of /queue follows"
fi
kill -TERM "$MIR" 2>/dev/null
wait "$MIR" 2>/dev/null

# Apache ZooKeeper into quorumfs.
if ! zk_start "$T/zk"; then
	t_skip "mirror from Apache ZooKeeper" "$ZK_WHY"
	exit 0
fi
kz "$ZK_PORT" "
zk.create('/zapp/cfg', b'from-zk', makepath=True)
zk.create('/zapp/bin', bytes(range(200)))
zk.create('/zapp/locks/l-', b'', makepath=True, sequence=True)
"
"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror --once "127.0.0.1:$ZK_PORT" /zapp \
	2>"$T/zk.err"
rc=$?
sed 's/^/# from ZooKeeper: /' "$T/zk.err"
t_check "mirror --once from Apache ZooKeeper exits 0" [ "$rc" = 0 ]
t_check "the copy equals ZooKeeper's subtree" same "$ZK_PORT" /zapp "$PB" /zapp
"$CTL" -s "127.0.0.1:$PB" --auth digest:super:S3CRET mirror "127.0.0.1:$ZK_PORT" /zapp \
	>"$T/zkf.out" 2>"$T/zkf.err" &
MIR=$!
QFS_PIDS="$QFS_PIDS $MIR"
if wait_until 20 grep -q "mirror: following" "$T/zkf.err"; then
	kz "$ZK_PORT" "
zk.set('/zapp/cfg', b'changed-in-zk')
zk.create('/zapp/later', b'x')
zk.delete('/zapp/bin')
"
	t_check "changes in ZooKeeper follow into the copy" wait_until 20 same "$ZK_PORT" /zapp "$PB" /zapp
else
	t_fail "the mirror follows ZooKeeper" "$(cat "$T/zkf.err")"
fi
kill -TERM "$MIR"
wait "$MIR"
