# src/wire.mk - the ZooKeeper wire format (jute), the client library (zkc),
# quorumctl, their tests, the fuzz target and the load generator.
noinst_LIBRARIES += libqwire.a
libqwire_a_SOURCES = src/jute.c src/jute.h
libqwire_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)
