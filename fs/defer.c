/*
 * defer.c - writes that wait for the mount's first session.
 *
 * A mount serves FUSE requests before its first session open has answered
 * when that takes long (no quorum yet: mount.c, start_serving), so that
 * reads work. A write needs the session: one arriving while that first
 * open is still in flight waits for its answer, as every request did when
 * the mount served nothing before it, rather than fail with EROFS a moment
 * before an ensemble that is forming can take it. Later opens (after a
 * quorum was lost) do not hold writes: those fail with EROFS at once.
 *
 * The caller's request and identities are borrowed, so each waiting write
 * is copied whole. The waiting writes are submitted in arrival order when
 * the open answers (qfs_submit then fails them with EROFS if it failed),
 * and completed with -1 (the mount is gone, reply nothing) if the mount
 * stops first.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "fs_int.h"
#include "zerr.h"

struct qfs_deferred {
	struct qfs_deferred *next;
	struct zreq zr;
	struct zauth who;
	qfs_done_fn done;
	void *arg;
};

/* strdup that keeps NULL; *bad set when memory runs out. */
static char *dup_str(const char *s, int *bad)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*bad = 1;
	return d;
}

static void free_req(struct zreq *r)
{
	if (!r)
		return;
	free((char *)r->path);
	free((void *)r->data);
	free((char *)r->owner);
	if (r->acl) {
		acl_free((struct acl_list *)r->acl);
		free((struct acl_list *)r->acl);
	}
	for (int32_t i = 0; r->ops && i < r->n_ops; i++)
		free_req((struct zreq *)&r->ops[i]);
	free((struct zreq *)r->ops);
}

/* A deep copy of src into dst (a multi's ops included). 0 or -ENOMEM; on
 * failure dst holds what was copied, for free_req. */
static int copy_req(struct zreq *dst, const struct zreq *src)
{
	int bad = 0;

	*dst = *src;
	dst->path = dup_str(src->path, &bad);
	dst->owner = dup_str(src->owner, &bad);
	dst->data = NULL;
	dst->acl = NULL;
	dst->ops = NULL;
	if (src->data && src->data_len > 0) {
		void *d = malloc((size_t)src->data_len);

		if (d)
			memcpy(d, src->data, (size_t)src->data_len);
		else
			bad = 1;
		dst->data = d;
	}
	if (src->acl) {
		struct acl_list *a = calloc(1, sizeof(*a));

		dst->acl = a;
		if (!a || acl_copy(a, src->acl) < 0)
			bad = 1;
	}
	if (src->ops && src->n_ops > 0) {
		struct zreq *ops = calloc((size_t)src->n_ops, sizeof(*ops));

		dst->ops = ops;
		dst->n_ops = 0;
		if (!ops)
			bad = 1;
		for (int32_t i = 0; ops && i < src->n_ops; i++) {
			dst->n_ops++;
			if (copy_req(&ops[i], &src->ops[i]) < 0) {
				bad = 1;
				break;
			}
		}
	}
	return bad ? -ENOMEM : 0;
}

static int copy_auth(struct zauth *dst, const struct zauth *src)
{
	memset(dst, 0, sizeof(*dst));
	for (int32_t i = 0; i < src->n; i++)
		if (zauth_add(dst, src->v[i].scheme, src->v[i].id) < 0)
			return -ENOMEM;
	dst->super = src->super;
	return 0;
}

static void deferred_free(struct qfs_deferred *d)
{
	free_req(&d->zr);
	zauth_free(&d->who);
	free(d);
}

int qfs_defer(struct qfs_mount *m, const struct zauth *who, const struct zreq *zr,
	      qfs_done_fn done, void *arg)
{
	struct qfs_deferred *d = calloc(1, sizeof(*d));
	struct qfs_deferred **tail;

	if (!d)
		return ENOMEM;
	if (copy_req(&d->zr, zr) < 0 || copy_auth(&d->who, who) < 0) {
		deferred_free(d);
		return ENOMEM;
	}
	d->done = done;
	d->arg = arg;
	for (tail = &m->deferred; *tail; tail = &(*tail)->next)
		;
	*tail = d;
	return 0;
}

void qfs_defer_release(struct qfs_mount *m)
{
	struct qfs_deferred *d;

	while ((d = m->deferred)) {
		struct zresult res;
		int err;

		m->deferred = d->next;
		err = qfs_submit(m, &d->who, &d->zr, d->done, d->arg);
		if (err) {
			memset(&res, 0, sizeof(res));
			res.err = ZSESSIONEXPIRED;
			d->done(d->arg, err, &res);
		}
		deferred_free(d);
	}
}

void qfs_defer_drop(struct qfs_mount *m)
{
	struct qfs_deferred *d;

	while ((d = m->deferred)) {
		struct zresult res;

		m->deferred = d->next;
		memset(&res, 0, sizeof(res));
		res.err = ZCLOSING;
		d->done(d->arg, -1, &res);
		deferred_free(d);
	}
}
