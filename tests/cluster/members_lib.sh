# tests/cluster/members_lib.sh - what the membership tests share (sourced
# after tests/cluster/lib.sh): the superuser, reconfigEnabled, a zoo.cfg
# without some members (they join later), and a steady writer.
#
#   mb_init N [OBSERVERS] [JOINERS]  qc_init with N+OBSERVERS+JOINERS servers;
#                           $QC_CFG names all of them, $MB_CFG0 only the
#                           first N+OBSERVERS (the ensemble as it starts)
#   mb_spec I [ROLE]        member I's server spec (ROLE participant|observer)
#   mb_reconfig ARGS...     kazoo reconfig as the superuser on the leader
#                           (session timeout $MB_TIMEOUT s, default 10);
#                           prints the new /zookeeper/config
#   mb_writer_start S       a writer: one create a time, 20 ms apart, of
#                           /load/wNNNNNN, on connect string S; it records every
#                           acknowledged name in $T/acked and the longest
#                           time one write took (ms) in $T/stall, and retries
#                           a write that fails with connection loss (as a
#                           ZooKeeper client does) after reconnecting
#   mb_writer_stop          stop it; MB_FAILED = writes that failed for good
#   mb_check_acked I        every acknowledged name exists on member I
#   mb_ctl ARGS...          quorumctl as the superuser on $QC_HOSTS
#   mb_observer_rejoin I    `quorumctl members remove I`, then `members add`
#                           of its spec as an observer: two checks

MB_PW=super:qfs-members-test
MB_DIGEST=$("$QC_PY" -c 'import hashlib,base64,sys; u,p=sys.argv[1].split(":");print(u+":"+base64.b64encode(hashlib.sha1(sys.argv[1].encode()).digest()).decode())' "$MB_PW")

mb_init() {
	qc_init $(($1 + ${3:-0})) ${2:-0} || return 1
	{
		echo "reconfigEnabled=true"
		echo "superDigest=$MB_DIGEST"
	} >>"$QC_CFG"
	MB_CFG0=$T/zoo0.cfg
	mb_keep=$(($1 + ${2:-0}))
	awk -v k="$mb_keep" -F '[.=]' '!/^server\./ || $2 <= k' "$QC_CFG" >"$MB_CFG0"
	# Observers among the first: qc_init made ids after the participants
	# observers; joiners are participants.
	if [ "${2:-0}" -gt 0 ] && [ "${3:-0}" -gt 0 ]; then
		echo "# mb_init: observers and joiners together are not supported" >&2
		return 1
	fi
	MB_FULL=$QC_CFG
}

mb_ctl() { QUORUMCTL_AUTH="digest:$MB_PW" "$QFS_BUILDDIR/quorumctl" -s "$QC_HOSTS" "$@" 2>&1; }

mb_observer_rejoin() {
	mo_out=$(mb_ctl members remove "$1")
	if ! echo "$mo_out" | grep -q "^$1 " && qc_wait_mode "$1" removed 20; then
		t_ok "members remove $1: it says removed"
	else
		t_fail "members remove $1" "$mo_out / mode $(qc_mode "$1")"
	fi
	mo_spec="server.$1=$(mb_spec "$1" observer)"
	mo_out=$(mb_ctl members add "$mo_spec")
	if echo "$mo_out" | grep -q "^$1 *observer" && qc_wait_mode "$1" observer 20; then
		t_ok "members add $mo_spec: it observes again"
	else
		t_fail "members add $mo_spec" "$mo_out / mode $(qc_mode "$1")"
	fi
}

mb_spec() {
	# ZooKeeper's form, from the full zoo.cfg's line for I.
	sed -n "s/^server\.$1=//p" "$MB_FULL" | sed "s/:\(participant\|observer\);/:${2:-participant};/"
}

# mb_start_with CFG I: start member I with that zoo.cfg.
mb_start_with() {
	ms_cfg=$QC_CFG
	QC_CFG=$1
	qc_start "$2"
	ms_rc=$?
	QC_CFG=$ms_cfg
	return $ms_rc
}

mb_reconfig() {
	MB_ARGS="$*" MB_AT=${MB_AT:-$QC_LEADER} qc_zkpy "
args = dict(joining=None, leaving=None, new_members=None, from_config=-1)
for a in os.environ['MB_ARGS'].split():
    k, v = a.split('=', 1)
    args[k] = int(v, 16) if k == 'from_config' else v
c = zk(int(os.environ['MB_AT']), timeout=int(os.environ.get('MB_TIMEOUT', '10')), auth_data=[('digest', '$MB_PW')])
try:
    data, st = c.reconfig(**args)
    sys.stdout.write(data.decode())
except KazooException as e:
    sys.stdout.write('ERROR ' + type(e).__name__)
c.stop()
"
}

# mb_config I: /zookeeper/config as member I serves it.
mb_config() {
	MB_AT=$1 qc_zkpy "
c = zk(int(os.environ['MB_AT']))
sys.stdout.write(c.get('/zookeeper/config')[0].decode())
c.stop()
"
}

mb_writer_start() {
	rm -f "$T/acked" "$T/stall" "$T/writer.stop" "$T/writer.done"
	cat >"$T/writer.py" <<'PY'
import logging, os, sys, time
logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, SessionExpiredError, NodeExistsError, KazooException
from kazoo.retry import KazooRetry
T = os.environ['T']
c = KazooClient(hosts=sys.argv[1], timeout=10,
                connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.2))
c.start(timeout=30)
c.ensure_path('/load')
acked = open(T + '/acked', 'a')
n, worst, failed, retried = 0, 0.0, 0, 0
end = time.time() + 900  # bounded, should the test be killed
while not os.path.exists(T + '/writer.stop') and time.time() < end:
    path = '/load/w%06d' % n
    t0 = time.monotonic()
    ok = False
    while True:
        try:
            c.create(path, b'x')
            ok = True
            break
        except NodeExistsError:
            ok = True
            break  # the lost reply's write did commit
        except (ConnectionLoss, SessionExpiredError):
            retried += 1
            if time.monotonic() - t0 > 30:
                failed += 1
                break
            time.sleep(0.05)
        except KazooException as e:
            failed += 1
            sys.stderr.write('write %s: %r\n' % (path, e))
            break
    dt = (time.monotonic() - t0) * 1000
    worst = max(worst, dt)
    if ok:
        acked.write(path + '\n')
        acked.flush()
    n += 1
    time.sleep(0.02)
open(T + '/stall', 'w').write('%d %d %d %d\n' % (worst, n, failed, retried))
c.stop()
open(T + '/writer.done', 'w').write('1')
PY
	T="$T" "$QC_PY" "$T/writer.py" "$1" 2>"$T/writer.err" &
	MB_WRITER=$!
	QFS_PIDS="$QFS_PIDS $MB_WRITER"
}

mb_writer_stop() {
	touch "$T/writer.stop"
	wait_until 40 test -f "$T/writer.done"
	wait "$MB_WRITER" 2>/dev/null
	read -r MB_STALL MB_WRITES MB_FAILED MB_RETRIED <"$T/stall" || {
		MB_STALL=? MB_WRITES=0 MB_FAILED=? MB_RETRIED=?
	}
}

# mb_check_acked I: every acknowledged write is on member I (its mount).
mb_check_acked() {
	ca_m=$(qc_get QC_MNT "$1")
	ca_missing=0
	while read -r ca_p; do
		[ -e "$ca_m$ca_p" ] || ca_missing=$((ca_missing + 1))
	done <"$T/acked"
	[ "$ca_missing" -eq 0 ]
}
