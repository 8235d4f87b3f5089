/*
 * fuzz_txn.c - libFuzzer target for the transaction log record decoder
 * (txn_decode) and for tree_apply of whatever it accepts.
 *
 * Properties: decoding never crashes or leaks; a decoded record re-encodes
 * and decodes again to the same bytes; applying it to a small tree (with an
 * open session and a few nodes of each kind) either fits or is refused with a
 * ZooKeeper error, never a crash; and a refused one changed nothing (no
 * event, the same node count and last zxid): tree_txn_fits and tree_apply
 * agree, so a multi never applies in part. Seeds: tests/fuzz/corpus/txn/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tree.h"
#include "txn.h"
#include "zerr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int events;

static void count_event(void *arg, const struct tree_event *e)
{
	(void)arg;
	(void)e;
	events++;
}

static struct tree *small_tree(void)
{
	static const struct {
		const char *path;
		int mode;
	} nodes[] = {
	    {"/a", ZCM_PERSISTENT},	     {"/a/b", ZCM_PERSISTENT},
	    {"/c", ZCM_CONTAINER},	     {"/e", ZCM_EPHEMERAL},
	    {"/t", ZCM_PERSISTENT_WITH_TTL},
	};
	struct tree *t = tree_new();
	struct prep *p;
	struct ztxn *x;
	struct zresult r;
	struct zreq q = {.op = ZOP_CREATESESSION, .timeout_ms = 1000, .owner = "fuzz"};
	zxid_t z = 0;
	size_t i;

	if (!t)
		abort();
	p = prep_new(t);
	if (!p)
		abort();
	if (txn_prepare(p, &q, NULL, 1, 0, ++z, 0, &x, &r) != ZOK)
		abort();
	tree_apply(t, p, x, &r);
	zresult_free(&r);
	txn_free(x);
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		q = (struct zreq){.op = ZOP_CREATE,
				  .path = nodes[i].path,
				  .mode = nodes[i].mode,
				  .acl = acl_open_unsafe(),
				  .ttl_ms = 10};
		if (txn_prepare(p, &q, NULL, 1, 0, ++z, 0, &x, &r) != ZOK)
			abort();
		tree_apply(t, p, x, &r);
		zresult_free(&r);
		txn_free(x);
	}
	prep_free(p);
	/* let any zxid in a record apply */
	tree_set_last_zxid(t, 0);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ztxn *t, *t2;
	struct buf b, b2;
	struct tree *tree;
	struct zresult r;

	if (txn_decode(data, size, &t) != ZOK)
		return 0;
	buf_init(&b);
	buf_init(&b2);
	if (txn_encode(t, &b) != ZOK)
		abort();
	if (txn_decode(b.data, b.len, &t2) != ZOK)
		abort();
	if (txn_encode(t2, &b2) != ZOK || b.len != b2.len ||
	    memcmp(b.data, b2.data, b.len))
		abort();
	tree = small_tree();
	{
		size_t count = tree_node_count(tree);
		int fits = tree_txn_fits(tree, t);

		events = 0;
		tree_set_listener(tree, count_event, NULL);
		if (tree_apply(tree, NULL, t, &r) != ZOK &&
		    (events || tree_node_count(tree) != count ||
		     tree_last_zxid(tree) != 0))
			abort(); /* refused, yet applied in part */
		if (fits == 1 && r.err != ZOK && r.err != ZSYSTEMERROR)
			abort(); /* the check said it fits */
	}
	zresult_free(&r);
	tree_free(tree);
	txn_free(t2);
	txn_free(t);
	buf_free(&b);
	buf_free(&b2);
	return 0;
}
