/* buf.c - growable buffer and bounded reader; see buf.h. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
}

int buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (b->failed)
		return -1;
	if (extra > SIZE_MAX - b->len)
		goto fail;
	need = b->len + extra;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		goto fail;
	b->data = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = 1;
	return -1;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_put_u8(struct buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {v >> 24, v >> 16, v >> 8, v};

	buf_put(b, x, 4);
}

void buf_put_u64(struct buf *b, uint64_t v)
{
	buf_put_u32(b, (uint32_t)(v >> 32));
	buf_put_u32(b, (uint32_t)v);
}

void buf_put_bytes(struct buf *b, const void *p, int32_t n)
{
	if (n < 0 || (!p && n > 0)) {
		buf_put_u32(b, (uint32_t)-1);
		return;
	}
	buf_put_u32(b, (uint32_t)n);
	buf_put(b, p, (size_t)n);
}

void buf_put_str(struct buf *b, const char *s)
{
	buf_put_bytes(b, s, s ? (int32_t)strlen(s) : -1);
}

void rd_init(struct rd *r, const void *p, size_t n)
{
	r->p = p;
	r->left = n;
	r->bad = 0;
}

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->left) {
		r->bad = 1;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t rd_u8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);

	return p ? p[0] : 0;
}

uint32_t rd_u32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);

	if (!p)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t rd_u64(struct rd *r)
{
	uint64_t hi = rd_u32(r);

	return hi << 32 | rd_u32(r);
}

const void *rd_bytes(struct rd *r, int32_t *n, int32_t max)
{
	int32_t len = (int32_t)rd_u32(r);

	*n = -1;
	if (r->bad)
		return NULL;
	if (len == -1)
		return NULL;
	if (len < -1 || len > max || (size_t)len > r->left) {
		r->bad = 1;
		return NULL;
	}
	*n = len;
	return rd_take(r, (size_t)len);
}

char *rd_str(struct rd *r, int32_t max)
{
	int32_t n;
	const void *p = rd_bytes(r, &n, max);
	char *s;

	if (!p)
		return NULL;
	if (memchr(p, 0, (size_t)n)) {
		r->bad = 1;
		return NULL;
	}
	s = malloc((size_t)n + 1);
	if (!s) {
		r->bad = 1;
		return NULL;
	}
	memcpy(s, p, (size_t)n);
	s[n] = 0;
	return s;
}
