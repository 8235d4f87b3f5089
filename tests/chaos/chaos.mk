# tests/chaos/chaos.mk - the chaos harness's checkers. The linearizability
# checker has its own tests in `make check`: known histories, and simulated
# ones with a planted stale read it must catch.
QFS_TESTS += tests/chaos/test_lincheck.py
EXTRA_DIST += tests/chaos/lincheck.py tests/chaos/test_lincheck.py
QFS_TESTS += tests/chaos/test_checkers.py
EXTRA_DIST += tests/chaos/checkers.py tests/chaos/test_checkers.py tests/chaos/workload.py
