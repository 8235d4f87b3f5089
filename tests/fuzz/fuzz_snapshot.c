/*
 * fuzz_snapshot.c - libFuzzer target for snapshots, three ways:
 *  - what loading decodes from a file it did not write itself: the binary
 *    ACL column, and whole files (the input written to disk and opened as a
 *    snapshot). Neither may crash, leak or read out of bounds;
 *  - a round trip: a tree built from the input (sessions with any ids,
 *    timeouts and owners, nodes with data, ephemerals among them) is
 *    written, loaded back and compared. Every written snapshot must load
 *    (its checksum must not depend on how the tree happens to store its
 *    sessions) and give back the same nodes and sessions; a difference
 *    aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl.h"
#include "snapshot.h"
#include "snapshot_codec.h"
#include "tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RT_MAX_SESSIONS 64
#define RT_MAX_NODES	32

struct rt_input {
	const uint8_t *p;
	size_t n;
};

static int take(struct rt_input *in, void *out, size_t len)
{
	if (in->n < len)
		return -1;
	memcpy(out, in->p, len);
	in->p += len;
	in->n -= len;
	return 0;
}

static void rt_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "snapshot round trip: %s\n", what);
		abort();
	}
}

struct rt_cmp {
	const struct tree *other;
	size_t count;
};

static int cmp_session(void *arg, const struct tree_session *s)
{
	struct rt_cmp *c = arg;
	const struct tree_session *o = tree_session_get(c->other, s->id);

	rt_check(o != NULL, "a session is missing");
	rt_check(o->timeout_ms == s->timeout_ms, "a session's timeout differs");
	rt_check(strcmp(o->owner, s->owner) == 0, "a session's owner differs");
	c->count++;
	return 0;
}

static int cmp_node(void *arg, const struct znode *n)
{
	struct rt_cmp *c = arg;
	const struct znode *o = tree_lookup(c->other, n->path);

	rt_check(o != NULL, "a node is missing");
	rt_check(memcmp(&o->stat, &n->stat, sizeof(n->stat)) == 0, "a stat differs");
	rt_check(o->kind == n->kind, "a kind differs");
	rt_check(!n->stat.data_length ||
		     memcmp(o->data, n->data, (size_t)n->stat.data_length) == 0,
		 "data differs");
	rt_check(acl_equal(&o->acl, &n->acl), "an ACL differs");
	c->count++;
	return 0;
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct rt_input in = {data, size};
	struct tree *a, *b;
	struct znode n;
	struct rt_cmp c;
	char dir[64], path[300], name[32], owner[40], err[512];
	int64_t ids[RT_MAX_SESSIONS];
	uint8_t ns, nn, olen, dlen, k;
	int32_t to;
	size_t i, nsess = 0, cnt_a;
	zxid_t z = 0x100000001ULL, got;
	int rc;

	if (take(&in, &ns, 1) || take(&in, &nn, 1))
		return;
	snprintf(dir, sizeof(dir), "/tmp/fuzz_snapshot_rt.%d", (int)getpid());
	if (mkdir(dir, 0700) < 0)
		return;
	a = tree_new();
	b = tree_new();
	if (!a || !b)
		goto out;
	for (i = 0; i < ns % RT_MAX_SESSIONS; i++) {
		if (take(&in, &ids[nsess], sizeof(ids[0])) ||
		    take(&in, &to, sizeof(to)) || take(&in, &olen, 1))
			break;
		olen %= sizeof(owner);
		if (in.n < olen)
			break;
		/* Owners are C strings: stop at a NUL. */
		memcpy(owner, in.p, olen);
		owner[olen] = '\0';
		in.p += olen;
		in.n -= olen;
		if (tree_load_session(a, ids[nsess], to, owner) == 0)
			nsess++;
	}
	for (i = 0; i < nn % RT_MAX_NODES; i++) {
		if (take(&in, &k, 1) || take(&in, &dlen, 1) || in.n < dlen)
			break;
		memset(&n, 0, sizeof(n));
		snprintf(name, sizeof(name), "/n%zu", i);
		n.path = name;
		n.acl = *acl_open_unsafe();
		n.stat.czxid = n.stat.mzxid = n.stat.pzxid = (int64_t)z;
		n.stat.data_length = dlen;
		n.stat.version = k;
		if (nsess && (k & 1)) {
			n.kind = ZNODE_EPHEMERAL;
			n.stat.ephemeral_owner = ids[k % nsess];
		}
		tree_load_node(a, &n, dlen ? in.p : NULL);
		in.p += dlen;
		in.n -= dlen;
	}
	tree_set_last_zxid(a, z);
	rc = snapshot_write(a, dir, z, err, sizeof(err));
	if (rc)
		goto out; /* a full /tmp, say: not the code's fault */
	snapshot_path(path, sizeof(path), dir, z);
	rc = snapshot_load(path, b, &got, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	rt_check(rc == 0, "a snapshot just written does not load");
	rt_check(got == z, "the zxid differs");
	c.other = b;
	c.count = 0;
	tree_session_foreach(a, cmp_session, &c);
	cnt_a = c.count;
	c.other = a;
	c.count = 0;
	tree_session_foreach(b, cmp_session, &c);
	rt_check(c.count == cnt_a, "the session counts differ");
	c.other = b;
	tree_walk(a, cmp_node, &c);
	rt_check(tree_node_count(a) == tree_node_count(b), "the node counts differ");
	unlink(path);
out:
	if (a)
		tree_free(a);
	if (b)
		tree_free(b);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acl_list acl;
	struct tree *t;
	char path[64], err[512];
	zxid_t z;
	FILE *f;

	if (snapshot_acl_decode(data, size, &acl) == 0)
		acl_free(&acl);

	snprintf(path, sizeof(path), "/tmp/fuzz_snapshot.%d.db", (int)getpid());
	f = fopen(path, "wb");
	if (!f)
		return 0;
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);
	t = tree_new();
	if (t) {
		snapshot_load(path, t, &z, err, sizeof(err));
		tree_free(t);
	}
	unlink(path);

	round_trip(data, size);
	return 0;
}
