#!/bin/sh
# pitr_ensemble.sh - the continuous archive on every member of a
# 3-participant ensemble (each its own archiveDir): a member archives the
# entries it learns as committed, leader and followers alike, with no gap,
# and a restore from any member's archive to the last zxid gives the tree
# the ensemble served (compared node by node, stat and ACL included).
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
. "$QFS_SRCDIR/tests/adm/adm_lib.sh"
QC_TICK=${QC_TICK:-200}
QC_SESSION_MS=${QC_SESSION_MS:-4000}
qc_init 3 || exit 0
echo "snapCount=20" >>"$QC_CFG"
echo "archiveInterval=100" >>"$QC_CFG"
i=1
while [ $i -le 3 ]; do
	qc_spawn $i -o "archiveDir=$T/a$i" || exit 0
	i=$((i + 1))
done
for i in 1 2 3; do
	qc_wait_up $i || {
		t_fail "member $i comes up"
		exit 0
	}
done
qc_wait_leader >/dev/null || {
	t_fail "a leader is elected"
	exit 0
}
mkdir -p "$T/m1/app"
i=0
while [ $i -lt 60 ]; do
	echo "v$i" >"$(qc_get QC_MNT $(((i % 3) + 1)))/app/f$i"
	i=$((i + 1))
done
rm "$T/m2/app/f7"
for i in 1 2 3; do
	sync "$(qc_get QC_MNT $i)/app" 2>/dev/null
done
$ZK_TREE dump "$(qc_get QC_CPORT 1)" >"$T/live.dump"
for i in 3 2 1; do
	qc_stop $i
done
for i in 1 2 3; do
	end=$(ls "$T/a$i" | sed -n 's/^log\.[0-9a-f]*-\([0-9a-f]*\)\.qfa$/0x\1/p' | sort | tail -1)
	"$QUORUMADM" restore --archive "$T/a$i" --to-zxid "${end:-0x1}" --data-dir "$T/r$i" >"$T/out" 2>&1
	t_eq "member $i: restore of its archive to its end ($end) exits 0" 0 "$?"
	sed 's/^/# /' "$T/out"
	$ZK_TREE sqlite "$(ls "$T/r$i"/snapshot.*.db | tail -1)" | grep '^/app' >"$T/r$i.dump"
	grep '^/app' "$T/live.dump" >"$T/live.app"
	if cmp -s "$T/live.app" "$T/r$i.dump"; then
		t_ok "member $i: its archive gives the tree the ensemble served (/app)"
	else
		t_fail "member $i: its archive gives the tree the ensemble served (/app)"
		diff "$T/live.app" "$T/r$i.dump" | head -6 | sed 's/^/# /'
	fi
	t_check "member $i: no GAP logged" sh -c "! grep -q GAP '$(qc_get QC_DATA $i).log'"
done
exit 0
