/* test_core_util.c - see test_core_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>

#include "snapshot_codec.h"
#include "crc32c.h"
#include "test_core_util.h"
#include "zerr.h"

void tc_rmrf(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
}

void tc_init(struct tc *t)
{
	const char *tmp = getenv("TMPDIR");

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "%s/qcore-test.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(t->dir)) {
		perror("mkdtemp");
		exit(99);
	}
	t->base = event_base_new();
	t->o.base = t->base;
	t->o.data_dir = t->dir;
	t->o.server_id = 1;
	t->o.force_sync = 1;
	t->o.tick_ms = 100;
	t->o.snap_count = 1000000;
}

int tc_open(struct tc *t)
{
	t->o.base = t->base;
	t->err[0] = '\0';
	return qcore_open(&t->o, &t->c, t->err, sizeof(t->err));
}

void tc_close(struct tc *t)
{
	if (t->c)
		qcore_close(t->c);
	t->c = NULL;
}

void tc_done(struct tc *t)
{
	tc_close(t);
	tc_rmrf(t->dir);
	if (t->base)
		event_base_free(t->base);
	t->base = NULL;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

int tc_wait(struct tc *t, const int *flag, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int timeout = 0;
	struct event *ev = evtimer_new(t->base, stop_cb, &timeout);

	evtimer_add(ev, &tv);
	while (!*flag && !timeout)
		event_base_loop(t->base, EVLOOP_ONCE);
	event_free(ev);
	return *flag;
}

int tc_wait_count(struct tc *t, const int *count, int target, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	int timeout = 0;
	struct event *ev = evtimer_new(t->base, stop_cb, &timeout);

	evtimer_add(ev, &tv);
	while (*count < target && !timeout)
		event_base_loop(t->base, EVLOOP_ONCE);
	event_free(ev);
	return *count >= target;
}

void tc_run_for(struct tc *t, int ms)
{
	int never = 0;

	tc_wait(t, &never, ms);
}

struct wait_one {
	int done;
	int err;
	int64_t session;
};

static void one_done(void *arg, const struct zresult *res)
{
	struct wait_one *w = arg;

	w->done = 1;
	w->err = res->err;
	w->session = res->session_id;
}

static int submit_wait(struct tc *t, int64_t session, const struct zreq *req)
{
	struct wait_one w = {0, 0, 0};

	if (qcore_submit(t->c, session, 0, req, NULL, one_done, &w))
		return -2000;
	if (w.done)
		return -3000; /* called inside submit: a contract violation */
	if (!tc_wait(t, &w.done, 20000))
		return -1000;
	return w.err;
}

int tc_create_s(struct tc *t, int64_t session, const char *path, const char *data,
		int mode)
{
	struct zreq r;

	memset(&r, 0, sizeof(r));
	r.op = mode == ZCM_CONTAINER ? ZOP_CREATECONTAINER : ZOP_CREATE;
	r.path = path;
	r.data = data;
	r.data_len = data ? (int32_t)strlen(data) : 0;
	r.acl = acl_open_unsafe();
	r.mode = mode;
	r.version = -1;
	r.child_kind = -1;
	return submit_wait(t, session, &r);
}

int tc_create(struct tc *t, const char *path, const char *data, int mode)
{
	return tc_create_s(t, 0, path, data, mode);
}

int tc_set(struct tc *t, const char *path, const char *data)
{
	struct zreq r;

	memset(&r, 0, sizeof(r));
	r.op = ZOP_SETDATA;
	r.path = path;
	r.data = data;
	r.data_len = (int32_t)strlen(data);
	r.version = -1;
	return submit_wait(t, 0, &r);
}

int tc_delete(struct tc *t, const char *path)
{
	struct zreq r;

	memset(&r, 0, sizeof(r));
	r.op = ZOP_DELETE;
	r.path = path;
	r.version = -1;
	return submit_wait(t, 0, &r);
}

struct async_ctx {
	int *done, *errs;
};

static void async_done(void *arg, const struct zresult *res)
{
	struct async_ctx *a = arg;

	(*a->done)++;
	if (res->err != ZOK)
		(*a->errs)++;
	free(a);
}

int tc_create_async(struct tc *t, const char *path, const void *data, int len, int *done,
		    int *errs)
{
	struct async_ctx *a = malloc(sizeof(*a));
	struct zreq r;
	int rc;

	a->done = done;
	a->errs = errs;
	memset(&r, 0, sizeof(r));
	r.op = ZOP_CREATE;
	r.path = path;
	r.data = data;
	r.data_len = len;
	r.acl = acl_open_unsafe();
	r.version = -1;
	r.child_kind = -1;
	rc = qcore_submit(t->c, 0, 0, &r, NULL, async_done, a);
	if (rc)
		free(a);
	return rc;
}

int64_t tc_session_open(struct tc *t, int timeout_ms, const char *owner)
{
	struct wait_one w = {0, 0, 0};

	if (qcore_session_open(t->c, timeout_ms, owner, one_done, &w))
		return -1;
	if (!tc_wait(t, &w.done, 20000) || w.err)
		return -1;
	return w.session;
}

struct dig {
	uint32_t crc;
	uint32_t sess;
	struct buf b;
};

static int dig_node(void *arg, const struct znode *n)
{
	struct dig *d = arg;

	buf_reset(&d->b);
	snapshot_acl_encode(&n->acl, &d->b);
	d->crc = snapshot_node_crc(d->crc, n, n->data, d->b.data, d->b.len);
	return 0;
}

static int dig_sess(void *arg, const struct tree_session *s)
{
	struct dig *d = arg;

	/* Summed: the order sessions are listed in is the hash table's. */
	d->sess +=
	    snapshot_session_crc(0, s->id, s->timeout_ms, s->owner ? s->owner : "");
	return 0;
}

uint32_t tc_digest(struct tc *t)
{
	struct dig d = {0};

	buf_init(&d.b);
	tree_walk(qcore_tree(t->c), dig_node, &d);
	tree_session_foreach(qcore_tree(t->c), dig_sess, &d);
	buf_free(&d.b);
	return crc32c_u64(d.crc ^ d.sess, tree_last_zxid(qcore_tree(t->c)));
}

const char *tc_data(struct tc *t, const char *path)
{
	static char buf[4096];
	const struct znode *n = tree_lookup(qcore_tree(t->c), path);
	size_t l;

	if (!n)
		return NULL;
	l = (size_t)n->stat.data_length < sizeof(buf) - 1 ? (size_t)n->stat.data_length
							  : sizeof(buf) - 1;
	if (l)
		memcpy(buf, n->data, l);
	buf[l] = '\0';
	return buf;
}
