#!/bin/sh
# run-all.sh - the whole test suite, as CI runs it: install what is missing,
# build twice (optimised, and with ASan+UBSan), run every test in both
# builds, run the fuzzers for a bounded time, and end with the total
#   N passed, N failed, N skipped
# Builds go to build-test/ and build-asan/ (and build-fuzz/) in the source
# tree. QFS_TEST_FILTER (grep -E on test paths) narrows the run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh contrib/install-deps.sh --test || exit 1
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }
jobs=$(nproc)
total_p=0 total_f=0 total_s=0 total_k=0
summary=""
# Named lines for the block before the total: skips, then reruns, then
# failures last, so that CI's record (the output's tail) keeps them.
named="" reruns="" fails=""

run_build() { # NAME CONFIGURE-ARGS...
	name=$1
	shift
	mkdir -p "$top/$name"
	(cd "$top/$name" && "$top/configure" -q "$@" >configure.out 2>&1) || {
		echo "not ok - configure $name"
		fails="$fails
  FAILED in $name: configure"
		cat "$top/$name/configure.out"
		total_f=$((total_f + 1))
		return
	}
	if ! make -C "$top/$name" -s -j"$jobs" all >"$top/$name/make.out" 2>&1; then
		echo "not ok - build $name"
		fails="$fails
  FAILED in $name: the build"
		tail -40 "$top/$name/make.out"
		total_f=$((total_f + 1))
		return
	fi
	echo "== tests in $name"
	make -C "$top/$name" -s -j"$jobs" check >"$top/$name/check.out" 2>&1
	grep -v '^make' "$top/$name/check.out" | grep -v "^ *[A-Z][A-Z]* " || true
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$top/$name/check.out" | tail -1)
	if [ -z "$line" ]; then
		echo "not ok - $name: the runner printed no summary"
		fails="$fails
  FAILED in $name: the runner printed no summary"
		tail -40 "$top/$name/check.out"
		total_f=$((total_f + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	total_s=$((total_s + ${s:-0}))
	k=$(wc -l <"$top/$name/test-logs/flaky.txt" 2>/dev/null || echo 0)
	total_k=$((total_k + k))
	summary="$summary
  $name: $line"
	while IFS= read -r l; do
		fails="$fails
  FAILED in $name: $l"
	done <"$top/$name/test-logs/failed.txt"
	while IFS= read -r l; do
		named="$named
  skipped in $name: $l"
	done <"$top/$name/test-logs/skipped.txt"
	while IFS= read -r l; do
		reruns="$reruns
  passed only on a rerun in $name: $l"
	done <"$top/$name/test-logs/flaky.txt"
}

run_build build-test
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	run_build build-asan --enable-sanitize --enable-debug

# Fuzzers: a clang build with libFuzzer, each target run for a bounded time.
if [ -z "${QFS_NO_FUZZ:-}" ] && command -v clang >/dev/null; then
	mkdir -p build-fuzz
	if (cd build-fuzz && CC=clang "$top/configure" -q --enable-fuzzing >configure.out 2>&1 &&
	    make -s -j"$jobs" all >make.out 2>&1); then
		out=$(QFS_BUILDDIR="$top/build-fuzz" QFS_SRCDIR="$top" sh tests/fuzz/run.sh 2>&1)
		# -a: a failing target's log tail may carry its input's bytes.
		echo "$out" | grep -aE '^(ok|not ok|#)'
		p=$(echo "$out" | grep -aE '^ok - ' | grep -avc '# SKIP')
		s=$(echo "$out" | grep -aEc '^ok - .*# SKIP')
		total_s=$((total_s + s))
		named="$named$(echo "$out" | grep -aE '^ok - .*# SKIP' | sed -E 's|^ok - (.*) # SKIP ?(.*)|\n  skipped in build-fuzz: \1 -- \2|')"
		f=$(echo "$out" | grep -aEc '^not ok - ')
		fails="$fails$(echo "$out" | grep -aE '^not ok - ' | cut -c1-200 | sed -E 's|^not ok - (.*)|\n  FAILED in build-fuzz: \1|')"
		total_p=$((total_p + p))
		total_f=$((total_f + f))
		summary="$summary
  build-fuzz: $p passed, $f failed"
	else
		echo "not ok - fuzz build"
		fails="$fails
  FAILED in build-fuzz: configure or the build"
		tail -30 build-fuzz/make.out 2>/dev/null
		total_f=$((total_f + 1))
	fi
fi
echo "== summary$summary"
named="$named$reruns$fails"
[ -n "$named" ] && printf '%b\n' "== failed, skipped, and passed only on a rerun (each with its reason)$named"
if [ "$total_k" -gt 0 ]; then
	echo "$total_p passed, $total_f failed, $total_s skipped ($total_k passed only on a rerun)"
else
	echo "$total_p passed, $total_f failed, $total_s skipped"
fi
[ "$total_f" -eq 0 ]
