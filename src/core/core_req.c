/*
 * core_req.c - requests as bytes: what a member forwards to the leader (or
 * holds while there is none) before it is prepared; see core_req.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_req.h"

/* jute-style: a string is i32 length (-1 = NULL) and bytes. */
static void put_str(struct buf *b, const char *s)
{
	buf_put_bytes(b, s, s ? (int32_t)strlen(s) : -1);
}

static void put_acl(struct buf *b, const struct acl_list *a)
{
	if (!a) {
		buf_put_u32(b, (uint32_t)-1);
		return;
	}
	buf_put_u32(b, (uint32_t)a->n);
	for (int32_t i = 0; i < a->n; i++) {
		buf_put_u32(b, (uint32_t)a->v[i].perms);
		put_str(b, a->v[i].scheme);
		put_str(b, a->v[i].id);
	}
}

static void put_zreq(struct buf *b, const struct zreq *r, int depth)
{
	buf_put_u32(b, (uint32_t)r->op);
	put_str(b, r->path);
	/* data_len -1 is a null buffer, 0 an empty one (data may be NULL
	 * for either): ZooKeeper keeps the difference, so the leader must */
	buf_put_bytes(b, r->data, r->data_len < 0 ? -1 : r->data_len);
	put_acl(b, r->acl);
	buf_put_u32(b, (uint32_t)r->mode);
	buf_put_u64(b, (uint64_t)r->ttl_ms);
	buf_put_u32(b, (uint32_t)r->version);
	buf_put_u8(b, (uint8_t)(r->dir != 0));
	buf_put_u32(b, (uint32_t)r->child_kind);
	buf_put_u64(b, (uint64_t)r->child_ttl_ms);
	buf_put_u32(b, (uint32_t)r->timeout_ms);
	put_str(b, r->owner);
	buf_put_u32(b, (uint32_t)(depth ? 0 : r->n_ops));
	for (int32_t i = 0; !depth && i < r->n_ops; i++)
		put_zreq(b, &r->ops[i], 1);
}

static void put_auth(struct buf *b, const struct zauth *auth)
{
	if (!auth) {
		buf_put_u32(b, (uint32_t)-1);
		return;
	}
	buf_put_u32(b, (uint32_t)auth->n);
	for (int32_t i = 0; i < auth->n; i++) {
		put_str(b, auth->v[i].scheme);
		put_str(b, auth->v[i].id);
	}
	buf_put_u8(b, (uint8_t)(auth->super != 0));
}

int core_req_encode(struct buf *b, uint32_t origin, uint64_t reqid, int64_t session,
		    int32_t cxid, const struct zreq *r, const struct zauth *auth)
{
	buf_put_u8(b, CR_WRITE);
	buf_put_u32(b, origin);
	buf_put_u64(b, reqid);
	buf_put_u64(b, (uint64_t)session);
	buf_put_u32(b, (uint32_t)cxid);
	buf_put_u32(b, 0); /* the epoch it is sent in: core_req_set_epoch */
	put_auth(b, auth);
	put_zreq(b, r, 0);
	return buf_failed(b) ? -ENOMEM : 0;
}

int core_req_encode_reconfig(struct buf *b, uint32_t origin, uint64_t reqid,
			     const struct zauth *auth, const char *joining,
			     const char *leaving, const char *members,
			     int64_t from_version)
{
	core_req_encode_hdr(b, CR_RECONFIG, origin, reqid);
	put_auth(b, auth);
	put_str(b, joining);
	put_str(b, leaving);
	put_str(b, members);
	buf_put_u64(b, (uint64_t)from_version);
	return buf_failed(b) ? -ENOMEM : 0;
}

void core_req_set_epoch(struct buf *b, uint32_t epoch)
{
	if (b->len < CORE_REQ_EPOCH_AT + 4 || b->data[0] != CR_WRITE)
		return;
	for (int i = 0; i < 4; i++)
		b->data[CORE_REQ_EPOCH_AT + i] = (uint8_t)(epoch >> (24 - 8 * i));
}

void core_req_encode_hdr(struct buf *b, uint8_t kind, uint32_t origin, uint64_t reqid)
{
	buf_put_u8(b, kind);
	buf_put_u32(b, origin);
	buf_put_u64(b, reqid);
}

/* ---- decoding: every allocation is remembered and freed together ---- */

static void *keep(struct core_req *q, void *p)
{
	void **v;

	if (!p)
		return NULL;
	if (q->n_allocs == q->cap_allocs) {
		size_t cap = q->cap_allocs ? q->cap_allocs * 2 : 16;

		v = realloc(q->allocs, cap * sizeof(*v));
		if (!v) {
			free(p);
			q->oom = 1;
			return NULL;
		}
		q->allocs = v;
		q->cap_allocs = cap;
	}
	q->allocs[q->n_allocs++] = p;
	return p;
}

#define MAX_STR (1 << 20)
#define MAX_VEC 4096

static char *get_str(struct core_req *q, struct rd *r)
{
	return keep(q, rd_str(r, MAX_STR));
}

static const struct acl_list *get_acl(struct core_req *q, struct rd *r)
{
	int32_t n = (int32_t)rd_u32(r);
	struct acl_list *a;

	if (n == -1)
		return NULL;
	if (n < 0 || n > MAX_VEC) {
		r->bad = 1;
		return NULL;
	}
	a = keep(q, calloc(1, sizeof(*a)));
	if (!a)
		return NULL;
	a->n = n;
	a->v = keep(q, calloc((size_t)n + 1, sizeof(*a->v)));
	if (!a->v)
		return NULL;
	for (int32_t i = 0; i < n; i++) {
		a->v[i].perms = (int32_t)rd_u32(r);
		a->v[i].scheme = get_str(q, r);
		a->v[i].id = get_str(q, r);
	}
	return a;
}

static void get_zreq(struct core_req *q, struct rd *r, struct zreq *z, int depth)
{
	int32_t n;
	struct zreq *ops;

	z->op = (int32_t)rd_u32(r);
	z->path = get_str(q, r);
	z->data = rd_bytes(r, &n, 64 << 20);
	z->data_len = n < 0 ? -1 : n; /* null stays null */
	if (n <= 0)
		z->data = NULL;
	z->acl = get_acl(q, r);
	z->mode = (int32_t)rd_u32(r);
	z->ttl_ms = (int64_t)rd_u64(r);
	z->version = (int32_t)rd_u32(r);
	z->dir = rd_u8(r);
	z->child_kind = (int32_t)rd_u32(r);
	z->child_ttl_ms = (int64_t)rd_u64(r);
	z->timeout_ms = (int32_t)rd_u32(r);
	z->owner = get_str(q, r);
	n = (int32_t)rd_u32(r);
	if (n < 0 || n > MAX_VEC || (depth && n)) {
		r->bad = 1;
		return;
	}
	z->n_ops = n;
	if (!n)
		return;
	ops = keep(q, calloc((size_t)n, sizeof(*ops)));
	z->ops = ops;
	for (int32_t i = 0; ops && i < n && rd_ok(r); i++)
		get_zreq(q, r, &ops[i], 1);
}

int core_req_decode(const void *p, size_t len, struct core_req *q)
{
	struct rd r;
	int32_t n;

	memset(q, 0, sizeof(*q));
	rd_init(&r, p, len);
	q->kind = rd_u8(&r);
	q->origin = rd_u32(&r);
	q->reqid = rd_u64(&r);
	if (!rd_ok(&r))
		return -EBADMSG;
	q->body = (const uint8_t *)p + 13;
	q->body_len = len - 13;
	if (q->kind != CR_WRITE && q->kind != CR_RECONFIG)
		return q->kind == CR_SYNC || q->kind == CR_TOUCH ? 0 : -EBADMSG;
	if (q->kind == CR_WRITE) {
		q->session = (int64_t)rd_u64(&r);
		q->cxid = (int32_t)rd_u32(&r);
		q->epoch = rd_u32(&r);
	}
	n = (int32_t)rd_u32(&r);
	if (n >= 0 && n <= MAX_VEC) {
		q->auth.n = n;
		q->auth.v = keep(q, calloc((size_t)n + 1, sizeof(*q->auth.v)));
		for (int32_t i = 0; q->auth.v && i < n; i++) {
			q->auth.v[i].scheme = get_str(q, &r);
			q->auth.v[i].id = get_str(q, &r);
		}
		q->auth.super = rd_u8(&r);
		q->has_auth = 1;
	} else if (n != -1) {
		r.bad = 1;
	}
	if (q->kind == CR_WRITE) {
		get_zreq(q, &r, &q->req, 0);
	} else {
		q->joining = get_str(q, &r);
		q->leaving = get_str(q, &r);
		q->members = get_str(q, &r);
		q->from_version = (int64_t)rd_u64(&r);
	}
	if (q->oom) {
		core_req_free(q);
		return -ENOMEM;
	}
	if (!rd_ok(&r) || r.left) {
		core_req_free(q);
		return -EBADMSG;
	}
	return 0;
}

void core_req_free(struct core_req *q)
{
	for (size_t i = 0; i < q->n_allocs; i++)
		free(q->allocs[i]);
	free(q->allocs);
	q->allocs = NULL;
	q->n_allocs = q->cap_allocs = 0;
}
