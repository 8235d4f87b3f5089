/*
 * tree.c - the znode tree's storage and queries: the path map, children
 * treaps, interned ACLs, sessions with their ephemerals, the reap list.
 * Transactions change it through tree_apply.c; see tree_int.h for the layout.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tree_int.h"
#include "txn.h"
#include "zerr.h"

uint32_t tree_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* ---- the path map ---- */

struct tnode *tree_find(const struct tree *t, const char *path, size_t len)
{
	struct tnode *n;
	uint32_t h;

	if (len == 0) {
		path = "/";
		len = 1;
	}
	h = tree_hash(path, len);
	for (n = t->buckets[h & (t->nbuckets - 1)]; n; n = n->hnext)
		if (n->hash == h && strncmp(n->pathbuf, path, len) == 0 &&
		    n->pathbuf[len] == '\0')
			return n;
	return NULL;
}

const struct znode *tree_lookup(const struct tree *t, const char *path)
{
	struct tnode *n;

	if (!path)
		return NULL;
	n = tree_find(t, path, strlen(path));
	return n ? &n->z : NULL;
}

static int map_grow(struct tree *t)
{
	size_t nb = t->nbuckets * 2, i;
	struct tnode **b, *n, *next;

	b = calloc(nb, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->nbuckets; i++) {
		for (n = t->buckets[i]; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
	return 0;
}

static void map_del(struct tree *t, struct tnode *n)
{
	struct tnode **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	t->count--;
}

/* ---- interned ACLs ---- */

static uint32_t acl_hash(const struct acl_list *a)
{
	uint32_t h = (uint32_t)a->n;
	int32_t i;

	for (i = 0; i < a->n; i++) {
		h = h * 31 + (uint32_t)a->v[i].perms;
		h = h * 31 + tree_hash(a->v[i].scheme, strlen(a->v[i].scheme));
		h = h * 31 + tree_hash(a->v[i].id, strlen(a->v[i].id));
	}
	return h;
}

static struct acl_ent *acl_intern(struct tree *t, const struct acl_list *acl)
{
	uint32_t h = acl_hash(acl);
	struct acl_ent *e, **b;
	size_t i, nb;

	for (e = t->abuckets[h & (t->nabuckets - 1)]; e; e = e->next) {
		if (e->hash == h && acl_equal(&e->acl, acl)) {
			e->refs++;
			return e;
		}
	}
	if (t->nacl >= t->nabuckets) {
		nb = t->nabuckets * 2;
		b = calloc(nb, sizeof(*b));
		if (b) {
			for (i = 0; i < t->nabuckets; i++) {
				struct acl_ent *next;

				for (e = t->abuckets[i]; e; e = next) {
					next = e->next;
					e->next = b[e->hash & (nb - 1)];
					b[e->hash & (nb - 1)] = e;
				}
			}
			free(t->abuckets);
			t->abuckets = b;
			t->nabuckets = nb;
		} /* else: longer chains, still correct */
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	if (acl_copy(&e->acl, acl) < 0) {
		free(e);
		return NULL;
	}
	e->hash = h;
	e->refs = 1;
	e->next = t->abuckets[h & (t->nabuckets - 1)];
	t->abuckets[h & (t->nabuckets - 1)] = e;
	t->nacl++;
	return e;
}

static void acl_unref(struct tree *t, struct acl_ent *e)
{
	struct acl_ent **pp;

	if (!e || --e->refs > 0)
		return;
	pp = &t->abuckets[e->hash & (t->nabuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	t->nacl--;
	acl_free(&e->acl);
	free(e);
}

/* ---- children treaps (max-heap on hash, ordered by name) ---- */

static struct tnode *rot_right(struct tnode *n)
{
	struct tnode *l = n->left;

	n->left = l->right;
	l->right = n;
	return l;
}

static struct tnode *rot_left(struct tnode *n)
{
	struct tnode *r = n->right;

	n->right = r->left;
	r->left = n;
	return r;
}

static struct tnode *treap_insert(struct tnode *root, struct tnode *n)
{
	if (!root)
		return n;
	if (strcmp(n->z.name, root->z.name) < 0) {
		root->left = treap_insert(root->left, n);
		if (root->left->hash > root->hash)
			root = rot_right(root);
	} else {
		root->right = treap_insert(root->right, n);
		if (root->right->hash > root->hash)
			root = rot_left(root);
	}
	return root;
}

static struct tnode *treap_merge(struct tnode *a, struct tnode *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->hash > b->hash) {
		a->right = treap_merge(a->right, b);
		return a;
	}
	b->left = treap_merge(a, b->left);
	return b;
}

static struct tnode *treap_remove(struct tnode *root, struct tnode *n)
{
	int c;

	if (!root)
		return NULL;
	if (root == n)
		return treap_merge(n->left, n->right);
	c = strcmp(n->z.name, root->z.name);
	if (c < 0)
		root->left = treap_remove(root->left, n);
	else
		root->right = treap_remove(root->right, n);
	return root;
}

/* ---- lists ---- */

static void list_add(struct tnode **head, struct tnode *n)
{
	n->lprev = NULL;
	n->lnext = *head;
	if (*head)
		(*head)->lprev = n;
	*head = n;
	n->listed = 1;
}

static void list_del(struct tnode **head, struct tnode *n)
{
	if (!n->listed)
		return;
	if (n->lprev)
		n->lprev->lnext = n->lnext;
	else
		*head = n->lnext;
	if (n->lnext)
		n->lnext->lprev = n->lprev;
	n->lprev = n->lnext = NULL;
	n->listed = 0;
}

void tree_reap_update(struct tree *t, struct tnode *n)
{
	int want = n->z.stat.num_children == 0;

	/* ephemerals use the same links for their session's list */
	if (n->z.kind != ZNODE_CONTAINER && n->z.kind != ZNODE_TTL)
		return;
	if (want && !n->listed)
		list_add(&t->reap, n);
	else if (!want && n->listed)
		list_del(&t->reap, n);
}

int tree_reap_candidates(const struct tree *t, int64_t now_ms,
			 int (*fn)(void *arg, const struct znode *n), void *arg)
{
	struct tnode *n, *next;
	int rc;

	for (n = t->reap; n; n = next) {
		next = n->lnext;
		if (n->z.kind == ZNODE_CONTAINER && n->z.stat.cversion <= 0)
			continue;
		/* ContainerManager: elapsed = now - mtime, reaped when > ttl. */
		if (n->z.kind == ZNODE_TTL &&
		    (n->z.ttl_ms <= 0 || now_ms - n->z.stat.mtime <= n->z.ttl_ms))
			continue;
		rc = fn(arg, &n->z);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- sessions ---- */

struct tsession *tree_session_find(const struct tree *t, int64_t id)
{
	struct tsession *s;
	uint32_t h = tree_hash((const char *)&id, sizeof(id));

	for (s = t->sbuckets[h & (t->nsbuckets - 1)]; s; s = s->next)
		if (s->s.id == id)
			return s;
	return NULL;
}

static struct tsession *session_get_or_add(struct tree *t, int64_t id)
{
	struct tsession *s = tree_session_find(t, id), **b, *next;
	uint32_t h;
	size_t i, nb;

	if (s)
		return s;
	if (t->nsess >= t->nsbuckets) {
		nb = t->nsbuckets * 2;
		b = calloc(nb, sizeof(*b));
		if (b) {
			for (i = 0; i < t->nsbuckets; i++) {
				for (s = t->sbuckets[i]; s; s = next) {
					next = s->next;
					h = tree_hash((const char *)&s->s.id,
						      sizeof(s->s.id));
					s->next = b[h & (nb - 1)];
					b[h & (nb - 1)] = s;
				}
			}
			free(t->sbuckets);
			t->sbuckets = b;
			t->nsbuckets = nb;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->s.id = id;
	s->s.owner = "";
	h = tree_hash((const char *)&id, sizeof(id));
	s->next = t->sbuckets[h & (t->nsbuckets - 1)];
	t->sbuckets[h & (t->nsbuckets - 1)] = s;
	t->nsess++;
	return s;
}

int tree_session_open(struct tree *t, int64_t id, int32_t timeout_ms, const char *owner)
{
	struct tsession *s;
	char *o = strdup(owner ? owner : "");

	if (!o)
		return -ENOMEM;
	s = session_get_or_add(t, id);
	if (!s) {
		free(o);
		return -ENOMEM;
	}
	free(s->owner);
	s->owner = o;
	s->s.owner = o;
	s->s.timeout_ms = timeout_ms;
	s->open = 1;
	return 0;
}

void tree_session_drop(struct tree *t, struct tsession *s)
{
	struct tsession **pp;
	uint32_t h;

	s->open = 0;
	if (s->n_eph > 0)
		return;
	h = tree_hash((const char *)&s->s.id, sizeof(s->s.id));
	pp = &t->sbuckets[h & (t->nsbuckets - 1)];
	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	t->nsess--;
	free(s->owner);
	free(s);
}

const struct tree_session *tree_session_get(const struct tree *t, int64_t id)
{
	struct tsession *s = tree_session_find(t, id);

	return s && s->open ? &s->s : NULL;
}

int tree_session_foreach(const struct tree *t,
			 int (*fn)(void *arg, const struct tree_session *s), void *arg)
{
	struct tsession *s, *next;
	size_t i;
	int rc;

	for (i = 0; i < t->nsbuckets; i++) {
		for (s = t->sbuckets[i]; s; s = next) {
			next = s->next;
			if (!s->open)
				continue;
			rc = fn(arg, &s->s);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int tree_load_session(struct tree *t, int64_t id, int32_t timeout_ms, const char *owner)
{
	return tree_session_open(t, id, timeout_ms, owner);
}

static int path_cmp(const void *a, const void *b)
{
	const struct tnode *x = *(struct tnode *const *)a, *y = *(struct tnode *const *)b;

	return strcmp(x->z.path, y->z.path);
}

int tree_session_nodes(const struct tree *t, int64_t id, struct tnode ***out, size_t *n)
{
	struct tsession *s = tree_session_find(t, id);
	struct tnode **v, *e;
	size_t i = 0;

	*out = NULL;
	*n = 0;
	if (!s || s->n_eph == 0)
		return 0;
	v = malloc(s->n_eph * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (e = s->eph; e; e = e->lnext)
		v[i++] = e;
	qsort(v, i, sizeof(*v), path_cmp);
	*out = v;
	*n = i;
	return 0;
}

void tree_names_free(char **names)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; names[i]; i++)
		free(names[i]);
	free(names);
}

int tree_session_ephemerals(const struct tree *t, int64_t id, char ***paths,
			    size_t *count)
{
	struct tnode **v;
	size_t n, i;
	char **names;

	*paths = NULL;
	*count = 0;
	if (tree_session_nodes(t, id, &v, &n) < 0)
		return -ENOMEM;
	names = calloc(n + 1, sizeof(*names));
	if (!names)
		goto err_after_nodes;
	for (i = 0; i < n; i++) {
		names[i] = strdup(v[i]->z.path);
		if (!names[i])
			goto err_after_names;
	}
	free(v);
	*paths = names;
	*count = n;
	return 0;

err_after_names:
	tree_names_free(names);
err_after_nodes:
	free(v);
	return -ENOMEM;
}

/* ---- nodes ---- */

static int ephemeral_link(struct tree *t, struct tnode *n)
{
	struct tsession *s = session_get_or_add(t, n->z.stat.ephemeral_owner);

	if (!s)
		return -ENOMEM;
	list_add(&s->eph, n);
	s->n_eph++;
	return 0;
}

static void ephemeral_unlink(struct tree *t, struct tnode *n)
{
	struct tsession *s = tree_session_find(t, n->z.stat.ephemeral_owner);

	if (!s)
		return;
	list_del(&s->eph, n);
	s->n_eph--;
	if (!s->open && s->n_eph == 0)
		tree_session_drop(t, s);
}

int tree_node_set_data(struct tree *t, struct tnode *n, const void *data, int32_t len)
{
	void *copy = NULL;

	if (len < 0) {
		n->z.flags |= ZNODE_F_NULLDATA;
		len = 0;
	} else {
		n->z.flags &= ~ZNODE_F_NULLDATA;
	}
	if (len > 0) {
		copy = malloc((size_t)len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, (size_t)len);
	}
	free((void *)n->z.data);
	n->z.data = copy;
	n->z.stat.data_length = len;
	return 0;
}

int tree_node_set_acl(struct tree *t, struct tnode *n, const struct acl_list *acl)
{
	struct acl_ent *e = acl_intern(t, acl ? acl : acl_open_unsafe());

	if (!e)
		return -ENOMEM;
	acl_unref(t, n->aclent);
	n->aclent = e;
	n->z.acl = e->acl;
	return 0;
}

int tree_insert(struct tree *t, const char *path, const void *data, int32_t len,
		const struct acl_list *acl, const struct zstat *st, enum znode_kind kind,
		unsigned flags, int64_t ttl_ms, enum znode_kind child_kind,
		int64_t child_ttl_ms, struct tnode **out)
{
	size_t plen = strlen(path);
	const char *slash = strrchr(path, '/');
	struct tnode *n, *parent = NULL;
	int rc = -ENOMEM;

	if (!slash)
		return -ENOENT;
	if (tree_find(t, path, plen))
		return -EEXIST;
	if (plen > 1) {
		parent = tree_find(t, path, (size_t)(slash - path));
		if (!parent)
			return -ENOENT;
	}
	if (t->count >= t->nbuckets && map_grow(t) < 0)
		return -ENOMEM;
	n = calloc(1, sizeof(*n) + plen + 1);
	if (!n)
		return -ENOMEM;
	memcpy(n->pathbuf, path, plen + 1);
	n->z.path = n->pathbuf;
	n->z.name = parent ? n->pathbuf + (slash - path) + 1 : n->pathbuf + plen;
	n->z.parent = parent ? &parent->z : NULL;
	n->z.stat = *st;
	n->z.stat.num_children = 0;
	n->z.kind = kind;
	n->z.flags = flags;
	n->z.ttl_ms = ttl_ms;
	n->z.child_kind = child_kind;
	n->z.child_ttl_ms = child_ttl_ms;
	n->hash = tree_hash(path, plen);
	if (tree_node_set_data(t, n, data, len) < 0)
		goto err_after_alloc;
	if (tree_node_set_acl(t, n, acl) < 0)
		goto err_after_data;
	if (kind == ZNODE_EPHEMERAL && ephemeral_link(t, n) < 0)
		goto err_after_acl;
	n->hnext = t->buckets[n->hash & (t->nbuckets - 1)];
	t->buckets[n->hash & (t->nbuckets - 1)] = n;
	t->count++;
	if (parent) {
		parent->kids = treap_insert(parent->kids, n);
		parent->z.stat.num_children++;
		parent->z.flags |= ZNODE_F_DIR;
		tree_reap_update(t, parent);
	}
	tree_reap_update(t, n);
	if (out)
		*out = n;
	return 0;

err_after_acl:
	acl_unref(t, n->aclent);
err_after_data:
	free((void *)n->z.data);
err_after_alloc:
	free(n);
	return rc;
}

static void node_free(struct tree *t, struct tnode *n)
{
	acl_unref(t, n->aclent);
	free((void *)n->z.data);
	free(n);
}

void tree_remove(struct tree *t, struct tnode *n)
{
	struct tnode *parent = tnode_of(n->z.parent);

	if (n->z.kind == ZNODE_EPHEMERAL)
		ephemeral_unlink(t, n);
	else if (n->listed)
		list_del(&t->reap, n);
	if (parent) {
		parent->kids = treap_remove(parent->kids, n);
		parent->z.stat.num_children--;
		tree_reap_update(t, parent);
	}
	map_del(t, n);
	node_free(t, n);
}

int tree_is_special_path(const char *path)
{
	return path && (strcmp(path, "/") == 0 || strcmp(path, "/zookeeper") == 0 ||
			strcmp(path, "/zookeeper/quota") == 0 ||
			strcmp(path, "/zookeeper/config") == 0);
}

/* ---- the tree ---- */

struct tree *tree_new(void)
{
	static struct zacl read_v[] = {{ZPERM_READ, (char *)"world", (char *)"anyone"}};
	static const struct acl_list read_unsafe = {1, read_v};
	struct zstat st = {0};
	struct tnode *cfg;
	struct tree *t;

	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nbuckets = 1024;
	t->nabuckets = 16;
	t->nsbuckets = 64;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->abuckets = calloc(t->nabuckets, sizeof(*t->abuckets));
	t->sbuckets = calloc(t->nsbuckets, sizeof(*t->sbuckets));
	if (!t->buckets || !t->abuckets || !t->sbuckets)
		goto err_after_tree;
	/* DataTree's constructor: zeroed stats, OPEN_ACL_UNSAFE, except that
	 * /zookeeper/config is READ_ACL_UNSAFE, set with version -1, which
	 * leaves its aversion at -1 (ZOOKEEPER-2014). */
	if (tree_insert(t, "/", NULL, 0, NULL, &st, ZNODE_PERSISTENT, 0, 0,
			ZNODE_PERSISTENT, 0, &t->root) < 0 ||
	    tree_insert(t, "/zookeeper", NULL, 0, NULL, &st, ZNODE_PERSISTENT, 0, 0,
			ZNODE_PERSISTENT, 0, NULL) < 0 ||
	    tree_insert(t, "/zookeeper/quota", NULL, 0, NULL, &st, ZNODE_PERSISTENT, 0, 0,
			ZNODE_PERSISTENT, 0, NULL) < 0 ||
	    tree_insert(t, "/zookeeper/config", NULL, 0, &read_unsafe, &st,
			ZNODE_PERSISTENT, 0, 0, ZNODE_PERSISTENT, 0, &cfg) < 0)
		goto err_after_tree;
	cfg->z.stat.aversion = -1;
	return t;

err_after_tree:
	tree_free(t);
	return NULL;
}

void tree_free(struct tree *t)
{
	struct tnode *n, *nn;
	struct tsession *s, *sn;
	size_t i;

	if (!t)
		return;
	for (i = 0; t->buckets && i < t->nbuckets; i++) {
		for (n = t->buckets[i]; n; n = nn) {
			nn = n->hnext;
			free((void *)n->z.data);
			free(n);
		}
	}
	for (i = 0; t->abuckets && i < t->nabuckets; i++) {
		struct acl_ent *e, *en;

		for (e = t->abuckets[i]; e; e = en) {
			en = e->next;
			acl_free(&e->acl);
			free(e);
		}
	}
	for (i = 0; t->sbuckets && i < t->nsbuckets; i++) {
		for (s = t->sbuckets[i]; s; s = sn) {
			sn = s->next;
			free(s->owner);
			free(s);
		}
	}
	free(t->buckets);
	free(t->abuckets);
	free(t->sbuckets);
	free(t);
}

void tree_set_listener(struct tree *t, tree_listener_fn fn, void *arg)
{
	t->fn = fn;
	t->fn_arg = arg;
}

void tree_emit(struct tree *t, enum tree_event_type type, const char *path,
	       const struct znode *node, int was_dir, zxid_t zxid, int64_t session_id)
{
	struct tree_event ev;

	if (!t->fn)
		return;
	ev.type = type;
	ev.path = path;
	ev.node = node;
	ev.was_dir = was_dir;
	ev.zxid = zxid;
	ev.session_id = session_id;
	t->fn(t->fn_arg, &ev);
}

zxid_t tree_last_zxid(const struct tree *t)
{
	return t->last_zxid;
}

void tree_set_last_zxid(struct tree *t, zxid_t z)
{
	t->last_zxid = z;
}

size_t tree_node_count(const struct tree *t)
{
	return t->count;
}

/* ---- listings and walks ---- */

static void treap_collect(const struct tnode *r, char **names, size_t *i, int *failed)
{
	if (!r || *failed)
		return;
	treap_collect(r->left, names, i, failed);
	names[*i] = strdup(r->z.name);
	if (!names[*i])
		*failed = 1;
	else
		(*i)++;
	treap_collect(r->right, names, i, failed);
}

int tree_children(const struct tree *t, const struct znode *n, char ***names,
		  size_t *count)
{
	size_t k = (size_t)n->stat.num_children, i = 0;
	char **v;
	int failed = 0;

	*names = NULL;
	*count = 0;
	v = calloc(k + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	treap_collect(tnode_of(n)->kids, v, &i, &failed);
	if (failed) {
		tree_names_free(v);
		return -ENOMEM;
	}
	*names = v;
	*count = i;
	return 0;
}

struct nstack {
	struct tnode **v;
	size_t n, cap;
	int failed;
};

static void nstack_push(struct nstack *s, struct tnode *x)
{
	struct tnode **v;

	if (s->failed)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;

		v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			s->failed = 1;
			return;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
}

/* Push children in reverse name order, so they pop in name order. */
static void treap_push_rev(struct nstack *s, struct tnode *r)
{
	if (!r)
		return;
	treap_push_rev(s, r->right);
	nstack_push(s, r);
	treap_push_rev(s, r->left);
}

/* Depth-first, parents first, siblings by name; an explicit stack, since a
 * path can be deep enough to overflow the C stack. */
static int subtree_walk(const struct tnode *top,
			int (*fn)(void *arg, const struct znode *n), void *arg,
			int64_t *count)
{
	struct nstack s = {0};
	struct tnode *n;
	int rc = 0;

	nstack_push(&s, (struct tnode *)top);
	while (s.n > 0 && !s.failed) {
		n = s.v[--s.n];
		if (fn) {
			rc = fn(arg, &n->z);
			if (rc)
				break;
		}
		if (count)
			(*count)++;
		treap_push_rev(&s, n->kids);
	}
	if (s.failed && !rc)
		rc = -ENOMEM;
	free(s.v);
	return rc;
}

int tree_walk(const struct tree *t, int (*fn)(void *arg, const struct znode *n),
	      void *arg)
{
	return subtree_walk(t->root, fn, arg, NULL);
}

int64_t tree_descendants(const struct tree *t, const struct znode *n)
{
	int64_t count = 0;

	if (n == &t->root->z)
		return (int64_t)t->count - 1;
	if (subtree_walk(tnode_of(n), NULL, NULL, &count) < 0)
		return -1;
	return count - 1;
}

static size_t treap_count(const struct tnode *r)
{
	return r ? 1 + treap_count(r->left) + treap_count(r->right) : 0;
}

int tree_load_node(struct tree *t, const struct znode *n, const void *data)
{
	struct tnode *x;
	int rc;

	/* a snapshot is input like any other: refuse what no txn could make */
	if (!n->path || path_validate(n->path) != ZOK ||
	    (n->stat.data_length > 0 && !data) || (unsigned)n->kind > ZNODE_TTL ||
	    (unsigned)n->child_kind > ZNODE_TTL)
		return -EINVAL;
	x = tree_find(t, n->path, strlen(n->path));
	if (x && tree_is_special_path(n->path)) {
		/* tree_new made these; the snapshot's version wins. */
		if (tree_node_set_data(t, x, data,
				       n->flags & ZNODE_F_NULLDATA ? -1 : n->stat.data_length) < 0 ||
		    tree_node_set_acl(t, x, &n->acl) < 0)
			return -ENOMEM;
		x->z.stat = n->stat;
		x->z.stat.data_length = n->stat.data_length < 0 ? 0 : n->stat.data_length;
		x->z.flags |= n->flags;
		x->z.child_kind = n->child_kind;
		x->z.child_ttl_ms = n->child_ttl_ms;
		/* the live child count stays true, not the snapshot's */
		x->z.stat.num_children = (int32_t)treap_count(x->kids);
		return 0;
	}
	rc =
	    tree_insert(t, n->path, data, n->flags & ZNODE_F_NULLDATA ? -1 : n->stat.data_length,
			&n->acl, &n->stat, n->kind,
			n->flags, n->ttl_ms, n->child_kind, n->child_ttl_ms, NULL);
	return rc;
}
