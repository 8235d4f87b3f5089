#!/bin/sh
# kazoo.sh - kazoo's own test suite (Debian python3-kazoo) against quorumfs's
# client port, reported as TAP: one line per kazoo test, its kazoo id in the
# name, skips with kazoo's reason. The per-file table of run-kazoo.sh follows
# as "#" comments.
#
# The shared runner ($QFS_SRCDIR/../shared/compat/kazoo/run-kazoo.sh) skips
# the tests that stop, restart or reconfigure servers. The server: the daemon,
# or tests/compat/zks_serve before it serves the port (see zks_lib.sh).
#
# Bounded: KAZOO_TOTAL_TIMEOUT (default 780 s, under the runner's 900 s per
# test file), 60 s per kazoo test.
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
. "$QFS_SRCDIR/tests/compat/zks_lib.sh"

KZ=${QFS_KAZOO_DIR:-$QFS_SRCDIR/../shared/compat/kazoo}
if [ ! -x "$KZ/run-kazoo.sh" ]; then
	# The suite is the proof of compatibility: without it nothing is shown.
	t_fail "kazoo suite" "no kazoo runner at $KZ (run-kazoo.sh)"
	exit 0
fi
qfs_init

deps_ok() { /usr/bin/python3 -c 'import kazoo.tests, pytest, mock, objgraph' 2>/dev/null; }
if ! deps_ok; then
	if [ "$(id -u)" = 0 ]; then
		timeout 600 bash "$KZ/install-deps.sh" >"$T/deps.log" 2>&1
	fi
	if ! deps_ok; then
		# The suite is the issue's proof of compatibility: its absence
		# fails rather than skips.
		t_fail "kazoo suite" "kazoo's test dependencies are missing (install-deps.sh: see $T/deps.log)"
		sed 's/^/#   /' "$T/deps.log" 2>/dev/null | tail -10
		exit 0
	fi
fi

if ! zks_server_start; then
	t_fail "kazoo suite" "quorumfs does not serve the client port"
	exit 0
fi
PORT=$ZKS_PORT
echo "# kazoo against $ZKS_KIND on 127.0.0.1:$PORT"

out="$T/kazoo"
KAZOO_OUT="$out" KAZOO_TOTAL_TIMEOUT="${KAZOO_TOTAL_TIMEOUT:-780}" \
	KAZOO_TEST_TIMEOUT="${KAZOO_TEST_TIMEOUT:-60}" \
	timeout -k 10 "$((${KAZOO_TOTAL_TIMEOUT:-780} + 60))" \
	bash "$KZ/run-kazoo.sh" "127.0.0.1:$PORT" >"$T/run.log" 2>&1
rc=$?

if [ ! -s "$out/outcomes.tsv" ]; then
	t_fail "kazoo suite" "run-kazoo.sh produced no outcomes (exit $rc)"
	sed 's/^/#   /' "$T/run.log" | tail -30
	[ -f "$T/serve.log" ] && sed 's/^/#   serve: /' "$T/serve.log" | tail -20
	exit 0
fi

# A failed test is run once more, alone. Some of kazoo's tests race their
# own client threads: test_sasl's test_invalid_sasl_auth passes only if
# start() looks at the connection before the server's AUTHFAILED reply is
# processed, so a fast server makes it fail now and then. A test that passes
# on its second run is reported as
#   ok - kazoo TID # FLAKY first run: <outcome>: <message>
# (tests/run.sh counts and names "# FLAKY" lines in its summary, apart from
# the passes); one that fails twice fails.
: >"$T/rerun.tsv"
# Before any rerun, the server's side of a first-run failure (a reset
# connection says nothing on the client's side): its client-protocol lines.
if awk -F '\t' '$2 != "passed" && $2 != "skipped" { f = 1 } END { exit !f }' "$out/outcomes.tsv"; then
	for l in "$T/data.log" "$T/serve.log"; do
		[ -f "$l" ] || continue
		echo "# a first run failed; the server's last client-protocol lines ($l):"
		grep -E 'zk:|zks|session' "$l" | tail -30 | sed 's/^/#   /'
	done
fi
awk -F '\t' '$2 != "passed" && $2 != "skipped" { print $1 }' "$out/outcomes.tsv" | head -10 |
while IFS= read -r tid; do
	file=${tid%%::*}
	rest=${tid#*::}
	cls=${rest%%::*}
	name=${rest#*::}
	KAZOO_OUT="$T/rerun-$cls-$name" KAZOO_TESTS="kazoo.tests.${file%.py}" \
		KAZOO_SKIP_PREFLIGHT=1 KAZOO_TEST_TIMEOUT=60 KAZOO_TOTAL_TIMEOUT=120 \
		timeout -k 10 180 bash "$KZ/run-kazoo.sh" "127.0.0.1:$PORT" \
		-k "$cls and $name" >>"$T/rerun.log" 2>&1
	if grep -qF "$tid	passed" "$T/rerun-$cls-$name/outcomes.tsv" 2>/dev/null; then
		printf '%s\tpassed\n' "$tid" >>"$T/rerun.tsv"
	fi
done

# One TAP line per test, with pytest's message for skips and failures when
# junit.xml has it (it is missing after a hard timeout).
# Every test of the suite gets a line: a test in kazoo's list (the runner's
# standalone baseline names all of them) that has no outcome never ran, as
# after a run that hit its time limit, and is a failure, named.
BASELINE="$KZ/baseline/kazoo-standalone.outcomes.tsv"
python3 - "$out/outcomes.tsv" "$out/junit.xml" "$T/rerun.tsv" "$BASELINE" "$rc" <<'PY'
import os, sys
import xml.etree.ElementTree as ET
msgs = {}
if os.path.exists(sys.argv[2]):
    try:
        for tc in ET.parse(sys.argv[2]).getroot().iter("testcase"):
            parts = tc.get("classname", "").split(".")
            f = next((p + ".py" for p in parts if p.startswith("test_")), parts[-1])
            tid = "%s::%s::%s" % (f, parts[-1], tc.get("name"))
            for c in tc:
                if c.tag in ("skipped", "failure", "error"):
                    msgs[tid] = " ".join((c.get("message") or "").split())[:150]
    except ET.ParseError:
        pass
rerun_passed = {l.split("\t")[0] for l in open(sys.argv[3]) if l.strip()}
seen, flaky = set(), []
for line in open(sys.argv[1]):
    tid, _, outcome = line.rstrip("\n").partition("\t")
    seen.add(tid)
    why = msgs.get(tid, "")
    if outcome not in ("passed", "skipped") and tid in rerun_passed:
        print("ok - kazoo %s # FLAKY first run: %s: %s; passed when run alone"
              % (tid, outcome, why or "no message"))
        flaky.append(tid)
    elif outcome == "passed":
        print("ok - kazoo %s" % tid)
    elif outcome == "skipped":
        print("ok - kazoo %s # SKIP %s" % (tid, why or "skipped by kazoo"))
    else:
        print("not ok - kazoo %s (%s)" % (tid, outcome))
        if why:
            print("# %s" % why)
rc = sys.argv[5]
cause = "the run hit its time limit" if rc == "124" else "the run ended (exit %s) before it" % rc
if os.path.exists(sys.argv[4]):
    never = [l.split("\t")[0] for l in open(sys.argv[4])
             if l.strip() and l.split("\t")[0] not in seen]
    for tid in never:
        print("not ok - kazoo %s (never ran: %s)" % (tid, cause))
elif rc == "124":
    print("not ok - kazoo suite finished within its time limit "
          "(no list of kazoo's tests at %s to name the ones that never ran)" % sys.argv[4])
if flaky:
    print("# kazoo: %d test(s) passed only on their second run (FLAKY): %s"
          % (len(flaky), " ".join(flaky)))
PY
sed 's/^/# /' "$out/summary.txt"
zks_server_stop_check
exit 0
