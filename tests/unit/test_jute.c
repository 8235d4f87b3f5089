/*
 * test_jute.c - the ZooKeeper wire records: every record round-trips, every
 * truncation is refused, hostile lengths and counts are refused, and a few
 * encodings match layouts computed by hand from zookeeper.jute.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jute.h"
#include "tap.h"
#include "txn.h"
#include "zerr.h"

#define MAX (1024 * 1024)

/* Fill every field of a record with values derived from seed, through the
 * same field lists the codec is generated from. */
static void fill_int(int32_t *v, int seed)
{
	*v = -7 * seed + 3;
}
static void fill_long(int64_t *v, int seed)
{
	*v = (int64_t)0x0102030405060708LL * seed;
}
static void fill_bool(int32_t *v, int seed)
{
	*v = seed & 1;
}
static void fill_optbool(int32_t *v, int seed)
{
	*v = 1;
}
static char *str_for(int seed)
{
	char s[32];

	snprintf(s, sizeof(s), "/node-%d", seed);
	return strdup(s);
}
static void fill_ustring(char **v, int seed)
{
	*v = str_for(seed);
}
static void fill_buffer(struct jute_buffer *v, int seed)
{
	int i;

	v->len = 5 + seed % 3;
	v->data = malloc((size_t)v->len);
	for (i = 0; i < v->len; i++)
		v->data[i] = (uint8_t)(seed + i);
}
static void fill_strvec(struct jute_strvec *v, int seed)
{
	v->n = 3;
	v->v = calloc(3, sizeof(char *));
	v->v[0] = str_for(seed);
	v->v[1] = strdup("");
	v->v[2] = str_for(seed + 1);
}
static void fill_aclvec(struct acl_list *v, int seed)
{
	v->n = 2;
	v->v = calloc(2, sizeof(*v->v));
	v->v[0].perms = 31;
	v->v[0].scheme = strdup("world");
	v->v[0].id = strdup("anyone");
	v->v[1].perms = seed & 31;
	v->v[1].scheme = strdup("digest");
	v->v[1].id = str_for(seed);
}
static void fill_civec(struct jute_civec *v, int seed)
{
	v->n = 2;
	v->v = calloc(2, sizeof(*v->v));
	v->v[0].auth_scheme = strdup("ip");
	v->v[0].user = strdup("127.0.0.1");
	v->v[1].auth_scheme = strdup("digest");
	v->v[1].user = str_for(seed);
}
static void fill_stat(struct zstat *v, int seed)
{
	v->czxid = seed;
	v->mzxid = seed + 1;
	v->ctime = 1700000000000LL + seed;
	v->mtime = 1700000000001LL + seed;
	v->version = seed + 2;
	v->cversion = seed + 3;
	v->aversion = seed + 4;
	v->ephemeral_owner = 0x100000000LL + seed;
	v->data_length = seed + 5;
	v->num_children = seed + 6;
	v->pzxid = seed + 7;
}

#define FILL_FIELD(type, name) fill_##type(&v->name, seed++);
#define DEFINE_FILL(rec, ctype)                                                          \
	static void fill_rec_##rec(ctype *v, int seed)                                   \
	{                                                                                \
		memset(v, 0, sizeof(*v));                                                \
		JUTE_F_##rec(FILL_FIELD)                                                 \
	}
#define DEFINE_FILL_GEN(rec) DEFINE_FILL(rec, struct jute_##rec)
JUTE_EXTERNAL_RECORDS(DEFINE_FILL)
JUTE_RECORDS(DEFINE_FILL_GEN)

static void fill_any(int rec, union jute_any *v, int seed)
{
	switch (rec) {
#define CASE_EXT(name, ctype)                                                            \
	case JUTE_REC_##name:                                                            \
		fill_rec_##name(&v->name, seed);                                         \
		break;
#define CASE_GEN(name) CASE_EXT(name, )
		JUTE_EXTERNAL_RECORDS(CASE_EXT)
		JUTE_RECORDS(CASE_GEN)
#undef CASE_GEN
#undef CASE_EXT
	}
}

/* Does the record end with an optional field (so one byte less still
 * decodes)? */
static int ends_optional(int rec)
{
	return rec == JUTE_REC_connect_request || rec == JUTE_REC_connect_response;
}

static void test_roundtrip_every_record(void)
{
	int rec;

	for (rec = 0; rec < JUTE_REC_COUNT; rec++) {
		union jute_any a, d;
		struct buf b1, b2;
		struct rd r;
		size_t cut;

		fill_any(rec, &a, rec + 1);
		buf_init(&b1);
		buf_init(&b2);
		TAP_EQ(jute_put_any(&b1, rec, &a), 0);
		rd_init(&r, b1.data, b1.len);
		if (jute_get_any(&r, rec, &d, MAX) != ZOK) {
			printf("# record %s does not decode\n", jute_rec_name(rec));
			TAP_ASSERT(0);
		}
		TAP_EQ(r.left, 0);
		TAP_EQ(jute_put_any(&b2, rec, &d), 0);
		TAP_EQ(b1.len, b2.len);
		TAP_ASSERT(memcmp(b1.data, b2.data, b1.len) == 0);
		jute_free_any(rec, &d);

		/* Every proper prefix is refused (but the one lacking only an
		 * optional trailing field). */
		for (cut = 0; cut < b1.len; cut++) {
			int rc;

			rd_init(&r, b1.data, cut);
			rc = jute_get_any(&r, rec, &d, MAX);
			if (cut == b1.len - 1 && ends_optional(rec)) {
				TAP_EQ(rc, ZOK);
				jute_free_any(rec, &d);
				continue;
			}
			if (rc != ZMARSHALLINGERROR)
				printf("# %s accepted %zu of %zu bytes\n", jute_rec_name(rec),
				       cut, b1.len);
			TAP_EQ(rc, ZMARSHALLINGERROR);
		}
		/* A free of a failed decode is harmless (it was zeroed). */
		jute_free_any(rec, &d);
		buf_free(&b1);
		buf_free(&b2);
		/* a is heap-filled: free it with the same destructor. */
		jute_free_any(rec, &a);
	}
}

/*
 * The ConnectRequest a 3.4+ client sends first (ClientCnxn.primeConnection):
 * protocolVersion 0, lastZxidSeen 0, timeOut 30000, sessionId 0, passwd 16
 * zero bytes, readOnly false; 4+8+4+8+(4+16)+1 = 45 bytes.
 */
static const uint8_t connect_req_bytes[] = {
	0x00, 0x00, 0x00, 0x2d,				/* frame length 45 */
	0x00, 0x00, 0x00, 0x00,				/* protocolVersion */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* lastZxidSeen */
	0x00, 0x00, 0x75, 0x30,				/* timeOut 30000 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* sessionId */
	0x00, 0x00, 0x00, 0x10,				/* passwd length 16 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* passwd */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00,			/* readOnly */
};

static void test_connect_request_layout(void)
{
	uint8_t pw[16] = {0};
	struct jute_connect_request c = {
		.protocol_version = 0,
		.last_zxid_seen = 0,
		.time_out = 30000,
		.session_id = 0,
		.passwd = {.len = 16, .data = pw},
		.read_only = 0,
	};
	struct jute_connect_request d;
	struct buf b;
	struct rd r;
	size_t off;

	buf_init(&b);
	off = jute_frame_begin(&b);
	TAP_EQ(jute_put_connect_request(&b, &c), 0);
	jute_frame_end(&b, off);
	TAP_EQ(b.len, sizeof(connect_req_bytes));
	TAP_ASSERT(memcmp(b.data, connect_req_bytes, b.len) == 0);

	/* A pre-3.4 client leaves readOnly out: 44 bytes still decode. */
	rd_init(&r, connect_req_bytes + 4, 44);
	TAP_EQ(jute_get_connect_request(&r, &d, MAX), ZOK);
	TAP_EQ(d.time_out, 30000);
	TAP_EQ(d.passwd.len, 16);
	TAP_EQ(d.read_only, 0);
	jute_free_connect_request(&d);
	buf_free(&b);
}

/* getData("/foo", watch) as xid 1: RequestHeader{1, 4} GetDataRequest. */
static void test_get_data_request_layout(void)
{
	static const uint8_t want[] = {0, 0, 0, 1,   0,	  0,   0,   4,	0, 0, 0,
				       4, '/', 'f', 'o', 'o', 1};
	struct jute_request q;
	struct buf b;

	memset(&q, 0, sizeof(q));
	q.hdr.xid = 1;
	q.hdr.type = ZOP_GETDATA;
	q.rec = JUTE_REC_get_data_request;
	q.body.get_data_request.path = "/foo";
	q.body.get_data_request.watch = 1;
	buf_init(&b);
	TAP_EQ(jute_request_encode(&b, &q), 0);
	TAP_EQ(b.len, sizeof(want));
	TAP_ASSERT(memcmp(b.data, want, sizeof(want)) == 0);

	TAP_EQ(jute_request_decode(want, sizeof(want), MAX, &q), ZOK);
	TAP_EQ(q.rec, JUTE_REC_get_data_request);
	TAP_STREQ(q.body.get_data_request.path, "/foo");
	TAP_EQ(q.body.get_data_request.watch, 1);
	jute_request_free(&q);

	/* One byte too many is a malformed frame. */
	{
		uint8_t more[sizeof(want) + 1];

		memcpy(more, want, sizeof(want));
		more[sizeof(want)] = 0;
		TAP_EQ(jute_request_decode(more, sizeof(more), MAX, &q), ZMARSHALLINGERROR);
	}
	buf_free(&b);
}

/*
 * multi([create("/a", "", world:anyone:cdrwa, 0), delete("/b", -1)]) as
 * xid 7: RequestHeader{7, 14}, then per op MultiHeader{type, false, -1} and
 * the op's request, then MultiHeader{-1, true, -1}.
 */
static const uint8_t multi_bytes[] = {
	0, 0, 0, 7, 0, 0, 0, 14,				 /* header */
	0, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xff,			 /* create, !done, -1 */
	0, 0, 0, 2, '/', 'a',					 /* path */
	0, 0, 0, 0,						 /* data "" */
	0, 0, 0, 1,						 /* one ACL */
	0, 0, 0, 31,						 /* perms */
	0, 0, 0, 5, 'w', 'o', 'r', 'l', 'd',			 /* scheme */
	0, 0, 0, 6, 'a', 'n', 'y', 'o', 'n', 'e',		 /* id */
	0, 0, 0, 0,						 /* flags */
	0, 0, 0, 2, 0, 0xff, 0xff, 0xff, 0xff,			 /* delete */
	0, 0, 0, 2, '/', 'b', 0xff, 0xff, 0xff, 0xff,		 /* path, version */
	0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff, /* end */
};

static void test_multi_layout(void)
{
	struct zacl open = {.perms = 31, .scheme = "world", .id = "anyone"};
	struct jute_multi_op ops[2];
	struct jute_request q;
	struct buf b;

	memset(ops, 0, sizeof(ops));
	memset(&q, 0, sizeof(q));
	ops[0].type = ZOP_CREATE;
	ops[0].body.create_request.path = "/a";
	ops[0].body.create_request.data.len = 0;
	ops[0].body.create_request.acl.n = 1;
	ops[0].body.create_request.acl.v = &open;
	ops[1].type = ZOP_DELETE;
	ops[1].body.delete_request.path = "/b";
	ops[1].body.delete_request.version = -1;
	q.hdr.xid = 7;
	q.hdr.type = ZOP_MULTI;
	q.rec = JUTE_REC_NONE;
	q.multi.n = 2;
	q.multi.ops = ops;
	buf_init(&b);
	TAP_EQ(jute_request_encode(&b, &q), 0);
	TAP_EQ(b.len, sizeof(multi_bytes));
	TAP_ASSERT(memcmp(b.data, multi_bytes, b.len) == 0);
	buf_free(&b);

	TAP_EQ(jute_request_decode(multi_bytes, sizeof(multi_bytes), MAX, &q), ZOK);
	TAP_EQ(q.multi.n, 2);
	TAP_EQ(q.multi.ops[0].rec, JUTE_REC_create_request);
	TAP_STREQ(q.multi.ops[0].body.create_request.acl.v[0].id, "anyone");
	TAP_EQ(q.multi.ops[1].body.delete_request.version, -1);
	jute_request_free(&q);

	/* Every truncation is refused. */
	{
		size_t cut;

		for (cut = 0; cut < sizeof(multi_bytes); cut++)
			TAP_EQ(jute_request_decode(multi_bytes, cut, MAX, &q),
			       ZMARSHALLINGERROR);
	}
}

/* A multi response with a failure: MultiHeader{-1, false, err} ErrorResponse. */
static void test_multi_response_roundtrip(void)
{
	struct jute_multi m, d;
	struct jute_multi_op ops[3];
	struct buf b;
	struct rd r;

	memset(ops, 0, sizeof(ops));
	ops[0].type = ZOP_CREATE2;
	ops[0].body.create2_response.path = "/x";
	ops[0].body.create2_response.stat.version = 4;
	ops[1].type = ZOP_ERROR;
	ops[1].err = ZNODEEXISTS;
	ops[1].body.error_response.err = ZNODEEXISTS;
	ops[2].type = ZOP_CHECK;
	m.n = 3;
	m.ops = ops;
	buf_init(&b);
	TAP_EQ(jute_put_multi(&b, &m, 1), 0);
	rd_init(&r, b.data, b.len);
	TAP_EQ(jute_get_multi(&r, &d, 1, MAX), ZOK);
	TAP_EQ(r.left, 0);
	TAP_EQ(d.n, 3);
	TAP_STREQ(d.ops[0].body.create2_response.path, "/x");
	TAP_EQ(d.ops[0].body.create2_response.stat.version, 4);
	TAP_EQ(d.ops[1].err, ZNODEEXISTS);
	TAP_EQ(d.ops[1].body.error_response.err, ZNODEEXISTS);
	TAP_EQ(d.ops[2].rec, JUTE_REC_NONE);
	jute_free_multi(&d);
	buf_free(&b);

	/* A response type is refused in a request, and nesting a multi too. */
	ops[0].type = ZOP_MULTI;
	buf_init(&b);
	TAP_EQ(jute_put_multi(&b, &m, 1), -EINVAL);
	buf_free(&b);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void test_hostile_lengths(void)
{
	uint8_t in[64];
	struct jute_get_children_response gc;
	struct jute_sync_request s;
	struct jute_get_data_response gd;
	struct jute_get_acl_response ga;
	struct rd r;

	memset(in, 0, sizeof(in));
	/* A string of length -2. */
	put_u32(in, (uint32_t)-2);
	rd_init(&r, in, sizeof(in));
	TAP_EQ(jute_get_sync_request(&r, &s, MAX), ZMARSHALLINGERROR);
	TAP_ASSERT(s.path == NULL);
	/* A null string (-1) is accepted as NULL. */
	put_u32(in, (uint32_t)-1);
	rd_init(&r, in, 4);
	TAP_EQ(jute_get_sync_request(&r, &s, MAX), ZOK);
	TAP_ASSERT(s.path == NULL);
	/* A string over max. */
	memset(in + 4, 'a', 40);
	put_u32(in, 40);
	rd_init(&r, in, sizeof(in));
	TAP_EQ(jute_get_sync_request(&r, &s, 39), ZMARSHALLINGERROR);
	rd_init(&r, in, 44);
	TAP_EQ(jute_get_sync_request(&r, &s, 40), ZOK);
	jute_free_sync_request(&s);
	/* A buffer longer than the input. */
	put_u32(in, 1000);
	rd_init(&r, in, sizeof(in));
	TAP_EQ(jute_get_get_data_response(&r, &gd, MAX), ZMARSHALLINGERROR);
	/* A vector count that the input cannot hold: refused before any
	 * allocation (ASan would see a 16 GiB calloc otherwise). */
	put_u32(in, 0x7fffffff);
	rd_init(&r, in, sizeof(in));
	TAP_EQ(jute_get_get_children_response(&r, &gc, MAX), ZMARSHALLINGERROR);
	put_u32(in, 16); /* 16 strings need at least 64 bytes; 60 are left */
	rd_init(&r, in, sizeof(in));
	TAP_EQ(jute_get_get_children_response(&r, &gc, MAX), ZMARSHALLINGERROR);
	put_u32(in, (uint32_t)-5);
	rd_init(&r, in, sizeof(in));
	TAP_EQ(jute_get_get_acl_response(&r, &ga, MAX), ZMARSHALLINGERROR);
	/* A count over max is refused even if the bytes were there. */
	put_u32(in, 3);
	rd_init(&r, in, sizeof(in));
	TAP_EQ(jute_get_get_children_response(&r, &gc, 2), ZMARSHALLINGERROR);
	/* A null vector decodes as empty. */
	put_u32(in, (uint32_t)-1);
	rd_init(&r, in, 4);
	TAP_EQ(jute_get_get_children_response(&r, &gc, MAX), ZOK);
	TAP_EQ(gc.children.n, 0);
	/* A null element inside a vector<ustring> is refused. */
	put_u32(in, 1);
	put_u32(in + 4, (uint32_t)-1);
	rd_init(&r, in, 8);
	TAP_EQ(jute_get_get_children_response(&r, &gc, MAX), ZMARSHALLINGERROR);
	/* An embedded NUL in a path is refused. */
	put_u32(in, 3);
	memcpy(in + 4, "/\0a", 3);
	rd_init(&r, in, 7);
	TAP_EQ(jute_get_sync_request(&r, &s, MAX), ZMARSHALLINGERROR);
}

static void test_opcode_tables(void)
{
	uint8_t in[8];
	struct jute_request q;

	TAP_EQ(jute_request_rec(ZOP_CREATETTL), JUTE_REC_create_ttl_request);
	TAP_EQ(jute_request_rec(ZOP_ADDWATCH), JUTE_REC_add_watch_request);
	TAP_EQ(jute_request_rec(ZOP_WHOAMI), JUTE_REC_NONE);
	TAP_EQ(jute_request_rec(9999), -2);
	TAP_EQ(jute_response_rec(ZOP_CREATECONTAINER), JUTE_REC_create2_response);
	TAP_EQ(jute_response_rec(ZOP_WHOAMI), JUTE_REC_who_am_i_response);
	TAP_EQ(jute_response_rec(ZOP_DELETE), JUTE_REC_NONE);
	/* An unknown opcode: the header is kept so the server can answer. */
	put_u32(in, 42);
	put_u32(in + 4, 9999);
	TAP_EQ(jute_request_decode(in, sizeof(in), MAX, &q), ZUNIMPLEMENTED);
	TAP_EQ(q.hdr.xid, 42);
	jute_request_free(&q);
	/* A ping: header only. */
	put_u32(in, (uint32_t)JUTE_XID_PING);
	put_u32(in + 4, (uint32_t)ZOP_PING);
	TAP_EQ(jute_request_decode(in, sizeof(in), MAX, &q), ZOK);
	TAP_EQ(q.rec, JUTE_REC_NONE);
	jute_request_free(&q);
	TAP_STREQ(jute_rec_name(JUTE_REC_stat), "stat");
	TAP_ASSERT(jute_rec_name(JUTE_REC_COUNT) == NULL);
}

static const struct tap_case cases[] = {
	{"roundtrip_every_record", test_roundtrip_every_record},
	{"connect_request_layout", test_connect_request_layout},
	{"get_data_request_layout", test_get_data_request_layout},
	{"multi_layout", test_multi_layout},
	{"multi_response_roundtrip", test_multi_response_roundtrip},
	{"hostile_lengths", test_hostile_lengths},
	{"opcode_tables", test_opcode_tables},
};

TAP_MAIN(cases)
