# tests/cluster/cluster.mk - ensembles of real daemons on one machine
# (tests/cluster/lib.sh). They need the replication engine in the daemon
# (issue 8); until that is on main they are not in QFS_TESTS but in
# QFS_CLUSTER_TESTS, run by `make cluster-check` (same runner, same summary).
QFS_CLUSTER_TESTS = \
	tests/cluster/replication.sh \
	tests/cluster/failover.sh \
	tests/cluster/locks.sh \
	tests/cluster/inotify.sh \
	tests/cluster/partition.sh \
	tests/cluster/catchup.sh \
	tests/cluster/snapshot.sh \
	tests/compat/kazoo-ensemble.sh
EXTRA_DIST += tests/cluster/lib.sh $(QFS_CLUSTER_TESTS)

cluster-check: all $(check_PROGRAMS)
	QFS_BUILDDIR=$(abs_top_builddir) QFS_SRCDIR=$(abs_top_srcdir) \
	  $(SHELL) $(top_srcdir)/tests/run.sh $(QFS_CLUSTER_TESTS)
.PHONY: cluster-check

# 3 participants of quorumfs against 3 of Apache ZooKeeper, same load.
QFS_BENCHES += tests/bench/bench_zk_cluster.sh
EXTRA_DIST += tests/bench/bench_zk_cluster.sh

# The example ensemble configurations (contrib/quickstart.sh uses loopback.cfg).
EXTRA_DIST += contrib/ensemble.cfg contrib/loopback.cfg
