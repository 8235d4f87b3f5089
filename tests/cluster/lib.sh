# tests/cluster/lib.sh - an ensemble of quorumfs daemons on one machine, for
# the tests in tests/cluster/ (sourced after nothing; it sources tests/lib.sh,
# so t_ok, t_eq, wait_until, ... are there).
#
#   qc_init N [OBSERVERS]   scratch dir, ports, one zoo.cfg for N participants
#                           and OBSERVERS observers (ids N+1..), a cluster
#                           secret, the cleanup trap. Members are 1..QC_N.
#   qc_start I [-o K=V]     start member I: quorumfs -f -o myid=I,dataDir=DIR
#                           CONFIG MOUNT; wait for its mount and client port
#   qc_start_all            every member, started together
#   qc_wait_leader [S]      wait (bounded) until exactly one running member
#                           says leader and every other running participant
#                           says follower; sets QC_LEADER
#   qc_mode I               that member's Mode: from srvr (leader, follower,
#                           observer, standalone, or "down")
#   qc_kill9 I, qc_stop I, qc_pause I (SIGSTOP), qc_resume I (SIGCONT)
#   qc_digest I             a digest of member I's whole tree, read through
#                           its mount: every path, its type, its data and its
#                           replicated xattrs (version, cversion, aversion,
#                           czxid, mzxid, pzxid, ctime, mtime, ephemeral_owner,
#                           acl, kind, child_kind). The listing it hashes is
#                           left in $T/digest.I for diffs.
#   qc_zk_digest I          the same through member I's client port (kazoo)
#   qc_wait_converged [S] [MEMBERS]  wait until the digests of the running
#                           members (or MEMBERS) are equal; on a timeout print
#                           the first difference
#   qc_cut I / qc_heal I    isolate member I from the other members (needs
#                           QC_NET=netns, see below), and undo it
#   qc_zkpy CODE...         run python3 with kazoo, QC_HOSTS in the env
#   qc_put FILE VALUE       write through a mount, the close's error checked
#
# Variables: QC_N (members), QC_CFG, QC_MNT_I, QC_DATA_I, QC_CPORT_I
# (client port), QC_PID_I, QC_ADDR_I, QC_HOSTS (every client address, comma
# separated: a connect string), QC_TICK (tickTime, ms), QC_SESSION_MS (the
# mounts' session timeout).
#
# Network. By default (QC_NET=lo) every member listens on 127.0.0.1 with its
# own ports: the simplest set-up and the one the issue describes, but a
# member cannot be cut off. QC_NET=netns puts each member in its own network
# namespace (ip netns qc<pid>-I) with a veth pair to this namespace: the
# member has 10.R.I.2, this side 10.R.I.1, and this namespace routes between
# members. The daemon enters only the network namespace (nsenter --net), so
# its FUSE mount stays visible here. qc_cut I adds policy-routing rules
# (blackhole) for packets forwarded between I's veth and the others', in both
# directions; packets to or from this namespace (the test's own clients and
# four-letter words) are never forwarded, so the test still reaches the cut
# member's client port. Why not netem or iptables: this kernel has no netem,
# iptables is not installed, and every member sharing 127.0.0.1 leaves no
# field to tell one member's outgoing peer connections from another's. A
# blackhole route drops silently, as a cut cable does: TCP connections hang
# until the daemon's own timeouts notice, which is what a partition is.
# QC_NET=lo6 is lo with the peers on IPv6 loopback: server.I=[::1]:...,
# clients still on 127.0.0.1 (QC_ADDR_I).

. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"

# wait_until SECONDS COMMAND...: as tests/lib.sh's, but bounded by the clock,
# not by a count of polls: the conditions here (four-letter words, tree
# digests) take tens of milliseconds each on a loaded machine, and a count
# of 20 polls a second would stretch a 30 s wait to minutes.
wait_until() {
	wu_end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -lt "$wu_end" ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	"$@"
}

QC_PY=/usr/bin/python3
[ -x "$QC_PY" ] || QC_PY=python3
QC_TICK=${QC_TICK:-200}
QC_SESSION_MS=${QC_SESSION_MS:-4000}

# qc_init N [OBSERVERS]
qc_init() {
	qfs_init
	trap qc_cleanup EXIT
	QC_N=$(($1 + ${2:-0}))
	QC_PARTICIPANTS=$1
	QC_NET=${QC_NET:-lo}
	QC_NS=""
	QC_RULES=""
	QC_CFG=$T/zoo.cfg
	QC_SECRET=$T/cluster.secret
	QC_HOSTS=""
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$QC_SECRET"
	chmod 600 "$QC_SECRET"
	if [ "$QC_NET" = netns ]; then
		qc_netns_setup || return 1
	fi
	{
		echo "# written by tests/cluster/lib.sh"
		echo "tickTime=$QC_TICK"
		echo "initLimit=10"
		echo "syncLimit=5"
		echo "4lw.commands.whitelist=*"
		echo "mountSessionTimeout=$QC_SESSION_MS"
		echo "clusterName=qc-$$"
		echo "clusterSecretFile=$QC_SECRET"
	} >"$QC_CFG"
	# 3 ports a member, all distinct (held open together while chosen).
	set -- $("$QC_PY" -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' $((QC_N * 3)))
	i=1
	while [ $i -le $QC_N ]; do
		if [ "$QC_NET" = netns ]; then
			addr=10.$QC_NET_R.$i.2
		else
			addr=127.0.0.1
		fi
		peer=$1
		elec=$2
		cport=$3
		shift 3
		role=participant
		[ $i -gt "$QC_PARTICIPANTS" ] && role=observer
		peerhost=$addr
		[ "$QC_NET" = lo6 ] && peerhost='[::1]'
		echo "server.$i=$peerhost:$peer:$elec:$role;$addr:$cport" >>"$QC_CFG"
		eval "QC_ADDR_$i=$addr QC_CPORT_$i=$cport QC_ROLE_$i=$role"
		eval "QC_MNT_$i=$T/m$i QC_DATA_$i=$T/d$i QC_PID_$i="
		QC_HOSTS="${QC_HOSTS:+$QC_HOSTS,}$addr:$cport"
		i=$((i + 1))
	done
	QC_STARTED=""
}

qc_get() { eval "echo \"\${$1_$2:-}\""; }

# qc_start I [quorumfs args before CONFIG...]: start member I, wait for its
# mount and for its client port to answer ruok.
qc_start() {
	qs_i=$1
	shift
	qc_spawn "$qs_i" "$@" || return 1
	qc_wait_up "$qs_i"
}

# qc_spawn I [args]: start member I in the background, no waiting.
qc_spawn() {
	sp_i=$1
	shift
	sp_m=$(qc_get QC_MNT "$sp_i")
	sp_d=$(qc_get QC_DATA "$sp_i")
	mkdir -p "$sp_m" "$sp_d"
	if is_mounted "$sp_m"; then
		fusermount3 -u -z "$sp_m" 2>/dev/null
	fi
	echo "=== start $(date +%T.%N)" >>"$sp_d.log"
	if [ "$QC_NET" = netns ]; then
		nsenter --net="/run/netns/qc$$-$sp_i" \
			"$QUORUMFS" -f -d -o "myid=$sp_i,dataDir=$sp_d,clientPort=$(qc_get QC_CPORT "$sp_i")" \
			"$@" "$QC_CFG" "$sp_m" >>"$sp_d.log" 2>&1 &
	else
		"$QUORUMFS" -f -d -o "myid=$sp_i,dataDir=$sp_d,clientPort=$(qc_get QC_CPORT "$sp_i")" \
			"$@" "$QC_CFG" "$sp_m" >>"$sp_d.log" 2>&1 &
	fi
	sp_pid=$!
	eval "QC_PID_$sp_i=$sp_pid"
	QFS_PIDS="$QFS_PIDS $sp_pid"
	case " $QFS_MOUNTS " in *" $sp_m "*) ;; *) QFS_MOUNTS="$QFS_MOUNTS $sp_m" ;; esac
	case " $QC_STARTED " in *" $sp_i "*) ;; *) QC_STARTED="$QC_STARTED $sp_i" ;; esac
}

# qc_wait_up I [SECONDS]: the member's mount is live and its port answers.
qc_wait_up() {
	wu_m=$(qc_get QC_MNT "$1")
	if ! wait_until "${2:-20}" is_mounted "$wu_m" ||
		! wait_until "${2:-20}" qc_ruok "$1"; then
		echo "# member $1 did not come up (mount $wu_m); its log ends:"
		tail -20 "$(qc_get QC_DATA "$1").log" | sed 's/^/#   /'
		return 1
	fi
}

qc_start_all() {
	sa_i=1
	while [ $sa_i -le $QC_N ]; do
		qc_spawn $sa_i || return 1
		sa_i=$((sa_i + 1))
	done
	sa_i=1
	while [ $sa_i -le $QC_N ]; do
		qc_wait_up $sa_i || return 1
		sa_i=$((sa_i + 1))
	done
}

qc_running() { # I: the member's process is alive (stopped counts)
	r_pid=$(qc_get QC_PID "$1")
	[ -n "$r_pid" ] && kill -0 "$r_pid" 2>/dev/null
}

# qc_4lw I WORD: the member's answer to a four-letter word (empty if none).
qc_4lw() { fourlw_at "$(qc_get QC_ADDR "$1")" "$(qc_get QC_CPORT "$1")" "$2"; }

qc_ruok() { [ "$(qc_4lw "$1" ruok)" = imok ]; }

# qc_put FILE VALUE: write VALUE and a newline to FILE through a mount and
# fail if the write or the close fails. The mount commits at close (flush),
# and the shell ignores the close of a redirection: `echo v >f` succeeds
# even when the commit was refused (EROFS, a session that just expired).
qc_put() {
	"$QC_PY" -c '
import sys
f = open(sys.argv[1], "w")
f.write(sys.argv[2] + "\n")
f.close()' "$1" "$2"
}

# qc_mode I: leader, follower, observer, standalone, read-only, ... or down.
qc_mode() {
	m=$(qc_4lw "$1" srvr | sed -n 's/^Mode: *//p')
	echo "${m:-down}"
}

# qc_mntr I KEY: one mntr field.
qc_mntr() { qc_4lw "$1" mntr | awk -F '\t' -v k="$2" '$1 == k { print $2 }'; }

# qc_leader_now: succeeds when exactly one running member says leader and
# every running participant says leader or follower; sets QC_LEADER.
qc_leader_now() {
	ln_leaders=""
	ln_bad=""
	for ln_i in $QC_STARTED; do
		qc_running "$ln_i" || continue
		case "$(qc_mode "$ln_i")" in
		leader) ln_leaders="$ln_leaders $ln_i" ;;
		follower | observer) ;;
		*) ln_bad="$ln_bad $ln_i" ;;
		esac
	done
	set -- $ln_leaders
	[ $# -eq 1 ] && [ -z "$ln_bad" ] || return 1
	QC_LEADER=$1
}

# qc_wait_leader [SECONDS]: as qc_leader_now, bounded (default 30 s).
qc_wait_leader() {
	QC_LEADER=""
	if wait_until "${1:-30}" qc_leader_now; then
		return 0
	fi
	echo "# no single leader; modes:"
	for wl_i in $QC_STARTED; do
		echo "#   member $wl_i: $(qc_mode "$wl_i")"
	done
	return 1
}

# qc_wait_mode I MODE [SECONDS]
qc_wait_mode() {
	wm_i=$1
	wm_want=$2
	qc_mode_is() { [ "$(qc_mode "$wm_i")" = "$wm_want" ]; }
	wait_until "${3:-30}" qc_mode_is
}

# qc_kill9 I: kill -9 member I and clear its mount. A process that does not
# exit within 5 s of SIGKILL (a thread blocked in a request to its own mount,
# whose loop is gone, that the daemon's watchdog did not end: fs/watchdog.c)
# is named in the summary with what its threads wait in, and its FUSE
# connection is aborted (fusectl) so that it can exit and the test can go on.
qc_kill9() {
	k_pid=$(qc_get QC_PID "$1")
	k_m=$(qc_get QC_MNT "$1")
	eval "QC_PID_$1="
	[ -n "$k_pid" ] || return 0
	k_dev=$(awk -v m="$k_m" '$5 == m { print $3 }' /proc/self/mountinfo | head -1)
	kill -KILL "$k_pid" 2>/dev/null
	k_gone() { ! kill -0 "$k_pid" 2>/dev/null || grep -q '^State:.*Z' "/proc/$k_pid/status" 2>/dev/null &&
		[ "$(ls "/proc/$k_pid/task" 2>/dev/null | wc -l)" -le 1 ]; }
	if ! wait_until 5 k_gone; then
		# A known defect, named in every summary rather than failing the
		# run (issue 8's closing note): now and then (seen under ASan) a
		# killed daemon kept threads until its FUSE connection was
		# aborted. The daemon's watchdog (fs/watchdog.c) now does that
		# abort itself within a second; still there after 5 s means it
		# did not (or the wait is not on the mount).
		# What each thread left is doing, in the log (the kernel stack
		# names the wait), and the waits in the summary: the next
		# occurrence names the cause.
		k_wait=""
		for k_t in /proc/"$k_pid"/task/*; do
			[ -d "$k_t" ] || continue
			echo "# thread ${k_t##*/} ($(cat "$k_t/comm" 2>/dev/null)): $(grep '^State:' "$k_t/status" 2>/dev/null)"
			sed 's/^/#     /' "$k_t/stack" 2>/dev/null | head -12
			k_wait="$k_wait $(cat "$k_t/wchan" 2>/dev/null)"
		done
		t_skip "member $1 exits within 5 s of kill -9" "known defect, the watchdog did not end it: still there 5 s later ($(ls /proc/$k_pid/task 2>/dev/null | wc -l) threads, waiting in:$k_wait); its FUSE connection $k_dev is aborted"
		[ -d /sys/fs/fuse/connections ] && ! grep -q " /sys/fs/fuse/connections " /proc/mounts &&
			mount -t fusectl none /sys/fs/fuse/connections 2>/dev/null
		[ -n "$k_dev" ] && echo 1 >"/sys/fs/fuse/connections/${k_dev#*:}/abort" 2>/dev/null
		wait_until 5 k_gone
	fi
	wait "$k_pid" 2>/dev/null
	fusermount3 -u -z "$k_m" 2>/dev/null
	return 0
}

qc_stop() {
	s_pid=$(qc_get QC_PID "$1")
	s_rc=0
	[ -n "$s_pid" ] && { qfs_stop "$s_pid" "$(qc_get QC_MNT "$1")" || s_rc=1; }
	eval "QC_PID_$1="
	return $s_rc
}

qc_pause() { kill -STOP "$(qc_get QC_PID "$1")"; }
qc_resume() { kill -CONT "$(qc_get QC_PID "$1")"; }

# qc_digest I: sha256 of member I's tree through its mount (see the top).
qc_digest() {
	"$QC_PY" - "$(qc_get QC_MNT "$1")" "$T/digest.$1" <<'PY'
import hashlib, os, sys
root, out = sys.argv[1], sys.argv[2]
XA = ["version", "cversion", "aversion", "czxid", "mzxid", "pzxid", "ctime",
      "mtime", "ephemeral_owner", "acl", "kind", "child_kind"]
lines = []
def xattrs(p):
    r = []
    for k in XA:
        try:
            v = os.getxattr(p, "user.quorumfs." + k, follow_symlinks=False)
            r.append("%s=%s" % (k, v.decode("utf-8", "replace")))
        except OSError:
            pass
    return " ".join(r)
def data(p):
    try:
        with open(p, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError as e:
        return "E%d" % e.errno
def walk(rel):
    p = root + rel
    try:
        names = sorted(os.listdir(p))
    except OSError as e:
        lines.append("%s/ E%d" % (rel, e.errno))
        return
    for n in names:
        if n == ".data":
            continue
        q = p + "/" + n
        r = rel + "/" + n
        if os.path.isdir(q):
            d = data(q + "/.data")
            lines.append("%s/ %s %s" % (r, d, xattrs(q)))
            walk(r)
        else:
            lines.append("%s %s %s" % (r, data(q), xattrs(q)))
walk("")
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(hashlib.sha256(text.encode()).hexdigest())
PY
}

# qc_zk_digest I: the same over the ZooKeeper protocol, from member I only.
qc_zk_digest() {
	"$QC_PY" - "$(qc_get QC_ADDR "$1"):$(qc_get QC_CPORT "$1")" "$T/zkdigest.$1" <<'PY'
import hashlib, sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=10, connection_retry={"max_tries": 3})
zk.start(timeout=10)
lines = []
def walk(path):
    for c in sorted(zk.get_children(path)):
        p = (path.rstrip("/") + "/" + c)
        d, st = zk.get(p)
        acl, _ = zk.get_acls(p)
        lines.append("%s %s v%d cv%d av%d c%x m%x p%x o%x %s" % (
            p, hashlib.sha256(d or b"").hexdigest()[:16], st.version,
            st.cversion, st.aversion, st.czxid, st.mzxid, st.pzxid,
            st.ephemeralOwner, ",".join("%s:%s:%d" % (a.id.scheme, a.id.id, a.perms) for a in acl)))
        walk(p)
walk("/")
zk.stop()
text = "\n".join(lines) + "\n"
open(sys.argv[2], "w").write(text)
print(hashlib.sha256(text.encode()).hexdigest())
PY
}

# qc_digests_equal MEMBERS...: every member's digest is the same.
qc_digests_equal() {
	de_first=""
	for de_i in "$@"; do
		de_d=$(qc_digest "$de_i") || return 1
		[ -n "$de_d" ] || return 1
		if [ -z "$de_first" ]; then
			de_first=$de_d
		elif [ "$de_d" != "$de_first" ]; then
			return 1
		fi
	done
	QC_DIGEST=$de_first
}

# qc_wait_converged [SECONDS] [MEMBERS...]: bounded wait for equal digests
# (default: every running member). Prints the first difference on failure.
qc_wait_converged() {
	wc_s=${1:-30}
	[ $# -gt 0 ] && shift
	if [ $# -eq 0 ]; then
		for wc_i in $QC_STARTED; do
			qc_running "$wc_i" && set -- "$@" "$wc_i"
		done
	fi
	wc_end=$(($(date +%s) + wc_s))
	while [ "$(date +%s)" -lt "$wc_end" ]; do
		qc_digests_equal "$@" && return 0
		sleep 0.25
	done
	qc_digests_equal "$@" && return 0
	for wc_i in "$@"; do
		qc_digest "$wc_i" >/dev/null
	done
	wc_a=$1
	shift
	for wc_b in "$@"; do
		if ! cmp -s "$T/digest.$wc_a" "$T/digest.$wc_b"; then
			echo "# digests differ: member $wc_a vs member $wc_b (first lines of diff)"
			diff "$T/digest.$wc_a" "$T/digest.$wc_b" | head -10 | sed 's/^/#   /'
		fi
	done
	return 1
}

# qc_http PORT PATH [METHOD]: an HTTP request to 127.0.0.1:PORT; prints
# "STATUS CONTENT-TYPE" on the first line, then the body.
qc_http() {
	"$QC_PY" - "$@" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.request(sys.argv[3] if len(sys.argv) > 3 else "GET", sys.argv[2])
r = c.getresponse()
print(r.status, r.getheader("Content-Type"))
sys.stdout.write(r.read().decode())
PY
}

# qc_zkpy CODE: run python with kazoo; QC_HOSTS and QC_* member variables are
# in the environment; helper zk(i) connects to member i only, zk_all() to
# the whole connect string.
qc_zkpy() {
	qp_env=""
	qp_i=1
	while [ $qp_i -le $QC_N ]; do
		qp_env="$qp_env QC_ADDR_$qp_i=$(qc_get QC_ADDR $qp_i):$(qc_get QC_CPORT $qp_i)"
		qp_i=$((qp_i + 1))
	done
	# shellcheck disable=SC2086
	env QC_HOSTS="$QC_HOSTS" QC_N="$QC_N" $qp_env "$QC_PY" -c "
import os, sys, time
import logging
logging.basicConfig(level=logging.CRITICAL)
from kazoo.client import KazooClient
from kazoo.exceptions import *
def zk(i, **kw):
    c = KazooClient(hosts=os.environ['QC_ADDR_%d' % i], timeout=kw.pop('timeout', 10), **kw)
    c.start(timeout=15)
    return c
def zk_all(**kw):
    c = KazooClient(hosts=os.environ['QC_HOSTS'], timeout=kw.pop('timeout', 10), **kw)
    c.start(timeout=15)
    return c
$1
"
}

# --- network namespaces (QC_NET=netns) ---

qc_netns_setup() {
	if ! command -v nsenter >/dev/null || ! ip netns list >/dev/null 2>&1; then
		echo "# QC_NET=netns needs ip netns and nsenter (and root)"
		return 1
	fi
	# A /16 not in use here: 10.R.0.0/16, R from the pid.
	QC_NET_R=$((($$ % 200) + 20))
	while ip route show | grep -q "^10\.$QC_NET_R\."; do
		QC_NET_R=$((QC_NET_R + 1))
	done
	sysctl -qw net.ipv4.ip_forward=1
	i=1
	while [ $i -le $QC_N ]; do
		ns=qc$$-$i
		ip netns add "$ns" || return 1
		QC_NS="$QC_NS $ns"
		ip link add "qc$$h$i" type veth peer name "qc$$n$i" || return 1
		ip link set "qc$$n$i" netns "$ns"
		ip addr add "10.$QC_NET_R.$i.1/24" dev "qc$$h$i"
		ip link set "qc$$h$i" up
		ip -n "$ns" addr add "10.$QC_NET_R.$i.2/24" dev "qc$$n$i"
		ip -n "$ns" link set "qc$$n$i" up
		ip -n "$ns" link set lo up
		ip -n "$ns" route add default via "10.$QC_NET_R.$i.1"
		i=$((i + 1))
	done
}

# qc_cut I: drop what is forwarded between member I and every other member.
qc_cut() {
	ct_j=1
	while [ $ct_j -le $QC_N ]; do
		if [ $ct_j -ne "$1" ]; then
			qc_rule add iif "qc$$h$1" to "10.$QC_NET_R.$ct_j.2" || return 1
			qc_rule add iif "qc$$h$ct_j" to "10.$QC_NET_R.$1.2" || return 1
		fi
		ct_j=$((ct_j + 1))
	done
	ip route flush cache 2>/dev/null
	return 0
}

qc_heal() {
	ct_j=1
	while [ $ct_j -le $QC_N ]; do
		if [ $ct_j -ne "$1" ]; then
			qc_rule del iif "qc$$h$1" to "10.$QC_NET_R.$ct_j.2"
			qc_rule del iif "qc$$h$ct_j" to "10.$QC_NET_R.$1.2"
		fi
		ct_j=$((ct_j + 1))
	done
	ip route flush cache 2>/dev/null
	return 0
}

# qc_rule add|del iif DEV to ADDR
qc_rule() {
	ip rule "$1" "$2" "$3" "$4" "$5" priority 50 blackhole || return 1
	if [ "$1" = add ]; then
		QC_RULES="$QC_RULES $3/$5"
	else
		QC_RULES=$(echo "$QC_RULES" | tr ' ' '\n' | grep -vx "$3/$5" | tr '\n' ' ')
	fi
}

qc_cleanup_net() {
	for r in $QC_RULES; do
		ip rule del iif "${r%/*}" to "${r#*/}" priority 50 blackhole 2>/dev/null
	done
	QC_RULES=""
	for ns in $QC_NS; do
		ip netns del "$ns" 2>/dev/null # takes its veth ends with it
	done
	QC_NS=""
}

qc_cleanup() {
	# A stopped member would sit out SIGTERM: let every one run first.
	for p in $QFS_PIDS; do
		kill -CONT "$p" 2>/dev/null
	done
	qfs_cleanup
	qc_cleanup_net
}

# --- datacenters (tests/cluster/multidc.sh, tests/bench/bench_multidc.sh) ---
#
#   qc_dc_init "1 2 3" "4" "5" "6"  put members into datacenters 1, 2, 3, 4
#                           (one quoted list each, in order); call after
#                           qc_init. Sets QC_DC_I for every member.
#   qc_dc_groups            append group.D=... to zoo.cfg for every
#                           datacenter holding participants: ZooKeeper's
#                           hierarchical quorum, one group a datacenter
#   qc_dc_delay_for I MS    the QUORUMFS_PEER_DELAY value that delays, at
#                           member I, every message from a member of
#                           another datacenter by MS ms (one way)
#   qc_dc_spawn I [args], qc_dc_start I [args]
#                           qc_spawn/qc_start with that delay, QC_DC_DELAY
#                           ms (default 0), in the member's environment
#
# The delay is the transport's test hook (consensus/transport_fault.c):
# the kernel here has no netem. It delays what a member receives, so a
# round trip between datacenters takes 2 * QC_DC_DELAY.

qc_dc_init() {
	QC_DC_N=0
	for dc_members in "$@"; do
		QC_DC_N=$((QC_DC_N + 1))
		for dc_i in $dc_members; do
			eval "QC_DC_$dc_i=$QC_DC_N"
		done
		eval "QC_DC_MEMBERS_$QC_DC_N=\"$dc_members\""
	done
}

qc_dc_groups() {
	dg_d=1
	while [ $dg_d -le "$QC_DC_N" ]; do
		dg_list=""
		for dg_i in $(qc_get QC_DC_MEMBERS $dg_d); do
			[ "$(qc_get QC_ROLE "$dg_i")" = participant ] &&
				dg_list="${dg_list:+$dg_list:}$dg_i"
		done
		[ -n "$dg_list" ] && echo "group.$dg_d=$dg_list" >>"$QC_CFG"
		dg_d=$((dg_d + 1))
	done
}

qc_dc_delay_for() {
	dd_mine=$(qc_get QC_DC "$1")
	dd_out=""
	dd_j=1
	while [ $dd_j -le "$QC_N" ]; do
		if [ "$(qc_get QC_DC $dd_j)" != "$dd_mine" ]; then
			dd_out="${dd_out:+$dd_out,}$dd_j:$2"
		fi
		dd_j=$((dd_j + 1))
	done
	echo "$dd_out"
}

qc_dc_spawn() {
	ds_v=""
	[ "${QC_DC_DELAY:-0}" -gt 0 ] && ds_v=$(qc_dc_delay_for "$1" "$QC_DC_DELAY")
	export QUORUMFS_PEER_DELAY="$ds_v"
	qc_spawn "$@"
	ds_rc=$?
	unset QUORUMFS_PEER_DELAY
	return $ds_rc
}

qc_dc_start() {
	qc_dc_spawn "$@" || return 1
	qc_wait_up "$1"
}
