/*
 * jute.c - encoders, decoders and destructors of the records in jute.h,
 * generated from its field lists, plus the opcode tables and the multi and
 * whole-request codecs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jute.h"
#include "txn.h"
#include "zerr.h"

/*
 * Smallest encoded size of one vector element, used to refuse a count that
 * the remaining input cannot hold before anything is allocated for it.
 */
#define MIN_USTRING	4
#define MIN_ACL		12 /* int perms + two empty strings */
#define MIN_CLIENT_INFO 8

/* Is a vector count acceptable? Sets *n (0 for a null vector). */
static int vec_count(struct rd *r, int32_t *n, int32_t max, size_t min_elem)
{
	int32_t count = (int32_t)rd_u32(r);

	*n = 0;
	if (!rd_ok(r))
		return 0;
	if (count == -1)
		return 0;
	if (count < -1 || count > max || (size_t)count > r->left / min_elem) {
		r->bad = 1;
		return 0;
	}
	*n = count;
	return 1;
}

/* --- int --- */
static void put_int(struct buf *b, const int32_t *v)
{
	buf_put_u32(b, (uint32_t)*v);
}

static void get_int(struct rd *r, int32_t *v, int32_t max)
{
	*v = (int32_t)rd_u32(r);
}

static void free_int(int32_t *v)
{
}

/* --- long --- */
static void put_long(struct buf *b, const int64_t *v)
{
	buf_put_u64(b, (uint64_t)*v);
}

static void get_long(struct rd *r, int64_t *v, int32_t max)
{
	*v = (int64_t)rd_u64(r);
}

static void free_long(int64_t *v)
{
}

/* --- bool --- */
static void put_bool(struct buf *b, const int32_t *v)
{
	buf_put_u8(b, *v ? 1 : 0);
}

/* Java's readBool is `readByte() == 1`; any non-zero is taken as true here,
 * which no real client distinguishes. */
static void get_bool(struct rd *r, int32_t *v, int32_t max)
{
	*v = rd_u8(r) != 0;
}

static void free_bool(int32_t *v)
{
}

/* --- optbool: a trailing bool pre-3.4 peers do not send --- */
static void put_optbool(struct buf *b, const int32_t *v)
{
	put_bool(b, v);
}

static void get_optbool(struct rd *r, int32_t *v, int32_t max)
{
	*v = 0;
	if (rd_ok(r) && r->left > 0)
		get_bool(r, v, max);
}

static void free_optbool(int32_t *v)
{
}

/* --- buffer --- */
static void put_buffer(struct buf *b, const struct jute_buffer *v)
{
	buf_put_bytes(b, v->data ? v->data : (const void *)"", v->len);
}

static void get_buffer(struct rd *r, struct jute_buffer *v, int32_t max)
{
	int32_t n;
	const void *p = rd_bytes(r, &n, max);

	v->len = -1;
	v->data = NULL;
	if (!rd_ok(r))
		return;
	v->len = n;
	if (n <= 0)
		return;
	v->data = malloc((size_t)n);
	if (!v->data) {
		/* Out of memory: reported as a marshalling error, the one
		 * failure a decoder has. */
		r->bad = 1;
		v->len = -1;
		return;
	}
	memcpy(v->data, p, (size_t)n);
}

static void free_buffer(struct jute_buffer *v)
{
	free(v->data);
	v->data = NULL;
	v->len = -1;
}

/* --- ustring --- */
static void put_ustring(struct buf *b, char *const *v)
{
	buf_put_str(b, *v);
}

static void get_ustring(struct rd *r, char **v, int32_t max)
{
	*v = rd_str(r, max);
}

static void free_ustring(char **v)
{
	free(*v);
	*v = NULL;
}

/* --- vector<ustring> --- */
static void put_strvec(struct buf *b, const struct jute_strvec *v)
{
	int32_t i;

	buf_put_u32(b, (uint32_t)v->n);
	for (i = 0; i < v->n; i++)
		buf_put_str(b, v->v[i]);
}

/* Null elements are refused: every vector<ustring> of the protocol is a list
 * of paths or names, where null has no meaning. */
static void get_strvec(struct rd *r, struct jute_strvec *v, int32_t max)
{
	int32_t count, i;

	v->n = 0;
	v->v = NULL;
	if (!vec_count(r, &count, max, MIN_USTRING) || count == 0)
		return;
	v->v = calloc((size_t)count, sizeof(*v->v));
	if (!v->v) {
		r->bad = 1;
		return;
	}
	for (i = 0; i < count; i++) {
		v->v[i] = rd_str(r, max);
		if (!v->v[i]) {
			r->bad = 1;
			break;
		}
		v->n = i + 1;
	}
}

static void free_strvec(struct jute_strvec *v)
{
	int32_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

/*
 * vector<R> of a record R: an int32 count, then the records. The count is
 * checked against what is left (each record takes at least min bytes)
 * before anything is allocated; a record that fails to decode leaves the
 * vector holding the ones before it, which free_<tag> releases.
 */
#define JUTE_RECORD_VECTOR(tag, vtype, elem, min)                                        \
	static void put_##tag(struct buf *b, const vtype *v)                             \
	{                                                                                \
		buf_put_u32(b, (uint32_t)v->n);                                          \
		for (int32_t i = 0; i < v->n; i++)                                       \
			jute_put_##elem(b, &v->v[i]);                                    \
	}                                                                                \
	static void get_##tag(struct rd *r, vtype *v, int32_t max)                       \
	{                                                                                \
		int32_t count;                                                           \
                                                                                         \
		v->n = 0;                                                                \
		v->v = NULL;                                                             \
		if (!vec_count(r, &count, max, (min)) || count == 0)                     \
			return;                                                          \
		v->v = calloc((size_t)count, sizeof(*v->v));                             \
		if (!v->v) {                                                             \
			r->bad = 1;                                                      \
			return;                                                          \
		}                                                                        \
		for (int32_t i = 0; i < count; i++) {                                    \
			if (jute_get_##elem(r, &v->v[i], max) != ZOK)                    \
				break;                                                   \
			v->n = i + 1;                                                    \
		}                                                                        \
	}                                                                                \
	static void free_##tag(vtype *v)                                                 \
	{                                                                                \
		for (int32_t i = 0; i < v->n; i++)                                       \
			jute_free_##elem(&v->v[i]);                                      \
		free(v->v);                                                              \
		v->v = NULL;                                                             \
		v->n = 0;                                                                \
	}

/* Not acl_free() for vector<ACL>: the codec stays independent of the ACL
 * implementation. */
JUTE_RECORD_VECTOR(aclvec, struct acl_list, acl, MIN_ACL)
JUTE_RECORD_VECTOR(civec, struct jute_civec, client_info, MIN_CLIENT_INFO)

/* --- Stat --- */
static void put_stat(struct buf *b, const struct zstat *v)
{
	jute_put_stat(b, v);
}

static void get_stat(struct rd *r, struct zstat *v, int32_t max)
{
	jute_get_stat(r, v, max);
}

static void free_stat(struct zstat *v)
{
}

/* --- the records, generated from jute.h --- */
#define PUT_FIELD(type, name)  put_##type(b, &v->name);
#define GET_FIELD(type, name)  get_##type(r, &v->name, max);
#define FREE_FIELD(type, name) free_##type(&v->name);

#define DEFINE_RECORD(rec, ctype)                                                        \
	int jute_put_##rec(struct buf *b, const ctype *v)                                \
	{                                                                                \
		JUTE_F_##rec(PUT_FIELD) return buf_failed(b) ? -ENOMEM : 0;              \
	}                                                                                \
	void jute_free_##rec(ctype *v)                                                   \
	{                                                                                \
		JUTE_F_##rec(FREE_FIELD) memset(v, 0, sizeof(*v));                       \
	}                                                                                \
	int jute_get_##rec(struct rd *r, ctype *v, int32_t max)                          \
	{                                                                                \
		memset(v, 0, sizeof(*v));                                                \
		JUTE_F_##rec(GET_FIELD) if (rd_ok(r)) return ZOK;                        \
		jute_free_##rec(v);                                                      \
		return ZMARSHALLINGERROR;                                                \
	}
#define DEFINE_GEN_RECORD(rec) DEFINE_RECORD(rec, struct jute_##rec)

JUTE_EXTERNAL_RECORDS(DEFINE_RECORD)
JUTE_RECORDS(DEFINE_GEN_RECORD)

/* --- run-time dispatch --- */
static const char *const rec_names[] = {
#define NAME_EXT(rec, ctype) #rec,
#define NAME_GEN(rec)	     #rec,
	JUTE_EXTERNAL_RECORDS(NAME_EXT) JUTE_RECORDS(NAME_GEN)
#undef NAME_GEN
#undef NAME_EXT
};

const char *jute_rec_name(int rec)
{
	if (rec < 0 || rec >= JUTE_REC_COUNT)
		return NULL;
	return rec_names[rec];
}

int jute_put_any(struct buf *b, int rec, const union jute_any *v)
{
	switch (rec) {
#define CASE_EXT(name, ctype)                                                            \
	case JUTE_REC_##name:                                                            \
		return jute_put_##name(b, &v->name);
#define CASE_GEN(name) CASE_EXT(name, )
		JUTE_EXTERNAL_RECORDS(CASE_EXT)
		JUTE_RECORDS(CASE_GEN)
#undef CASE_GEN
#undef CASE_EXT
	}
	return -EINVAL;
}

int jute_get_any(struct rd *r, int rec, union jute_any *v, int32_t max)
{
	switch (rec) {
#define CASE_EXT(name, ctype)                                                            \
	case JUTE_REC_##name:                                                            \
		return jute_get_##name(r, &v->name, max);
#define CASE_GEN(name) CASE_EXT(name, )
		JUTE_EXTERNAL_RECORDS(CASE_EXT)
		JUTE_RECORDS(CASE_GEN)
#undef CASE_GEN
#undef CASE_EXT
	}
	r->bad = 1;
	return ZMARSHALLINGERROR;
}

void jute_free_any(int rec, union jute_any *v)
{
	switch (rec) {
#define CASE_EXT(name, ctype)                                                            \
	case JUTE_REC_##name:                                                            \
		jute_free_##name(&v->name);                                              \
		break;
#define CASE_GEN(name) CASE_EXT(name, )
		JUTE_EXTERNAL_RECORDS(CASE_EXT)
		JUTE_RECORDS(CASE_GEN)
#undef CASE_GEN
#undef CASE_EXT
	}
}

/* Request bodies by opcode (ZooKeeper's FinalRequestProcessor and
 * PrepRequestProcessor, which deserialize them). */
int jute_request_rec(int32_t op)
{
	switch (op) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
		return JUTE_REC_create_request;
	case ZOP_CREATETTL:
		return JUTE_REC_create_ttl_request;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		return JUTE_REC_delete_request;
	case ZOP_EXISTS:
		return JUTE_REC_exists_request;
	case ZOP_GETDATA:
		return JUTE_REC_get_data_request;
	case ZOP_SETDATA:
		return JUTE_REC_set_data_request;
	case ZOP_GETACL:
		return JUTE_REC_get_acl_request;
	case ZOP_SETACL:
		return JUTE_REC_set_acl_request;
	case ZOP_GETCHILDREN:
		return JUTE_REC_get_children_request;
	case ZOP_GETCHILDREN2:
		return JUTE_REC_get_children2_request;
	case ZOP_SYNC:
		return JUTE_REC_sync_request;
	case ZOP_CHECK:
		return JUTE_REC_check_version_request;
	case ZOP_RECONFIG:
		return JUTE_REC_reconfig_request;
	case ZOP_CHECKWATCHES:
		return JUTE_REC_check_watches_request;
	case ZOP_REMOVEWATCHES:
		return JUTE_REC_remove_watches_request;
	case ZOP_AUTH:
		return JUTE_REC_auth_packet;
	case ZOP_SETWATCHES:
		return JUTE_REC_set_watches;
	case ZOP_SETWATCHES2:
		return JUTE_REC_set_watches2;
	case ZOP_SASL:
		return JUTE_REC_get_sasl_request;
	case ZOP_GETEPHEMERALS:
		return JUTE_REC_get_ephemerals_request;
	case ZOP_GETALLCHILDRENNUMBER:
		return JUTE_REC_get_all_children_number_request;
	case ZOP_ADDWATCH:
		return JUTE_REC_add_watch_request;
	case QOP_BACKUP:
		return JUTE_REC_qfs_backup_request;
	case ZOP_PING:
	case ZOP_CLOSESESSION:
	case ZOP_WHOAMI:
	case ZOP_MULTI:
	case ZOP_MULTIREAD:
		return JUTE_REC_NONE;
	}
	return -2;
}

/* Reply bodies by opcode. create2, createTTL and createContainer all answer
 * with Create2Response; reconfig answers with the new config as a
 * GetDataResponse. */
int jute_response_rec(int32_t op)
{
	switch (op) {
	case ZOP_CREATE:
		return JUTE_REC_create_response;
	case ZOP_CREATE2:
	case ZOP_CREATETTL:
	case ZOP_CREATECONTAINER:
		return JUTE_REC_create2_response;
	case ZOP_EXISTS:
		return JUTE_REC_exists_response;
	case ZOP_GETDATA:
	case ZOP_RECONFIG:
		return JUTE_REC_get_data_response;
	case ZOP_SETDATA:
		return JUTE_REC_set_data_response;
	case ZOP_GETACL:
		return JUTE_REC_get_acl_response;
	case ZOP_SETACL:
		return JUTE_REC_set_acl_response;
	case ZOP_GETCHILDREN:
		return JUTE_REC_get_children_response;
	case ZOP_GETCHILDREN2:
		return JUTE_REC_get_children2_response;
	case ZOP_SYNC:
		return JUTE_REC_sync_response;
	case ZOP_SASL:
		return JUTE_REC_set_sasl_response;
	case ZOP_GETEPHEMERALS:
		return JUTE_REC_get_ephemerals_response;
	case ZOP_GETALLCHILDRENNUMBER:
		return JUTE_REC_get_all_children_number_response;
	case ZOP_WHOAMI:
		return JUTE_REC_who_am_i_response;
	case QOP_BACKUP:
		return JUTE_REC_qfs_backup_response;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
	case ZOP_CHECK:
	case ZOP_PING:
	case ZOP_CLOSESESSION:
	case ZOP_AUTH:
	case ZOP_SETWATCHES:
	case ZOP_SETWATCHES2:
	case ZOP_CHECKWATCHES:
	case ZOP_REMOVEWATCHES:
	case ZOP_ADDWATCH:
	case ZOP_MULTI:
	case ZOP_MULTIREAD:
		return JUTE_REC_NONE;
	}
	return -2;
}

int jute_multi_op_rec(int32_t type, int response)
{
	switch (type) {
	case ZOP_CREATE:
		return response ? JUTE_REC_create_response : JUTE_REC_create_request;
	case ZOP_CREATE2:
	case ZOP_CREATECONTAINER:
		return response ? JUTE_REC_create2_response : JUTE_REC_create_request;
	case ZOP_CREATETTL:
		return response ? JUTE_REC_create2_response : JUTE_REC_create_ttl_request;
	case ZOP_DELETE:
	case ZOP_DELETECONTAINER:
		return response ? JUTE_REC_NONE : JUTE_REC_delete_request;
	case ZOP_SETDATA:
		return response ? JUTE_REC_set_data_response : JUTE_REC_set_data_request;
	case ZOP_CHECK:
		return response ? JUTE_REC_NONE : JUTE_REC_check_version_request;
	case ZOP_GETCHILDREN:
		return response ? JUTE_REC_get_children_response
				: JUTE_REC_get_children_request;
	case ZOP_GETDATA:
		return response ? JUTE_REC_get_data_response : JUTE_REC_get_data_request;
	case ZOP_ERROR:
		return response ? JUTE_REC_error_response : -2;
	}
	return -2;
}

int jute_put_multi(struct buf *b, const struct jute_multi *m, int response)
{
	struct jute_multi_header h;
	int32_t i;
	int rec, rc;

	for (i = 0; i < m->n; i++) {
		const struct jute_multi_op *op = &m->ops[i];

		rec = jute_multi_op_rec(op->type, response);
		if (rec == -2)
			return -EINVAL;
		h.type = op->type;
		h.done = 0;
		h.err = response ? op->err : -1;
		jute_put_multi_header(b, &h);
		if (rec != JUTE_REC_NONE) {
			rc = jute_put_any(b, rec, &op->body);
			if (rc)
				return rc;
		}
	}
	h.type = -1;
	h.done = 1;
	h.err = -1;
	return jute_put_multi_header(b, &h);
}

void jute_free_multi(struct jute_multi *m)
{
	int32_t i;

	for (i = 0; i < m->n; i++)
		if (m->ops[i].rec != JUTE_REC_NONE)
			jute_free_any(m->ops[i].rec, &m->ops[i].body);
	free(m->ops);
	m->ops = NULL;
	m->n = 0;
}

/* The op count is not sent: the sequence runs until a header with done set.
 * Every op consumes at least a 9-byte header, so the input bounds the loop
 * and the array. */
int jute_get_multi(struct rd *r, struct jute_multi *m, int response, int32_t max)
{
	struct jute_multi_header h;
	struct jute_multi_op *op, *grown;
	int32_t cap = 0;
	int rec;

	m->n = 0;
	m->ops = NULL;
	for (;;) {
		if (jute_get_multi_header(r, &h, max) != ZOK)
			goto err_free_ops;
		if (h.done)
			break;
		rec = jute_multi_op_rec(h.type, response);
		if (rec == -2)
			goto err_free_ops;
		if (m->n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(m->ops, (size_t)cap * sizeof(*grown));
			if (!grown)
				goto err_free_ops;
			m->ops = grown;
		}
		op = &m->ops[m->n];
		memset(op, 0, sizeof(*op));
		op->type = h.type;
		op->err = h.err;
		op->rec = rec;
		if (rec != JUTE_REC_NONE && jute_get_any(r, rec, &op->body, max) != ZOK)
			goto err_free_ops;
		m->n++;
	}
	return ZOK;

err_free_ops:
	r->bad = 1;
	jute_free_multi(m);
	return ZMARSHALLINGERROR;
}

/* --- whole requests --- */
int jute_request_decode(const void *p, size_t n, int32_t max, struct jute_request *req)
{
	struct rd r;
	int rc;

	memset(req, 0, sizeof(*req));
	req->rec = JUTE_REC_NONE;
	rd_init(&r, p, n);
	if (jute_get_request_header(&r, &req->hdr, max) != ZOK)
		return ZMARSHALLINGERROR;
	rc = jute_request_rec(req->hdr.type);
	if (rc == -2)
		return ZUNIMPLEMENTED;
	if (req->hdr.type == ZOP_MULTI || req->hdr.type == ZOP_MULTIREAD) {
		if (jute_get_multi(&r, &req->multi, 0, max) != ZOK)
			goto err_free_body;
	} else if (rc != JUTE_REC_NONE) {
		req->rec = rc;
		if (jute_get_any(&r, rc, &req->body, max) != ZOK) {
			req->rec = JUTE_REC_NONE;
			goto err_free_body;
		}
	}
	/* A frame carries exactly one request: leftover bytes mean the client
	 * and we disagree about the layout, and nothing after can be trusted. */
	if (r.left != 0)
		goto err_free_body;
	return ZOK;

err_free_body:
	jute_request_free(req);
	return ZMARSHALLINGERROR;
}

void jute_request_free(struct jute_request *req)
{
	if (req->rec != JUTE_REC_NONE)
		jute_free_any(req->rec, &req->body);
	req->rec = JUTE_REC_NONE;
	jute_free_multi(&req->multi);
}

int jute_request_encode(struct buf *b, const struct jute_request *req)
{
	int rc;

	rc = jute_put_request_header(b, &req->hdr);
	if (rc)
		return rc;
	if (req->hdr.type == ZOP_MULTI || req->hdr.type == ZOP_MULTIREAD)
		return jute_put_multi(b, &req->multi, 0);
	if (req->rec != JUTE_REC_NONE)
		return jute_put_any(b, req->rec, &req->body);
	return 0;
}

/* --- frames --- */
size_t jute_frame_begin(struct buf *b)
{
	size_t off = b->len;

	buf_put_u32(b, 0);
	return off;
}

void jute_frame_end(struct buf *b, size_t off)
{
	uint32_t n;

	if (buf_failed(b) || off + 4 > b->len)
		return;
	n = (uint32_t)(b->len - off - 4);
	b->data[off] = (uint8_t)(n >> 24);
	b->data[off + 1] = (uint8_t)(n >> 16);
	b->data[off + 2] = (uint8_t)(n >> 8);
	b->data[off + 3] = (uint8_t)n;
}
