# src/adm/adm.mk - quorumadm, the offline tool for data directories
# (verify, restore, import-zk, export-zk), its library libqadm.a (ZooKeeper's
# file formats, the offline DataTree, data directory writing), its tests and
# the fuzz target of the ZooKeeper decoders. A program at the top: it sees
# the core (snapshots, the log store), the tree and lib.
QFS_I_ADM = $(QFS_I_CORE) -I$(top_srcdir)/src/adm
noinst_LIBRARIES += libqadm.a
libqadm_a_SOURCES = src/adm/adm.h src/adm/zkdb.c src/adm/zkdb.h src/adm/zkdb_int.h \
	src/adm/zkdb_txn.c src/adm/zkfile.h \
	src/adm/zksnap.c src/adm/zklog.c src/adm/zkimport.c src/adm/datadir.c \
	src/adm/verify.c src/adm/verify.h src/adm/progress.c src/adm/progress.h \
	src/adm/pitr.c src/adm/pitr.h
libqadm_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_ADM) $(SQLITE_CFLAGS)

sbin_PROGRAMS += quorumadm
quorumadm_SOURCES = src/adm/quorumadm.c
quorumadm_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_ADM) $(SQLITE_CFLAGS)
quorumadm_LDADD = libqadm.a $(QCORE_LIBS)
dist_man_MANS += man/quorumadm.8

check_PROGRAMS += tests/unit/test_zkimport
tests_unit_test_zkimport_SOURCES = tests/unit/test_zkimport.c
tests_unit_test_zkimport_CFLAGS = $(QCORE_TEST_CFLAGS) $(QFS_I_ADM)
tests_unit_test_zkimport_LDADD = libqadm.a $(QCORE_TEST_LIBS)
# A simulated archive for measuring point-in-time restores (not a test).
check_PROGRAMS += tests/adm/pitr_gen
tests_adm_pitr_gen_SOURCES = tests/adm/pitr_gen.c
tests_adm_pitr_gen_CFLAGS = $(QCORE_TEST_CFLAGS) $(QFS_I_ADM)
tests_adm_pitr_gen_LDADD = $(QCORE_TEST_LIBS)
QFS_TESTS += tests/unit/test_zkimport tests/adm/verify.sh tests/adm/restore.sh \
	tests/adm/restore_ensemble.sh tests/adm/export.sh tests/adm/zk_roundtrip.sh \
	tests/adm/zk_damage.sh tests/adm/backup.sh tests/adm/cluster_identity.sh \
	tests/adm/recover.sh tests/adm/pitr.sh tests/adm/pitr_ensemble.sh
EXTRA_DIST += tests/adm/adm_lib.sh tests/adm/zk_tree.py tests/adm/zk_gen_snapshot.py \
	tests/adm/verify.sh tests/adm/restore.sh tests/adm/restore_ensemble.sh tests/adm/export.sh \
	tests/adm/zk_roundtrip.sh tests/adm/zk_damage.sh tests/fuzz/corpus/zkimport \
	tests/adm/backup.sh tests/adm/backup_load.py tests/adm/cluster_identity.sh \
	tests/adm/recover.sh tests/adm/pitr.sh tests/adm/pitr_ensemble.sh

if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_zkimport
tests_fuzz_fuzz_zkimport_SOURCES = tests/fuzz/fuzz_zkimport.c
tests_fuzz_fuzz_zkimport_CFLAGS = $(QCORE_TEST_CFLAGS) $(QFS_I_ADM) -fsanitize=fuzzer
tests_fuzz_fuzz_zkimport_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_zkimport_LDADD = libqadm.a $(QCORE_LIBS)
endif
