# src/daemon.mk - shared utilities and the quorumfs daemon itself.
noinst_LIBRARIES += libqutil.a
libqutil_a_SOURCES = src/lib/buf.c src/lib/buf.h src/lib/zerr.c src/lib/zerr.h src/lib/log.c src/lib/log.h \
	src/lib/zxid.h src/lib/crc32c.c src/lib/crc32c.h src/lib/proc.c src/lib/proc.h \
	src/lib/evwrite.c src/lib/evwrite.h src/lib/jsonstr.c src/lib/jsonstr.h \
	src/lib/serverspec.c src/lib/serverspec.h src/lib/tmpfile.c src/lib/tmpfile.h
libqutil_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_LIB) $(EVENT_CFLAGS)

# The configuration (zoo.cfg and -o), at the top: the daemon's programs read it.
noinst_LIBRARIES += libqconf.a
libqconf_a_SOURCES = src/config.c src/config.h
libqconf_a_CFLAGS = $(QFS_BASE_CFLAGS) $(QFS_I_CONF)

sbin_PROGRAMS += quorumfs
quorumfs_SOURCES = src/main.c
quorumfs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) $(EVENT_CFLAGS) $(SQLITE_CFLAGS)
quorumfs_LDADD = libqzks.a libqfs.a libqconf.a libqcore.a libqconsio.a libqcons.a libqwire.a libqtree.a libqutil.a \
	$(FUSE_LIBS) $(EVENT_LIBS) $(SQLITE_LIBS) $(CRYPTO_LIBS) -lpthread

dist_man_MANS += man/quorumfs.conf.5
EXTRA_DIST += README contrib/quickstart.sh contrib/install-deps.sh \
	contrib/standalone.cfg contrib/quorumfs@.service tests/run-all.sh

check_PROGRAMS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_LDADD = libqconf.a libqutil.a libtap.a
QFS_TESTS += tests/unit/test_config

check_PROGRAMS += tests/unit/test_jsonstr
tests_unit_test_jsonstr_SOURCES = tests/unit/test_jsonstr.c
tests_unit_test_jsonstr_LDADD = libqutil.a libtap.a
QFS_TESTS += tests/unit/test_jsonstr

QFS_TESTS += tests/fs/daemon.sh tests/fs/takeover.sh tests/fs/logformat.sh
EXTRA_DIST += tests/fs/daemon.sh tests/fs/takeover.sh tests/fs/logformat.sh
