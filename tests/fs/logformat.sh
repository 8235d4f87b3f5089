#!/bin/sh
# logformat.sh - logFormat=json: every line the daemon writes is one JSON
# object a log pipeline can parse (ts, level, pid, member, msg, error), also
# when a client puts quotes, control characters and bytes that are not
# UTF-8 into a logged string; a bad logFormat value is refused.
. "$QFS_SRCDIR/tests/lib.sh"
qfs_init

# A value other than text or json: a clear error, nothing mounted.
mkdir -p "$T/m0"
"$QUORUMFS" -f -o "dataDir=$T/d0,clientPort=0,logFormat=xml" "$T/m0" >"$T/bad.out" 2>&1
t_eq "logFormat=xml: exit status 1" 1 $?
t_check "logFormat=xml: the error names the key and the choices" \
	grep -q "logFormat=xml: expected text or json" "$T/bad.out"

# A one-member ensemble (so lines carry "member"), with -d for the lines
# that name a client's digest user.
cport=$(free_port) pport=$(free_port) eport=$(free_port)
cat >"$T/zoo.cfg" <<CFG
dataDir=$T/d1
clientPort=$cport
server.1=127.0.0.1:$pport:$eport
logFormat=json
CFG
if ! qfs_start "$T/m1" "$T/d1" -o myid=1 "$T/zoo.cfg"; then
	t_fail "one-member ensemble with logFormat=json starts"
	exit 0
fi
wait_until 20 sh -c "echo x > '$T/m1/ready'" 2>/dev/null
t_eq "a write through the mount while logging JSON" x "$(cat "$T/m1/ready" 2>/dev/null)"

# addauth digest with a hostile user name, on the raw ZooKeeper protocol:
# quote, backslash, newline, tab, \x01, a lone 0xff and a cut 3-byte form.
/usr/bin/python3 - "$cport" >"$T/auth.out" 2>&1 <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
def send(body):
    s.sendall(struct.pack(">i", len(body)) + body)
def recv():
    n = b""
    while len(n) < 4:
        n += s.recv(4 - len(n))
    want, out = struct.unpack(">i", n)[0], b""
    while len(out) < want:
        out += s.recv(want - len(out))
    return out
buf = lambda b: struct.pack(">i", len(b)) + b
# ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd
send(struct.pack(">iqiq", 0, 0, 10000, 0) + buf(b"\0" * 16))
recv()
# AuthPacket: header xid -4, type 100; body type 0, scheme, credentials
user = b'we"ird\\user\nnext\tx\x01\xff\xe2\x82'
send(struct.pack(">ii", -4, 100) + struct.pack(">i", 0) + buf(b"digest") + buf(user + b":pw"))
hdr = recv()
print("auth err", struct.unpack(">iqi", hdr[:16])[2])
PY
t_check "the hostile addauth was answered" grep -q "auth err 0" "$T/auth.out"
wait_until 10 grep -q "authenticated as digest user" "$T/d1.log"
qfs_stop "$QFS_PID" "$T/m1"

# Every line parses; the fields are there, in order, with the right types.
/usr/bin/python3 - "$T/d1.log" >"$T/check.out" 2>&1 <<'PY'
import json, re, sys
raw = open(sys.argv[1], "rb").read()
bad, n, user, err = [], 0, None, 0
for line in raw.split(b"\n"):
    if not line:
        continue
    n += 1
    try:
        o = json.loads(line.decode("utf-8"))   # strict UTF-8 too
    except Exception as e:
        bad.append("%r: %s" % (line[:120], e))
        continue
    keys = list(o)
    want = ["ts", "level", "pid", "member", "msg"] + (["error"] if "error" in o else [])
    if keys != want:
        bad.append("keys %s" % keys)
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o.get("ts", "")):
        bad.append("ts %r" % o.get("ts"))
    if o.get("level") not in ("error", "warn", "info", "debug") or o.get("member") != 1:
        bad.append("level/member %r %r" % (o.get("level"), o.get("member")))
    if not isinstance(o.get("pid"), int):
        bad.append("pid %r" % o.get("pid"))
    m = re.search(r"authenticated as digest user (.*)", o.get("msg", ""), re.S)
    if m:
        user = m.group(1)
print("lines", n, "bad", len(bad))
for b in bad[:5]:
    print("bad:", b)
print("user", ascii(user))
sys.exit(0 if n >= 3 and not bad and
         user == 'we"ird\\user\nnext\tx\x01\ufffd\ufffd\ufffd' else 1)
PY
rc=$?
t_check "every line is a JSON object with ts, level, pid, member and msg" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/# /' "$T/check.out"
t_check "the stop is logged as JSON too" grep -q '"msg":"stopped"' "$T/d1.log"
