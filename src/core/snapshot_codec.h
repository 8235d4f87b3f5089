/*
 * snapshot_codec.h - the pieces of a snapshot row that are not plain
 * columns: the binary ACL (format in snapshot.h) and the running checksum
 * stored in meta.checksum.
 *
 * The checksum is CRC-32C over, for each node in rowid order: the path and
 * its NUL, the data, the stat fields and kind/flags/ttl_ms/child_kind/
 * child_ttl_ms as 8 big-endian bytes each, the binary ACL; then for each
 * session in ascending id order (signed, as SQLite orders the rowid): id,
 * timeout_ms (8 bytes each) and the owner with its NUL. (Files written
 * before 2026-11 took the sessions in hash-table order; snapshot.c says how
 * it still verifies them.)
 */
#ifndef QFS_SNAPSHOT_CODEC_H
#define QFS_SNAPSHOT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "buf.h"
#include "tree.h"

/* Append the binary form of acl to out (check buf_failed). */
void snapshot_acl_encode(const struct acl_list *acl, struct buf *out);
/* Decode into *out (caller frees with acl_free). 0 or -EBADMSG/-ENOMEM;
 * *out is empty on error. Every length is checked. */
int snapshot_acl_decode(const void *p, size_t n, struct acl_list *out);

uint32_t snapshot_node_crc(uint32_t crc, const struct znode *n, const void *data,
			   const void *acl, size_t acl_len);
uint32_t snapshot_session_crc(uint32_t crc, int64_t id, int32_t timeout_ms,
			      const char *owner);

#endif
