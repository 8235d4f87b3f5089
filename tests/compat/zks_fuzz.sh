#!/bin/sh
# zks_fuzz.sh - hostile sessions against the client port (zks_fuzz.py, a few
# fixed seeds, bounded): the server must stay up and keep serving a
# well-behaved client, whatever the hostile ones sent. Run against the ASan
# build this is where a bad length or a NULL field would show.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/compat/zks_lib.sh"

qfs_init
QFS_ZKS_SERVER=${QFS_ZKS_SERVER:-harness}
if ! zks_server_start; then
	t_fail "server starts" "zks_serve does not serve the client port"
	exit 0
fi
for seed in 1 2 3; do
	t_check "hostile sessions, seed $seed, server survives" \
		timeout 120 python3 "$QFS_SRCDIR/tests/compat/zks_fuzz.py" "$ZKS_PORT" "$seed" 400
done
t_check "server still answers ruok" zks_ruok "$ZKS_PORT"
# stop it (bounded) so that leak reports at exit are in the log too
for p in $QFS_PIDS; do
	kill -TERM "$p" 2>/dev/null
	wait_until 10 sh -c "! kill -0 $p 2>/dev/null"
done
if [ -f "$T/serve.log" ]; then
	if grep -qE "AddressSanitizer|runtime error" "$T/serve.log"; then
		t_fail "no sanitizer reports" "$(grep -m3 -E 'AddressSanitizer|runtime error' "$T/serve.log")"
	else
		t_ok "no sanitizer reports"
	fi
fi
exit 0
