# src/wire.mk - the ZooKeeper wire format (jute), the client library (zkc),
# quorumctl, their tests, the fuzz target and the load generator.
noinst_LIBRARIES += libqwire.a
libqwire_a_SOURCES = src/wire/jute.c src/wire/jute.h src/wire/zkc.c src/wire/zkc.h
libqwire_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_WIRE) $(EVENT_CFLAGS) $(WIRE_FUZZ_CFLAGS)

# In a fuzzing build the codec itself carries libFuzzer's coverage hooks.
WIRE_FUZZ_CFLAGS =
if FUZZING
WIRE_FUZZ_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined
endif

check_PROGRAMS += tests/unit/test_jute
tests_unit_test_jute_SOURCES = tests/unit/test_jute.c
tests_unit_test_jute_LDADD = libqwire.a libqutil.a libtap.a
QFS_TESTS += tests/unit/test_jute

# The fuzz target (only in a fuzzing build) and its seed-corpus writer
# (`tests/fuzz/fuzz_jute_corpus tests/fuzz/corpus/jute` regenerates the seeds).
check_PROGRAMS += tests/fuzz/fuzz_jute_corpus
tests_fuzz_fuzz_jute_corpus_SOURCES = tests/fuzz/fuzz_jute_corpus.c
tests_fuzz_fuzz_jute_corpus_LDADD = libqwire.a libqutil.a
# Built with `all`, as every other fuzz target: tests/run-all.sh builds
# only that in build-fuzz, and as a check program it was never run there.
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_jute
tests_fuzz_fuzz_jute_SOURCES = tests/fuzz/fuzz_jute.c
tests_fuzz_fuzz_jute_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_jute_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_jute_LDADD = libqwire.a libqutil.a
endif
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/corpus/jute
QFS_TESTS += tests/fuzz/run.sh

bin_PROGRAMS += quorumctl
quorumctl_SOURCES = src/cli/quorumctl.c src/cli/quorumctl.h src/cli/quorumctl_node.c \
	src/cli/quorumctl_watch.c src/cli/quorumctl_multi.c \
	src/cli/quorumctl_status.c src/cli/quorumctl_flw.c src/cli/quorumctl_members.c src/cli/quorumctl_backup.c \
	src/cli/quorumctl_mirror.c
quorumctl_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_CLI) $(EVENT_CFLAGS)
quorumctl_LDADD = libqwire.a libqtree.a libqutil.a $(EVENT_LIBS) $(CRYPTO_LIBS)
dist_man_MANS += man/quorumctl.8

# The ZooKeeper-protocol load generator and its side-by-side benchmark.
check_PROGRAMS += tests/bench/zkload
tests_bench_zkload_SOURCES = tests/bench/zkload.c
tests_bench_zkload_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)
tests_bench_zkload_LDADD = libqwire.a libqutil.a $(EVENT_LIBS)
EXTRA_DIST += tests/bench/bench_zk.sh tests/compat/quorumctl.sh tests/compat/quorumctl_zk.sh
QFS_BENCHES += tests/bench/bench_zk.sh
QFS_TESTS += tests/compat/quorumctl.sh
# quorumctl mirror: quorumfs and Apache ZooKeeper into quorumfs, followed live.
QFS_TESTS += tests/compat/mirror.sh
EXTRA_DIST += tests/compat/mirror.sh
