#!/bin/sh
# snapshot.sh - catch-up past the log (issue 8, "Restart and catch-up"): a
# follower is cut off (network namespaces, see lib.sh) while thousands of
# writes commit and the others snapshot and trim their logs (snapCount=100);
# healed, it catches up, by snapshot where the log no longer reaches back,
# and the inotify watchers on its mount, which stay in place all along, see
# exactly the difference: IN_CREATE for each new name, IN_DELETE for each
# removed one, IN_CLOSE_WRITE for each changed value, nothing for the rest.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v nsenter >/dev/null; then
	t_fail "snapshot catch-up" "needs root and nsenter for network namespaces"
	exit 0
fi
QC_NET=netns
NEW=${QC_SNAP_WRITES:-2000}
qc_init 3 || { t_fail "network namespaces for 3 members"; exit 1; }
ok=1
for i in 1 2 3; do qc_spawn $i -o snapCount=100 || ok=0; done
for i in 1 2 3; do qc_wait_up $i || ok=0; done
if [ $ok = 0 ] || ! qc_wait_leader 30; then
	t_fail "3 participants (snapCount=100) elect a leader"
	exit 1
fi
t_ok "3 participants (snapCount=100) elect a leader (member $QC_LEADER)"
F=""
for i in 1 2 3; do [ $i != "$QC_LEADER" ] && { F=$i; break; }; done
MF=$(qc_get QC_MNT "$F")
ML=$(qc_get QC_MNT "$QC_LEADER")

out=$(qc_zkpy "
c = zk($QC_LEADER)
c.ensure_path('/s')
rs = [c.create_async('/s/k%02d' % k, b'old') for k in range(50)]
for r in rs: r.get(timeout=60)
print('ok')
" 2>&1 | tail -1)
t_eq "50 nodes made" ok "$out"
t_check "the follower has them" wait_until 20 sh -c "[ \$(ls '$MF/s' | wc -l) -eq 50 ]"

: >"$T/w.err"
inotifywait -m -e create,delete,close_write,modify,attrib,delete_self --format '%e %f' "$MF/s" \
	>"$T/w" 2>"$T/w.err" &
WP=$!
QFS_PIDS="$QFS_PIDS $WP"
wait_until 10 grep -q "Watches established" "$T/w.err"

qc_cut "$F"
out=$(qc_zkpy "
c = zk($QC_LEADER)
rs = [c.create_async('/s/n%05d' % k, b'new') for k in range($NEW)]
rs += [c.delete_async('/s/k%02d' % k) for k in range(10)]
rs += [c.set_async('/s/k%02d' % k, b'changed') for k in range(10, 20)]
for r in rs: r.get(timeout=120)
print('ok', len(c.get_children('/s')))
" 2>&1 | tail -1)
t_eq "$NEW creates, 10 deletes, 10 sets commit with member $F cut off" "ok $((NEW + 40))" "$out"
t_eq "member $F has seen none of it" 50 "$(ls "$MF/s" | wc -l)"
grep -ci "snapshot" "$(qc_get QC_DATA "$QC_LEADER").log" | sed 's/^/# leader log lines naming snapshots: /'

T0=$(date +%s%N)
qc_heal "$F"
t_check "healed, member $F catches up" wait_until 60 sh -c "[ \$(ls '$MF/s' | wc -l) -eq $((NEW + 40)) ]"
echo "# caught up $((($(date +%s%N) - T0) / 1000000)) ms after healing"
t_check "all three converge" qc_wait_converged 60
# The tree is there before the replay of its difference on the mount is
# done (a loaded machine: seconds): wait for the last of it rather than a
# fixed time, then a moment for anything extra to show.
wait_until 60 sh -c "[ \$(grep -c '^CREATE[A-Z,]* n' '$T/w') -ge $NEW ] &&
	[ \$(grep -c '^CLOSE_WRITE[A-Z,]* k1' '$T/w') -ge 10 ] && [ \$(grep -c '^DELETE[A-Z,]* k0' '$T/w') -ge 10 ]"
sleep 0.5
kill "$WP" 2>/dev/null
grep -iE "snapshot|install" "$(qc_get QC_DATA "$F").log" | tail -3 | sed 's/^/# member log: /'

# the events, per name
summary() {
	awk '{ print $2, $1 }' "$T/w" | sort -u | awk '
	{ ev[$1] = ev[$1] " " $2 }
	END { for (n in ev) print n ev[n] }' | sort
}
summary >"$T/ev"
t_eq "every new name: exactly one IN_CREATE (and its data's events)" "$NEW" \
	"$(grep -c '^n[0-9]* .*CREATE' "$T/ev")"
t_eq "every removed name: IN_DELETE" 10 "$(grep -c '^k0[0-9] .*DELETE' "$T/ev")"
t_eq "every changed value: IN_CLOSE_WRITE" 10 "$(grep -c '^k1[0-9] .*CLOSE_WRITE' "$T/ev")"
t_eq "nothing for the 30 names that did not change" "" "$(grep -E '^k[2-4][0-9] ' "$T/ev" | head -3)"
t_eq "no removal of a name that stays" "" "$(grep -E '^(n|k[1-4])[0-9]* .*DELETE' "$T/ev" | head -3)"

# A member whose newest snapshot is damaged and whose log was cut short
# before it (a torn disk): a plain start refuses and names the transactions
# only that file held; repair=yes starts from the older whole snapshot and
# the member copies what it lost from the leader.
out=$(qc_zkpy "
c = zk($QC_LEADER)
rs = [c.create_async('/s/r%04d' % k, b'r') for k in range(300)]
for r in rs: r.get(timeout=60)
print('ok')
" 2>&1 | tail -1)
t_eq "300 more creates (member $F snapshots on its own)" ok "$out"
t_check "member $F has them" wait_until 30 sh -c "[ \$(ls '$MF/s' | wc -l) -eq $((NEW + 340)) ]"
DF=$(qc_get QC_DATA "$F")
qc_stop "$F"
newest=$(ls "$DF" | grep '^snapshot\.[0-9a-f]*\.db$' | sort | tail -1)
z=$(printf '%d' "0x$(echo "$newest" | sed 's/^snapshot\.//; s/\.db$//')")
cut=$((z - 3))
sqlite3 "$DF/$newest" "UPDATE nodes SET mtime = mtime + 1 WHERE rowid = 2"
sqlite3 "$DF/txnlog.db" "DELETE FROM log WHERE zxid > $cut"
echo "# member $F: damaged $newest, log cut after $(printf '0x%x' $cut)"
qc_spawn "$F"
wait "$(qc_get QC_PID "$F")"
t_check "a plain start refuses" [ $? -ne 0 ]
t_check "and names the transactions only the damaged snapshot held" \
	grep -q "transactions $(printf '0x%x to 0x%x' $((cut + 1)) "$z") are lost" "$DF.log"
t_check "repair=yes starts" qc_start "$F" -o repair=yes
t_check "member $F copies the rest from the leader" \
	wait_until 60 sh -c "[ \$(ls '$MF/s' | wc -l) -eq $((NEW + 340)) ]"
t_check "all three converge after the repair" qc_wait_converged 60
t_check "the damaged snapshot was set aside" sh -c "ls '$DF' | grep -q '^$newest\.corrupt-'"
