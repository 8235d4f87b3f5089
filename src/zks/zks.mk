# src/zkserver.mk - the ZooKeeper client-protocol server (libqzks.a), its
# protocol tests and the compatibility scripts with real ZooKeeper clients.
noinst_LIBRARIES += libqzks.a
libqzks_a_SOURCES = src/zks/zks.h src/zks/zks_int.h \
	src/zks/zks_listen.c src/zks/zks_conn.c src/zks/zks_session.c src/zks/zks_dispatch.c \
	src/zks/zks_op_read.c src/zks/zks_op_write.c src/zks/zks_op_watch.c src/zks/zks_op_auth.c src/zks/zks_reconfig.c \
	src/zks/zks_sasl.c src/zks/zks_sasl_msg.h src/zks/zks_sasl_msg.c src/zks/zks_watch.c src/zks/zks_4lw.c src/zks/zks_backup.c \
	src/zks/zks_metrics.c src/zks/zks_latency.c src/zks/zks_admin.c
libqzks_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_ZKS) $(EVENT_CFLAGS) $(CRYPTO_CFLAGS)

# The SASL digest-response decoder's fuzz target (a fuzzing build only;
# the decoder compiled into it, for libFuzzer's coverage).
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_sasl
tests_fuzz_fuzz_sasl_SOURCES = tests/fuzz/fuzz_sasl.c src/zks/zks_sasl_msg.c
tests_fuzz_fuzz_sasl_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_sasl_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
endif
EXTRA_DIST += tests/fuzz/corpus/sasl

# Protocol tests: a real core on a temporary dataDir and the server on
# 127.0.0.1, spoken to in raw frames.
check_PROGRAMS += tests/unit/test_zks
tests_unit_test_zks_SOURCES = tests/unit/test_zks.c
tests_unit_test_zks_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(SQLITE_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_zks_LDADD = libqzks.a libqconf.a libqcore.a libqconsio.a libqcons.a libqtree.a libqwire.a libqutil.a \
	libtap.a $(EVENT_LIBS) $(SQLITE_LIBS) $(CRYPTO_LIBS) -lpthread
QFS_TESTS += tests/unit/test_zks

# The latency summaries (zks_latency.c) on their own.
check_PROGRAMS += tests/unit/test_zks_latency
tests_unit_test_zks_latency_SOURCES = tests/unit/test_zks_latency.c
tests_unit_test_zks_latency_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)
tests_unit_test_zks_latency_LDADD = libqzks.a libtap.a
QFS_TESTS += tests/unit/test_zks_latency

# The server without the mount, for the compatibility scripts.
check_PROGRAMS += tests/compat/zks_serve
tests_compat_zks_serve_SOURCES = tests/compat/zks_serve.c
tests_compat_zks_serve_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(SQLITE_CFLAGS)
tests_compat_zks_serve_LDADD = libqzks.a libqconf.a libqcore.a libqconsio.a libqcons.a libqtree.a libqwire.a libqutil.a \
	$(EVENT_LIBS) $(SQLITE_LIBS) $(CRYPTO_LIBS) -lpthread

# Real ZooKeeper clients against the client port.
QFS_TESTS += tests/compat/zks_fuzz.sh tests/compat/zkcli.sh tests/compat/kazoo.sh \
	tests/compat/stall.sh tests/compat/watchlimit.sh tests/compat/secrets.sh \
	tests/compat/limits_zk.sh tests/fs/limits.sh tests/compat/readonly.sh
# The Stat clients are shown, field by field against Apache ZooKeeper 3.8.
QFS_TESTS += tests/compat/stat_zk.sh
EXTRA_DIST += tests/compat/stat_zk.sh tests/compat/stat_zk.py
# Null data and the refusal of a client that is ahead, in a 3-member ensemble
# (tests/cluster/lib.sh, network namespaces).
QFS_TESTS += tests/compat/ensemble_wire.sh
EXTRA_DIST += tests/compat/ensemble_wire.sh
EXTRA_DIST += tests/compat/zkcli.sh tests/compat/kazoo.sh tests/compat/zks_lib.sh \
	tests/compat/zks_fuzz.sh tests/compat/zks_fuzz.py tests/compat/stall.sh \
	tests/compat/zks_stall.py tests/compat/watchlimit.sh tests/compat/secrets.sh \
	tests/compat/limits_zk.sh tests/fs/limits.sh tests/compat/zk_c_roundtrip.c \
	tests/compat/readonly.sh
