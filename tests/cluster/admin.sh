#!/bin/sh
# admin.sh - ZooKeeper's AdminServer (admin.enableServer, serverAddress,
# serverPort, commandURL): the JSON answers of a standalone server checked
# against its four-letter words and a real client, aliases, the command
# list, what it refuses (other paths, POST, hostile requests), when it is
# not opened, configuration errors, and each ensemble member's view of the
# leader and the voters.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/cluster/lib.sh"

http() { qc_http "$@"; }
# jget FILE EXPR: a Python expression over the JSON body `j` of an http() answer.
jget() {
	"$QC_PY" - "$@" <<'PY'
import json, sys
body = open(sys.argv[1]).read().split("\n", 1)[1]
j = json.loads(body)
print(eval(sys.argv[2], {"j": j}))
PY
}
# ran_ok OUT WHAT: a Python snippet ran to its final "ok" (else its output's
# tail is shown); json_in FILE EXPR: EXPR over the JSON in FILE, as `j`.
ran_ok() { t_check "$2" grep -qx ok "$1" || sed 's/^/# /' "$1" | tail -5; }
json_in() { "$QC_PY" -c "import json; j = json.load(open('$1')); print($2)"; }
mntr_of() { # PORT KEY
	fourlw_at 127.0.0.1 "$1" mntr | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

qc_init 3 1

# --- A standalone server with the admin commands on.
PORT=$(free_port)
AP=$(free_port)
if ! qfs_start "$T/s/mnt" "$T/s/data" -o "clientPort=$PORT,4lw.commands.whitelist=*" \
	-o "admin.serverPort=$AP,admin.serverAddress=127.0.0.1"; then
	t_fail "a standalone server starts with admin.serverPort set"
	exit 0
fi
SPID=$QFS_PID
mkdir "$T/s/mnt/app" && echo v1 >"$T/s/mnt/app/conf"
t_check "the log says where the commands are" \
	grep -q "admin commands on http://127.0.0.1:$AP/commands/" "$T/s/data.log"
http "$AP" /commands/ruok >"$T/ruok"
sed 's/^/# ruok: /' "$T/ruok"
t_check "ruok answers 200 application/json" grep -qx "200 application/json" "$T/ruok"
t_check "... with command ruok and a null error" \
	[ "$(jget "$T/ruok" '(j["command"], j["error"])')" = "('ruok', None)" ]
# Nothing writes between the two reads, so they must agree exactly.
http "$AP" /commands/monitor >"$T/mon"
t_check "monitor's znode_count is mntr's" \
	[ "$(jget "$T/mon" 'j["znode_count"]')" = "$(mntr_of "$PORT" zk_znode_count)" ]
t_check "monitor's last_zxid is mntr's, as a number" \
	[ "$(jget "$T/mon" 'j["last_zxid"]')" = "$(printf '%d' "$(mntr_of "$PORT" zk_last_zxid)")" ]
t_check "monitor says server_state standalone and the version" \
	[ "$(jget "$T/mon" 'j["server_state"], j["version"].startswith("3.8.0-quorumfs")')" = "('standalone', True)" ]
http "$AP" /commands/mntr >"$T/mntr"
t_check "the alias mntr answers as monitor" [ "$(jget "$T/mntr" 'j["command"]')" = monitor ]

# A client's session shows in stats and connections, with its id.
"$QC_PY" - "$PORT" "$AP" "$T/kz" <<'PY' >"$T/kz.out" 2>&1
import json, sys, urllib.request
from kazoo.client import KazooClient
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1])
zk.start(timeout=10)
for i in range(4):
    zk.get("/app/conf")
zk.set("/app/conf", b"v2")
zk.exists("/app/conf", watch=lambda e: None)
zk.get_children("/app", watch=lambda e: None) # not listed: ZooKeeper's list data watches
zk.create("/app/lock", b"", ephemeral=True)
def get(name):
    with urllib.request.urlopen("http://127.0.0.1:%s/commands/%s" % (sys.argv[2], name), timeout=5) as r:
        return json.loads(r.read())
with open(sys.argv[3], "w") as f:
    json.dump({"sidn": zk.client_id[0],
               "stats": get("stats"), "cons": get("cons"),
               "wchs": get("watch_summary"), "wchc": get("watches"),
               "wchp": get("wchp"), "srvr": get("server_stats"),
               "dump": get("dump")}, f)
zk.stop()
print("ok")
PY
ran_ok "$T/kz.out" "a kazoo client ran while the commands were read"
kz() { json_in "$T/kz" "$1"; }
t_check "stats lists the client's session by its id, a number as ZooKeeper's" \
	[ "$(kz '[c.get("session_id") for c in j["stats"]["connections"]].count(j["sidn"])')" = 1 ]
# The last request was the create (a ping may follow it if the run is slow).
t_check "connections gives its last operation, packets and address" \
	[ "$(kz '[(c["last_operation"] in ("CREA", "PING"), c["packets_received"] >= 7, c["remote_socket_address"].startswith("127.0.0.1:")) for c in j["cons"]["connections"] if c.get("session_id") == j["sidn"]]')" = "[(True, True, True)]" ]
t_check "... and when it was established, in epoch milliseconds" \
	[ "$(kz '[abs(c["established"] / 1000 - __import__("time").time()) < 600 for c in j["cons"]["connections"] if c.get("session_id") == j["sidn"]]')" = "[True]" ]
t_check "watch_summary counts its one data watch, not its child watch" \
	[ "$(kz '(j["wchs"]["num_connections"], j["wchs"]["num_total_watches"])')" = "(1, 1)" ]
t_check "watches lists the path under the session id in decimal" \
	[ "$(kz 'j["wchc"]["session_id_to_watched_paths"] == {str(j["sidn"]): ["/app/conf"]}')" = True ]
t_check "watches_by_path (wchp) lists the session under the path" \
	[ "$(kz '(j["wchp"]["command"], j["wchp"]["path_to_session_ids"] == {"/app/conf": [j["sidn"]]})')" = "('watches_by_path', True)" ]
t_check "dump lists the session's ephemeral node under its id in decimal" \
	[ "$(kz 'j["dump"]["session_id_to_ephemeral_paths"] == {str(j["sidn"]): ["/app/lock"]}')" = True ]
t_check "... and, as the leader, when the session expires (its id once, under a time)" \
	[ "$(kz '(sum(v.count(j["sidn"]) for v in j["dump"]["expiry_time_to_session_ids"].values()), all(k.isdigit() for k in j["dump"]["expiry_time_to_session_ids"]))')" = "(1, True)" ]
t_check "server_stats counts a live client connection and the nodes" \
	[ "$(kz '(j["srvr"]["server_stats"]["num_alive_client_connections"] >= 1, j["srvr"]["node_count"] >= 6)')" = "(True, True)" ]

http "$AP" /commands/configuration >"$T/conf"
t_check "configuration gives client_port and data_dir" \
	[ "$(jget "$T/conf" '(j["client_port"], j["data_dir"])')" = "($PORT, '$T/s/data')" ]
http "$AP" /commands/is_read_only >"$T/isro"
t_check "is_read_only is false with a quorum" [ "$(jget "$T/isro" 'j["read_only"]')" = False ]
http "$AP" /commands/leader >"$T/lead"
t_check "leader on a standalone server is ZooKeeper's error" \
	[ "$(jget "$T/lead" 'j["error"]')" = "server is not initialized" ]
http "$AP" /commands/hash >"$T/hash"
t_check "a command quorumfs does not serve answers as unknown" \
	[ "$(jget "$T/hash" '(j["command"], j["error"])')" = "('hash', 'Unknown command: hash')" ]
http "$AP" /commands/stat_reset >/dev/null
t_check "stat_reset resets the server's counters (the kazoo set counted before)" \
	[ "$(mntr_of "$PORT" zk_cnt_updatelatency)" = 0 ]
http "$AP" /commands >"$T/list"
http "$AP" /commands/ >"$T/list2"
t_check "the command URL lists the commands as links" \
	grep -q '^<a href="/commands/monitor">monitor</a>$' "$T/list"
t_check "... with or without the trailing slash" cmp -s "$T/list" "$T/list2"
t_check "another path is 404" grep -q "^404 " "$(http "$AP" /metrics >"$T/n"; echo "$T/n")"
t_check "POST is refused" sh -c "! grep -q '^200 ' '$(http "$AP" /commands/ruok POST >"$T/p"; echo "$T/p")'"
# Hostile input: an oversized header, a garbage request line, a name of
# every byte (percent-encoded); each is refused or answered, and the
# server goes on.
"$QC_PY" - "$AP" <<'PY' >"$T/hostile" 2>&1
import json, socket, sys, urllib.parse
port = int(sys.argv[1])
def talk(data, n=100):
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(data)
    r = b""
    try:
        while len(r) < 65536:
            x = s.recv(65536)
            if not x:
                break
            r += x
            if n and len(r) >= n:
                break
    except OSError as e:
        r = repr(e).encode()
    s.close()
    return r
print("big header:", talk(b"GET /commands/ruok HTTP/1.1\r\nX: " + b"a" * 100000 + b"\r\n\r\n").split(b"\r\n")[0].decode(errors="replace"))
print("garbage:", talk(b"\x00\xff\x16\x03 nonsense\r\n\r\n").split(b"\r\n")[0].decode(errors="replace"))
name = urllib.parse.quote(bytes(range(1, 256)) * 4, safe="")
r = talk(("GET /commands/%s HTTP/1.0\r\n\r\n" % name).encode(), 0)
body = r.split(b"\r\n\r\n", 1)[1]
j = json.loads(body.decode("utf-8"))
print("odd name:", r.split(b"\r\n")[0].decode(), "error" in j and j["error"].startswith("Unknown command"))
PY
sed 's/^/# /' "$T/hostile"
t_check "an oversized header is refused" grep -q "^big header: HTTP/1.1 4" "$T/hostile"
t_check "a garbage request line is refused" grep -q "^garbage: HTTP/1.1 4" "$T/hostile"
t_check "a name of every byte gets valid UTF-8 JSON saying unknown" \
	grep -q "^odd name: HTTP/1.[01] 200 OK True" "$T/hostile"
t_check "the daemon is still up and answers" \
	sh -c "kill -0 $SPID && grep -q '^200 ' '$(http "$AP" /commands/ruok >"$T/after"; echo "$T/after")'"

# --- The same port taken: a second server says which key and why.
"$QUORUMFS" -f -o "dataDir=$T/s2/data,clientPort=$(free_port)" \
	-o "admin.serverPort=$AP,admin.serverAddress=127.0.0.1" "$T/s2/mnt" >"$T/s2.log" 2>&1 &
S2=$!
mkdir -p "$T/s2/mnt"
wait_until 20 sh -c "! kill -0 $S2" || kill -9 $S2
wait $S2
rc=$?
sed 's/^/# second server: /' "$T/s2.log" | tail -2
t_check "a taken admin port stops the daemon (exit $rc)" [ "$rc" -ne 0 ]
t_check "... with a message naming admin.serverPort and the cause" \
	grep -q "admin.serverPort: cannot serve the admin commands on 127.0.0.1:$AP: Address already in use" "$T/s2.log"
qfs_stop "$SPID" "$T/s/mnt"

# --- Not opened unless asked; commandURL moves it; a bad URL is an error.
AP3=$(free_port)
if qfs_start "$T/s3/mnt" "$T/s3/data" -o "clientPort=0" \
	-o "admin.enableServer=false,admin.serverPort=$AP3"; then
	t_check "admin.enableServer=false wins over a port" \
		sh -c "! $QC_PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $AP3), timeout=2)' 2>/dev/null"
	qfs_stop "$QFS_PID" "$T/s3/mnt"
else
	t_fail "a server starts with admin.enableServer=false"
fi
t_check "... and its log announces no admin server" \
	sh -c "! grep -q 'admin commands on' '$T/s3/data.log'"
AP4=$(free_port)
if qfs_start "$T/s4/mnt" "$T/s4/data" -o "clientPort=0,snapCount=10" \
	-o "admin.enableServer=true,admin.serverPort=$AP4,admin.commandURL=/zk/admin/" \
	-o "superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU="; then
	http "$AP4" /zk/admin/srvr >"$T/s4out"
	t_check "clientPort=0 with admin.commandURL=/zk/admin/: srvr answers there" \
		[ "$(jget "$T/s4out" 'j["command"]')" = server_stats ]
	t_check "... and not under /commands" grep -q "^404 " "$(http "$AP4" /commands/srvr >"$T/s4n"; echo "$T/s4n")"
	http "$AP4" /zk/admin/initial_configuration >"$T/s4ic"
	t_check "initial_configuration gives the keys as started, one line each" \
		[ "$(jget "$T/s4ic" '[l for l in j["initial_configuration"].splitlines() if l.startswith(("clientPort=", "snapCount=", "admin.commandURL="))]')" = "['clientPort=0', 'snapCount=10', 'admin.commandURL=/zk/admin/']" ]
	t_check "... with a secret hidden" \
		[ "$(jget "$T/s4ic" '("superDigest=(hidden)" in j["initial_configuration"].splitlines(), "D/InIH" in j["initial_configuration"])')" = "(True, False)" ]
	# Enough writes for a snapshot or two (every 10 transactions, in a
	# child): last_snapshot names the newest file and its time.
	i=0
	while [ $i -lt 30 ]; do echo $i >"$T/s4/mnt/f$i"; i=$((i + 1)); done
	s4snap() {
		http "$AP4" /zk/admin/last_snapshot >"$T/s4ls"
		z=$(jget "$T/s4ls" 'j["zxid"]')
		[ "$z" != 0 ] && [ -f "$T/s4/data/$(printf 'snapshot.%016x.db' "0x$z")" ]
	}
	t_check "last_snapshot moves past the first snapshot, naming a file on disk" wait_until 20 s4snap
	f="$T/s4/data/$(printf 'snapshot.%016x.db' "0x$(jget "$T/s4ls" 'j["zxid"]')")"
	t_check "... and its time is the file's, in seconds" \
		[ "$(jget "$T/s4ls" 'j["timestamp"]')" = "$(stat -c %Y "$f")" ]
	qfs_stop "$QFS_PID" "$T/s4/mnt"
else
	t_fail "a server without a client port starts with the admin commands"
fi
"$QUORUMFS" -f -o "dataDir=$T/s5/data,clientPort=0,admin.commandURL=nope" "$T/s5/mnt" >"$T/s5.log" 2>&1
rc=$?
t_check "admin.commandURL without a leading / is refused (exit $rc)" \
	sh -c "[ $rc -ne 0 ] && grep -q 'admin.commandURL=nope: expected a path starting with /' '$T/s5.log'"

# --- An ensemble: each member's view of the leader and the voters.
i=1
while [ $i -le 4 ]; do
	eval "AP_$i=$(free_port)"
	qc_spawn $i -o "admin.serverPort=$(qc_get AP $i),admin.serverAddress=127.0.0.1"
	i=$((i + 1))
done
if ! { qc_wait_up 1 && qc_wait_up 2 && qc_wait_up 3 && qc_wait_up 4 && qc_wait_leader 30; }; then
	t_fail "the ensemble comes up with the admin commands on"
	exit 0
fi
L=$QC_LEADER
F=$((L % 3 + 1))
http "$(qc_get AP "$L")" /commands/leader >"$T/ll"
http "$(qc_get AP "$F")" /commands/lead >"$T/lf"
t_check "the leader says is_leader true" [ "$(jget "$T/ll" 'j["is_leader"]')" = True ]
t_check "a follower names the leader (id $L, its host)" \
	[ "$(jget "$T/lf" '(j["is_leader"], j["leader_id"], j["leader_ip"])')" = "(False, $L, '$(qc_get QC_ADDR "$L")')" ]
http "$(qc_get AP "$F")" /commands/voting_view >"$T/vv"
sed 's/^/# voting_view: /' "$T/vv"
t_check "voting_view lists the three voters by id" \
	[ "$(jget "$T/vv" 'sorted(j["current_config"])')" = "['1', '2', '3']" ]
http "$(qc_get AP "$F")" /commands/zabstate >"$T/zs"
t_check "zabstate: a voting member in broadcast" \
	[ "$(jget "$T/zs" '(j["voting"], j["zabstate"])')" = "(True, 'broadcast')" ]
http "$(qc_get AP "$F")" /commands/monitor >"$T/mf"
t_check "a follower's monitor says follower, quorum_size 3 (the voters: the observer does not count)" \
	[ "$(jget "$T/mf" '(j["server_state"], j["quorum_size"])')" = "('follower', 3)" ]

# A session on the follower: every member lists its ephemeral node, and
# only the leader, which expires sessions, says when.
"$QC_PY" - "$(qc_get QC_CPORT "$F")" "$(qc_get AP "$L")" "$(qc_get AP "$F")" "$T/ed" <<'PY' >"$T/ed.out" 2>&1
import json, sys, time, urllib.request
from kazoo.client import KazooClient
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1])
zk.start(timeout=10)
zk.create("/held", b"", ephemeral=True)
def get(port):
    with urllib.request.urlopen("http://127.0.0.1:%s/commands/dump" % port, timeout=5) as r:
        return json.loads(r.read())
sid = str(zk.client_id[0])
for _ in range(100):  # the leader applies the create as the follower does, or just after
    l = get(sys.argv[2])
    if sid in l["session_id_to_ephemeral_paths"]:
        break
    time.sleep(0.1)
json.dump({"sid": zk.client_id[0], "l": l, "f": get(sys.argv[3])}, open(sys.argv[4], "w"))
zk.stop()
print("ok")
PY
ran_ok "$T/ed.out" "a kazoo client held an ephemeral node on a follower"
ed() { json_in "$T/ed" "$1"; }
t_check "dump on the leader and on the follower list the ephemeral node" \
	[ "$(ed '[d["session_id_to_ephemeral_paths"].get(str(j["sid"])) for d in (j["l"], j["f"])]')" = "[['/held'], ['/held']]" ]
t_check "... the leader says when the session expires, the follower nothing" \
	[ "$(ed '(sum(v.count(j["sid"]) for v in j["l"]["expiry_time_to_session_ids"].values()), j["f"]["expiry_time_to_session_ids"])')" = "(1, {})" ]

# --- Member 4 observes. The leader lists it under observers, with what
# its connection carried and what it forwarded; the reset counts from
# zero again; mntr splits the learners by kind.
LA=$(qc_get AP "$L")
OBS_SRC=$(qc_get QC_ADDR 4)
obs() { http "$LA" /commands/obsr >"$T/ob"; jget "$T/ob" "$1"; }
obs_up() { [ "$(obs '(j["synced_observers"], [o["sid"] for o in j["observers"]])')" = "(1, [4])" ]; }
t_check "the leader's observers lists member 4 alone" wait_until 20 obs_up
sed 's/^/# observers: /' "$T/ob"
t_check "... with its connection's address, as Java prints one" \
	[ "$(obs 'j["observers"][0]["remote_socket_address"].startswith("/'"$OBS_SRC"':")')" = True ]
t_check "... established in the last hour, in epoch milliseconds" \
	[ "$(obs 'abs(j["observers"][0]["established"] / 1000 - __import__("time").time()) < 3600')" = True ]
t_check "... and messages both ways" \
	[ "$(obs '(j["observers"][0]["packets_sent"] > 0, j["observers"][0]["packets_received"] > 0)')" = "(True, True)" ]
# Three creates through the observer's client port: forwarded to the
# leader, counted as its requests, and held by it once applied.
"$QC_PY" - "$(qc_get QC_CPORT 4)" <<'PY' >"$T/ow.out" 2>&1
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts="127.0.0.1:" + sys.argv[1])
zk.start(timeout=10)
for k in range(3):
    zk.create("/via-observer-%d" % k, b"x")
zk.stop()
print("ok")
PY
ran_ok "$T/ow.out" "three creates through the observer"
LZ=$(printf '%d' "$(mntr_of "$(qc_get QC_CPORT "$L")" zk_last_zxid)")
obs_caught() { [ "$(obs '(j["observers"][0]["requests"] >= 3, j["observers"][0]["last_zxid"] >= '"$LZ"')')" = "(True, True)" ]; }
t_check "... the leader counts them as its requests, and its last_zxid reaches the leader's ($LZ)" \
	wait_until 20 obs_caught
SENT0=$(obs 'j["observers"][0]["packets_sent"]')
http "$LA" /commands/ocrst >"$T/ocrst"
t_check "observer_connection_stat_reset answers under its alias" \
	[ "$(jget "$T/ocrst" '(j["command"], j["error"])')" = "('observer_connection_stat_reset', None)" ]
t_check "... and the counts start again (requests 0, fewer messages sent than the $SENT0 before)" \
	[ "$(obs '(j["observers"][0]["requests"], j["observers"][0]["packets_sent"] < '"$SENT0"')')" = "(0, True)" ]
http "$(qc_get AP "$F")" /commands/observers >"$T/obf"
t_check "a follower lists no observers, as a ZooKeeper follower that is no observer master" \
	[ "$(jget "$T/obf" '(j["synced_observers"], j["observers"])')" = "(0, [])" ]
LC=$(qc_get QC_CPORT "$L")
t_check "the leader's mntr: zk_learners 3, zk_synced_followers 2, zk_synced_observers 1, zk_synced_non_voting_followers 0" \
	[ "$(mntr_of "$LC" zk_learners) $(mntr_of "$LC" zk_synced_followers) $(mntr_of "$LC" zk_synced_observers) $(mntr_of "$LC" zk_synced_non_voting_followers)" = "3 2 1 0" ]
exit 0
