/* test_zkimport.c - ZooKeeper's file formats (src/adm/zkfile.h), the offline
 * DataTree's transaction apply (zkdb.h), the conversion into a quorumfs tree
 * and verify's consistency checks, on files built byte by byte here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adm.h"
#include "buf.h"
#include "snapshot.h"
#include "tap.h"
#include "txn.h"
#include "verify.h"
#include "zkfile.h"

static void put_stat(struct buf *b, int64_t cz, int64_t mz, int32_t v, int32_t cv,
		     int64_t owner, int64_t pz)
{
	buf_put_u64(b, (uint64_t)cz);
	buf_put_u64(b, (uint64_t)mz);
	buf_put_u64(b, 1000);
	buf_put_u64(b, 2000);
	buf_put_u32(b, (uint32_t)v);
	buf_put_u32(b, (uint32_t)cv);
	buf_put_u32(b, 0);
	buf_put_u64(b, (uint64_t)owner);
	buf_put_u64(b, (uint64_t)pz);
}

static void put_node(struct buf *b, const char *path, const char *data, int64_t acl,
		     int64_t cz, int32_t cv, int64_t owner)
{
	buf_put_str(b, path);
	if (data)
		buf_put_bytes(b, data, (int32_t)strlen(data));
	else
		buf_put_bytes(b, NULL, -1);
	buf_put_u64(b, (uint64_t)acl);
	put_stat(b, cz, cz, 0, cv, owner, cz);
}

static void seal(struct buf *b)
{
	uint32_t a = zk_adler32(1, b->data, b->len);

	buf_put_u64(b, a);
	buf_put_str(b, "/");
}

/* A 3.8-style snapshot: sessions, two ACLs, a small tree. */
static void make_snap(struct buf *b, int with_parent, int trailers)
{
	buf_put_u32(b, ZK_SNAP_MAGIC);
	buf_put_u32(b, 2);
	buf_put_u64(b, (uint64_t)-1);
	buf_put_u32(b, 1); /* sessions */
	buf_put_u64(b, 0x5);
	buf_put_u32(b, 30000);
	buf_put_u32(b, 1); /* ACL cache */
	buf_put_u64(b, 1);
	buf_put_u32(b, 1);
	buf_put_u32(b, 31);
	buf_put_str(b, "digest");
	buf_put_str(b, "ops:w4PIv8/Wzcq4qj4/MfEQ8pvUSS4=");
	put_node(b, "", NULL, -1, 0, 1, 0);
	put_node(b, "/zookeeper", "", -1, 0, 0, 0);
	if (with_parent)
		put_node(b, "/a", "data-a", 1, 3, 1, 0);
	put_node(b, "/a/e", "eph", -1, 4, 0, 0x5);
	buf_put_str(b, "/");
	seal(b);
	if (trailers) {
		buf_put_u64(b, 4); /* ZxidDigest */
		buf_put_u32(b, 2);
		buf_put_u64(b, 0x1234);
		seal(b);
		buf_put_u64(b, 4); /* lastProcessedZxid */
		seal(b);
	}
}

static void test_adler(void)
{
	TAP_EQ(zk_adler32(1, "Wikipedia", 9), 0x11E60398);
	TAP_EQ(zk_adler32(1, "", 0), 1);
}

static void test_snap_decode(void)
{
	struct zkdb db;
	struct buf b;
	struct zk_node *a, *e;
	char err[256];
	int trailers;

	for (trailers = 0; trailers < 2; trailers++) {
		buf_init(&b);
		make_snap(&b, 1, trailers);
		TAP_ASSERT(zkdb_init(&db) == 0);
		TAP_EQ(zk_snap_decode(&db, b.data, b.len, err, sizeof(err)), 0);
		TAP_EQ(db.count, 4);
		TAP_EQ(db.nsess, 1);
		a = zkdb_get(&db, "/a");
		e = zkdb_get(&db, "/a/e");
		TAP_ASSERT(a && e);
		TAP_EQ(a->st.num_children, 1);
		TAP_EQ(a->len, 6);
		TAP_STREQ(db.acls[a->acl].v[0].scheme, "digest");
		TAP_STREQ(db.acls[e->acl].v[0].scheme, "world");
		TAP_EQ(e->st.ephemeral_owner, 5);
		TAP_ASSERT(zkdb_get(&db, "/")->null_data);
		zkdb_free(&db);
		buf_free(&b);
	}
}

static void test_snap_damage(void)
{
	struct zkdb db;
	struct buf b;
	char err[256];
	size_t i;

	buf_init(&b);
	make_snap(&b, 1, 1);
	b.data[b.len / 2] ^= 0x20; /* inside the nodes */
	TAP_ASSERT(zkdb_init(&db) == 0);
	TAP_EQ(zk_snap_decode(&db, b.data, b.len, err, sizeof(err)), -EBADMSG);
	printf("# %s\n", err);
	zkdb_free(&db);
	buf_free(&b);

	buf_init(&b);
	make_snap(&b, 0, 0);
	TAP_ASSERT(zkdb_init(&db) == 0);
	TAP_EQ(zk_snap_decode(&db, b.data, b.len, err, sizeof(err)), -EBADMSG);
	TAP_ASSERT(strstr(err, "\"/a/e\" comes without its parent"));
	zkdb_free(&db);
	buf_free(&b);

	/* Every truncation is refused, never a crash or a partial success. */
	buf_init(&b);
	make_snap(&b, 1, 1);
	for (i = 0; i < b.len; i++) {
		size_t n = i;

		/* Cutting exactly before a trailer is a whole older layout. */
		TAP_ASSERT(zkdb_init(&db) == 0);
		if (zk_snap_decode(&db, b.data, n, err, sizeof(err)) == 0)
			TAP_ASSERT(n == b.len - 54 || n == b.len - 21);
		zkdb_free(&db);
	}
	buf_free(&b);
}

/* One log record: TxnHeader + body, with its checksum and end mark. */
static void put_rec(struct buf *log, int64_t client, int64_t zxid, int32_t type,
		    const struct buf *body)
{
	struct buf e;

	buf_init(&e);
	buf_put_u64(&e, (uint64_t)client);
	buf_put_u32(&e, 1);
	buf_put_u64(&e, (uint64_t)zxid);
	buf_put_u64(&e, (uint64_t)(5000 + zxid));
	buf_put_u32(&e, (uint32_t)type);
	buf_put(&e, body->data, body->len);
	buf_put_u64(log, zk_adler32(1, e.data, e.len));
	buf_put_u32(log, (uint32_t)e.len);
	buf_put(log, e.data, e.len);
	buf_put_u8(log, 'B');
	buf_free(&e);
}

static void put_acl_open(struct buf *b)
{
	buf_put_u32(b, 1);
	buf_put_u32(b, 31);
	buf_put_str(b, "world");
	buf_put_str(b, "anyone");
}

static void body_create(struct buf *b, int type, const char *path, const char *data,
			int eph, int64_t ttl)
{
	buf_reset(b);
	buf_put_str(b, path);
	buf_put_bytes(b, data, (int32_t)strlen(data));
	put_acl_open(b);
	if (type == ZOP_CREATE || type == ZOP_CREATE2)
		buf_put_u8(b, (uint8_t)eph);
	buf_put_u32(b, (uint32_t)-1); /* parentCVersion: one more */
	if (type == ZOP_CREATETTL)
		buf_put_u64(b, (uint64_t)ttl);
}

static void make_log(struct buf *log)
{
	struct buf b, m, sub;

	buf_init(&b);
	buf_init(&m);
	buf_init(&sub);
	buf_put_u32(log, ZK_LOG_MAGIC);
	buf_put_u32(log, 2);
	buf_put_u64(log, 0);
	body_create(&b, ZOP_CREATE, "/b", "one", 0, 0);
	put_rec(log, 1, 1, ZOP_CREATE, &b);
	buf_reset(&b);
	buf_put_str(&b, "/b");
	buf_put_bytes(&b, "two", 3);
	buf_put_u32(&b, 1);
	put_rec(log, 1, 2, ZOP_SETDATA, &b);
	body_create(&b, ZOP_CREATECONTAINER, "/c", "", 0, 0);
	put_rec(log, 1, 3, ZOP_CREATECONTAINER, &b);
	body_create(&b, ZOP_CREATETTL, "/t", "", 0, 60000);
	put_rec(log, 1, 4, ZOP_CREATETTL, &b);
	/* multi: create /c/x, setACL /b */
	buf_put_u32(&m, 2);
	body_create(&sub, ZOP_CREATE, "/c/x", "x", 0, 0);
	buf_put_u32(&m, ZOP_CREATE);
	buf_put_bytes(&m, sub.data, (int32_t)sub.len);
	buf_reset(&sub);
	buf_put_str(&sub, "/b");
	buf_put_u32(&sub, 1);
	buf_put_u32(&sub, 1);
	buf_put_str(&sub, "ip");
	buf_put_str(&sub, "127.0.0.1");
	buf_put_u32(&sub, 1);
	buf_put_u32(&m, ZOP_SETACL);
	buf_put_bytes(&m, sub.data, (int32_t)sub.len);
	put_rec(log, 1, 5, ZOP_MULTI, &m);
	buf_reset(&b);
	buf_put_str(&b, "/c/x");
	put_rec(log, 1, 6, ZOP_DELETE, &b);
	buf_reset(&b);
	buf_put_u32(&b, 5000);
	put_rec(log, 7, 7, ZOP_CREATESESSION, &b);
	body_create(&b, ZOP_CREATE2, "/e", "", 1, 0);
	put_rec(log, 7, 8, ZOP_CREATE2, &b);
	buf_reset(&b);
	put_rec(log, 7, 9, ZOP_CLOSESESSION, &b);
	buf_reset(&b);
	buf_put_u32(&b, (uint32_t)-101);
	put_rec(log, 1, 10, ZOP_ERROR, &b);
	/* A failed multi: the op before the failure is logged as a real
	 * create, and must not be applied. */
	buf_reset(&m);
	buf_put_u32(&m, 2);
	body_create(&sub, ZOP_CREATE, "/fail", "", 0, 0);
	buf_put_u32(&m, ZOP_CREATE);
	buf_put_bytes(&m, sub.data, (int32_t)sub.len);
	buf_reset(&sub);
	buf_put_u32(&sub, (uint32_t)-110);
	buf_put_u32(&m, (uint32_t)ZOP_ERROR);
	buf_put_bytes(&m, sub.data, (int32_t)sub.len);
	put_rec(log, 1, 11, ZOP_MULTI, &m);
	buf_free(&b);
	buf_free(&m);
	buf_free(&sub);
}

static struct zkdb *fresh_db(void)
{
	static struct zkdb db;
	struct zstat st;

	TAP_ASSERT(zkdb_init(&db) == 0);
	memset(&st, 0, sizeof(st));
	TAP_EQ(
	    zkdb_insert(&db, "/", NULL, -1, zkdb_acl_index(&db, acl_open_unsafe()), &st),
	    0);
	return &db;
}

static void test_log_apply(void)
{
	struct zk_log_result r;
	struct zkdb *db = fresh_db();
	struct zk_node *n;
	struct buf log;
	char err[256];
	int64_t ttl;

	buf_init(&log);
	make_log(&log);
	buf_put(&log, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16); /* padding */
	TAP_EQ(zk_log_replay(db, log.data, log.len, &r, err, sizeof(err)), 0);
	TAP_EQ(r.records, 11);
	TAP_EQ(r.applied, 11);
	TAP_EQ(r.torn, 0);
	TAP_EQ(db->zxid, 11);
	TAP_ASSERT(zkdb_get(db, "/fail") == NULL);
	n = zkdb_get(db, "/b");
	TAP_ASSERT(n);
	TAP_EQ(n->st.version, 1);
	TAP_EQ(n->st.mzxid, 2);
	TAP_EQ(n->st.mtime, 5002);
	TAP_EQ(n->st.aversion, 1);
	TAP_STREQ(db->acls[n->acl].v[0].scheme, "ip");
	n = zkdb_get(db, "/c");
	TAP_EQ(zk_owner_kind(n->st.ephemeral_owner, &ttl), ZNODE_CONTAINER);
	TAP_EQ(n->st.cversion, 1); /* one create; the delete moves pzxid only */
	TAP_EQ(n->st.pzxid, 6);
	TAP_EQ(n->st.num_children, 0);
	n = zkdb_get(db, "/t");
	TAP_EQ(zk_owner_kind(n->st.ephemeral_owner, &ttl), ZNODE_TTL);
	TAP_EQ(ttl, 60000);
	TAP_ASSERT(zkdb_get(db, "/e") == NULL); /* its session closed */
	TAP_ASSERT(!zkdb_session_has(db, 7));
	n = zkdb_get(db, "/");
	TAP_EQ(n->st.cversion, 4); /* b, c, t, e */
	TAP_EQ(n->st.pzxid, 9);
	/* Replaying again changes nothing: every zxid is already applied. */
	TAP_EQ(zk_log_replay(db, log.data, log.len, &r, err, sizeof(err)), 0);
	TAP_EQ(r.applied, 0);
	zkdb_free(db);
	buf_free(&log);
}

/* Closing a session deletes exactly its ephemerals, also after one of them
 * was deleted by hand, and leaves other sessions' alone. */
static void test_close_session(void)
{
	struct zk_log_result r;
	struct zkdb *db = fresh_db();
	struct buf log, b;
	char err[256], path[32];
	int64_t z = 1;
	int i, s;

	buf_init(&log);
	buf_init(&b);
	buf_put_u32(&log, ZK_LOG_MAGIC);
	buf_put_u32(&log, 2);
	buf_put_u64(&log, 0);
	for (s = 1; s <= 3; s++) {
		buf_reset(&b);
		buf_put_u32(&b, 4000);
		put_rec(&log, s, z++, ZOP_CREATESESSION, &b);
		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "/s%d-%d", s, i);
			body_create(&b, ZOP_CREATE, path, "", 1, 0);
			put_rec(&log, s, z++, ZOP_CREATE, &b);
		}
	}
	buf_reset(&b);
	buf_put_str(&b, "/s2-0");
	put_rec(&log, 2, z++, ZOP_DELETE, &b);
	buf_reset(&b);
	put_rec(&log, 2, z++, ZOP_CLOSESESSION, &b);
	put_rec(&log, 3, z++, ZOP_CLOSESESSION, &b);
	put_rec(&log, 3, z++, ZOP_CLOSESESSION, &b); /* twice: nothing more */
	TAP_EQ(zk_log_replay(db, log.data, log.len, &r, err, sizeof(err)), 0);
	TAP_EQ(db->count, 1 + 4);
	TAP_EQ(db->nsess, 1);
	TAP_ASSERT(zkdb_session_has(db, 1) && !zkdb_session_has(db, 2));
	TAP_ASSERT(zkdb_get(db, "/s1-3") && !zkdb_get(db, "/s2-1") &&
		   !zkdb_get(db, "/s3-0"));
	TAP_EQ(zkdb_get(db, "/")->st.num_children, 4);
	zkdb_free(db);
	buf_free(&log);
	buf_free(&b);
}

/* Over a fuzzy snapshot a deletion may find its node already gone (it went
 * after its parent was written): the parent's pzxid must still reach the
 * deletion's zxid, as in the live tree, for a close listing the path
 * (CloseSessionTxn) and for a plain delete; an existing node of another
 * owner that a close lists is left alone. */
static void test_fuzzy_deletes(void)
{
	struct zk_log_result r;
	struct zkdb *db = fresh_db();
	struct zstat st;
	struct buf log, b;
	char err[256];

	buf_init(&log);
	buf_init(&b);
	memset(&st, 0, sizeof(st));
	st.czxid = st.mzxid = st.pzxid = 3;
	TAP_EQ(zkdb_insert(db, "/d", NULL, 0, 0, &st), 0);
	zkdb_get(db, "/")->st.pzxid = 3;
	TAP_EQ(zkdb_session_put(db, 9, 4000), 0);
	db->zxid = 3;
	buf_put_u32(&log, ZK_LOG_MAGIC);
	buf_put_u32(&log, 2);
	buf_put_u64(&log, 0);
	buf_put_str(&b, "/d/gone");
	put_rec(&log, 1, 4, ZOP_DELETE, &b);
	buf_reset(&b);
	buf_put_u32(&b, 2);
	buf_put_str(&b, "/lost");
	buf_put_str(&b, "/d");
	put_rec(&log, 9, 5, ZOP_CLOSESESSION, &b);
	TAP_EQ(zk_log_replay(db, log.data, log.len, &r, err, sizeof(err)), 0);
	TAP_EQ(r.applied, 2);
	TAP_EQ(zkdb_get(db, "/d")->st.pzxid, 4);
	TAP_EQ(zkdb_get(db, "/")->st.pzxid, 5);
	TAP_ASSERT(zkdb_get(db, "/d") != NULL);
	TAP_ASSERT(!zkdb_session_has(db, 9));
	/* A path count that cannot fit is refused, not read past the end. */
	buf_reset(&log);
	buf_put_u32(&log, ZK_LOG_MAGIC);
	buf_put_u32(&log, 2);
	buf_put_u64(&log, 0);
	buf_reset(&b);
	buf_put_u32(&b, 1000);
	buf_put_str(&b, "/x");
	put_rec(&log, 9, 6, ZOP_CLOSESESSION, &b);
	TAP_ASSERT(zk_log_replay(db, log.data, log.len, &r, err, sizeof(err)) < 0);
	zkdb_free(db);
	buf_free(&log);
	buf_free(&b);
}

static void test_log_damage(void)
{
	struct zk_log_result r;
	struct zkdb *db;
	struct buf log;
	char err[256];

	/* Torn: the last record's end mark missing. */
	buf_init(&log);
	make_log(&log);
	log.data[log.len - 1] = 0;
	db = fresh_db();
	TAP_EQ(zk_log_replay(db, log.data, log.len, &r, err, sizeof(err)), 0);
	TAP_EQ(r.torn, 1);
	TAP_EQ(db->zxid, 10);
	zkdb_free(db);
	/* Torn: cut in the middle of the last record. */
	db = fresh_db();
	TAP_EQ(zk_log_replay(db, log.data, log.len - 8, &r, err, sizeof(err)), 0);
	TAP_EQ(r.torn, 1);
	zkdb_free(db);
	buf_free(&log);
	/* Damaged with records after it. */
	buf_init(&log);
	make_log(&log);
	log.data[16 + 12 + 30] ^= 1;
	db = fresh_db();
	TAP_EQ(zk_log_replay(db, log.data, log.len, &r, err, sizeof(err)), -EBADMSG);
	TAP_ASSERT(strstr(err, "checksum mismatch in the record at byte 16"));
	zkdb_free(db);
	buf_free(&log);
	/* A gap: the tree is at 0x20, the log continues at 0x22. */
	buf_init(&log);
	make_log(&log);
	db = fresh_db();
	db->zxid = 0;
	{
		struct buf l2, b;

		buf_init(&l2);
		buf_init(&b);
		buf_put(&l2, log.data, 16);
		body_create(&b, ZOP_CREATE, "/g", "", 0, 0);
		put_rec(&l2, 1, 0x22, ZOP_CREATE, &b);
		db->zxid = 0x20;
		TAP_EQ(zk_log_replay(db, l2.data, l2.len, &r, err, sizeof(err)),
		       -ENODATA);
		TAP_ASSERT(strstr(err, "missing"));
		buf_free(&l2);
		buf_free(&b);
	}
	zkdb_free(db);
	buf_free(&log);
}

static void test_to_tree_and_back(void)
{
	const struct znode *n;
	struct zkdb db, db2;
	struct tree *t;
	struct buf b;
	char err[256], *mem = NULL;
	size_t memlen = 0;
	uint64_t nodes;
	FILE *f;

	buf_init(&b);
	make_snap(&b, 1, 0);
	TAP_ASSERT(zkdb_init(&db) == 0);
	TAP_EQ(zk_snap_decode(&db, b.data, b.len, err, sizeof(err)), 0);
	db.zxid = 4;
	t = tree_new();
	TAP_EQ(adm_zkdb_to_tree(&db, t, err, sizeof(err)), 0);
	n = tree_lookup(t, "/a/e");
	TAP_ASSERT(n && n->kind == ZNODE_EPHEMERAL);
	TAP_ASSERT(tree_session_get(t, 5));
	n = tree_lookup(t, "/a");
	TAP_ASSERT(n && (n->flags & ZNODE_F_DIR) && n->stat.czxid == 3);
	TAP_EQ(tree_last_zxid(t), 4);
	/* Back to ZooKeeper's format, and decoded again: the same nodes. */
	f = open_memstream(&mem, &memlen);
	TAP_EQ(zk_snap_write(t, f, &nodes, NULL, NULL), 0);
	fclose(f);
	TAP_ASSERT(zkdb_init(&db2) == 0);
	TAP_EQ(zk_snap_decode(&db2, mem, memlen, err, sizeof(err)), 0);
	TAP_EQ(db2.count, nodes);
	TAP_EQ(zkdb_get(&db2, "/a")->st.czxid, 3);
	TAP_EQ(zkdb_get(&db2, "/a")->len, 6);
	TAP_STREQ(db2.acls[zkdb_get(&db2, "/a")->acl].v[0].scheme, "digest");
	TAP_EQ(zkdb_get(&db2, "/a/e")->st.ephemeral_owner, 5);
	TAP_ASSERT(zkdb_session_has(&db2, 5));
	free(mem);
	zkdb_free(&db2);
	tree_free(t);
	zkdb_free(&db);
	buf_free(&b);
}

/* verify finds an ephemeral whose session is not in the file, which the
 * checksum cannot (the file is internally consistent). */
static void test_verify_orphan(void)
{
	struct verify_report r;
	struct tree *t = tree_new();
	struct znode zn;
	char dir[] = "/tmp/test_zkimport.XXXXXX", err[512], path[256];

	TAP_ASSERT(mkdtemp(dir));
	memset(&zn, 0, sizeof(zn));
	zn.path = "/orphan";
	zn.name = "orphan";
	zn.acl = *acl_open_unsafe();
	zn.kind = ZNODE_EPHEMERAL;
	zn.stat.czxid = zn.stat.mzxid = zn.stat.pzxid = 2;
	zn.stat.ephemeral_owner = 0x99;
	TAP_EQ(tree_load_node(t, &zn, NULL), 0);
	tree_set_last_zxid(t, 2);
	TAP_EQ(snapshot_write(t, dir, 2, err, sizeof(err)), 0);
	snapshot_path(path, sizeof(path), dir, 2);
	TAP_EQ(adm_verify(path, &r), 0);
	TAP_EQ(r.nproblems, 1);
	TAP_ASSERT(strstr(r.problems, "/orphan: ephemeral of session 0x99"));
	unlink(path);
	rmdir(dir);
	tree_free(t);
}

static const struct tap_case cases[] = {
    {"adler32", test_adler},
    {"snapshot_decode", test_snap_decode},
    {"snapshot_damage", test_snap_damage},
    {"log_apply", test_log_apply},
    {"close_session", test_close_session},
    {"fuzzy_deletes", test_fuzzy_deletes},
    {"log_damage", test_log_damage},
    {"to_tree_and_back", test_to_tree_and_back},
    {"verify_orphan_ephemeral", test_verify_orphan},
};

TAP_MAIN(cases)
