# tests/chaos/chaos.mk - the chaos harness's checkers. The linearizability
# checker has its own tests in `make check`: known histories, and simulated
# ones with a planted stale read it must catch.
QFS_TESTS += tests/chaos/test_lincheck.py
EXTRA_DIST += tests/chaos/lincheck.py tests/chaos/test_lincheck.py
QFS_TESTS += tests/chaos/test_checkers.py
EXTRA_DIST += tests/chaos/checkers.py tests/chaos/test_checkers.py tests/chaos/workload.py
EXTRA_DIST += tests/chaos/chaos.py tests/chaos/netns.py tests/chaos/mountload.py

# `make chaos`: the harness against this build's quorumfs (runs of
# CHAOS_SECONDS each, seeds CHAOS_SEED, CHAOS_SEED+1, ... for MINUTES minutes;
# MINUTES=0: one run), then one run of the same schedule against Apache
# ZooKeeper for comparison (CHAOS_ZK=0 skips it). The quorumfs runs also
# drive every member's mount (mountload.py: whole-file writes, mkdir locks,
# inotify streams); CHAOS_MOUNTS= leaves them out.
CHAOS_MOUNTS = --mounts
CHAOS_SECONDS = 60
CHAOS_SEED = 1
CHAOS_ZK = 1
MINUTES = 0
# faultfs.so: the LD_PRELOAD shim behind the disk nemeses (slow-fsync,
# fail-fsync, full-disk). Built here, not by automake's library rules: it
# is a test fixture loaded into the daemon, never installed, and its own
# flags keep glibc from renaming pwrite (_FILE_OFFSET_BITS).
EXTRA_DIST += tests/chaos/faultfs.c
tests/chaos/faultfs.so: $(top_srcdir)/tests/chaos/faultfs.c
	@mkdir -p tests/chaos
	$(CC) -O2 -g -Wall -Wextra -shared -fPIC -o $@ $(top_srcdir)/tests/chaos/faultfs.c -ldl
CLEANFILES += tests/chaos/faultfs.so
check_DATA = tests/chaos/faultfs.so
QFS_TESTS += tests/chaos/test_faultfs.py
EXTRA_DIST += tests/chaos/test_faultfs.py
chaos: all tests/chaos/faultfs.so
	QFS_BUILDDIR=$(abs_top_builddir) /usr/bin/python3 $(top_srcdir)/tests/chaos/chaos.py \
	  --system quorumfs --seconds $(CHAOS_SECONDS) --seed $(CHAOS_SEED) --minutes $(MINUTES) \
	  $(CHAOS_MOUNTS)
	test "$(CHAOS_ZK)" = 0 || /usr/bin/python3 $(top_srcdir)/tests/chaos/chaos.py \
	  --system zookeeper --seconds $(CHAOS_SECONDS) --seed $(CHAOS_SEED)
.PHONY: chaos
# The planted bug must be caught: a bounded run (about two minutes) in
# make check, and so in CI.
QFS_TESTS += tests/chaos/chaos_check.sh
EXTRA_DIST += tests/chaos/chaos_check.sh

# The daemon with a planted engine bug (QUORUMFS_MUTANT=N, honoured only
# here), for chaos_check.sh.
check_PROGRAMS += tests/chaos/quorumfs_mutant
tests_chaos_quorumfs_mutant_SOURCES = src/main.c
tests_chaos_quorumfs_mutant_CFLAGS = $(quorumfs_CFLAGS) -DQFS_ALLOW_MUTANT
tests_chaos_quorumfs_mutant_LDADD = $(quorumfs_LDADD)
