/*
 * snapshot.h - consistent snapshots of the tree as standalone SQLite files,
 * dataDir/snapshot.<zxid as 16 hex digits>.db, readable with sqlite3(1):
 *
 *   nodes(path TEXT, data BLOB, czxid, mzxid, ctime, mtime, version, cversion,
 *         aversion, ephemeral_owner, pzxid, num_children, data_length,
 *         acl BLOB, kind, flags, ttl_ms, child_kind, child_ttl_ms)
 *       one row per znode, parents before children (rowid order);
 *   sessions(id INTEGER PRIMARY KEY, timeout_ms, owner)  in id order
 *   meta(key TEXT PRIMARY KEY, value)  format=1, zxid, nodes, sessions,
 *       checksum (CRC-32C, see snapshot_codec.h), created (unix time)
 *
 * acl is binary so that it round-trips exactly whatever the ids contain:
 * int32 count, then per entry int32 perms, jute string scheme, jute string
 * id (all big-endian, as buf.h writes).
 *
 * A file is written under a temporary name (.tmp), fsync'd, renamed into
 * place, and the directory fsync'd: a snapshot file either is complete or
 * does not exist under its final name.
 */
#ifndef QFS_SNAPSHOT_H
#define QFS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "tree.h"
#include "zxid.h"

/*
 * Write the tree (which must be at zxid, with no transaction half-applied)
 * to dir/snapshot.<zxid>.db. Only reads the tree: safe in a forked child.
 * Returns 0 or a negative errno with errbuf set.
 */
int snapshot_write(const struct tree *t, const char *dir, zxid_t zxid, char *errbuf,
		   size_t errlen);

/*
 * Load a snapshot file into t, a fresh tree_new() tree, and set its last
 * zxid. Verifies the checksum and counts (sessions in id order; for files
 * of older writers, in the hash orders they could have used, see
 * snapshot.c). Returns 0 (*zxid set) or a
 * negative errno (-EBADMSG for a damaged file) with errbuf naming the file;
 * t is then half loaded and must be freed.
 */
int snapshot_load(const char *path, struct tree *t, zxid_t *zxid, char *errbuf,
		  size_t errlen);

/*
 * The snapshots in dir, newest first: *zxids (malloc'd, caller frees) gets
 * *n zxids. Temporary files are not listed. Returns 0 or a negative errno.
 */
int snapshot_list(const char *dir, zxid_t **zxids, size_t *n);

/* dir/snapshot.<zxid>.db into buf. */
void snapshot_path(char *buf, size_t len, const char *dir, zxid_t zxid);

/* Remove leftover temporary files of snapshots cut short by a crash. */
void snapshot_clean_tmp(const char *dir);

#endif
