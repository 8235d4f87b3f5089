# zks_lib.sh - for the compatibility scripts (sourced after tests/lib.sh):
# start a ZooKeeper-protocol server for real clients to talk to.
#
# zks_server_start: sets ZKS_PORT and ZKS_KIND. The daemon (qfs_start with
# clientPort and every four-letter word allowed) when it serves the port;
# otherwise, or with QFS_ZKS_SERVER=harness, tests/compat/zks_serve (the same
# server code over a core, no mount). Returns 1 if neither starts.

zks_ruok() {
	python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
s.sendall(b"ruok")
sys.exit(0 if s.recv(16) == b"imok" else 1)
PY
}

zks_server_start() {
	ZKS_PORT=$(free_port)
	ZKS_KIND=""
	if [ "${QFS_ZKS_SERVER:-daemon}" = daemon ] && [ -x "$QUORUMFS" ]; then
		# The SASL users are the ones kazoo's test_sasl logs in as.
		# maxClientCnxns=0: kazoo's suite holds more than 60 connections
		# from 127.0.0.1 at its peaks (sampled with ss: 60 established, the
		# cap, against quorumfs and ZooKeeper 3.8 alike; 16 connections
		# dropped in one run). A dropped session reconnects, but a dropped
		# four-letter-word socket (client.server_version(), in
		# test_create_acl_duplicate) fails its test with ECONNRESET. The cap
		# itself is tested in tests/unit/test_zks.c.
		if qfs_start "$T/mnt" "$T/data" \
			-o "clientPort=$ZKS_PORT,4lw.commands.whitelist=*,tickTime=200" \
			-o "maxClientCnxns=0" \
			-o "saslUsers=super:super_secret;jaasuser:jaas_password" \
			>/dev/null 2>&1 && wait_until 10 zks_ruok "$ZKS_PORT"; then
			ZKS_KIND=quorumfs
			return 0
		fi
		echo "# the daemon did not serve clientPort; log follows"
		sed 's/^/#   /' "$T/data.log" | tail -20
		return 1
	fi
	if [ ! -x "$QFS_BUILDDIR/tests/compat/zks_serve" ]; then
		return 1
	fi
	mkdir -p "$T/data"
	"$QFS_BUILDDIR/tests/compat/zks_serve" "$T/data" "$ZKS_PORT" >"$T/serve.log" 2>&1 &
	QFS_PIDS="$QFS_PIDS $!"
	ZKS_KIND=zks_serve
	wait_until 10 zks_ruok "$ZKS_PORT"
}

# zks_server_stop_check: stop the servers started here (bounded) and report
# one TAP line on sanitizer findings in the harness's log (ASan builds).
zks_server_stop_check() {
	for p in $QFS_PIDS; do
		kill -TERM "$p" 2>/dev/null
		wait_until 10 sh -c "! kill -0 $p 2>/dev/null"
	done
	for l in "$T/serve.log" "$T/data.log"; do
		[ -f "$l" ] || continue
		if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$l"; then
			t_fail "no sanitizer reports" "$(grep -m3 -E 'Sanitizer|runtime error' "$l")"
		else
			t_ok "no sanitizer reports"
		fi
	done
}
