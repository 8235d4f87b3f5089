# src/daemon.mk - shared utilities and the quorumfs daemon itself.
noinst_LIBRARIES += libqutil.a
libqutil_a_SOURCES = src/buf.c src/buf.h src/zerr.c src/zerr.h src/log.c src/log.h \
	src/zxid.h

sbin_PROGRAMS += quorumfs
quorumfs_SOURCES = src/main.c
quorumfs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) $(EVENT_CFLAGS) $(SQLITE_CFLAGS)
quorumfs_LDADD = libqutil.a $(FUSE_LIBS) $(EVENT_LIBS) $(SQLITE_LIBS) $(CRYPTO_LIBS)
