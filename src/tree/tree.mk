# src/tree.mk - libqtree.a: the replicated state (znode tree, sessions,
# ACLs, prepare/apply of transactions, the transaction log record).
noinst_LIBRARIES += libqtree.a
libqtree_a_SOURCES = src/tree/tree.c src/tree/tree.h src/tree/tree_int.h src/tree/tree_apply.c src/tree/tree_fit.c \
	src/tree/txn.c src/tree/txn.h src/tree/txn_int.h src/tree/txn_codec.c src/tree/prep.c \
	src/tree/acl.c src/tree/acl.h src/tree/path.c
libqtree_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_TREE) $(CRYPTO_CFLAGS)

QTREE_TEST_LIBS = libqtree.a libqutil.a libtap.a $(CRYPTO_LIBS)

check_PROGRAMS += tests/unit/test_tree tests/unit/test_acl tests/unit/test_path \
	tests/unit/test_txn
tests_unit_test_tree_SOURCES = tests/unit/test_tree.c
tests_unit_test_tree_LDADD = $(QTREE_TEST_LIBS)
tests_unit_test_acl_SOURCES = tests/unit/test_acl.c
tests_unit_test_acl_LDADD = $(QTREE_TEST_LIBS)
tests_unit_test_path_SOURCES = tests/unit/test_path.c
tests_unit_test_path_LDADD = $(QTREE_TEST_LIBS)
tests_unit_test_txn_SOURCES = tests/unit/test_txn.c
tests_unit_test_txn_LDADD = $(QTREE_TEST_LIBS)
QFS_TESTS += tests/unit/test_tree tests/unit/test_acl tests/unit/test_path \
	tests/unit/test_txn

# tree_bench: 1M znodes, memory and speed figures (make bench).
check_PROGRAMS += tests/bench/bench_tree
tests_bench_bench_tree_SOURCES = tests/bench/bench_tree.c
tests_bench_bench_tree_LDADD = $(QTREE_TEST_LIBS)
QFS_BENCHES += tests/bench/bench_tree

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_txn
# The library is compiled into the target (not linked from libqtree.a) so
# that libFuzzer's coverage instrumentation sees the decoder and the tree.
tests_fuzz_fuzz_txn_SOURCES = tests/fuzz/fuzz_txn.c $(libqtree_a_SOURCES)
tests_fuzz_fuzz_txn_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_txn_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_txn_LDADD = libqutil.a $(CRYPTO_LIBS)
# The ACL text form a user writes through the mount.
noinst_PROGRAMS += tests/fuzz/fuzz_acl
tests_fuzz_fuzz_acl_SOURCES = tests/fuzz/fuzz_acl.c $(libqtree_a_SOURCES)
tests_fuzz_fuzz_acl_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_acl_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_acl_LDADD = libqutil.a $(CRYPTO_LIBS)
endif
EXTRA_DIST += tests/fuzz/corpus/txn tests/fuzz/corpus/acl
