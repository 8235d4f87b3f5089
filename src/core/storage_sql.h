/*
 * storage_sql.h - SQLite helpers shared by the snapshots (snapshot*.c) and
 * the core: SQLite result codes as errnos, durable renames and the zxid
 * sequence rule. Implemented in storage_sql.c.
 */
#ifndef QFS_STORAGE_SQL_H
#define QFS_STORAGE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "zxid.h"

/* A SQLite result code as a negative errno (0 for SQLITE_OK): SQLITE_FULL
 * is -ENOSPC, I/O errors carry the system errno, corruption is -EBADMSG. */
int storage_sql_errno(sqlite3 *db, int rc);

/* sqlite3_exec with the file and statement in errbuf on failure. Returns 0
 * or a negative errno. */
int storage_exec(sqlite3 *db, const char *sql, const char *path, char *errbuf,
		 size_t errlen);

/* fsync a directory, so a rename or unlink in it is durable. 0 or -errno. */
int storage_fsync_dir(const char *dir);

/* Does z directly follow prev in a log: counter + 1 within the epoch, or the
 * first transaction (counter 1) of a later epoch? */
int storage_zxid_follows(zxid_t prev, zxid_t z);

#endif
