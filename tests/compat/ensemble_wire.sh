#!/bin/sh
# ensemble_wire.sh - what a ZooKeeper client sees from every member of a
# 3-member ensemble (issue 8), where a request may be forwarded to the
# leader:
# - a null value stays null and an empty one empty, written through any
#   member and read on every member (kazoo's null-data tests, in the
#   ensemble);
# - a member that is behind what the client has already seen refuses it, as
#   ZooKeeper does (it closes the connection, so the client tries the next
#   server), and serves it once caught up. The member is held behind by
#   cutting it off (network namespaces, lib.sh).
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"
if [ "$(id -u)" != 0 ] || ! command -v nsenter >/dev/null; then
	t_fail "ensemble wire checks" "needs root and nsenter for network namespaces"
	exit 0
fi
QC_NET=netns
qc_init 3 || { t_fail "network namespaces for 3 members"; exit 1; }
if ! qc_start_all || ! qc_wait_leader 30; then
	t_fail "3 participants elect a leader"
	exit 1
fi
t_ok "3 participants elect a leader (member $QC_LEADER)"
A="" B=""
for i in 1 2 3; do
	[ $i = "$QC_LEADER" ] && continue
	if [ -z "$A" ]; then A=$i; else B=$i; fi
done

# null and empty, written through a follower (forwarded to the leader)
out=$(qc_zkpy "
c = zk($A)
c.create('/null', None)
c.create('/empty', b'')
c.create('/set-null', b'x')
c.set('/set-null', None)
c.create('/set-empty', b'x')
c.set('/set-empty', b'')
t = c.transaction()
t.create('/multi-x', b'x')
t.set_data('/multi-x', b'')
t.create('/multi-empty', b'')
t.commit()
c.sync('/')
for i in range(1, 4):
    z = zk(i)
    z.sync('/')
    print(i, ' '.join('%s=%r' % (p, z.get('/' + p)[0]) for p in
          ('null', 'empty', 'set-null', 'set-empty', 'multi-x', 'multi-empty')))
    z.stop()
" 2>&1)
echo "$out" | grep -v "^[123] " | tail -5 | sed 's/^/# /'
for i in 1 2 3; do
	t_eq "member $i: null stays null, empty stays empty (create, set, a multi's, through member $A)" \
		"$i null=None empty=b'' set-null=None set-empty=b'' multi-x=b'' multi-empty=b''" \
		"$(echo "$out" | grep "^$i ")"
done

# connect(HOST:PORT, ZXID): a raw ConnectRequest (read-only allowed, new
# session) with lastZxidSeen ZXID; prints "served" if a ConnectResponse
# comes, "closed" if the server closes the connection first.
connect() {
	"$QC_PY" - "$1" "$2" <<'PY'
import socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
body = struct.pack(">iqiqi16s?", 0, int(sys.argv[2], 0), 10000, 0, 16, b"\0" * 16, True)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(struct.pack(">i", len(body)) + body)
got = b""
try:
    while len(got) < 4 + 36:
        d = s.recv(4096)
        if not d:
            break
        got += d
except OSError:
    pass
print("served" if len(got) >= 4 + 36 else "closed")
PY
}
HB="$(qc_get QC_ADDR "$B"):$(qc_get QC_CPORT "$B")"

qc_cut "$B"
out=$(qc_zkpy "
c = zk($A)
for k in range(20):
    c.create('/after-%d' % k, b'x')
print('0x%x' % c.last_zxid)
" 2>&1 | tail -1)
Z=$out
ZB=$(qc_mntr "$B" zk_last_zxid)
echo "# the client saw zxid $Z on member $A; member $B (cut off) is at $ZB"
t_check "member $B is behind the zxid the client saw" test "$((ZB))" -lt "$((Z))"
t_eq "member $B serves a client that has seen no more than it has" served "$(connect "$HB" "$ZB")"
t_eq "member $B refuses a client that has seen zxid $Z (ahead of it): it closes the connection" \
	closed "$(connect "$HB" "$Z")"
t_check "the refusal is logged" grep -q "ahead of this server\|it has seen zxid" "$(qc_get QC_DATA "$B").log"

qc_heal "$B"
caught_up() { zb=$(qc_mntr "$B" zk_last_zxid) && [ -n "$zb" ] && [ "$((zb))" -ge "$((Z))" ]; }
t_check "healed, member $B catches up to $Z" wait_until 30 caught_up
t_eq "caught up, member $B serves that client" served "$(connect "$HB" "$Z")"
t_check "every member's tree is the same" qc_wait_converged 30
