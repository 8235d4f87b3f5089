#!/bin/sh
# run.sh - runs test programs and scripts, counts their TAP lines, and ends with
#   N passed, N failed, N skipped
#
# Usage: run.sh TEST...   (paths relative to $QFS_BUILDDIR, or to $QFS_SRCDIR
# for scripts). A test prints "ok - NAME", "not ok - NAME" or
# "ok - NAME # SKIP why" lines. A test that exits non-zero without a
# "not ok" line, or is killed by its timeout, counts as one failure.
# A pass on a second run is reported by the test as
# "ok - NAME # FLAKY why" (kazoo.sh does this): it counts as passed and is
# named, with every skip and its reason, in the block printed just before
# the summary line, and in $QFS_BUILDDIR/test-logs/{skipped,flaky}.txt for
# run-all.sh (and up to five failures per file in failed.txt). Nothing
# hides behind a green line.
# QFS_TEST_TIMEOUT (seconds, default 900) bounds each test file.
# QFS_TEST_FILTER, a grep -E pattern, selects test files by path.
set -u
builddir=${QFS_BUILDDIR:-$(pwd)}
srcdir=${QFS_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
export QFS_BUILDDIR="$builddir" QFS_SRCDIR="$srcdir"
timeout_s=${QFS_TEST_TIMEOUT:-900}
logdir="$builddir/test-logs"
mkdir -p "$logdir"
pass=0 fail=0 skip=0 flaky=0
failed_list=""
: >"$logdir/skipped.txt"
: >"$logdir/flaky.txt"
: >"$logdir/failed.txt"

for t in "$@"; do
	if [ -n "${QFS_TEST_FILTER:-}" ] && ! echo "$t" | grep -Eq "$QFS_TEST_FILTER"; then
		continue
	fi
	if [ -x "$builddir/$t" ] && [ ! -d "$builddir/$t" ]; then
		exe="$builddir/$t"
	elif [ -f "$srcdir/$t" ]; then
		exe="$srcdir/$t"
	else
		echo "not ok - $t (missing)"
		echo "$t: missing" >>"$logdir/failed.txt"
		fail=$((fail + 1))
		failed_list="$failed_list $t"
		continue
	fi
	log="$logdir/$(echo "$t" | tr / _).log"
	start=$(date +%s)
	case "$exe" in
	*.sh) timeout -k 10 "$timeout_s" sh "$exe" >"$log" 2>&1 ;;
	*) timeout -k 10 "$timeout_s" "$exe" >"$log" 2>&1 ;;
	esac
	rc=$?
	end=$(date +%s)
	p=$(grep -Ec '^ok - ' "$log")
	s=$(grep -Ec '^ok - .*# SKIP' "$log")
	f=$(grep -Ec '^not ok - ' "$log")
	k=$(grep -Eci '^ok - .*# FLAKY' "$log")
	p=$((p - s))
	grep -E '^ok - .*# SKIP' "$log" | sed -E "s|^ok - (.*) # SKIP ?(.*)|$t: \1 -- \2|" >>"$logdir/skipped.txt"
	grep -Ei '^ok - .*# FLAKY' "$log" | sed -E "s|^ok - (.*) # [Ff][Ll][Aa][Kk][Yy]:? ?(.*)|$t: \1 -- \2|" >>"$logdir/flaky.txt"
	flaky=$((flaky + k))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $t exited with status $rc" >>"$log"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
	printf '%-40s %4d passed %3d failed %3d skipped  %4ss\n' "$t" "$p" "$f" "$s" $((end - start))
	if [ "$f" -gt 0 ]; then
		failed_list="$failed_list $t"
		grep -E '^(not ok|#)' "$log" | head -40 | sed 's/^/    /'
		grep -E '^not ok - ' "$log" | head -5 | sed -E "s|^not ok - |$t: |" >>"$logdir/failed.txt"
	fi
done
if [ "$skip" -gt 0 ]; then
	echo "skipped ($skip):"
	sed 's/^/  /' "$logdir/skipped.txt"
fi
if [ "$flaky" -gt 0 ]; then
	echo "passed only on a rerun ($flaky, counted as passed):"
	sed 's/^/  /' "$logdir/flaky.txt"
fi
if [ -n "$failed_list" ]; then
	echo "failed files:$failed_list (logs in $logdir)"
fi
if [ "$flaky" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped ($flaky passed only on a rerun)"
else
	echo "$pass passed, $fail failed, $skip skipped"
fi
[ "$fail" -eq 0 ]
