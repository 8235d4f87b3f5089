#!/bin/sh
# secrets.sh - no secret is ever printed (issue 7, item 6): the conf
# four-letter word, the daemon's debug log and configuration error messages
# show mountAuth, saslUsers, superDigest and *password* keys as "(hidden)"
# at most; and contrib/standalone.cfg ships ZooKeeper's default four-letter
# words (srvr alone) with clients on loopback.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
qfs_init

fourlw() { fourlw_at 127.0.0.1 "$1" "$2"; }

PORT=$(free_port)
# superDigest is a real one (super's password MARK-C3): a super login must
# not print it either.
SUPER=$(python3 -c 'import base64, hashlib; print(base64.b64encode(hashlib.sha1(b"super:MARK-C3").digest()).decode())')
# Each secret carries a marker that must appear nowhere.
if ! qfs_start "$T/mnt" "$T/data" \
	-o "clientPort=$PORT,4lw.commands.whitelist=*" \
	-o "mountAuth=digest:ops:MARK-A1;ip:127.0.0.1" \
	-o "saslUsers=alice:MARK-B2" \
	-o "superDigest=super:$SUPER" \
	-o "ssl.keyStore.password=MARK-D4"; then
	t_fail "daemon starts with secrets configured"
	exit 0
fi
fourlw "$PORT" conf >"$T/conf"
sed 's/^/# conf: /' "$T/conf"
t_check "conf answers" grep -q "^clientPort=$PORT" "$T/conf"
t_check "conf says mountAuth is set, hidden" grep -qx "mountAuth=(hidden)" "$T/conf"
t_check "conf says saslUsers is set, hidden" grep -qx "saslUsers=(hidden)" "$T/conf"
t_check "conf hides superDigest" sh -c "! grep -qF '$SUPER' '$T/conf'"
for w in conf cons envi mntr srvr stat wchc wchp dump; do
	fourlw "$PORT" "$w" >>"$T/all4lw"
done
if grep -q "MARK-" "$T/all4lw"; then
	t_fail "no four-letter word prints a secret" "$(grep -m3 MARK- "$T/all4lw")"
else
	t_ok "no four-letter word prints a secret"
fi
# A client logging in as super: the debug log must not show its digest,
# which is the superDigest itself.
/usr/bin/python3 - "$PORT" <<'PY' >"$T/auth.out" 2>&1
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1], auth_data=[("digest", "super:MARK-C3")])
zk.start(timeout=10)
zk.get("/")
zk.stop()
print("authenticated")
PY
t_check "a digest login works" grep -q authenticated "$T/auth.out"
"$QUORUMCTL" -s "127.0.0.1:$PORT" status >"$T/status" 2>&1
t_check "quorumctl status prints no secret" sh -c "! grep -q MARK- '$T/status'"
qfs_stop "$QFS_PID" "$T/mnt" || t_fail "daemon stops cleanly"
t_check "the debug log holds no secret" sh -c "! grep -q MARK- '$T/data.log'"
t_check "the debug log does not hold the superDigest" sh -c "! grep -qF '$SUPER' '$T/data.log'"

# Configuration errors do not echo secrets either.
"$QUORUMFS" -f -o "dataDir=$T/d2,clientPort=0,mountAuth=digst:ops:MARK-E5" "$T/mnt" \
	>"$T/err1" 2>&1
t_check "a bad mountAuth entry is refused" test -s "$T/err1"
sed 's/^/# /' "$T/err1" | tail -3
t_check "its message does not echo the password" sh -c "! grep -q MARK- '$T/err1'"

# contrib/standalone.cfg: srvr alone, clients on loopback.
CFG="$QFS_SRCDIR/contrib/standalone.cfg"
t_check "contrib config: the four-letter words are ZooKeeper's default (srvr)" \
	grep -qx "4lw.commands.whitelist=srvr" "$CFG"
t_check "contrib config: clients on loopback" grep -qx "clientPortAddress=127.0.0.1" "$CFG"
PORT=$(free_port)
if qfs_start "$T/mnt3" "$T/data3" -o "clientPort=$PORT" "$CFG"; then
	wait_until 10 sh -c "ss -ltnH | grep -q '127.0.0.1:$PORT '"
	t_check "contrib config listens on 127.0.0.1 only" \
		sh -c "ss -ltnH | grep ':$PORT ' | grep -qv '127.0.0.1:$PORT ' && exit 1 || exit 0"
	fourlw "$PORT" srvr >"$T/srvr"
	t_check "contrib config answers srvr" grep -q "^Zxid" "$T/srvr"
	fourlw "$PORT" conf >"$T/conf3"
	t_check "contrib config refuses conf" grep -q "not in the whitelist" "$T/conf3"
	qfs_stop "$QFS_PID" "$T/mnt3" || t_fail "daemon stops cleanly"
else
	t_fail "the daemon starts with contrib/standalone.cfg"
fi
