/* test_tree.c - the tree through prepare and apply: every operation, its
 * errors and the Stat bookkeeping, as ZooKeeper's DataTree behaves. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "tree.h"
#include "txn.h"
#include "zerr.h"

static struct tree *T;
static struct prep *P;
static zxid_t Z;
static int64_t NOW;

#define EV_MAX 64
static struct {
	enum tree_event_type type;
	char path[128];
	int was_dir;
	int64_t session;
} ev[EV_MAX];
static int nev;

static void listener(void *arg, const struct tree_event *e)
{
	if (nev < EV_MAX) {
		ev[nev].type = e->type;
		snprintf(ev[nev].path, sizeof(ev[nev].path), "%s", e->path);
		ev[nev].was_dir = e->was_dir;
		ev[nev].session = e->session_id;
		nev++;
	}
}

/* The last case's tree, freed at exit so that leak checkers see none. It
 * used to be a case of its own that asserted nothing and counted as a
 * passed test (and ran only if it came last). */
static void free_shared(void)
{
	tree_free(T);
	prep_free(P);
	T = NULL;
	P = NULL;
}

static void setup(void)
{
	static int registered;

	if (!registered && atexit(free_shared) == 0)
		registered = 1;
	tree_free(T);
	prep_free(P);
	T = tree_new();
	P = prep_new(T);
	TAP_ASSERT(T && P);
	tree_set_listener(T, listener, NULL);
	Z = zxid_make(1, 0);
	NOW = 1700000000000;
	nev = 0;
}

/* Prepare and apply at once; the result goes to *res if given. */
static int run(const struct zreq *req, int64_t session, const struct zauth *auth,
	       struct zresult *res)
{
	struct ztxn *txn = NULL;
	struct zresult r;
	int rc;

	rc = txn_prepare(P, req, auth, session, 1, Z + 1, NOW, &txn, &r);
	if (rc != ZOK) {
		TAP_ASSERT(txn == NULL);
		if (res)
			*res = r;
		else
			zresult_free(&r);
		return rc;
	}
	zresult_free(&r);
	Z++;
	NOW += 10;
	rc = tree_apply(T, P, txn, &r);
	txn_free(txn);
	if (res)
		*res = r;
	else
		zresult_free(&r);
	return rc;
}

static int mk(const char *path, const char *data, int mode)
{
	struct zreq q = {.op = ZOP_CREATE,
			 .path = path,
			 .data = data,
			 .data_len = data ? (int32_t)strlen(data) : 0,
			 .acl = acl_open_unsafe(),
			 .mode = mode};

	return run(&q, 0, NULL, NULL);
}

static int rm(const char *path, int version)
{
	struct zreq q = {.op = ZOP_DELETE, .path = path, .version = version};

	return run(&q, 0, NULL, NULL);
}

static int setd(const char *path, const char *data, int version)
{
	struct zreq q = {.op = ZOP_SETDATA,
			 .path = path,
			 .data = data,
			 .data_len = (int32_t)strlen(data),
			 .version = version};

	return run(&q, 0, NULL, NULL);
}

static int open_session(int64_t id)
{
	struct zreq q = {.op = ZOP_CREATESESSION, .timeout_ms = 30000, .owner = "h1/mnt"};

	return run(&q, id, NULL, NULL);
}

static const struct znode *L(const char *path)
{
	return tree_lookup(T, path);
}

static void test_initial_tree(void)
{
	char **names;
	size_t n;

	setup();
	TAP_EQ(tree_node_count(T), 4);
	TAP_ASSERT(L("/") && L("/zookeeper") && L("/zookeeper/quota") &&
		   L("/zookeeper/config"));
	TAP_STREQ(L("/")->name, "");
	TAP_STREQ(L("/zookeeper/quota")->name, "quota");
	TAP_EQ(L("/")->stat.num_children, 1);
	TAP_EQ(L("/zookeeper")->stat.num_children, 2);
	TAP_EQ(L("/zookeeper/config")->stat.aversion, -1);
	TAP_EQ(L("/zookeeper/config")->acl.v[0].perms, ZPERM_READ);
	TAP_EQ(L("/")->acl.v[0].perms, ZPERM_ALL);
	TAP_EQ(L("/")->stat.czxid, 0);
	TAP_ASSERT(L("/zookeeper")->flags & ZNODE_F_DIR);
	TAP_EQ(tree_children(T, L("/zookeeper"), &names, &n), 0);
	TAP_EQ(n, 2);
	TAP_STREQ(names[0], "config");
	TAP_STREQ(names[1], "quota");
	TAP_ASSERT(names[2] == NULL);
	tree_names_free(names);
	TAP_EQ(tree_descendants(T, L("/")), 3);
	TAP_ASSERT(tree_is_special_path("/zookeeper/config"));
	TAP_ASSERT(!tree_is_special_path("/zookeeper/x"));
}

static void test_create_stat(void)
{
	const struct znode *n, *root;
	struct zresult r;
	struct zreq q = {.op = ZOP_CREATE2,
			 .path = "/a",
			 .data = "hi",
			 .data_len = 2,
			 .acl = acl_open_unsafe()};

	setup();
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_STREQ(r.path, "/a");
	TAP_EQ(r.zxid, Z);
	TAP_EQ(r.stat.czxid, (int64_t)Z);
	TAP_EQ(r.stat.data_length, 2);
	zresult_free(&r);
	n = L("/a");
	TAP_ASSERT(n);
	TAP_EQ(n->stat.czxid, (int64_t)Z);
	TAP_EQ(n->stat.mzxid, (int64_t)Z);
	TAP_EQ(n->stat.pzxid, (int64_t)Z);
	TAP_EQ(n->stat.ctime, NOW - 10);
	TAP_EQ(n->stat.mtime, NOW - 10);
	TAP_EQ(n->stat.version, 0);
	TAP_EQ(n->stat.cversion, 0);
	TAP_EQ(n->stat.aversion, 0);
	TAP_EQ(n->stat.ephemeral_owner, 0);
	TAP_EQ(n->stat.num_children, 0);
	TAP_ASSERT(memcmp(n->data, "hi", 2) == 0);
	TAP_ASSERT(!(n->flags & ZNODE_F_DIR));
	TAP_EQ(n->kind, ZNODE_PERSISTENT);
	root = L("/");
	TAP_EQ(root->stat.cversion, 1);
	TAP_EQ(root->stat.pzxid, (int64_t)Z);
	TAP_EQ(root->stat.num_children, 2);
	TAP_EQ(nev, 1);
	TAP_EQ(ev[0].type, TREE_CREATED);
	TAP_STREQ(ev[0].path, "/a");
	/* the first child makes a directory, forever */
	TAP_EQ(mk("/a/b", NULL, 0), ZOK);
	TAP_ASSERT(L("/a")->flags & ZNODE_F_DIR);
	TAP_EQ(L("/a")->stat.cversion, 1);
	TAP_EQ(rm("/a/b", -1), ZOK);
	TAP_ASSERT(L("/a")->flags & ZNODE_F_DIR);
	TAP_EQ(tree_last_zxid(T), Z);
}

static void test_create_errors(void)
{
	struct zreq q = {.op = ZOP_CREATE, .acl = acl_open_unsafe()};
	struct acl_list empty = {0, NULL};
	static char big[ZNODE_MAX_DATA + 1];

	setup();
	TAP_EQ(mk("/x/y", NULL, 0), ZNONODE);
	TAP_EQ(mk("/zookeeper", NULL, 0), ZNODEEXISTS);
	TAP_EQ(mk("/", NULL, 0), ZNODEEXISTS);
	TAP_EQ(mk("noslash", NULL, 0), ZBADARGUMENTS);
	TAP_EQ(mk("/a/", NULL, 0), ZNONODE); /* parent "/a" looked up first */
	TAP_EQ(mk("/a.", NULL, 0), ZOK);
	TAP_EQ(mk("/.", NULL, 0), ZBADARGUMENTS);
	TAP_EQ(mk("/..", NULL, 0), ZBADARGUMENTS);
	TAP_EQ(mk("/b", NULL, 7), ZBADARGUMENTS);
	TAP_EQ(mk("/b", NULL, -1), ZBADARGUMENTS);
	q.path = "/b";
	q.acl = &empty;
	TAP_EQ(run(&q, 0, NULL, NULL), ZINVALIDACL);
	q.acl = NULL;
	TAP_EQ(run(&q, 0, NULL, NULL), ZINVALIDACL);
	q.acl = acl_open_unsafe();
	q.data = big;
	q.data_len = ZNODE_MAX_DATA + 1;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	q.data_len = ZNODE_MAX_DATA;
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	TAP_EQ(L("/b")->stat.data_length, ZNODE_MAX_DATA);
	/* the read-only config node: no CREATE for anyone but super */
	TAP_EQ(mk("/zookeeper/config/x", NULL, 0), ZNOAUTH);
	/* a failed create changed nothing */
	TAP_EQ(tree_node_count(T), 6);
}

static void test_ttl_and_container_args(void)
{
	struct zreq q = {.op = ZOP_CREATETTL,
			 .path = "/t",
			 .acl = acl_open_unsafe(),
			 .mode = ZCM_PERSISTENT_WITH_TTL};
	const struct znode *n;

	setup();
	q.ttl_ms = 0;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	q.ttl_ms = -5;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	q.ttl_ms = 0xffffffffffLL + 1;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	q.ttl_ms = 0xffffffffffLL;
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	n = L("/t");
	TAP_EQ(n->kind, ZNODE_TTL);
	TAP_EQ(n->ttl_ms, 0xffffffffffLL);
	TAP_EQ((uint64_t)n->stat.ephemeral_owner,
	       0xff00000000000000ULL | 0xffffffffffULL);
	/* createTTL with a mode that has no TTL, but a TTL given */
	q.path = "/t2";
	q.mode = ZCM_PERSISTENT;
	q.ttl_ms = 100;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	q.op = ZOP_CREATECONTAINER;
	q.mode = ZCM_CONTAINER;
	q.path = "/c";
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	TAP_EQ(L("/c")->kind, ZNODE_CONTAINER);
	TAP_EQ(L("/c")->stat.ephemeral_owner, INT64_MIN);
	/* containers and TTL nodes may have children */
	TAP_EQ(mk("/c/x", NULL, 0), ZOK);
	TAP_EQ(mk("/t/x", NULL, 0), ZOK);
}

static void test_sequential(void)
{
	struct zresult r;
	struct zreq q = {.op = ZOP_CREATE,
			 .path = "/s/job-",
			 .acl = acl_open_unsafe(),
			 .mode = ZCM_PERSISTENT_SEQUENTIAL};

	setup();
	TAP_EQ(mk("/s", NULL, 0), ZOK);
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_STREQ(r.path, "/s/job-0000000000");
	zresult_free(&r);
	TAP_EQ(mk("/s/other", NULL, 0), ZOK);
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_STREQ(r.path, "/s/job-0000000002");
	TAP_ASSERT(L("/s/job-0000000002")->flags & ZNODE_F_SEQUENTIAL);
	zresult_free(&r);
	/* deletes do not move cversion (DataTree.deleteNode), so no reuse */
	TAP_EQ(rm("/s/job-0000000002", -1), ZOK);
	TAP_EQ(L("/s")->stat.cversion, 3);
	TAP_EQ(L("/s")->stat.pzxid, (int64_t)Z);
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_STREQ(r.path, "/s/job-0000000003");
	zresult_free(&r);
	/* a sequential create with an empty name part, as ZooKeeper allows */
	q.path = "/s/";
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_STREQ(r.path, "/s/0000000004");
	zresult_free(&r);
}

static void test_delete(void)
{
	const struct znode *a;
	int64_t cv;

	setup();
	TAP_EQ(mk("/a", NULL, 0), ZOK);
	TAP_EQ(mk("/a/b", NULL, 0), ZOK);
	TAP_EQ(rm("/a", -1), ZNOTEMPTY);
	TAP_EQ(rm("/a/c", -1), ZNONODE);
	TAP_EQ(rm("/q/c", -1), ZNONODE);
	TAP_EQ(rm("/a/b", 3), ZBADVERSION);
	TAP_EQ(rm("/", -1), ZBADARGUMENTS);
	TAP_EQ(rm("/zookeeper", -1), ZBADARGUMENTS);
	TAP_EQ(rm("/zookeeper/quota", -1), ZBADARGUMENTS);
	TAP_EQ(rm("/zookeeper/config", -1), ZBADARGUMENTS);
	TAP_EQ(rm("nope", -1), ZBADARGUMENTS);
	a = L("/a");
	cv = a->stat.cversion;
	nev = 0;
	TAP_EQ(rm("/a/b", 0), ZOK);
	a = L("/a");
	TAP_EQ(a->stat.num_children, 0);
	TAP_EQ(a->stat.cversion, cv);
	TAP_EQ(a->stat.pzxid, (int64_t)Z);
	TAP_ASSERT(L("/a/b") == NULL);
	TAP_EQ(nev, 1);
	TAP_EQ(ev[0].type, TREE_DELETED);
	TAP_STREQ(ev[0].path, "/a/b");
	TAP_EQ(ev[0].was_dir, 0);
	TAP_EQ(rm("/a", -1), ZOK);
	TAP_EQ(ev[1].was_dir, 1);
}

static void test_setdata(void)
{
	const struct znode *n;
	struct zresult r;
	struct zreq q = {
	    .op = ZOP_SETDATA, .path = "/a", .data = "xyz", .data_len = 3, .version = 0};

	setup();
	TAP_EQ(mk("/a", "1", 0), ZOK);
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_EQ(r.stat.version, 1);
	TAP_EQ(r.stat.mzxid, (int64_t)Z);
	zresult_free(&r);
	n = L("/a");
	TAP_EQ(n->stat.version, 1);
	TAP_EQ(n->stat.mzxid, (int64_t)Z);
	TAP_ASSERT(n->stat.czxid < n->stat.mzxid);
	TAP_EQ(n->stat.mtime, NOW - 10);
	TAP_EQ(n->stat.data_length, 3);
	TAP_ASSERT(memcmp(n->data, "xyz", 3) == 0);
	TAP_EQ(setd("/a", "q", 0), ZBADVERSION);
	TAP_EQ(setd("/a", "q", -1), ZOK);
	TAP_EQ(L("/a")->stat.version, 2);
	TAP_EQ(setd("/nope", "q", -1), ZNONODE);
	TAP_EQ(setd("/a/", "q", -1), ZBADARGUMENTS);
	TAP_EQ(setd("/a//b", "q", -1), ZBADARGUMENTS);
	TAP_EQ(setd("/a", "", -1), ZOK);
	TAP_EQ(L("/a")->stat.data_length, 0);
	TAP_EQ(ev[nev - 1].type, TREE_DATA);
}

static void test_acl_checks(void)
{
	struct acl_list ro;
	struct zauth me = {0}, other = {0}, su = {0};
	char err[64], *d;
	struct zreq q = {0};

	setup();
	d = acl_digest("me:pw");
	TAP_ASSERT(d);
	TAP_EQ(zauth_add(&me, "digest", d), 0);
	TAP_EQ(zauth_add(&other, "digest", "bob:xx"), 0);
	su.super = 1;
	/* "auth" expands to the caller's digest ids */
	TAP_EQ(acl_parse("auth::cdrwa,world:anyone:r", &ro, err, sizeof(err)), ZOK);
	q.op = ZOP_CREATE;
	q.path = "/p";
	q.acl = &ro;
	TAP_EQ(run(&q, 0, NULL, NULL), ZINVALIDACL); /* no ids to expand */
	TAP_EQ(run(&q, 0, &me, NULL), ZOK);
	TAP_EQ(L("/p")->acl.n, 2);
	TAP_STREQ(L("/p")->acl.v[0].scheme, "digest");
	TAP_STREQ(L("/p")->acl.v[0].id, d);
	acl_free(&ro);
	/* create needs CREATE on the parent */
	q.path = "/p/c";
	q.acl = acl_open_unsafe();
	TAP_EQ(run(&q, 0, &other, NULL), ZNOAUTH);
	TAP_EQ(run(&q, 0, NULL, NULL), ZNOAUTH);
	TAP_EQ(run(&q, 0, &me, NULL), ZOK);
	TAP_EQ(run(&(struct zreq){.op = ZOP_CREATE,
				  .path = "/p/d",
				  .acl = acl_open_unsafe()},
		   0, &su, NULL),
	       ZOK);
	/* delete needs DELETE on the parent, checked before the node exists */
	q = (struct zreq){.op = ZOP_DELETE, .path = "/p/c", .version = -1};
	TAP_EQ(run(&q, 0, &other, NULL), ZNOAUTH);
	q.path = "/p/none";
	TAP_EQ(run(&q, 0, &other, NULL), ZNOAUTH);
	q.path = "/p/c";
	TAP_EQ(run(&q, 0, &me, NULL), ZOK);
	/* setData needs WRITE on the node */
	q = (struct zreq){.op = ZOP_SETDATA, .path = "/p", .version = -1};
	TAP_EQ(run(&q, 0, &other, NULL), ZNOAUTH);
	TAP_EQ(run(&q, 0, &me, NULL), ZOK);
	/* setACL needs ADMIN, bumps aversion, checks it */
	TAP_EQ(acl_parse("world:anyone:r", &ro, err, sizeof(err)), ZOK);
	q = (struct zreq){.op = ZOP_SETACL, .path = "/p", .acl = &ro, .version = 0};
	TAP_EQ(run(&q, 0, &other, NULL), ZNOAUTH);
	q.version = 5;
	TAP_EQ(run(&q, 0, &me, NULL), ZBADVERSION);
	q.version = 0;
	nev = 0;
	TAP_EQ(run(&q, 0, &me, NULL), ZOK);
	TAP_EQ(L("/p")->stat.aversion, 1);
	TAP_EQ(L("/p")->stat.version, 1);
	TAP_EQ(ev[0].type, TREE_ACL);
	TAP_EQ(run(&q, 0, &me, NULL), ZNOAUTH); /* no ADMIN left */
	TAP_EQ(run(&q, 0, &su, NULL), ZBADVERSION);
	q.version = -1;
	TAP_EQ(run(&q, 0, &su, NULL), ZOK);
	/* setACL: a bad ACL is refused before the node is looked up */
	q.path = "/nope";
	q.acl = &(struct acl_list){0, NULL};
	TAP_EQ(run(&q, 0, &su, NULL), ZINVALIDACL);
	q.acl = &ro;
	TAP_EQ(run(&q, 0, &su, NULL), ZNONODE);
	/* check needs READ */
	q = (struct zreq){.op = ZOP_CHECK, .path = "/p", .version = 1};
	TAP_EQ(run(&q, 0, &other, NULL), ZOK);
	q.version = 0;
	TAP_EQ(run(&q, 0, &other, NULL), ZBADVERSION);
	acl_free(&ro);
	TAP_EQ(acl_parse("digest:x:y:a", &ro, err, sizeof(err)), ZOK);
	q = (struct zreq){.op = ZOP_SETACL, .path = "/p", .acl = &ro, .version = -1};
	TAP_EQ(run(&q, 0, &su, NULL), ZOK);
	q = (struct zreq){.op = ZOP_CHECK, .path = "/p", .version = -1};
	TAP_EQ(run(&q, 0, &other, NULL), ZNOAUTH);
	acl_free(&ro);
	free(d);
	zauth_free(&me);
	zauth_free(&other);
}

static void test_sessions_and_ephemerals(void)
{
	struct zreq q = {
	    .op = ZOP_CREATE, .acl = acl_open_unsafe(), .mode = ZCM_EPHEMERAL};
	const struct tree_session *s;
	char **paths;
	size_t n;
	int64_t sid = 0x0100000000000001LL;

	setup();
	TAP_EQ(mk("/locks", NULL, 0), ZOK);
	q.path = "/locks/x";
	TAP_EQ(run(&q, sid, NULL, NULL), ZSESSIONEXPIRED);
	TAP_EQ(run(&q, 0, NULL, NULL), ZSESSIONEXPIRED);
	TAP_EQ(open_session(sid), ZOK);
	TAP_EQ(open_session(sid), ZBADARGUMENTS);
	s = tree_session_get(T, sid);
	TAP_ASSERT(s);
	TAP_EQ(s->timeout_ms, 30000);
	TAP_STREQ(s->owner, "h1/mnt");
	q.path = "/locks/b";
	TAP_EQ(run(&q, sid, NULL, NULL), ZOK);
	q.path = "/locks/a";
	q.dir = 1;
	TAP_EQ(run(&q, sid, NULL, NULL), ZOK);
	q.dir = 0;
	q.path = "/e";
	TAP_EQ(run(&q, sid, NULL, NULL), ZOK);
	TAP_EQ(L("/locks/b")->stat.ephemeral_owner, sid);
	TAP_EQ(L("/locks/b")->kind, ZNODE_EPHEMERAL);
	TAP_ASSERT(L("/locks/a")->flags & ZNODE_F_DIR);
	TAP_EQ(mk("/locks/b/c", NULL, 0), ZNOCHILDRENFOREPHEMERALS);
	TAP_EQ(mk("/locks/a/c", NULL, 0), ZNOCHILDRENFOREPHEMERALS);
	TAP_EQ(tree_session_ephemerals(T, sid, &paths, &n), 0);
	TAP_EQ(n, 3);
	TAP_STREQ(paths[0], "/e");
	TAP_STREQ(paths[1], "/locks/a");
	TAP_STREQ(paths[2], "/locks/b");
	tree_names_free(paths);
	nev = 0;
	q = (struct zreq){.op = ZOP_CLOSESESSION};
	TAP_EQ(run(&q, sid, NULL, NULL), ZOK);
	TAP_EQ(nev, 3);
	TAP_EQ(ev[0].type, TREE_DELETED);
	TAP_STREQ(ev[0].path, "/e");
	TAP_STREQ(ev[1].path, "/locks/a");
	TAP_EQ(ev[1].was_dir, 1);
	TAP_STREQ(ev[2].path, "/locks/b");
	TAP_EQ(ev[2].session, sid);
	TAP_EQ(L("/locks")->stat.num_children, 0);
	TAP_EQ(L("/locks")->stat.pzxid, (int64_t)Z);
	TAP_EQ(L("/")->stat.pzxid, (int64_t)Z);
	TAP_ASSERT(tree_session_get(T, sid) == NULL);
	/* writes from a closed session are refused */
	q = (struct zreq){.op = ZOP_SETDATA, .path = "/locks", .version = -1};
	TAP_EQ(run(&q, sid, NULL, NULL), ZSESSIONEXPIRED);
}

static int count_cb(void *arg, const struct znode *n)
{
	(*(int *)arg)++;
	return 0;
}

static int name_cb(void *arg, const struct znode *n)
{
	strcat((char *)arg, n->path);
	strcat((char *)arg, " ");
	return 0;
}

static void test_reap_candidates(void)
{
	struct zreq q = {.op = ZOP_CREATE, .acl = acl_open_unsafe()};
	char names[256] = "";
	int k = 0;

	setup();
	q.mode = ZCM_CONTAINER;
	q.op = ZOP_CREATECONTAINER;
	q.path = "/c";
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	q.path = "/c2";
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	q.op = ZOP_CREATETTL;
	q.mode = ZCM_PERSISTENT_WITH_TTL;
	q.ttl_ms = 1000;
	q.path = "/t";
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	/* a fresh container never had children: not a candidate */
	TAP_EQ(tree_reap_candidates(T, NOW, count_cb, &k), 0);
	TAP_EQ(k, 0);
	TAP_EQ(mk("/c/x", NULL, 0), ZOK);
	TAP_EQ(mk("/t/x", NULL, 0), ZOK);
	TAP_EQ(tree_reap_candidates(T, NOW + 5000, count_cb, &k), 0);
	TAP_EQ(k, 0);
	TAP_EQ(rm("/c/x", -1), ZOK);
	TAP_EQ(rm("/t/x", -1), ZOK);
	TAP_EQ(tree_reap_candidates(T, L("/t")->stat.mtime + 1000, name_cb, names), 0);
	TAP_STREQ(names, "/c ");
	names[0] = '\0';
	TAP_EQ(tree_reap_candidates(T, L("/t")->stat.mtime + 1001, name_cb, names), 0);
	TAP_ASSERT(strstr(names, "/c ") && strstr(names, "/t "));
	/* the reaper's delete: only if still empty; not for ephemerals */
	TAP_EQ(mk("/c/y", NULL, 0), ZOK);
	q = (struct zreq){.op = ZOP_DELETECONTAINER, .path = "/c"};
	TAP_EQ(run(&q, 0, NULL, NULL), ZNOTEMPTY);
	TAP_EQ(rm("/c/y", -1), ZOK);
	nev = 0;
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	TAP_ASSERT(L("/c") == NULL);
	TAP_EQ(ev[0].type, TREE_DELETED);
	TAP_EQ(run(&q, 0, NULL, NULL), ZNONODE);
	q.path = "/t";
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	q.path = "/zookeeper";
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
}

static void test_multi(void)
{
	struct zreq ops[4], q = {.op = ZOP_MULTI, .ops = ops};
	struct zresult r;
	zxid_t before;
	size_t count;

	setup();
	TAP_EQ(mk("/m", "0", 0), ZOK);
	/* a failing multi changes nothing and reports per op */
	memset(ops, 0, sizeof(ops));
	ops[0] =
	    (struct zreq){.op = ZOP_CREATE, .path = "/m/a", .acl = acl_open_unsafe()};
	ops[1] = (struct zreq){
	    .op = ZOP_SETDATA, .path = "/m", .data = "1", .data_len = 1, .version = 0};
	ops[2] = (struct zreq){.op = ZOP_CHECK, .path = "/m", .version = 7};
	ops[3] = (struct zreq){.op = ZOP_DELETE, .path = "/m/a", .version = -1};
	q.n_ops = 4;
	before = tree_last_zxid(T);
	count = tree_node_count(T);
	nev = 0;
	TAP_EQ(run(&q, 0, NULL, &r), ZBADVERSION);
	TAP_EQ(r.err, ZBADVERSION);
	TAP_EQ(r.n_ops, 4);
	TAP_EQ(r.ops[0].err, ZOK);
	TAP_EQ(r.ops[1].err, ZOK);
	TAP_EQ(r.ops[2].err, ZBADVERSION);
	TAP_EQ(r.ops[3].err, ZRUNTIMEINCONSISTENCY);
	zresult_free(&r);
	TAP_EQ(tree_last_zxid(T), before);
	TAP_EQ(tree_node_count(T), count);
	TAP_EQ(nev, 0);
	TAP_EQ(L("/m")->stat.version, 0);
	/* the rolled-back create left no outstanding record behind */
	TAP_EQ(mk("/m/a", NULL, 0), ZOK);
	TAP_EQ(rm("/m/a", -1), ZOK);
	/* the check sees the setData before it in the same multi */
	ops[2].version = 1;
	nev = 0;
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_EQ(r.n_ops, 4);
	TAP_STREQ(r.ops[0].path, "/m/a");
	TAP_EQ(r.ops[1].stat.version, 1);
	TAP_EQ(r.ops[0].op, ZOP_CREATE);
	TAP_EQ(r.ops[3].op, ZOP_DELETE);
	zresult_free(&r);
	TAP_ASSERT(L("/m/a") == NULL);
	TAP_EQ(L("/m")->stat.version, 1);
	TAP_EQ(nev, 3); /* created, data, deleted; check raises nothing */
	TAP_EQ(ev[0].type, TREE_CREATED);
	TAP_EQ(ev[1].type, TREE_DATA);
	TAP_EQ(ev[2].type, TREE_DELETED);
	/* setACL and nested multis are not multi ops */
	ops[0] = (struct zreq){.op = ZOP_MULTI};
	q.n_ops = 1;
	TAP_EQ(run(&q, 0, NULL, &r), ZBADARGUMENTS);
	TAP_EQ(r.ops[0].err, ZBADARGUMENTS);
	zresult_free(&r);
	/* an empty multi is fine */
	q.n_ops = 0;
	TAP_EQ(run(&q, 0, NULL, &r), ZOK);
	TAP_EQ(r.n_ops, 0);
	zresult_free(&r);
}

static void test_pending_prepare(void)
{
	struct zreq a = {.op = ZOP_CREATE, .path = "/p", .acl = acl_open_unsafe()};
	struct zreq b = {.op = ZOP_CREATE,
			 .path = "/p/q",
			 .acl = acl_open_unsafe(),
			 .mode = ZCM_PERSISTENT_SEQUENTIAL};
	struct zreq s = {.op = ZOP_SETDATA, .path = "/p", .data = "x", .data_len = 1};
	struct zreq d = {.op = ZOP_DELETE, .path = "/p", .version = -1};
	struct ztxn *t1, *t2, *t3, *t4, *t5;
	struct zresult r;

	setup();
	TAP_EQ(txn_prepare(P, &a, NULL, 0, 1, Z + 1, NOW, &t1, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &b, NULL, 0, 2, Z + 2, NOW, &t2, &r), ZOK);
	zresult_free(&r);
	TAP_ASSERT(L("/p") == NULL); /* nothing applied yet */
	/* pending version: 0 now, so version 0 passes and 1 after that */
	s.version = 0;
	TAP_EQ(txn_prepare(P, &s, NULL, 0, 3, Z + 3, NOW, &t3, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &s, NULL, 0, 4, Z + 4, NOW, &t4, &r), ZBADVERSION);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &d, NULL, 0, 4, Z + 4, NOW, &t4, &r), ZNOTEMPTY);
	zresult_free(&r);
	s.version = 1;
	TAP_EQ(txn_prepare(P, &s, NULL, 0, 4, Z + 4, NOW, &t4, &r), ZOK);
	zresult_free(&r);
	/* the second sequential child gets the pending cversion */
	TAP_EQ(txn_prepare(P, &b, NULL, 0, 5, Z + 5, NOW, &t5, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(T, P, t1, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(T, P, t2, &r), ZOK);
	TAP_STREQ(r.path, "/p/q0000000000");
	zresult_free(&r);
	TAP_EQ(tree_apply(T, P, t3, &r), ZOK);
	zresult_free(&r);
	/* t4 and t5 never make it (a lost leadership): abort them */
	prep_abort(P, Z + 3);
	txn_free(t4);
	txn_free(t5);
	TAP_EQ(L("/p")->stat.version, 1);
	s.version = 1;
	TAP_EQ(txn_prepare(P, &s, NULL, 0, 6, Z + 4, NOW, &t4, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(T, P, t4, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(L("/p")->stat.version, 2);
	TAP_EQ(txn_prepare(P, &b, NULL, 0, 7, Z + 5, NOW, &t5, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(T, P, t5, &r), ZOK);
	TAP_STREQ(r.path, "/p/q0000000001");
	zresult_free(&r);
	txn_free(t1);
	txn_free(t2);
	txn_free(t3);
	txn_free(t4);
	txn_free(t5);
	/* out of order apply is refused */
	Z += 5;
	TAP_EQ(txn_prepare(P,
			   &(struct zreq){.op = ZOP_CREATE,
					  .path = "/late",
					  .acl = acl_open_unsafe()},
			   NULL, 0, 8, Z, NOW, &t1, &r),
	       ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(T, P, t1, &r), ZDATAINCONSISTENCY);
	zresult_free(&r);
	txn_free(t1);
}

static void test_pending_session_close(void)
{
	int64_t s1 = 11, s2 = 22;
	struct zreq e = {.op = ZOP_CREATE,
			 .path = "/lock",
			 .acl = acl_open_unsafe(),
			 .mode = ZCM_EPHEMERAL};
	struct zreq c = {.op = ZOP_CLOSESESSION};
	struct ztxn *t1, *t2, *t3, *t4;
	struct zresult r;

	setup();
	TAP_EQ(open_session(s1), ZOK);
	TAP_EQ(open_session(s2), ZOK);
	/* s1 takes the lock, closes; s2 takes the lock: all before apply */
	TAP_EQ(txn_prepare(P, &e, NULL, s1, 1, Z + 1, NOW, &t1, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &e, NULL, s2, 1, Z + 2, NOW, &t2, &r), ZNODEEXISTS);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &c, NULL, s1, 2, Z + 2, NOW, &t2, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &e, NULL, s1, 3, Z + 3, NOW, &t3, &r), ZSESSIONEXPIRED);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &e, NULL, s2, 3, Z + 3, NOW, &t3, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(txn_prepare(P, &c, NULL, s2, 4, Z + 4, NOW, &t4, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(T, P, t1, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(L("/lock")->stat.ephemeral_owner, s1);
	TAP_EQ(tree_apply(T, P, t2, &r), ZOK);
	zresult_free(&r);
	TAP_ASSERT(L("/lock") == NULL);
	TAP_EQ(tree_apply(T, P, t3, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(L("/lock")->stat.ephemeral_owner, s2);
	TAP_EQ(tree_apply(T, P, t4, &r), ZOK);
	zresult_free(&r);
	TAP_ASSERT(L("/lock") == NULL);
	TAP_EQ(L("/")->stat.num_children, 1);
	txn_free(t1);
	txn_free(t2);
	txn_free(t3);
	txn_free(t4);
}

static void test_setmeta(void)
{
	struct zreq q = {.op = QOP_SETMETA, .path = "/d", .child_kind = ZNODE_EPHEMERAL};
	struct acl_list ro;
	char err[64];

	setup();
	TAP_EQ(mk("/d", NULL, 0), ZOK);
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS); /* not a directory */
	q.dir = 1;
	nev = 0;
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	TAP_EQ(ev[0].type, TREE_META);
	TAP_ASSERT(L("/d")->flags & ZNODE_F_DIR);
	TAP_EQ(L("/d")->child_kind, ZNODE_EPHEMERAL);
	q.dir = 0;
	q.child_kind = ZNODE_TTL;
	q.child_ttl_ms = 0;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	q.child_ttl_ms = 5000;
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	TAP_EQ(L("/d")->child_kind, ZNODE_TTL);
	TAP_EQ(L("/d")->child_ttl_ms, 5000);
	q.child_kind = 9;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	q.child_kind = -1;
	q.dir = 1;
	TAP_EQ(run(&q, 0, NULL, NULL), ZOK);
	TAP_EQ(L("/d")->child_kind, ZNODE_TTL);
	q.path = "/none";
	TAP_EQ(run(&q, 0, NULL, NULL), ZNONODE);
	/* ADMIN needed */
	TAP_EQ(acl_parse("world:anyone:rw", &ro, err, sizeof(err)), ZOK);
	TAP_EQ(
	    run(&(struct zreq){.op = ZOP_SETACL, .path = "/d", .acl = &ro, .version = -1},
		0, NULL, NULL),
	    ZOK);
	q.path = "/d";
	TAP_EQ(run(&q, 0, NULL, NULL), ZNOAUTH);
	acl_free(&ro);
	/* mkdir: created as a directory */
	TAP_EQ(run(&(struct zreq){.op = ZOP_CREATE,
				  .path = "/dir",
				  .acl = acl_open_unsafe(),
				  .dir = 1},
		   0, NULL, NULL),
	       ZOK);
	TAP_ASSERT(L("/dir")->flags & ZNODE_F_DIR);
}

struct snap {
	struct tree *t;
	int rc;
};

static int copy_cb(void *arg, const struct znode *n)
{
	struct snap *s = arg;
	int rc = tree_load_node(s->t, n, n->data);

	if (rc != 0)
		s->rc = rc;
	return 0;
}

static void test_load_walk(void)
{
	struct tree *t2;
	struct snap s;
	char order[512] = "";
	const struct znode *a, *b;

	setup();
	TAP_EQ(open_session(5), ZOK);
	TAP_EQ(mk("/b", "B", 0), ZOK);
	TAP_EQ(mk("/a", "A", 0), ZOK);
	TAP_EQ(mk("/a/z", NULL, 0), ZOK);
	TAP_EQ(mk("/a/y", NULL, 0), ZOK);
	TAP_EQ(run(&(struct zreq){.op = ZOP_CREATE,
				  .path = "/b/e",
				  .acl = acl_open_unsafe(),
				  .mode = ZCM_EPHEMERAL},
		   5, NULL, NULL),
	       ZOK);
	TAP_EQ(tree_walk(T, name_cb, order), 0);
	TAP_STREQ(order, "/ /a /a/y /a/z /b /b/e /zookeeper /zookeeper/config "
			 "/zookeeper/quota ");
	TAP_EQ(tree_descendants(T, L("/a")), 2);
	TAP_EQ(tree_descendants(T, L("/a/y")), 0);
	t2 = tree_new();
	TAP_ASSERT(t2);
	s.t = t2;
	s.rc = 0;
	TAP_EQ(tree_walk(T, copy_cb, &s), 0);
	TAP_EQ(s.rc, 0);
	TAP_EQ(tree_load_session(t2, 5, 30000, "h1/mnt"), 0);
	tree_set_last_zxid(t2, tree_last_zxid(T));
	TAP_EQ(tree_node_count(t2), tree_node_count(T));
	a = tree_lookup(t2, "/a");
	b = L("/a");
	TAP_ASSERT(memcmp(&a->stat, &b->stat, sizeof(a->stat)) == 0);
	TAP_ASSERT(memcmp(&tree_lookup(t2, "/")->stat, &L("/")->stat, sizeof(a->stat)) ==
		   0);
	TAP_EQ(tree_lookup(t2, "/b/e")->kind, ZNODE_EPHEMERAL);
	TAP_ASSERT(memcmp(tree_lookup(t2, "/b")->data, "B", 1) == 0);
	TAP_EQ(tree_last_zxid(t2), tree_last_zxid(T));
	/* errors of the loader */
	TAP_EQ(tree_load_node(t2, L("/a"), L("/a")->data), -EEXIST);
	{
		struct znode orphan = *L("/a/y");

		orphan.path = "/nope/y";
		TAP_EQ(tree_load_node(t2, &orphan, NULL), -ENOENT);
		orphan.path = "/a/";
		TAP_EQ(tree_load_node(t2, &orphan, NULL), -EINVAL);
		orphan.path = "/a/w";
		orphan.stat.data_length = 3;
		TAP_EQ(tree_load_node(t2, &orphan, NULL), -EINVAL);
		orphan.stat.data_length = 0;
		orphan.kind = 7;
		TAP_EQ(tree_load_node(t2, &orphan, NULL), -EINVAL);
	}
	/* ephemerals loaded from the snapshot belong to their session */
	{
		char **p;
		size_t n;

		TAP_EQ(tree_session_ephemerals(t2, 5, &p, &n), 0);
		TAP_EQ(n, 1);
		TAP_STREQ(p[0], "/b/e");
		tree_names_free(p);
	}
	tree_free(t2);
}

static void test_many_children(void)
{
	char path[64], **names;
	size_t n, i;

	setup();
	TAP_EQ(mk("/big", NULL, 0), ZOK);
	for (i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "/big/n%05zu", (i * 7919) % 2000);
		TAP_EQ(mk(path, NULL, 0), ZOK);
	}
	for (i = 0; i < 2000; i += 2) {
		snprintf(path, sizeof(path), "/big/n%05zu", i);
		TAP_EQ(rm(path, -1), ZOK);
	}
	TAP_EQ(tree_children(T, L("/big"), &names, &n), 0);
	TAP_EQ(n, 1000);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "n%05zu", 2 * i + 1);
		TAP_STREQ(names[i], path);
	}
	tree_names_free(names);
	TAP_EQ(L("/big")->stat.num_children, 1000);
	TAP_EQ(tree_descendants(T, L("/big")), 1000);
}

static void test_deep_path(void)
{
	static char path[8001];
	size_t len = 0;
	int i;

	setup();
	/* deeper than any recursion could take: walks must be iterative */
	for (i = 0; i < 2000; i++) {
		path[len++] = '/';
		path[len++] = 'd';
		path[len] = '\0';
		TAP_EQ(mk(path, NULL, 0), ZOK);
	}
	TAP_EQ(tree_descendants(T, L("/d")), 1999);
	TAP_EQ(tree_node_count(T), 2004);
}

static void test_orphan_ephemerals(void)
{
	struct znode z = {0};
	struct zreq c = {.op = ZOP_CLOSESESSION};

	setup();
	/* a snapshot holding an ephemeral whose session it does not list */
	z.path = "/orphan";
	z.acl = *acl_open_unsafe();
	z.kind = ZNODE_EPHEMERAL;
	z.stat.ephemeral_owner = 9;
	TAP_EQ(tree_load_node(T, &z, NULL), 0);
	TAP_ASSERT(tree_session_get(T, 9) == NULL);
	TAP_EQ(run(&c, 9, NULL, NULL), ZOK);
	TAP_ASSERT(L("/orphan") == NULL);
	TAP_EQ(run(&c, 9, NULL, NULL), ZSESSIONEXPIRED);
	TAP_EQ(run(&c, 0, NULL, NULL), ZBADARGUMENTS);
	TAP_EQ(run(&c, 12345, NULL, NULL), ZSESSIONEXPIRED);
}

static void test_other_errors(void)
{
	struct zreq q = {.op = ZOP_GETDATA, .path = "/"};
	struct zreq d = {.op = ZOP_DELETE, .path = "/x", .version = -1};
	struct ztxn *t1, *t2;
	struct zresult r;

	setup();
	/* reads are not transactions */
	TAP_EQ(run(&q, 0, NULL, NULL), ZUNIMPLEMENTED);
	q.op = ZOP_SETDATA;
	q.path = NULL;
	TAP_EQ(run(&q, 0, NULL, NULL), ZBADARGUMENTS);
	/* a transaction that does not fit the tree: prepared on another */
	{
		struct tree *other = tree_new();
		struct prep *p2 = prep_new(other);
		struct zreq c = {
		    .op = ZOP_CREATE, .path = "/x", .acl = acl_open_unsafe()};
		zxid_t before = tree_last_zxid(T);

		TAP_EQ(txn_prepare(p2, &c, NULL, 0, 1, 1, NOW, &t1, &r), ZOK);
		zresult_free(&r);
		TAP_EQ(tree_apply(other, p2, t1, &r), ZOK);
		zresult_free(&r);
		TAP_EQ(txn_prepare(p2, &d, NULL, 0, 1, Z + 100, NOW, &t2, &r), ZOK);
		zresult_free(&r);
		TAP_EQ(tree_apply(T, P, t2, &r), ZDATAINCONSISTENCY);
		TAP_EQ(r.err, ZDATAINCONSISTENCY);
		zresult_free(&r);
		TAP_EQ(tree_last_zxid(T), before);
		/* and the same creation does not fit where the node exists */
		TAP_EQ(mk("/x", NULL, 0), ZOK);
		txn_free(t1);
		txn_free(t2);
		prep_free(p2);
		tree_free(other);
	}
}

/* A multi prepared on another tree, applied here: a later op that does not
 * fit leaves the earlier ones unapplied (no change, no event), so members
 * whose trees differ do not end up differing by half a multi. */
static void test_apply_all_or_nothing(void)
{
	struct tree *other = tree_new();
	struct prep *p2 = prep_new(other);
	struct zreq ops[4], q = {.op = ZOP_MULTI, .ops = ops, .n_ops = 4};
	struct zreq c = {.op = ZOP_CREATE, .acl = acl_open_unsafe()};
	struct ztxn *txn;
	struct zresult r;
	zxid_t before;
	size_t count;

	setup();
	TAP_ASSERT(other && p2);
	TAP_EQ(mk("/x", NULL, 0), ZOK);
	/* the other tree has /x and /y; this one only /x */
	c.path = "/x";
	TAP_EQ(txn_prepare(p2, &c, NULL, 0, 1, 1, NOW, &txn, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(other, p2, txn, &r), ZOK);
	zresult_free(&r);
	txn_free(txn);
	c.path = "/y";
	TAP_EQ(txn_prepare(p2, &c, NULL, 0, 1, 2, NOW, &txn, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(other, p2, txn, &r), ZOK);
	zresult_free(&r);
	txn_free(txn);
	/* create a parent and its child, then set /y, then delete the child:
	 * each op sees the ops before it */
	memset(ops, 0, sizeof(ops));
	ops[0] =
	    (struct zreq){.op = ZOP_CREATE, .path = "/x/a", .acl = acl_open_unsafe()};
	ops[1] =
	    (struct zreq){.op = ZOP_CREATE, .path = "/x/a/b", .acl = acl_open_unsafe()};
	ops[2] = (struct zreq){
	    .op = ZOP_SETDATA, .path = "/y", .data = "v", .data_len = 1, .version = -1};
	ops[3] = (struct zreq){.op = ZOP_DELETE, .path = "/x/a/b", .version = -1};
	TAP_EQ(txn_prepare(p2, &q, NULL, 0, 1, Z + 100, NOW, &txn, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_txn_fits(other, txn), 1);
	TAP_EQ(tree_txn_fits(T, txn), 0); /* no /y here */
	before = tree_last_zxid(T);
	count = tree_node_count(T);
	nev = 0;
	TAP_EQ(tree_apply(T, P, txn, &r), ZDATAINCONSISTENCY);
	zresult_free(&r);
	TAP_ASSERT(L("/x/a") == NULL);
	TAP_EQ(tree_node_count(T), count);
	TAP_EQ(tree_last_zxid(T), before);
	TAP_EQ(nev, 0);
	/* once /y is there the same transaction applies whole */
	TAP_EQ(mk("/y", NULL, 0), ZOK);
	nev = 0;
	TAP_EQ(tree_apply(T, P, txn, &r), ZOK);
	zresult_free(&r);
	TAP_EQ(tree_apply(other, p2, txn, &r), ZOK);
	zresult_free(&r);
	txn_free(txn);
	TAP_ASSERT(L("/x/a") != NULL);
	TAP_ASSERT(L("/x/a/b") == NULL);
	TAP_EQ(L("/y")->stat.data_length, 1);
	TAP_EQ(nev, 4);
	/* a delete fits only without children, counting the multi's own */
	Z = tree_last_zxid(T);
	TAP_EQ(mk("/x/a/b", NULL, 0), ZOK); /* on this tree only */
	{
		struct zreq d1[2] = {{.op = ZOP_DELETE, .path = "/x/a", .version = -1},
				     {.op = ZOP_DELETE, .path = "/x", .version = -1}};
		struct zreq qd = {.op = ZOP_MULTI, .ops = d1, .n_ops = 2};

		/* the other tree: /x/a, no /x/a/b */
		TAP_EQ(txn_prepare(p2, &qd, NULL, 0, 1, Z + 200, NOW, &txn, &r), ZOK);
		zresult_free(&r);
		TAP_EQ(tree_txn_fits(other, txn), 1);
		TAP_EQ(tree_txn_fits(T, txn), 0); /* /x/a has a child here */
		TAP_EQ(tree_apply(T, P, txn, &r), ZDATAINCONSISTENCY);
		zresult_free(&r);
		TAP_ASSERT(L("/x/a/b") != NULL);
		TAP_ASSERT(L("/x") != NULL);
		TAP_EQ(rm("/x/a/b", -1), ZOK);
		TAP_EQ(tree_apply(T, P, txn, &r), ZOK);
		zresult_free(&r);
		txn_free(txn);
		TAP_ASSERT(L("/x") == NULL);
	}
	prep_free(p2);
	tree_free(other);
}

/* ---- pipelined prepare == one-at-a-time ---- */

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

static const char *const rpaths[] = {"/a", "/a/b", "/a/c", "/b", "/b/x", "/a/b/c"};
#define NRPATHS (sizeof(rpaths) / sizeof(rpaths[0]))

/* A random request; strings point to static storage. */
static void random_req(struct zreq *q, struct zreq *sub, int64_t *session)
{
	static char data[8];
	uint32_t k = rng() % 100;
	int i;

	memset(q, 0, sizeof(*q));
	snprintf(data, sizeof(data), "%u", rng() % 1000);
	q->path = rpaths[rng() % NRPATHS];
	q->acl = acl_open_unsafe();
	q->data = data;
	q->data_len = (int32_t)strlen(data);
	q->version = (int32_t)(rng() % 3) - 1;
	*session = (rng() % 2 == 0) ? 0 : 100 + (int64_t)(rng() % 3);
	if (k < 30) {
		q->op = ZOP_CREATE;
		q->mode = (int32_t)(rng() % 5);
		if ((q->mode == ZCM_EPHEMERAL || q->mode == ZCM_EPHEMERAL_SEQUENTIAL) &&
		    *session == 0)
			*session = 100 + (int64_t)(rng() % 3);
	} else if (k < 50) {
		q->op = ZOP_DELETE;
	} else if (k < 65) {
		q->op = ZOP_SETDATA;
	} else if (k < 70) {
		q->op = ZOP_CHECK;
	} else if (k < 80) {
		q->op = ZOP_MULTI;
		q->ops = sub;
		q->n_ops = 1 + (int32_t)(rng() % 3);
		for (i = 0; i < q->n_ops; i++) {
			int64_t ignored;

			random_req(&sub[i], sub, &ignored);
			if (sub[i].op == ZOP_MULTI || sub[i].op == ZOP_CREATESESSION ||
			    sub[i].op == ZOP_CLOSESESSION ||
			    sub[i].op == ZOP_DELETECONTAINER)
				sub[i].op = ZOP_CHECK;
		}
	} else if (k < 90) {
		q->op = ZOP_CREATESESSION;
		q->timeout_ms = 1000;
		q->owner = "r";
		if (*session == 0)
			*session = 100;
	} else if (k < 94) {
		q->op = ZOP_CLOSESESSION;
		if (*session == 0)
			*session = 101;
	} else {
		q->op = ZOP_DELETECONTAINER;
	}
}

struct evlog {
	struct buf b;
};

static void log_listener(void *arg, const struct tree_event *e)
{
	struct buf *b = arg;

	buf_put_u32(b, (uint32_t)e->type);
	buf_put_str(b, e->path);
	buf_put_u64(b, e->zxid);
	buf_put_u32(b, (uint32_t)e->was_dir);
}

static int dump_node(void *arg, const struct znode *n)
{
	struct buf *b = arg;

	buf_put_str(b, n->path);
	buf_put(b, &n->stat, sizeof(n->stat));
	buf_put_bytes(b, n->data, n->stat.data_length);
	buf_put_u32(b, n->flags);
	return 0;
}

static void test_pipeline_equivalence(void)
{
	struct tree *ta = tree_new(), *tb = tree_new();
	struct prep *pa = prep_new(ta), *pb = prep_new(tb);
	struct ztxn *q[8];
	struct zresult ra;
	struct buf ea, eb, da, db;
	zxid_t za = 0, zb = 0;
	int round, nq = 0, depth = 1, i, errs = 0, hist[130] = {0};
	uint64_t main_rng, lost_rng = 7;

	buf_init(&ea);
	buf_init(&eb);
	buf_init(&da);
	buf_init(&db);
	tree_set_listener(ta, log_listener, &ea);
	tree_set_listener(tb, log_listener, &eb);
	rng_state = 42;
	for (round = 0; round < 3000; round++) {
		struct zreq req, sub[4];
		struct zresult rb;
		struct ztxn *xa, *xb;
		int64_t session;
		int rca, rcb;

		/* the lost writes draw from their own stream, so the main
		 * workload stays the same */
		main_rng = rng_state;
		rng_state = lost_rng;
		if (rng() % 10 == 0) {
			/* A only: writes that are prepared, then lost (a failed
			 * log write); the state must come back exactly */
			zxid_t z = za;
			int k, n = 1 + (int)(rng() % 4);

			for (k = 0; k < n; k++) {
				struct ztxn *lost;

				random_req(&req, sub, &session);
				if (txn_prepare(pa, &req, NULL, session, 0, z + 1, round,
						&lost, &ra) == ZOK) {
					z++;
					txn_free(lost);
				}
				zresult_free(&ra);
			}
			prep_abort(pa, za);
		}
		lost_rng = rng_state;
		rng_state = main_rng;
		random_req(&req, sub, &session);
		/* A: prepared now, applied later in batches */
		rca =
		    txn_prepare(pa, &req, NULL, session, round, za + 1, round, &xa, &ra);
		/* B: prepared and applied at once */
		rcb =
		    txn_prepare(pb, &req, NULL, session, round, zb + 1, round, &xb, &rb);
		TAP_EQ(rca, rcb);
		TAP_EQ(ra.n_ops, rb.n_ops);
		for (i = 0; i < ra.n_ops; i++)
			TAP_EQ(ra.ops[i].err, rb.ops[i].err);
		zresult_free(&ra);
		zresult_free(&rb);
		if (rca != ZOK) {
			errs++;
			if (-rca < (int)(sizeof(hist) / sizeof(hist[0])))
				hist[-rca]++;
			continue;
		}
		za++;
		zb++;
		TAP_EQ(tree_apply(tb, pb, xb, &rb), ZOK);
		zresult_free(&rb);
		txn_free(xb);
		q[nq++] = xa;
		if (nq >= depth) {
			for (i = 0; i < nq; i++) {
				TAP_EQ(tree_apply(ta, pa, q[i], &ra), ZOK);
				zresult_free(&ra);
				txn_free(q[i]);
			}
			nq = 0;
			depth = 1 + (int)(rng() % 8);
		}
	}
	for (i = 0; i < nq; i++) {
		TAP_EQ(tree_apply(ta, pa, q[i], &ra), ZOK);
		zresult_free(&ra);
		txn_free(q[i]);
	}
	TAP_EQ(tree_walk(ta, dump_node, &da), 0);
	TAP_EQ(tree_walk(tb, dump_node, &db), 0);
	TAP_EQ(da.len, db.len);
	TAP_ASSERT(memcmp(da.data, db.data, da.len) == 0);
	TAP_EQ(ea.len, eb.len);
	TAP_ASSERT(memcmp(ea.data, eb.data, ea.len) == 0);
	printf("# %d of 3000 requests refused, %zu nodes, %zu event bytes\n", errs,
	       tree_node_count(ta), ea.len);
	for (i = 0; i < 130; i++)
		if (hist[i])
			printf("# %s: %d\n", zerr_str(-i), hist[i]);
	/* every kind of refusal the workload can meet did occur */
	TAP_ASSERT(hist[-ZNONODE] && hist[-ZNODEEXISTS] && hist[-ZBADVERSION] &&
		   hist[-ZNOTEMPTY] && hist[-ZSESSIONEXPIRED] &&
		   hist[-ZNOCHILDRENFOREPHEMERALS]);
	TAP_ASSERT(errs < 2500);
	buf_free(&ea);
	buf_free(&eb);
	buf_free(&da);
	buf_free(&db);
	prep_free(pa);
	prep_free(pb);
	tree_free(ta);
	tree_free(tb);
}

static const struct tap_case cases[] = {
    {"initial_tree", test_initial_tree},
    {"apply_all_or_nothing", test_apply_all_or_nothing},
    {"create_stat", test_create_stat},
    {"create_errors", test_create_errors},
    {"ttl_and_container_args", test_ttl_and_container_args},
    {"sequential", test_sequential},
    {"delete", test_delete},
    {"setdata", test_setdata},
    {"acl_checks", test_acl_checks},
    {"sessions_and_ephemerals", test_sessions_and_ephemerals},
    {"reap_candidates", test_reap_candidates},
    {"multi", test_multi},
    {"pending_prepare", test_pending_prepare},
    {"pending_session_close", test_pending_session_close},
    {"setmeta", test_setmeta},
    {"load_walk", test_load_walk},
    {"many_children", test_many_children},
    {"deep_path", test_deep_path},
    {"orphan_ephemerals", test_orphan_ephemerals},
    {"other_errors", test_other_errors},
    {"pipeline_equivalence", test_pipeline_equivalence},
};

TAP_MAIN(cases)
