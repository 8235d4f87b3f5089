/*
 * zkfile.h - Apache ZooKeeper's data files (3.4-3.9), decoded into a zkdb
 * and, for snapshots, written from a quorumfs tree.
 *
 * Snapshot (version-2/snapshot.<zxid hex>, FileSnap + SerializeUtils +
 * DataTree.serialize; all jute, big-endian):
 *   FileHeader {int magic 'ZKSN', int version 2, long dbid}
 *   int nsessions, nsessions x {long id, int timeout}
 *   int nacls, nacls x {long index, vector<ACL>}    (ReferenceCountedACLCache)
 *   nodes, parents first: {string path ("" for the root), buffer data,
 *                          long acl index (-1: world:anyone:cdrwa),
 *                          StatPersisted (9 fields, no dataLength/numChildren)}
 *   string "/"                                      (end of the nodes)
 *   seal: long Adler-32 of every byte before it, string "/"
 *   3.6+: ZxidDigest {long zxid, int version, long digest}, seal
 *   3.8+: long lastProcessedZxid, seal               (each seal cumulative)
 *
 * Transaction log (version-2/log.<first zxid hex>, FileTxnLog):
 *   FileHeader {int magic 'ZKLG', int version 2, long dbid}
 *   records: long Adler-32 of the entry, int length, entry bytes (TxnHeader
 *   {long clientId, int cxid, long zxid, long time, int type} and the body;
 *   3.6+ may append a TxnDigest), byte 'B'.
 *   The file is preallocated with zeros: a length of 0 ends it. A record cut
 *   short (no room for its length, bytes or 'B') is a torn tail, where
 *   ZooKeeper too stops reading.
 */
#ifndef QFS_ZKFILE_H
#define QFS_ZKFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tree.h"
#include "zkdb.h"

#define ZK_SNAP_MAGIC 0x5a4b534eu /* "ZKSN" */
#define ZK_LOG_MAGIC  0x5a4b4c47u /* "ZKLG" */

uint32_t zk_adler32(uint32_t adler, const void *p, size_t n);

/*
 * Decode a whole snapshot file (p, n) into db (fresh from zkdb_init),
 * verifying its structure and every seal. Returns 0 or -EBADMSG/-ENOMEM
 * with errbuf saying what and where (byte offset).
 */
int zk_snap_decode(struct zkdb *db, const void *p, size_t n, char *errbuf, size_t errlen);

/* What zk_log_replay found. */
struct zk_log_result {
	zxid_t first, last; /* zxids of the records read (0 if none) */
	uint64_t records;   /* records read, applied or not */
	uint64_t applied;   /* records above db->zxid that were applied */
	int torn;	    /* the file ends in a record cut short */
	size_t torn_offset; /* where */
};

/*
 * Read a log file (p, n) and apply each record whose zxid is above
 * db->zxid, in order. A checksum mismatch is an error, unless it is the
 * last record and only zeros follow (a write torn by a crash: then it is
 * reported as torn). Returns 0 or -EBADMSG/-ENOMEM with errbuf (offset).
 */
int zk_log_replay(struct zkdb *db, const void *p, size_t n, struct zk_log_result *res,
		  char *errbuf, size_t errlen);

/*
 * Write t as a ZooKeeper snapshot (the 3.4-3.8 layout with one seal, which
 * ZooKeeper 3.8 loads) to f. *nodes gets the node count; progress (may be
 * NULL) is called now and then with the nodes written. Returns 0 or a
 * negative errno (-EIO for a write error).
 */
int zk_snap_write(const struct tree *t, FILE *f, uint64_t *nodes,
		  void (*progress)(void *arg, uint64_t nodes), void *arg);

#endif
