# src/zkserver.mk - the ZooKeeper client-protocol server (libqzks.a), its
# protocol tests and the compatibility scripts with real ZooKeeper clients.
noinst_LIBRARIES += libqzks.a
libqzks_a_SOURCES = src/zks.h src/zks_int.h \
	src/zks_listen.c src/zks_conn.c src/zks_session.c src/zks_dispatch.c \
	src/zks_op_read.c src/zks_op_write.c src/zks_op_watch.c src/zks_op_auth.c \
	src/zks_watch.c src/zks_4lw.c
libqzks_a_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS)
