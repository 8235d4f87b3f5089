# consensus/core.mk - the replication engine's pure core, its codec and
# quorum systems, the host driver, and their tests, simulator and bench.
noinst_LIBRARIES += libqcons.a
libqcons_a_SOURCES = consensus/cons.h consensus/cons_int.h consensus/cons.c \
	consensus/cons_log.c consensus/cons_election.c consensus/cons_leader.c \
	consensus/cons_follower.c consensus/cons_snapshot.c consensus/cons_read.c consensus/cons_config.c consensus/cons_transfer.c \
	consensus/quorum.h consensus/quorum.c consensus/codec.h consensus/codec.c

libqcons_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_CONS)
# The host driver over the store and transport vtables (daemon and sim).
libqcons_a_SOURCES += consensus/cons_node.h consensus/cons_node.c

QFS_CONS_LIBS = libqcons.a libqutil.a
QFS_SIM_SOURCES = tests/sim/sim.h tests/sim/sim.c tests/sim/sim_store.c \
	tests/sim/sim_net.c tests/sim/sim_check.c

# The simulator: `make sim SEEDS=N [MUTANT=1..10] [SCENARIO=1..4] [RECONFIG=1]` (mutant 6,
# no pre-vote, shows in SCENARIO=1: a follower rejoining from a partition; mutant
# 10, a transfer target standing before it caught up, in SCENARIO=4).
noinst_PROGRAMS += tests/sim/qfs_sim
tests_sim_qfs_sim_SOURCES = $(QFS_SIM_SOURCES) tests/sim/sim_main.c
tests_sim_qfs_sim_LDADD = $(QFS_CONS_LIBS)
SEEDS = 1000
MUTANT = 0
SCENARIO = 0
RECONFIG = 0
# RECONFIG=1 forces membership changes on every seed (-1: none; default:
# half the seeds). Violations fail the target, except with a planted bug, where they are the
# expected outcome (and the summary line stays the last one).
sim: tests/sim/qfs_sim$(EXEEXT)
	@./tests/sim/qfs_sim --seeds $(SEEDS) --mutant $(MUTANT) --scenario $(SCENARIO) --reconfig $(RECONFIG) || \
		test "$(MUTANT)" != 0
.PHONY: sim

# Unit tests and the simulator in `make check`.
check_PROGRAMS += tests/unit/test_codec tests/unit/test_quorum tests/unit/test_cons \
	tests/unit/test_cons_log tests/unit/test_cons_node tests/sim/test_sim
tests_unit_test_codec_SOURCES = tests/unit/test_codec.c
tests_unit_test_codec_LDADD = $(QFS_CONS_LIBS) libtap.a
tests_unit_test_quorum_SOURCES = tests/unit/test_quorum.c
tests_unit_test_quorum_LDADD = $(QFS_CONS_LIBS) libtap.a
tests_unit_test_cons_SOURCES = tests/unit/test_cons.c
tests_unit_test_cons_LDADD = $(QFS_CONS_LIBS) libtap.a
tests_unit_test_cons_log_SOURCES = tests/unit/test_cons_log.c
tests_unit_test_cons_log_LDADD = $(QFS_CONS_LIBS) libtap.a
tests_unit_test_cons_node_SOURCES = tests/unit/test_cons_node.c
tests_unit_test_cons_node_LDADD = $(QFS_CONS_LIBS) libtap.a
tests_sim_test_sim_SOURCES = $(QFS_SIM_SOURCES) tests/sim/test_sim.c
tests_sim_test_sim_LDADD = $(QFS_CONS_LIBS) libtap.a
QFS_TESTS += tests/unit/test_codec tests/unit/test_quorum tests/unit/test_cons \
	tests/unit/test_cons_log tests/unit/test_cons_node tests/sim/test_sim

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_cons_codec
tests_fuzz_fuzz_cons_codec_SOURCES = tests/fuzz/fuzz_cons_codec.c
tests_fuzz_fuzz_cons_codec_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_cons_codec_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_cons_codec_LDADD = $(QFS_CONS_LIBS)
endif

# Benchmark: committed proposals per second of CPU, 3 nodes, zero-latency I/O.
check_PROGRAMS += tests/bench/bench_cons
tests_bench_bench_cons_SOURCES = tests/bench/bench_cons.c
tests_bench_bench_cons_LDADD = $(QFS_CONS_LIBS)
QFS_BENCHES += tests/bench/bench_cons
