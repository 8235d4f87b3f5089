/*
 * zks_watch.c - the watch manager: which connection watches which path, and
 * the events an applied change fires (ZooKeeper's WatchManager and
 * DataTree trigger rules, 3.6+ with persistent watches):
 *
 *   created P:  data watches on P -> NodeCreated;  child watches on
 *               parent(P) -> NodeChildrenChanged
 *   deleted P:  data and child watches on P -> NodeDeleted (one event per
 *               connection); child watches on parent(P) ->
 *               NodeChildrenChanged
 *   data of P:  data watches on P -> NodeDataChanged
 *   persistent watch on X: as a data and child watch on X that stays
 *   persistent-recursive on X: NodeCreated/NodeDeleted/NodeDataChanged for
 *               X and every node below it, never NodeChildrenChanged
 *
 * One-shot watches go once fired. A connection gets at most one event per
 * (change, path), as ZooKeeper suppresses duplicates per watcher. Changes
 * arrive from qcore_subscribe, so changes made through the FUSE mount fire
 * protocol watches like any other.
 *
 * Storage: a chained hash table from path to a small array of (connection,
 * kind bits); each connection counts its watches for the per-client limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "zerr.h"
#include "zks_int.h"

struct zks_watcher {
	struct zks_conn *conn;
	unsigned kinds; /* ZKS_W_* */
};

struct zks_wpath {
	struct zks_wpath *next;
	char *path;
	size_t n, cap;
	struct zks_watcher *v;
};

struct zks_watches {
	struct zks_wpath **buckets;
	size_t n_buckets; /* a power of two */
	size_t n_paths;
	size_t n_total;	    /* (path, connection, kind) triples */
	size_t n_recursive; /* paths with a recursive watch: skip the ancestor walk
			       when none */
};

static uint64_t zks_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

struct zks_watches *zks_watches_new(void)
{
	struct zks_watches *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->n_buckets = 64;
	w->buckets = calloc(w->n_buckets, sizeof(*w->buckets));
	if (!w->buckets) {
		free(w);
		return NULL;
	}
	return w;
}

static void zks_wpath_free(struct zks_wpath *p)
{
	free(p->v);
	free(p->path);
	free(p);
}

void zks_watches_free(struct zks_watches *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_buckets; i++) {
		struct zks_wpath *p = w->buckets[i], *next;

		for (; p; p = next) {
			next = p->next;
			zks_wpath_free(p);
		}
	}
	free(w->buckets);
	free(w);
}

static struct zks_wpath **zks_wpath_slot(struct zks_watches *w, const char *path)
{
	struct zks_wpath **pp = &w->buckets[zks_hash(path) & (w->n_buckets - 1)];

	while (*pp && strcmp((*pp)->path, path) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void zks_watches_grow(struct zks_watches *w)
{
	size_t nb = w->n_buckets * 2;
	struct zks_wpath **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < w->n_buckets; i++) {
		struct zks_wpath *p = w->buckets[i], *next;

		for (; p; p = next) {
			size_t h = zks_hash(p->path) & (nb - 1);

			next = p->next;
			p->next = b[h];
			b[h] = p;
		}
	}
	free(w->buckets);
	w->buckets = b;
	w->n_buckets = nb;
}

static unsigned zks_popcount(unsigned x)
{
	return (unsigned)__builtin_popcount(x);
}

int zks_watch_add(struct zks_watches *w, const char *path, struct zks_conn *c,
		  unsigned kind)
{
	struct zks_wpath **pp = zks_wpath_slot(w, path), *p = *pp;
	size_t i;

	if (p) {
		for (i = 0; i < p->n; i++)
			if (p->v[i].conn == c)
				break;
		if (i < p->n && (p->v[i].kinds & kind))
			return ZOK; /* already watching: one-shot watches do not stack */
	}
	if (c->n_watches >= c->srv->max_watches) {
		/* Once per connection: a setWatches may hit it 100,000 times. */
		if (!c->watch_limit_logged)
			log_warnx("zk: %s session 0x%llx holds %u watches "
				  "(clientMaxWatches): refusing one on %s with an error, "
				  "and any further ones on this connection",
				  c->peer, (unsigned long long)c->session_id,
				  c->n_watches, path);
		c->watch_limit_logged = 1;
		return ZKS_WATCH_FULL;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->path = strdup(path);
		if (!p->path) {
			free(p);
			return -ENOMEM;
		}
		*pp = p;
		w->n_paths++;
	}
	for (i = 0; i < p->n; i++)
		if (p->v[i].conn == c)
			break;
	if (i == p->n) {
		if (p->n == p->cap) {
			size_t cap = p->cap ? p->cap * 2 : 2;
			struct zks_watcher *v = realloc(p->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			p->v = v;
			p->cap = cap;
		}
		p->v[p->n].conn = c;
		p->v[p->n].kinds = 0;
		p->n++;
	}
	if ((kind & ZKS_W_RECURSIVE) && !(p->v[i].kinds & ZKS_W_RECURSIVE))
		w->n_recursive++;
	p->v[i].kinds |= kind;
	c->n_watches++;
	w->n_total++;
	if (w->n_paths > w->n_buckets * 2)
		zks_watches_grow(w);
	return ZOK;
}

/* Clear kinds of watcher i of p; drop the entry and the path when empty. */
static void zks_watch_clear(struct zks_watches *w, struct zks_wpath **pp, size_t i,
			    unsigned kinds)
{
	struct zks_wpath *p = *pp;
	unsigned had = p->v[i].kinds & kinds;
	unsigned n = zks_popcount(had);

	if (had & ZKS_W_RECURSIVE)
		w->n_recursive--;
	p->v[i].kinds &= ~kinds;
	p->v[i].conn->n_watches -= n;
	w->n_total -= n;
	if (p->v[i].kinds)
		return;
	p->v[i] = p->v[--p->n];
	if (p->n)
		return;
	*pp = p->next;
	zks_wpath_free(p);
	w->n_paths--;
}

int zks_watch_remove(struct zks_watches *w, const char *path, struct zks_conn *c,
		     int wtype, int check_only)
{
	struct zks_wpath **pp = zks_wpath_slot(w, path), *p = *pp;
	unsigned kinds, have;
	size_t i;

	switch (wtype) {
	case ZKS_WT_CHILDREN:
		kinds = ZKS_W_CHILD;
		break;
	case ZKS_WT_DATA:
		kinds = ZKS_W_DATA;
		break;
	case ZKS_WT_PERSISTENT:
		kinds = ZKS_W_PERSIST;
		break;
	case ZKS_WT_PERSISTENT_RECURSIVE:
		kinds = ZKS_W_RECURSIVE;
		break;
	default:
		kinds = ZKS_W_DATA | ZKS_W_CHILD | ZKS_W_PERSIST | ZKS_W_RECURSIVE;
		break;
	}
	if (!p)
		return ZNOWATCHER;
	for (i = 0; i < p->n; i++)
		if (p->v[i].conn == c)
			break;
	if (i == p->n)
		return ZNOWATCHER;
	have = p->v[i].kinds & kinds;
	/* A persistent watch stands for both a data and a child watch
	 * (ZooKeeper keeps it in both tables). */
	if (!have && (wtype == ZKS_WT_CHILDREN || wtype == ZKS_WT_DATA))
		have = p->v[i].kinds & (ZKS_W_PERSIST | ZKS_W_RECURSIVE);
	if (!have)
		return ZNOWATCHER;
	if (!check_only)
		zks_watch_clear(w, pp, i, have);
	return ZOK;
}

void zks_watch_drop_conn(struct zks_watches *w, struct zks_conn *c)
{
	/* Bounded by the table size; runs once per closed connection that
	 * held watches. */
	for (size_t b = 0; b < w->n_buckets && c->n_watches; b++) {
		struct zks_wpath **pp = &w->buckets[b];

		while (*pp) {
			struct zks_wpath *p = *pp;
			size_t i, n_before = w->n_paths;

			for (i = 0; i < p->n; i++)
				if (p->v[i].conn == c)
					break;
			if (i < p->n)
				zks_watch_clear(w, pp, i, ~0u);
			if (w->n_paths == n_before)
				pp = &p->next; /* p survived */
		}
	}
}

/*
 * Fire on path: connections holding any of `oneshot` (cleared) or `keep`
 * (kept) get event `type`, unless already told about this change (the
 * `told` list).
 */
struct zks_told {
	struct zks_conn **v;
	size_t n, cap;
};

static int zks_told_has(const struct zks_told *t, const struct zks_conn *c)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i] == c)
			return 1;
	return 0;
}

static void zks_told_add(struct zks_told *t, struct zks_conn *c)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct zks_conn **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return; /* worst case a duplicate event */
		t->v = v;
		t->cap = cap;
	}
	/* Held until zks_progress_told: sending may close a connection. */
	zks_conn_ref(c);
	t->v[t->n++] = c;
}

static void zks_fire(struct zks_watches *w, const char *path, int32_t type,
		     unsigned oneshot, unsigned keep, const char *event_path,
		     struct zks_told *told)
{
	struct zks_wpath **pp = zks_wpath_slot(w, path), *p = *pp;
	size_t i = 0;

	if (!p)
		return;
	while (p && i < p->n) {
		struct zks_watcher *wa = &p->v[i];
		struct zks_conn *c = wa->conn;
		unsigned hit = wa->kinds & (oneshot | keep);

		if (!hit) {
			i++;
			continue;
		}
		if (!zks_told_has(told, c)) {
			if (zks_conn_notify(c, type, ZKS_STATE_SYNC_CONNECTED,
					    event_path) < 0)
				log_warnx("zk: out of memory notifying %s of %s", c->peer,
					  event_path);
			zks_told_add(told, c);
		}
		if (wa->kinds & oneshot) {
			size_t n_before = p->n;

			zks_watch_clear(w, pp, i, oneshot);
			if (*pp != p)
				return; /* the path entry went away */
			if (p->n < n_before)
				continue; /* slot i now holds another watcher */
		}
		i++;
	}
}

static void zks_parent(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;

	if (len == 0)
		len = 1; /* the root */
	if (len >= n)
		len = n - 1;
	memcpy(out, path, len);
	out[len] = 0;
}

/* Recursive watches on path and every ancestor. */
static void zks_fire_recursive(struct zks_watches *w, const char *path, int32_t type,
			       struct zks_told *told)
{
	size_t len = strlen(path);
	char *buf;

	if (!w->n_recursive)
		return;
	buf = malloc(len + 2);
	if (!buf)
		return;
	memcpy(buf, path, len + 1);
	for (;;) {
		zks_fire(w, buf, type, 0, ZKS_W_RECURSIVE, path, told);
		if (strcmp(buf, "/") == 0)
			break;
		zks_parent(buf, buf, len + 2);
	}
	free(buf);
}

static void zks_progress_told(struct zks_told *t)
{
	/* The events were queued; send them. Only send: this runs while the
	 * core applies a transaction (a multi may be half applied), so no
	 * request may run and no socket may be read from here. */
	for (size_t i = 0; i < t->n; i++) {
		zks_conn_flush(t->v[i]);
		zks_conn_unref(t->v[i]);
	}
}

void zks_watch_on_change(void *arg, const struct tree_event *ev)
{
	struct zk_server *s = arg;
	struct zks_watches *w = s->watches;
	struct zks_told told = {0}, told_parent = {0};
	char *parent;

	if (!w || !w->n_total || !ev->path)
		return;
	parent = malloc(strlen(ev->path) + 2);
	if (!parent)
		return;
	zks_parent(ev->path, parent, strlen(ev->path) + 2);
	switch (ev->type) {
	case TREE_CREATED:
		zks_fire(w, ev->path, ZKS_EV_CREATED, ZKS_W_DATA, ZKS_W_PERSIST, ev->path,
			 &told);
		zks_fire_recursive(w, ev->path, ZKS_EV_CREATED, &told);
		if (strcmp(ev->path, "/") != 0)
			zks_fire(w, parent, ZKS_EV_CHILDREN, ZKS_W_CHILD, ZKS_W_PERSIST,
				 parent, &told_parent);
		break;
	case TREE_DELETED:
		zks_fire(w, ev->path, ZKS_EV_DELETED, ZKS_W_DATA | ZKS_W_CHILD,
			 ZKS_W_PERSIST, ev->path, &told);
		zks_fire_recursive(w, ev->path, ZKS_EV_DELETED, &told);
		if (strcmp(ev->path, "/") != 0)
			zks_fire(w, parent, ZKS_EV_CHILDREN, ZKS_W_CHILD, ZKS_W_PERSIST,
				 parent, &told_parent);
		break;
	case TREE_DATA:
		zks_fire(w, ev->path, ZKS_EV_DATA, ZKS_W_DATA, ZKS_W_PERSIST, ev->path,
			 &told);
		zks_fire_recursive(w, ev->path, ZKS_EV_DATA, &told);
		break;
	default:
		/* ACL and quorumfs metadata changes fire no ZooKeeper watch. */
		break;
	}
	zks_progress_told(&told);
	zks_progress_told(&told_parent);
	free(told.v);
	free(told_parent.v);
	free(parent);
}

size_t zks_watch_total(const struct zks_watches *w)
{
	return w ? w->n_total : 0;
}

int zks_watch_is_data(unsigned kinds)
{
	return (kinds & (ZKS_W_DATA | ZKS_W_PERSIST | ZKS_W_RECURSIVE)) != 0;
}

static int conn_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(struct zks_conn *const *)a;
	uintptr_t y = (uintptr_t)*(struct zks_conn *const *)b;

	return x < y ? -1 : x > y;
}

int zks_watch_data_summary(const struct zks_watches *w, size_t *conns, size_t *paths,
			   size_t *total)
{
	struct zks_conn **v;
	size_t n = 0;

	*conns = *paths = *total = 0;
	if (!w || !w->n_total)
		return 0;
	v = malloc(w->n_total * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t b = 0; b < w->n_buckets; b++)
		for (const struct zks_wpath *p = w->buckets[b]; p; p = p->next) {
			size_t before = n;

			for (size_t i = 0; i < p->n; i++)
				if (zks_watch_is_data(p->v[i].kinds))
					v[n++] = p->v[i].conn;
			*paths += n > before;
		}
	*total = n;
	qsort(v, n, sizeof(*v), conn_cmp);
	for (size_t i = 0; i < n; i++)
		*conns += i == 0 || v[i] != v[i - 1];
	free(v);
	return 0;
}

void zks_watch_foreach(const struct zks_watches *w,
		       void (*fn)(void *arg, const char *path, struct zks_conn *c,
				  unsigned kinds),
		       void *arg)
{
	if (!w)
		return;
	for (size_t b = 0; b < w->n_buckets; b++)
		for (const struct zks_wpath *p = w->buckets[b]; p; p = p->next)
			for (size_t i = 0; i < p->n; i++)
				fn(arg, p->path, p->v[i].conn, p->v[i].kinds);
}
