# tests/tests.mk - the harness; each area adds its own tests to QFS_TESTS in
# its own fragment.
noinst_LIBRARIES += libtap.a
libtap_a_SOURCES = tests/tap.c tests/tap.h
EXTRA_DIST += tests/run.sh tests/lib.sh
