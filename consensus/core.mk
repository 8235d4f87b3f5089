# consensus/core.mk - the replication engine's pure core, its codec and
# quorum systems, the host driver, and their tests, simulator and bench.
noinst_LIBRARIES += libqcons.a
libqcons_a_SOURCES = consensus/cons.h consensus/cons_int.h consensus/cons.c \
	consensus/cons_log.c consensus/cons_election.c consensus/cons_leader.c \
	consensus/cons_follower.c consensus/cons_snapshot.c \
	consensus/quorum.h consensus/quorum.c consensus/codec.h consensus/codec.c
