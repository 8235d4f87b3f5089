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
# stop it so that leak reports at exit are in the log too
zks_server_stop_check
exit 0
