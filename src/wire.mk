# src/wire.mk - the ZooKeeper wire format (jute), the client library (zkc),
# quorumctl, their tests, the fuzz target and the load generator.
noinst_LIBRARIES += libqwire.a
libqwire_a_SOURCES = src/jute.c src/jute.h
libqwire_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)

check_PROGRAMS += tests/unit/test_jute
tests_unit_test_jute_SOURCES = tests/unit/test_jute.c
tests_unit_test_jute_LDADD = libqwire.a libqutil.a libtap.a
QFS_TESTS += tests/unit/test_jute
