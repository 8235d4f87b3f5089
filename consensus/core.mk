# consensus/core.mk - the replication engine's pure core, its codec and
# quorum systems, the host driver, and their tests, simulator and bench.
noinst_LIBRARIES += libqcons.a
libqcons_a_SOURCES = consensus/cons.h consensus/cons_int.h consensus/cons.c \
	consensus/cons_log.c consensus/cons_election.c consensus/cons_leader.c \
	consensus/cons_follower.c consensus/cons_snapshot.c \
	consensus/quorum.h consensus/quorum.c consensus/codec.h consensus/codec.c

# The host driver over the store and transport vtables (daemon and sim).
libqcons_a_SOURCES += consensus/cons_node.h consensus/cons_node.c

QFS_CONS_LIBS = libqcons.a libqutil.a
QFS_SIM_SOURCES = tests/sim/sim.h tests/sim/sim.c tests/sim/sim_store.c \
	tests/sim/sim_net.c tests/sim/sim_check.c

# The simulator: `make sim SEEDS=N [MUTANT=1]`.
noinst_PROGRAMS += tests/sim/qfs_sim
tests_sim_qfs_sim_SOURCES = $(QFS_SIM_SOURCES) tests/sim/sim_main.c
tests_sim_qfs_sim_LDADD = $(QFS_CONS_LIBS)
SEEDS = 1000
MUTANT = 0
sim: tests/sim/qfs_sim$(EXEEXT)
	./tests/sim/qfs_sim --seeds $(SEEDS) --mutant $(MUTANT)
.PHONY: sim
