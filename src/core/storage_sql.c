/*
 * storage_sql.c - SQLite helpers shared by the snapshots (snapshot*.c) and
 * the core: result codes as errnos, exec with a message, durable renames,
 * and the zxid sequence rule. (The transaction log itself is the consensus
 * log store, consensus/logstore.h, since the replication engine is in the
 * daemon.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <sqlite3.h>

#include "storage_sql.h"

int storage_zxid_follows(zxid_t prev, zxid_t z)
{
	if (z == prev + 1 && zxid_counter(z) != 0)
		return 1;
	return zxid_epoch(z) > zxid_epoch(prev) && zxid_counter(z) == 1;
}

int storage_sql_errno(sqlite3 *db, int rc)
{
	int e;

	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		e = db ? sqlite3_system_errno(db) : 0;
		return e > 0 ? -e : -EIO;
	default:
		return -EIO;
	}
}

int storage_exec(sqlite3 *db, const char *sql, const char *path, char *errbuf,
		 size_t errlen)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	snprintf(errbuf, errlen, "%s: %s: %s", path, sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return storage_sql_errno(db, rc);
}

int storage_fsync_dir(const char *dir)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}
