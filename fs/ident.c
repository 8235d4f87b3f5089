/*
 * ident.c - who is asking: the ZooKeeper identities a FUSE request carries,
 * and what they may do to a node.
 *
 * The mount enforces each node's ACL for the local user behind every
 * request (quorumfs(8), PERMISSIONS):
 *   - the user the daemon runs as (who mounted it) has the mount's own
 *     identities (mountAuth, with ip:127.0.0.1);
 *   - every user also has the identities mountUserMap gives its uid, its
 *     primary gid and its supplementary groups ("mount" in the map stands
 *     for the mount's identities, "super" for every right);
 *   - a user the map does not name, root included, has no identity: only
 *     what world:anyone grants.
 * Without allow_other/allow_root the kernel lets only the mounting user in,
 * so the first rule is all there is.
 *
 * The identities of a request live in a scratch list owned by the mount,
 * valid until the next qfs_req_who call (everything runs on the loop, and
 * qcore_submit reads them before it returns); a write handle keeps its own
 * copy for the commit at close.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_int.h"
#include "zerr.h"

/* Room for every identity one request can have. */
static size_t ident_cap(struct qfs_mount *m)
{
	return m->auth->n + m->n_user_map * ((size_t)m->auth->n + 1);
}

/* Is one of the comma-separated options `name`? */
static int has_opt(const char *opts, const char *name)
{
	size_t len = strlen(name);
	const char *p = opts;

	while (p && *p) {
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

int qfs_ident_init(struct qfs_mount *m, const struct qfs_mount_opts *opts)
{
	size_t i;

	m->user_map = opts->user_map;
	m->n_user_map = opts->user_map ? opts->n_user_map : 0;
	for (i = 0; i < m->n_user_map; i++)
		if (m->user_map[i].is_group)
			m->map_has_groups = 1;
	/*
	 * Mode bits are the caller's rights, so on a mount other users share
	 * the kernel must not answer one user's stat from another's cached
	 * attributes: every stat asks. Names (lookup) need no right, as
	 * ZooKeeper's exists(), and stay cached.
	 */
	m->shared = has_opt(opts->fuse_opts, "allow_other") ||
		    has_opt(opts->fuse_opts, "allow_root");
	m->attr_timeout = m->shared ? 0.0 : QFS_ATTR_TIMEOUT;
	m->who_v = calloc(ident_cap(m) + 1, sizeof(*m->who_v));
	return m->who_v ? 0 : -ENOMEM;
}

void qfs_ident_free(struct qfs_mount *m)
{
	free(m->who_v);
	m->who_v = NULL;
}

static void add_mount_ids(struct qfs_mount *m, struct zauth *a)
{
	int32_t i;

	for (i = 0; i < m->auth->n; i++)
		a->v[a->n++] = m->auth->v[i];
	if (m->auth->super)
		a->super = 1;
}

static void add_entry(struct qfs_mount *m, const struct qfs_user_map *e, struct zauth *a)
{
	if (strcmp(e->scheme, "mount") == 0) {
		add_mount_ids(m, a);
	} else if (strcmp(e->scheme, "super") == 0) {
		a->super = 1;
	} else {
		/* borrowed from the map, which outlives the mount */
		a->v[a->n].scheme = e->scheme;
		a->v[a->n].id = e->ident;
		a->n++;
	}
}

static int in_groups(gid_t g, const gid_t *groups, int ngroups)
{
	int i;

	for (i = 0; i < ngroups; i++)
		if (groups[i] == g)
			return 1;
	return 0;
}

const struct zauth *qfs_req_who(fuse_req_t req)
{
	struct qfs_mount *m = qfs_req_mount(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct zauth *a = &m->who;
	gid_t groups[64];
	int ngroups = 0;
	size_t i;

	a->n = 0;
	a->v = m->who_v;
	a->super = 0;
	if (ctx->uid == m->uid)
		add_mount_ids(m, a);
	if (m->map_has_groups) {
		ngroups = fuse_req_getgroups(
		    req, (int)(sizeof(groups) / sizeof(groups[0])), groups);
		if (ngroups < 0 || ngroups > (int)(sizeof(groups) / sizeof(groups[0])))
			ngroups = 0; /* no /proc, or more than we look at */
	}
	for (i = 0; i < m->n_user_map; i++) {
		const struct qfs_user_map *e = &m->user_map[i];

		if (e->is_group ? e->id == ctx->gid || in_groups(e->id, groups, ngroups)
				: e->id == ctx->uid)
			add_entry(m, e, a);
	}
	return a;
}

int32_t qfs_perms(const struct zauth *who, const struct znode *n)
{
	static const int32_t all[] = {ZPERM_READ, ZPERM_WRITE, ZPERM_CREATE, ZPERM_DELETE,
				      ZPERM_ADMIN};
	int32_t p = 0;
	unsigned i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (acl_check(&n->acl, who, all[i]) == ZOK)
			p |= all[i];
	return p;
}

int qfs_allowed(fuse_req_t req, const struct znode *n, int32_t perm)
{
	if (qfs_from_replay(req))
		return 1;
	return acl_check(&n->acl, qfs_req_who(req), perm) == ZOK;
}

int qfs_auth_copy(struct zauth *dst, const struct zauth *src)
{
	int32_t i;

	memset(dst, 0, sizeof(*dst));
	dst->super = src->super;
	for (i = 0; i < src->n; i++) {
		if (zauth_add(dst, src->v[i].scheme, src->v[i].id) < 0) {
			zauth_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}
