/* test_txn.c - the transaction log record: round trips through
 * txn_encode/txn_decode replay to the same tree, and truncated, extended or
 * corrupted records are refused without harm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "tree.h"
#include "txn.h"
#include "zerr.h"

#define NREC 32

static struct buf recs[NREC];
static int nrec;

/* Prepare reqs on tree a, apply them, keep each encoded record. */
static void record_history(struct tree *a)
{
	static struct acl_list acl;
	static char err[64];
	struct prep *p = prep_new(a);
	static struct zreq multi_ops[3];
	struct zreq reqs[] = {
	    {.op = ZOP_CREATESESSION, .timeout_ms = 4000, .owner = "hostA/mnt"},
	    {.op = ZOP_CREATE,
	     .path = "/app",
	     .data = "cfg",
	     .data_len = 3,
	     .acl = acl_open_unsafe(),
	     .dir = 1},
	    {.op = ZOP_CREATE2,
	     .path = "/app/seq-",
	     .acl = acl_open_unsafe(),
	     .mode = ZCM_PERSISTENT_SEQUENTIAL},
	    {.op = ZOP_CREATE,
	     .path = "/app/eph",
	     .acl = acl_open_unsafe(),
	     .mode = ZCM_EPHEMERAL},
	    {.op = ZOP_CREATECONTAINER,
	     .path = "/app/box",
	     .acl = acl_open_unsafe(),
	     .mode = ZCM_CONTAINER},
	    {.op = ZOP_CREATETTL,
	     .path = "/app/ttl",
	     .acl = acl_open_unsafe(),
	     .mode = ZCM_PERSISTENT_WITH_TTL,
	     .ttl_ms = 60000},
	    {.op = ZOP_SETDATA,
	     .path = "/app",
	     .data = "cfg2",
	     .data_len = 4,
	     .version = 0},
	    {.op = ZOP_SETACL, .path = "/app/ttl", .acl = &acl, .version = -1},
	    {.op = ZOP_CHECK, .path = "/app", .version = 1},
	    {.op = QOP_SETMETA, .path = "/app", .child_kind = 3, .child_ttl_ms = 999},
	    {.op = ZOP_MULTI, .ops = multi_ops, .n_ops = 3},
	    {.op = ZOP_DELETE, .path = "/app/seq-0000000000", .version = -1},
	    {.op = ZOP_CLOSESESSION},
	};
	struct ztxn *t;
	struct zresult r;
	size_t i;
	zxid_t z = zxid_make(3, 0);

	TAP_EQ(acl_parse("digest:u:h:cdrwa,ip:10.0.0.0/8:r", &acl, err, sizeof(err)),
	       ZOK);
	multi_ops[0] = (struct zreq){.op = ZOP_CREATE,
				     .path = "/app/box/x",
				     .acl = acl_open_unsafe(),
				     .data = "m",
				     .data_len = 1};
	multi_ops[1] = (struct zreq){.op = ZOP_SETDATA,
				     .path = "/app/box/x",
				     .data = "mm",
				     .data_len = 2,
				     .version = 0};
	multi_ops[2] = (struct zreq){.op = ZOP_CHECK, .path = "/app", .version = 1};
	nrec = 0;
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		TAP_EQ(txn_prepare(p, &reqs[i], NULL, 77, (int32_t)i, ++z,
				   1000 + (int64_t)i, &t, &r),
		       ZOK);
		zresult_free(&r);
		TAP_EQ(txn_type(t), reqs[i].op);
		TAP_EQ(txn_session(t), 77);
		TAP_EQ(txn_zxid(t), z);
		TAP_EQ(txn_time(t), 1000 + (int64_t)i);
		buf_init(&recs[nrec]);
		TAP_EQ(txn_encode(t, &recs[nrec]), ZOK);
		nrec++;
		TAP_EQ(tree_apply(a, p, t, &r), ZOK);
		zresult_free(&r);
		txn_free(t);
	}
	acl_free(&acl);
	prep_free(p);
}

static void free_history(void)
{
	int i;

	for (i = 0; i < nrec; i++)
		buf_free(&recs[i]);
	nrec = 0;
}

struct dump {
	struct buf b;
};

static int dump_cb(void *arg, const struct znode *n)
{
	struct buf *b = arg;
	char *acl = acl_format(&n->acl);

	buf_put_str(b, n->path);
	buf_put(b, &n->stat, sizeof(n->stat));
	buf_put_bytes(b, n->data, n->stat.data_length);
	buf_put_str(b, acl);
	buf_put_u32(b, (uint32_t)n->kind);
	buf_put_u32(b, n->flags);
	buf_put_u64(b, (uint64_t)n->ttl_ms);
	buf_put_u32(b, (uint32_t)n->child_kind);
	buf_put_u64(b, (uint64_t)n->child_ttl_ms);
	free(acl);
	return 0;
}

static void test_replay_equal(void)
{
	struct tree *a = tree_new(), *b = tree_new();
	struct buf da, db;
	struct ztxn *t;
	struct zresult r;
	int i;

	TAP_ASSERT(a && b);
	record_history(a);
	for (i = 0; i < nrec; i++) {
		TAP_EQ(txn_decode(recs[i].data, recs[i].len, &t), ZOK);
		TAP_EQ(tree_apply(b, NULL, t, &r), ZOK);
		zresult_free(&r);
		/* the same record again does not fit */
		TAP_EQ(tree_apply(b, NULL, t, &r), ZDATAINCONSISTENCY);
		zresult_free(&r);
		txn_free(t);
	}
	buf_init(&da);
	buf_init(&db);
	TAP_EQ(tree_walk(a, dump_cb, &da), 0);
	TAP_EQ(tree_walk(b, dump_cb, &db), 0);
	TAP_ASSERT(!da.failed && !db.failed);
	TAP_EQ(da.len, db.len);
	TAP_ASSERT(memcmp(da.data, db.data, da.len) == 0);
	TAP_EQ(tree_last_zxid(a), tree_last_zxid(b));
	TAP_ASSERT(tree_lookup(b, "/app/box/x"));
	TAP_ASSERT(tree_lookup(b, "/app/eph") == NULL);
	TAP_ASSERT(tree_session_get(b, 77) == NULL);
	TAP_EQ(tree_lookup(b, "/app")->child_kind, ZNODE_TTL);
	buf_free(&da);
	buf_free(&db);
	free_history();
	tree_free(a);
	tree_free(b);
}

static void test_reencode_identical(void)
{
	struct tree *a = tree_new();
	struct ztxn *t;
	struct buf b;
	int i;

	record_history(a);
	for (i = 0; i < nrec; i++) {
		TAP_EQ(txn_decode(recs[i].data, recs[i].len, &t), ZOK);
		buf_init(&b);
		TAP_EQ(txn_encode(t, &b), ZOK);
		TAP_EQ(b.len, recs[i].len);
		TAP_ASSERT(memcmp(b.data, recs[i].data, b.len) == 0);
		buf_free(&b);
		txn_free(t);
	}
	free_history();
	tree_free(a);
}

static void test_truncated_and_extended(void)
{
	struct tree *a = tree_new();
	struct ztxn *t;
	uint8_t *x;
	size_t n;
	int i;

	record_history(a);
	for (i = 0; i < nrec; i++) {
		for (n = 0; n < recs[i].len; n++) {
			TAP_EQ(txn_decode(recs[i].data, n, &t), ZMARSHALLINGERROR);
			TAP_ASSERT(t == NULL);
		}
		x = malloc(recs[i].len + 1);
		memcpy(x, recs[i].data, recs[i].len);
		x[recs[i].len] = 0;
		TAP_EQ(txn_decode(x, recs[i].len + 1, &t), ZMARSHALLINGERROR);
		/* an unknown format version */
		x[0] = 2;
		TAP_EQ(txn_decode(x, recs[i].len, &t), ZMARSHALLINGERROR);
		free(x);
	}
	free_history();
	tree_free(a);
}

/* Corrupt bytes: decode refuses or yields something apply handles. */
static void test_corrupt(void)
{
	struct tree *a = tree_new(), *scratch;
	struct ztxn *t;
	struct zresult r;
	uint8_t *x;
	size_t pos;
	int i, bit, decoded = 0, refused = 0;

	record_history(a);
	scratch = tree_new();
	for (i = 0; i < nrec; i++) {
		x = malloc(recs[i].len);
		for (pos = 0; pos < recs[i].len; pos++) {
			for (bit = 0; bit < 8; bit += 3) {
				memcpy(x, recs[i].data, recs[i].len);
				x[pos] ^= (uint8_t)(1u << bit);
				if (txn_decode(x, recs[i].len, &t) != ZOK) {
					refused++;
					continue;
				}
				decoded++;
				tree_apply(scratch, NULL, t, &r);
				zresult_free(&r);
				txn_free(t);
			}
		}
		free(x);
	}
	printf("# %d corrupt records refused, %d decoded\n", refused, decoded);
	TAP_ASSERT(refused > 0);
	free_history();
	tree_free(a);
	tree_free(scratch);
}

static void test_hostile_counts(void)
{
	struct buf b;
	struct ztxn *t;

	/* a multi claiming 2^32-1 ops in a short record */
	buf_init(&b);
	buf_put_u8(&b, 1);
	buf_put_u32(&b, ZOP_MULTI);
	buf_put_u64(&b, 5);
	buf_put_u64(&b, 0);
	buf_put_u64(&b, 1);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 0xffffffffu);
	TAP_EQ(txn_decode(b.data, b.len, &t), ZMARSHALLINGERROR);
	buf_reset(&b);
	/* a create with a huge ACL count */
	buf_put_u8(&b, 1);
	buf_put_u32(&b, ZOP_CREATE);
	buf_put_u64(&b, 5);
	buf_put_u64(&b, 0);
	buf_put_u64(&b, 1);
	buf_put_u32(&b, 0);
	buf_put_str(&b, "/a");
	buf_put_bytes(&b, NULL, -1);
	buf_put_u32(&b, 0x7fffffffu);
	TAP_EQ(txn_decode(b.data, b.len, &t), ZMARSHALLINGERROR);
	buf_reset(&b);
	/* a nested multi */
	buf_put_u8(&b, 1);
	buf_put_u32(&b, ZOP_MULTI);
	buf_put_u64(&b, 5);
	buf_put_u64(&b, 0);
	buf_put_u64(&b, 1);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 1);
	buf_put_u32(&b, ZOP_MULTI);
	buf_put_u32(&b, 0);
	buf_put_u32(&b, 0);
	TAP_EQ(txn_decode(b.data, b.len, &t), ZMARSHALLINGERROR);
	buf_reset(&b);
	/* a bad path */
	buf_put_u8(&b, 1);
	buf_put_u32(&b, ZOP_DELETE);
	buf_put_u64(&b, 5);
	buf_put_u64(&b, 0);
	buf_put_u64(&b, 1);
	buf_put_u32(&b, 0);
	buf_put_str(&b, "/a/../b");
	TAP_EQ(txn_decode(b.data, b.len, &t), ZMARSHALLINGERROR);
	buf_reset(&b);
	/* an unknown type */
	buf_put_u8(&b, 1);
	buf_put_u32(&b, 4242);
	buf_put_u64(&b, 5);
	buf_put_u64(&b, 0);
	buf_put_u64(&b, 1);
	buf_put_u32(&b, 0);
	TAP_EQ(txn_decode(b.data, b.len, &t), ZMARSHALLINGERROR);
	buf_free(&b);
}

static const struct tap_case cases[] = {
    {"replay_equal", test_replay_equal},
    {"reencode_identical", test_reencode_identical},
    {"truncated_and_extended", test_truncated_and_extended},
    {"corrupt", test_corrupt},
    {"hostile_counts", test_hostile_counts},
};

TAP_MAIN(cases)
