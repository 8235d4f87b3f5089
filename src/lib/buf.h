/*
 * buf.h - a growable byte buffer, the one encoder target of every codec
 * (transactions, the ZooKeeper wire format, peer messages, snapshots).
 *
 * Appends never fail silently: on allocation failure the buffer is marked
 * failed, later appends do nothing, and buf_failed() says so; the encoder
 * checks once at the end. Integers are written big-endian (network order),
 * as jute does.
 */
#ifndef QFS_BUF_H
#define QFS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int failed; /* an allocation failed: contents are incomplete */
};

void buf_init(struct buf *b);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_reserve(struct buf *b, size_t extra);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
/* A jute buffer/string: int32 length then the bytes; a negative n writes
 * -1, jute's null (an empty buffer, n == 0, stays empty even if p is NULL). */
void buf_put_bytes(struct buf *b, const void *p, int32_t n);
void buf_put_str(struct buf *b, const char *s);
static inline int buf_failed(const struct buf *b)
{
	return b->failed;
}

/*
 * A bounded reader over borrowed bytes. Every get checks the remaining
 * length first; once a read runs past the end the reader is marked bad and
 * every later get returns zero values, so a decoder checks rd_ok() once.
 */
struct rd {
	const uint8_t *p;
	size_t left;
	int bad;
};

void rd_init(struct rd *r, const void *p, size_t n);
uint8_t rd_u8(struct rd *r);
uint32_t rd_u32(struct rd *r);
uint64_t rd_u64(struct rd *r);
/*
 * A jute buffer: sets *n to its length (-1 for NULL) and returns a pointer
 * into the input (borrowed). A length below -1 or beyond what is left, or
 * above max, marks the reader bad.
 */
const void *rd_bytes(struct rd *r, int32_t *n, int32_t max);
/* A jute string, copied and NUL-terminated (caller frees); NULL for a
 * NULL string or on error (check rd_ok). Embedded NULs are refused. */
char *rd_str(struct rd *r, int32_t max);
static inline int rd_ok(const struct rd *r)
{
	return !r->bad;
}

#endif
