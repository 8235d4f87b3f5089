/*
 * storage_sql.h - helpers shared by the log (storage*.c) and the snapshots
 * (snapshot*.c): SQLite result codes as errnos, durable renames, the log
 * record checksum and the zxid sequence rule.
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

/* The crc column of a log record (see storage.h). */
uint32_t storage_record_crc(zxid_t zxid, const void *rec, size_t len);

/* Does z directly follow prev in a log: counter + 1 within the epoch, or the
 * first transaction (counter 1) of a later epoch? */
int storage_zxid_follows(zxid_t prev, zxid_t z);

/*
 * Repair of a log file SQLite cannot read whole: copy its records, in zxid
 * order, up to the first unreadable, bad-checksum or out-of-sequence one,
 * into a new file; move the old file (and its -wal/-shm) aside to
 * <path>.corrupt-<unix time>; put the new file in its place. Logs what it
 * kept and dropped. Returns 0 or a negative errno with errbuf set.
 */
int storage_salvage(const char *path, const char *dir, char *errbuf, size_t errlen);

#endif
