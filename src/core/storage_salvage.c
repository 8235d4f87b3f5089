/* storage_salvage.c - repair=yes for a log SQLite cannot read whole; see
 * storage_sql.h. Nothing is deleted: the damaged file is kept beside. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "storage_sql.h"

static int move_aside(const char *from, const char *to)
{
	if (rename(from, to) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int storage_salvage(const char *path, const char *dir, char *errbuf, size_t errlen)
{
	sqlite3 *old = NULL, *fresh = NULL;
	sqlite3_stmt *sel = NULL, *ins = NULL;
	char tmp[4096], aside[4096], a[4096], b[4200];
	long long kept = 0;
	zxid_t prev = 0, z;
	const char *stop = "end of the file";
	int rc, ret;

	snprintf(tmp, sizeof(tmp), "%s.salvage", path);
	unlink(tmp);
	rc = sqlite3_open_v2(tmp, &fresh, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", tmp, sqlite3_errstr(rc));
		ret = storage_sql_errno(fresh, rc);
		goto err_after_fresh;
	}
	ret = storage_exec(
	    fresh,
	    "CREATE TABLE log (zxid INTEGER PRIMARY KEY, crc INTEGER NOT NULL,"
	    " rec BLOB NOT NULL); BEGIN",
	    tmp, errbuf, errlen);
	if (ret)
		goto err_after_fresh;
	rc =
	    sqlite3_prepare_v2(fresh, "INSERT INTO log VALUES (?, ?, ?)", -1, &ins, NULL);
	if (rc != SQLITE_OK) {
		snprintf(errbuf, errlen, "%s: %s", tmp, sqlite3_errmsg(fresh));
		ret = storage_sql_errno(fresh, rc);
		goto err_after_fresh;
	}

	rc = sqlite3_open_v2(path, &old, SQLITE_OPEN_READONLY, NULL);
	/* writable_schema makes SQLite read a file shorter than its header
	 * says (a truncated log) up to where it ends, instead of refusing it
	 * whole; nothing is written through this connection. */
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(old, "PRAGMA writable_schema=ON", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    old, "SELECT zxid, crc, rec FROM log ORDER BY zxid", -1, &sel, NULL);
	if (rc != SQLITE_OK) {
		stop = "an unreadable file";
		goto copied;
	}
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const void *rec = sqlite3_column_blob(sel, 2);
		size_t len = (size_t)sqlite3_column_bytes(sel, 2);
		uint32_t crc = (uint32_t)sqlite3_column_int64(sel, 1);

		z = (zxid_t)sqlite3_column_int64(sel, 0);
		if (storage_record_crc(z, rec, len) != crc) {
			stop = "a bad checksum";
			break;
		}
		/* The first record may be anywhere: older ones were purged. */
		if (kept && !storage_zxid_follows(prev, z)) {
			stop = "a gap in the zxids";
			break;
		}
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)z);
		sqlite3_bind_int64(ins, 2, crc);
		sqlite3_bind_blob(ins, 3, rec, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE) {
			snprintf(errbuf, errlen, "%s: %s", tmp, sqlite3_errmsg(fresh));
			ret = storage_sql_errno(fresh, rc);
			goto err_after_fresh;
		}
		kept++;
		prev = z;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		stop = "an unreadable page";
copied:
	ret = storage_exec(fresh, "COMMIT", tmp, errbuf, errlen);
	if (ret)
		goto err_after_fresh;
	sqlite3_finalize(sel);
	sel = NULL;
	sqlite3_close(old);
	old = NULL;
	sqlite3_finalize(ins);
	ins = NULL;
	sqlite3_close(fresh);
	fresh = NULL;

	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, (long long)time(NULL));
	ret = move_aside(path, aside);
	snprintf(a, sizeof(a), "%s-wal", path);
	snprintf(b, sizeof(b), "%s-wal", aside);
	if (!ret)
		ret = move_aside(a, b);
	snprintf(a, sizeof(a), "%s-shm", path);
	unlink(a);
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (!ret)
		ret = storage_fsync_dir(dir);
	if (ret) {
		snprintf(errbuf, errlen, "%s: moving the salvaged log in place: %s", path,
			 strerror(-ret));
		return ret;
	}
	log_warnx("REPAIR: %s: kept %lld records (last zxid 0x%llx), stopped at %s; "
		  "the damaged file is kept as %s",
		  path, kept, (unsigned long long)prev, stop, aside);
	return 0;
err_after_fresh:
	sqlite3_finalize(sel);
	sqlite3_close(old);
	sqlite3_finalize(ins);
	sqlite3_close(fresh);
	unlink(tmp);
	return ret;
}
