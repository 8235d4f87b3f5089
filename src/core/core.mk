# src/core.mk - libqcore.a: the write pipeline (prepare at the leader, the
# replicated log, apply, notify), the replica (consensus node, log store,
# transport), snapshots and purge, recovery, the session clock and the
# container/TTL reaper.
noinst_LIBRARIES += libqcore.a
libqcore_a_SOURCES = src/core/core.c src/core/core.h src/core/core_int.h src/core/core_format.h src/core/core_submit.c \
	src/core/core_apply.c src/core/core_repl.c src/core/core_store.c \
	src/core/core_req.c src/core/core_req.h src/core/core_install.c src/core/core_members.c \
	src/core/members_text.c src/core/members_text.h \
	src/core/core_recover.c src/core/core_snap.c src/core/core_backup.c src/core/core_cluster.c \
	src/core/core_session.c src/core/core_view.c \
	src/core/core_archive.c src/core/archive_seg.c src/core/archive_seg.h \
	src/core/storage_sql.c src/core/storage_sql.h \
	src/core/snapshot.c src/core/snapshot.h src/core/snapshot_codec.c src/core/snapshot_codec.h \
	src/core/session.c src/core/session.h src/core/session_secret.c \
	src/core/reaper.c src/core/reaper.h
libqcore_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_CORE) $(EVENT_CFLAGS) $(SQLITE_CFLAGS) $(CRYPTO_CFLAGS)

# What a program linking the core needs, in this order.
QCORE_LIBS = libqcore.a libqconsio.a libqcons.a libqtree.a libqutil.a $(EVENT_LIBS) $(SQLITE_LIBS) \
	$(CRYPTO_LIBS) -lpthread
QCORE_TEST_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(SQLITE_CFLAGS)
QCORE_TEST_LIBS = libqcore.a libqconsio.a libqcons.a libqtree.a libqutil.a libtap.a $(EVENT_LIBS) \
	$(SQLITE_LIBS) $(CRYPTO_LIBS) -lpthread

check_PROGRAMS += tests/unit/test_storage tests/unit/test_core tests/unit/test_snapshot
tests_unit_test_storage_SOURCES = tests/unit/test_storage.c tests/unit/test_core_util.c \
	tests/unit/test_core_util.h
tests_unit_test_storage_CFLAGS = $(QCORE_TEST_CFLAGS)
tests_unit_test_storage_LDADD = $(QCORE_TEST_LIBS)
tests_unit_test_core_SOURCES = tests/unit/test_core.c tests/unit/test_core_util.c \
	tests/unit/test_core_util.h
tests_unit_test_core_CFLAGS = $(QCORE_TEST_CFLAGS)
tests_unit_test_core_LDADD = $(QCORE_TEST_LIBS)
tests_unit_test_snapshot_SOURCES = tests/unit/test_snapshot.c tests/unit/test_core_util.c \
	tests/unit/test_core_util.h
tests_unit_test_snapshot_CFLAGS = $(QCORE_TEST_CFLAGS)
tests_unit_test_snapshot_LDADD = $(QCORE_TEST_LIBS)
QFS_TESTS += tests/unit/test_storage tests/unit/test_core \
	tests/unit/test_snapshot
# group.X/weight.N in a reconfig's list and /zookeeper/config.
check_PROGRAMS += tests/unit/test_members_text
tests_unit_test_members_text_SOURCES = tests/unit/test_members_text.c
tests_unit_test_members_text_CFLAGS = $(QCORE_TEST_CFLAGS) $(QFS_I_CORE)
tests_unit_test_members_text_LDADD = $(QCORE_TEST_LIBS)
QFS_TESTS += tests/unit/test_members_text

# The reconfig member list's quorum lines, fuzzed (a fuzzing build only;
# the parser compiled into the target, for libFuzzer's coverage).
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_members_text
tests_fuzz_fuzz_members_text_SOURCES = tests/fuzz/fuzz_members_text.c src/core/members_text.c
tests_fuzz_fuzz_members_text_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_members_text_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_members_text_LDADD = libqcons.a libqutil.a
endif
EXTRA_DIST += tests/fuzz/corpus/members_text
# Daemon-level: snapshots with many sessions across restarts; kill -9 while
# a snapshot child runs.
QFS_TESTS += tests/fs/snapshot.sh tests/fs/snapkill.sh
EXTRA_DIST += tests/fs/snapshot.sh tests/fs/snapkill.sh tests/fuzz/corpus/snapshot \
	tests/fuzz/corpus/core_req

# Benchmarks (make bench): log appends/s and txns per fsync; restart time and
# memory with 100k and 1M znodes.
check_PROGRAMS += tests/bench/bench_storage tests/bench/bench_restart
tests_bench_bench_storage_SOURCES = tests/bench/bench_storage.c
tests_bench_bench_storage_CFLAGS = $(QCORE_TEST_CFLAGS)
tests_bench_bench_storage_LDADD = $(QCORE_TEST_LIBS)
tests_bench_bench_restart_SOURCES = tests/bench/bench_restart.c
tests_bench_bench_restart_CFLAGS = $(QCORE_TEST_CFLAGS)
tests_bench_bench_restart_LDADD = $(QCORE_TEST_LIBS)
QFS_BENCHES += tests/bench/bench_storage tests/bench/bench_restart

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_snapshot
# The decoders are compiled in (not taken from libqcore.a) so that they get
# the fuzzer's coverage instrumentation.
tests_fuzz_fuzz_snapshot_SOURCES = tests/fuzz/fuzz_snapshot.c src/core/snapshot.c \
	src/core/snapshot_codec.c src/lib/crc32c.c src/core/storage_sql.c
tests_fuzz_fuzz_snapshot_CFLAGS = $(QCORE_TEST_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_snapshot_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_snapshot_LDADD = libqcore.a libqtree.a libqutil.a $(SQLITE_LIBS) \
	$(CRYPTO_LIBS) -lpthread
# The archive's log segments (quorumadm restore --archive).
noinst_PROGRAMS += tests/fuzz/fuzz_archive
tests_fuzz_fuzz_archive_SOURCES = tests/fuzz/fuzz_archive.c src/core/archive_seg.c \
	src/lib/crc32c.c
tests_fuzz_fuzz_archive_CFLAGS = $(QCORE_TEST_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_archive_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_archive_LDADD = libqutil.a -lpthread
# Requests members forward to the leader.
noinst_PROGRAMS += tests/fuzz/fuzz_core_req
tests_fuzz_fuzz_core_req_SOURCES = tests/fuzz/fuzz_core_req.c src/core/core_req.c
tests_fuzz_fuzz_core_req_CFLAGS = $(QCORE_TEST_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_core_req_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_core_req_LDADD = libqutil.a -lpthread
endif

# The replicated daemon on loopback: 3 participants and an observer.
QFS_TESTS += tests/cluster/basic.sh tests/cluster/sync_failover.sh
EXTRA_DIST += tests/cluster/basic.sh tests/cluster/sync_failover.sh
