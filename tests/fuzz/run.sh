#!/bin/sh
# run.sh - a bounded libFuzzer run of every fuzz target in the build's
# tests/fuzz directory (executables named fuzz_*, built with
# --enable-fuzzing CC=clang), each seeded from tests/fuzz/corpus/NAME/
# (NAME is the target without "fuzz_"). One TAP line per target:
# "ok - fuzz_NAME" when the run found nothing. New inputs go to a scratch
# copy of the corpus, never into the source tree; a crash input is kept in
# $QFS_BUILDDIR/test-logs/.
#
# QFS_FUZZ_SECONDS (default 30) bounds each target.
set -u
. "${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib.sh"
secs=${QFS_FUZZ_SECONDS:-30}
dir="$QFS_BUILDDIR/tests/fuzz"
found=0
qfs_init
mkdir -p "$QFS_BUILDDIR/test-logs"
for t in "$dir"/fuzz_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *.o | *_corpus) continue ;; esac
	found=1
	seeds="$QFS_SRCDIR/tests/fuzz/corpus/${name#fuzz_}"
	work="$T/$name"
	mkdir -p "$work"
	[ -d "$seeds" ] && cp "$seeds"/* "$work"/ 2>/dev/null
	if timeout -k 10 $((secs + 60)) "$t" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$QFS_BUILDDIR/test-logs/$name-" "$work" >"$T/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$name.log")
		t_ok "$name"
		echo "# $name: ${runs:-?} runs in ${secs}s, corpus $(ls "$work" | wc -l) inputs"
	else
		t_fail "$name" "libFuzzer found a failure; log follows"
		# The log may quote the input's bytes: printable only.
		grep -av '^#' "$T/$name.log" | tail -30 | tr -c '[:print:]\t\n' '?' |
			sed 's/^/#   /'
	fi
done
if [ "$found" = 1 ]; then
	# In a fuzzing build every target in the source tree is built and run:
	# one left out of `make all` (fuzz_jute once was) fails here instead of
	# going unrun without a word.
	for src in "$QFS_SRCDIR"/tests/fuzz/fuzz_*.c; do
		name=$(basename "$src" .c)
		case "$name" in *_corpus) continue ;; esac
		[ -x "$dir/$name" ] || t_fail "$name is built" "no $dir/$name after make all"
	done
else
	t_skip fuzz "no fuzz targets built (configure CC=clang --enable-fuzzing)"
fi
exit 0
