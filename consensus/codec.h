/*
 * codec.h - the peer wire format of the replication engine.
 *
 * Every message is one frame, all integers big-endian:
 *
 *   u32 length      bytes that follow this field, <= CONS_FRAME_MAX
 *   u8  version     CONS_CODEC_VERSION; a frame of another version is refused
 *   u8  type        enum cons_msg_type
 *   u32 from        sender's server id
 *   u32 epoch       sender's epoch
 *   body, by type:
 *     VOTE_REQ      u64 last_zxid (PREVOTE_REQ too), then u8 1 only when
 *                   the election is a leadership transfer
 *     TIMEOUT_NOW   (empty: the leader hands leadership to the receiver)
 *     VOTE_RESP     u8 granted (PREVOTE_RESP too)
 *     APPEND        u64 prev_zxid, u64 commit_zxid, u64 read_seq,
 *                   u64 stable_zxid, u8 notice (0 or 1), u32 n,
 *                   n x { u64 zxid, u8 type, i32 len, len bytes }
 *     APPEND_RESP   u8 ok, u64 match_zxid, u64 last_zxid, u64 read_seq
 *     SNAP          u64 zxid, u64 offset, u64 total, i32 len, len bytes
 *                   (one chunk of a snapshot of `total` bytes), then, only
 *                   when present (chunk 0), i32 clen > 0, clen bytes: the
 *                   configuration as of zxid (cons_membership_encode)
 *     SNAP_ACK      u64 zxid, u64 next (bytes received in order)
 *     FORWARD       u32 n, n x { i32 len, len bytes }
 *     READ_REQ      u64 id
 *     READ_RESP     u64 id, u8 ok, u64 read_zxid
 *
 * CONFIG entries (CONS_ENTRY_CONFIG) carry a cons_membership_encode
 * payload (format in codec.c); an append holding one that does not decode,
 * or whose version is not its zxid, is refused by the core.
 *
 * Version 2 added read_seq to APPEND and APPEND_RESP, the READ, PREVOTE
 * and SNAP_ACK types, and made SNAP a chunk (offset, total). Version 3
 * added stable_zxid and notice to APPEND (a follower's commit without the
 * leader's count: cons_follower.c).
 *
 * A frame must be consumed exactly: trailing bytes are an error. Every count
 * and length is checked against what is left before anything is allocated.
 */
#ifndef QFS_CONS_CODEC_H
#define QFS_CONS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cons.h"

#define CONS_CODEC_VERSION 3
#define CONS_FRAME_HDR	   4 /* the length field */
#define CONS_FRAME_MAX                                                                   \
	(256u << 20) /* an append batch; snapshots travel in                             \
			chunks (cons_snapshot.c) */

/* Append one frame for m to b. Returns 0, or -ENOMEM (b failed). */
int cons_encode(struct buf *b, const struct cons_msg *m);

/*
 * For a stream reader: given the first n bytes of a frame, set *frame_len
 * to the whole frame's size (header included). Returns 0, -EAGAIN when n <
 * CONS_FRAME_HDR, or -EBADMSG when the length is out of bounds (drop the
 * connection).
 */
int cons_frame_len(const uint8_t *p, size_t n, size_t *frame_len);

/*
 * Decode one whole frame. Payloads and blobs in *m are borrowed from p;
 * entry and payload arrays are allocated: release them with
 * cons_msg_release(). Returns 0, -EBADMSG (malformed, wrong version,
 * trailing bytes) or -ENOMEM; on error nothing needs releasing.
 */
int cons_decode(const uint8_t *p, size_t n, struct cons_msg *m);
void cons_msg_release(struct cons_msg *m);

#endif
