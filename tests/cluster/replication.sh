#!/bin/sh
# replication.sh - 3 participants and 1 observer on 127.0.0.1 (issue 8,
# "Replication"): a write made on any member, through its mount or its client
# port, is seen on every member; sync then read gives the new value at once;
# appenders on two hosts keep every line; FIFO order per session on a
# follower; a multi is atomic on every member; a
# client failing over between the servers of its connect string keeps its
# session and its ephemerals.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
qc_init 3 1
if ! qc_start_all || ! qc_wait_leader 30; then
	t_fail "ensemble of 3 participants and 1 observer elects a leader"
	exit 1
fi
t_ok "ensemble of 3 participants and 1 observer elects a leader (member $QC_LEADER)"
t_eq "member 4 is an observer" observer "$(qc_mode 4)"

# quorumctl status -c: the whole ensemble, one row a member
"$QUORUMCTL" status -c "$QC_CFG" >"$T/status" 2>&1
st=$?
sed 's/^/# /' "$T/status"
t_eq "quorumctl status -c zoo.cfg: exit 0 with every member up" 0 "$st"
t_eq "status: rows with modes by id" "1 2 3 4 observer leader" \
	"$(awk 'NR > 1 && $1 ~ /^[0-9]+$/ { printf "%s ", $1 } $1 == 4 { o = $3 } $3 == "leader" { l = $3 } END { printf "%s %s", o, l }' "$T/status")"
t_check "status: the last line names the leader (server.$QC_LEADER)" \
	grep -q "^leader: .*(server.$QC_LEADER)" "$T/status"
t_check "status: the leader's line counts 3 learners, 2 followers and 1 observer synced" \
	wait_until 20 sh -c "\"\$0\" status -c \"\$1\" | grep -q '^leader: .*, 3 learners (2 followers and 1 observer synced);'" \
	"$QUORUMCTL" "$QC_CFG"
# status -j: the same facts as one JSON object, for scripts
"$QUORUMCTL" status -c "$QC_CFG" -j >"$T/status.json" 2>&1
t_eq "quorumctl status -j: exit 0 with every member up" 0 $?
"$QC_PY" - "$T/status.json" "$QC_LEADER" >"$T/sj.out" 2>&1 <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
lead = int(sys.argv[2])
s = {m["id"]: m for m in o["servers"]}
ok = (sorted(s) == [1, 2, 3, 4] and o["leaders"] == 1 and o["answering"] == 4
      and o["servers_total"] == 4 and o["leader"]["id"] == lead
      and s[lead]["mode"] == "leader" and s[4]["mode"] == "observer"
      and all(m["error"] is None and m["last_zxid"].startswith("0x")
              and isinstance(m["lag"], int) and m["lag"] >= 0 for m in s.values())
      and isinstance(o["leader"]["synced_followers"], int)
      and isinstance(o["leader"]["synced_observers"], int))
print(json.dumps(o))
sys.exit(0 if ok else 1)
PY
st=$?
[ $st -eq 0 ] || sed 's/^/# /' "$T/sj.out"
t_check "status -j: four servers by id, one leader (server.$QC_LEADER), member 4 an observer, lags as numbers" [ $st -eq 0 ]

# --- writes through each mount, read through every other ---
mkdir "$QC_MNT_1/r"
t_check "a directory made on member 1 appears on member 4" wait_until 10 test -d "$QC_MNT_4/r"
for i in 1 2 3 4; do
	echo "from $i" >"$(qc_get QC_MNT $i)/r/f$i" || t_fail "write on member $i"
done
for i in 1 2 3 4; do
	for j in 1 2 3 4; do
		[ $i = $j ] && continue
		f="$(qc_get QC_MNT $j)/r/f$i"
		if wait_until 10 sh -c "[ \"\$(cat '$f')\" = 'from $i' ]"; then :; else
			t_fail "member $i's file read on member $j" "got [$(cat "$f" 2>&1)]"
			continue
		fi
	done
done
t_ok "a file written through each member's mount is read on every other"

# sync FILE then cat: the new value at once, no waiting (issue 8: "sync then
# cat returns the new value"). 20 rounds, alternating writer and reader.
bad=0
k=0
while [ $k -lt 20 ]; do
	w=$((k % 4 + 1))
	r=$(((k + 2) % 4 + 1))
	echo "v$k" >"$(qc_get QC_MNT $w)/r/sync" || bad=$((bad + 1))
	timeout 10 sync "$(qc_get QC_MNT $r)/r/sync"
	got=$(cat "$(qc_get QC_MNT $r)/r/sync")
	[ "$got" = "v$k" ] || { bad=$((bad + 1)); echo "# round $k: wrote v$k on $w, read [$got] on $r after sync"; }
	k=$((k + 1))
done
t_eq "write on one member, sync and cat on another: the new value, 20 of 20" 0 "$bad"

# through the protocol: create on each member, read on every other after sync
out=$(qc_zkpy '
n = int(os.environ["QC_N"])
cs = [zk(i) for i in range(1, n + 1)]
bad = []
for i, c in enumerate(cs, 1):
    c.ensure_path("/zr")
    c.create("/zr/n%d" % i, b"zk %d" % i)
for i, c in enumerate(cs, 1):
    c.sync("/zr")
    for j in range(1, n + 1):
        d, st = c.get("/zr/n%d" % j)
        if d != b"zk %d" % j:
            bad.append((i, j, d))
print("bad", len(bad), bad[:3])
' 2>&1)
t_eq "a znode created on each member's client port is read on every member after sync" "bad 0 []" "$out"

# --- appenders on two hosts at once: every line kept ---
# ">>" on members 1 and 3 (and so through two leaders' views of the value):
# a commit that meets the other's newer value is made again on top of it.
: >"$QC_MNT_1/r/applog"
wait_until 10 test -e "$QC_MNT_3/r/applog"
(i=0; while [ $i -lt 50 ]; do echo "one$i" >>"$QC_MNT_1/r/applog"; i=$((i + 1)); done) &
a=$!
(i=0; while [ $i -lt 50 ]; do echo "three$i" >>"$QC_MNT_3/r/applog"; i=$((i + 1)); done) &
b=$!
wait $a $b
lines_on() { [ "$(sort -u "$(qc_get QC_MNT "$1")/r/applog" 2>/dev/null | wc -l)" -eq 100 ]; }
t_check "appending 50 lines each on members 1 and 3 at once: all 100 kept, read on member 4" \
	wait_until 10 lines_on 4
sed 's/^/# /' "$QC_MNT_4/r/applog" | head -3

# --- FIFO per session, on a follower and on the observer ---
for i in 1 2 3 4; do
	[ "$i" = "$QC_LEADER" ] && continue
	out=$(qc_zkpy "
c = zk($i)
c.ensure_path('/fifo$i')
# 300 pipelined requests: creates of sequential nodes and sets, in order.
res = []
for k in range(300):
    if k % 2:
        res.append(c.set_async('/fifo$i', b'%d' % k))
    else:
        res.append(c.create_async('/fifo$i/s-', b'%d' % k, sequence=True))
names = [r.get(timeout=30) for r in res[0::2]]
vers = [r.get(timeout=30).version for r in res[1::2]]
ok_names = names == sorted(names) and len(set(names)) == len(names)
ok_vers = vers == list(range(1, len(vers) + 1))
# read your own writes, one by one
ryw = 0
for k in range(50):
    c.set('/fifo$i', b'r%d' % k)
    if c.get('/fifo$i')[0] != b'r%d' % k:
        ryw += 1
print(ok_names, ok_vers, ryw)
" 2>&1)
	t_eq "member $i ($(qc_mode $i)): one session's 300 pipelined writes apply in order; reads see its own writes" \
		"True True 0" "$out"
	break
done

# --- multi: atomic on every member ---
out=$(qc_zkpy '
import threading
n = int(os.environ["QC_N"])
w = zk(2)
w.ensure_path("/m")
stop = False
seen_bad = []
looks = [0]
def reader(i):
    c = zk(i)
    while not stop:
        kids = set(c.get_children("/m"))
        a = {k[1:] for k in kids if k[0] == "a"}
        b = {k[1:] for k in kids if k[0] == "b"}
        looks[0] += 1
        if a != b:
            seen_bad.append((i, sorted(a ^ b)[:3]))
    c.stop()
ts = [threading.Thread(target=reader, args=(i,)) for i in (1, 3, 4)]
for t in ts: t.start()
for k in range(100):
    t = w.transaction()
    t.create("/m/a%d" % k, b"x")
    t.create("/m/b%d" % k, b"y")
    t.set_data("/m", b"%d" % k)
    t.commit()
# a failing multi (bad version on its last op) leaves nothing anywhere
t = w.transaction()
t.create("/m/afail", b"x")
t.create("/m/bfail", b"y")
t.check("/m", version=12345)
r = t.commit()
failed = isinstance(r[-1], Exception)
stop = True
for t in ts: t.join()
missing = 0
zx = set()
for i in range(1, n + 1):
    c = zk(i)
    c.sync("/m")
    kids = set(c.get_children("/m"))
    if len(kids) != 200 or "afail" in kids:
        missing += 1
    zx.add((c.exists("/m/a57").mzxid, c.exists("/m/b57").mzxid, c.exists("/m").mzxid > 0))
print("bad", len(seen_bad), seen_bad[:2], "failed-multi-refused", failed,
      "members-wrong", missing, "one-zxid", len(zx) == 1 and list(zx)[0][0] == list(zx)[0][1],
      "looks>0", looks[0] > 0)
' 2>&1)
t_eq "100 multis on member 2: readers on 1, 3, 4 never see half of one; a failed multi leaves nothing; one zxid per multi everywhere" \
	"bad 0 [] failed-multi-refused True members-wrong 0 one-zxid True looks>0 True" "$out"

# --- a client fails over and keeps its session and ephemerals ---
# The client connects to a follower first (hosts in that order, no
# shuffling), holds an ephemeral, then the follower is killed with -9.
F=""
for i in 1 2 3; do
	[ "$i" != "$QC_LEADER" ] && { F=$i; break; }
done
OTHER=""
for i in 1 2 3; do
	[ "$i" != "$QC_LEADER" ] && [ "$i" != "$F" ] && OTHER=$i
done
FA=$(qc_get QC_ADDR $F):$(qc_get QC_CPORT $F)
OA=$(qc_get QC_ADDR $OTHER):$(qc_get QC_CPORT $OTHER)
LA=$(qc_get QC_ADDR $QC_LEADER):$(qc_get QC_CPORT $QC_LEADER)
qc_zkpy "
from kazoo.protocol.states import KazooState
c = KazooClient(hosts='$FA,$OA,$LA', randomize_hosts=False, timeout=$QC_SESSION_MS / 1000.0 * 2)
states = []
c.add_listener(lambda s: states.append(s))
c.start(timeout=15)
c.create('/failover-eph', b'mine', ephemeral=True)
sid = c.client_id[0]
print('connected %x' % sid, flush=True)
# wait for the harness to kill the server this client is on
end = time.time() + 300  # bounded, should the test be killed
while not os.path.exists('$T/killed') and time.time() < end:
    time.sleep(0.05)
t0 = time.time()
c.retry(c.set, '/failover-eph', b'after')  # retried across the reconnect
print('write after failover in %.2f s' % (time.time() - t0), flush=True)
other = zk($OTHER)
st = other.exists('/failover-eph')
print('same-session', c.client_id[0] == sid,
      'lost', KazooState.LOST in states,
      'eph-owner-ok', st is not None and st.ephemeralOwner == sid,
      'data', other.get('/failover-eph')[0].decode(), flush=True)
c.stop()
other.sync('/')
print('gone-after-close', other.exists('/failover-eph') is None, flush=True)
" >"$T/failover.out" 2>&1 &
FOPID=$!
QFS_PIDS="$QFS_PIDS $FOPID"
wait_until 20 grep -q '^connected' "$T/failover.out"
qc_kill9 "$F"
touch "$T/killed"
wait_until 60 grep -q '^gone-after-close' "$T/failover.out"
kill "$FOPID" 2>/dev/null
sed 's/^/# /' "$T/failover.out" | tail -8
t_check "kill -9 of the client's server: it fails over and its session survives (same id, never LOST, ephemeral kept)" \
	grep -q '^same-session True lost False eph-owner-ok True data after' "$T/failover.out"
t_check "its ephemeral goes when the session closes" grep -q '^gone-after-close True' "$T/failover.out"

# the killed member comes back and converges
qc_start "$F" && qc_wait_leader 30
t_check "every member's tree is the same after the killed member's restart" qc_wait_converged 30
