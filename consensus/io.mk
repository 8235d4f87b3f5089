# consensus/io.mk - the replication engine's I/O: the SQLite log store and
# the TCP peer transport (owned by the I/O developer).
noinst_LIBRARIES += libqconsio.a
libqconsio_a_SOURCES = consensus/logstore.c consensus/logstore.h \
	consensus/logstore_int.h consensus/logstore_sql.c consensus/logstore_vfs.c \
	consensus/logstore_cons.c consensus/logstore_cons.h \
	consensus/hmac.c consensus/hmac.h \
	consensus/peer_wire.c consensus/peer_wire.h \
	consensus/transport.c consensus/transport.h consensus/transport_int.h \
	consensus/transport_conn.c consensus/transport_fault.c consensus/transport_resolve.c \
	consensus/transport_cons.c consensus/transport_cons.h
libqconsio_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_CONS) $(EVENT_CFLAGS) $(SQLITE_CFLAGS) $(CRYPTO_CFLAGS)

QFS_IO_LDADD = libqconsio.a libqutil.a libtap.a $(EVENT_LIBS) $(SQLITE_LIBS) \
	$(CRYPTO_LIBS) -lpthread
QFS_IO_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(SQLITE_CFLAGS) $(CRYPTO_CFLAGS)

check_PROGRAMS += tests/unit/test_logstore tests/unit/test_logstore_crash \
	tests/unit/test_logstore_vfs tests/unit/test_transport tests/unit/test_hmac \
	tests/bench/bench_logstore
tests_unit_test_logstore_SOURCES = tests/unit/test_logstore.c
tests_unit_test_logstore_CFLAGS = $(QFS_IO_CFLAGS)
tests_unit_test_logstore_LDADD = $(QFS_IO_LDADD)
tests_unit_test_logstore_crash_SOURCES = tests/unit/test_logstore_crash.c
tests_unit_test_logstore_crash_CFLAGS = $(QFS_IO_CFLAGS)
tests_unit_test_logstore_crash_LDADD = $(QFS_IO_LDADD)
tests_unit_test_logstore_vfs_SOURCES = tests/unit/test_logstore_vfs.c
tests_unit_test_logstore_vfs_CFLAGS = $(QFS_IO_CFLAGS)
tests_unit_test_logstore_vfs_LDADD = $(QFS_IO_LDADD)
tests_unit_test_hmac_SOURCES = tests/unit/test_hmac.c
tests_unit_test_hmac_CFLAGS = $(QFS_IO_CFLAGS)
tests_unit_test_hmac_LDADD = $(QFS_IO_LDADD)
tests_unit_test_transport_SOURCES = tests/unit/test_transport.c
tests_unit_test_transport_CFLAGS = $(QFS_IO_CFLAGS)
tests_unit_test_transport_LDADD = $(QFS_IO_LDADD)
# The real store and transport under the real engine (libqcons.a).
check_PROGRAMS += tests/unit/test_transport_cluster
tests_unit_test_transport_cluster_SOURCES = tests/unit/test_transport_cluster.c
tests_unit_test_transport_cluster_CFLAGS = $(QFS_IO_CFLAGS)
tests_unit_test_transport_cluster_LDADD = libqconsio.a libqcons.a $(QFS_IO_LDADD)
QFS_TESTS += tests/unit/test_logstore tests/unit/test_logstore_crash tests/unit/test_logstore_vfs \
	tests/unit/test_transport tests/unit/test_transport_cluster tests/unit/test_hmac

tests_bench_bench_logstore_SOURCES = tests/bench/bench_logstore.c
tests_bench_bench_logstore_CFLAGS = $(QFS_IO_CFLAGS)
tests_bench_bench_logstore_LDADD = $(QFS_IO_LDADD)
QFS_BENCHES += tests/bench/bench_logstore

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_transport
tests_fuzz_fuzz_transport_SOURCES = tests/fuzz/fuzz_transport.c consensus/peer_wire.c \
	consensus/hmac.c
tests_fuzz_fuzz_transport_CFLAGS = $(QFS_IO_CFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_transport_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_transport_LDADD = libqutil.a $(EVENT_LIBS) $(SQLITE_LIBS) \
	$(CRYPTO_LIBS) -lpthread
endif
