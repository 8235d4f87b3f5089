/*
 * xattr.c - the znode's stat, ACL and kind as user.quorumfs.* attributes.
 *
 * Read-only: version cversion aversion czxid mzxid pzxid ctime mtime
 * ephemeral_owner num_children data_length kind owner (and stats, the
 * mount's request counters, on the root). Settable: acl (setACL, in
 * ZooKeeper's text form) and child_kind (persistent | ephemeral | container
 * | ttl:<ms>, a QOP_SETMETA). zxids and session ids are shown in hex with
 * 0x, as zkCli prints them; times in ms since the epoch. A directory and
 * its .data file show the same znode. Names outside user.quorumfs.* do not
 * exist (ENODATA) and cannot be set (ENOTSUP).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "fs_int.h"
#include "zerr.h"

#define XPFX "user.quorumfs."

static const char *const xnames[] = {
    "version",	   "cversion", "aversion", "czxid",	      "mzxid",
    "pzxid",	   "ctime",    "mtime",	   "ephemeral_owner", "num_children",
    "data_length", "acl",      "kind",	   "child_kind",      "owner",
};

static const char *kind_name(enum znode_kind k)
{
	switch (k) {
	case ZNODE_EPHEMERAL:
		return "ephemeral";
	case ZNODE_CONTAINER:
		return "container";
	case ZNODE_TTL:
		return "ttl";
	default:
		return "persistent";
	}
}

/* The value of one attribute, malloc'd in *out; 0, ENODATA or ENOMEM. */
static int xattr_value(struct qfs_mount *m, const struct znode *n, int is_root,
		       const char *name, char **out)
{
	/* the stat fields as a ZooKeeper client is shown them (tree.h) */
	const struct zstat shown = zstat_shown(&n->stat), *s = &shown;
	const struct tree_session *ts;
	struct qcore_stats cs;
	char v[768];

	*out = NULL;
	if (strcmp(name, "version") == 0)
		snprintf(v, sizeof(v), "%" PRId32, s->version);
	else if (strcmp(name, "cversion") == 0)
		snprintf(v, sizeof(v), "%" PRId32, s->cversion);
	else if (strcmp(name, "aversion") == 0)
		snprintf(v, sizeof(v), "%" PRId32, s->aversion);
	else if (strcmp(name, "czxid") == 0)
		snprintf(v, sizeof(v), "0x%" PRIx64, (uint64_t)s->czxid);
	else if (strcmp(name, "mzxid") == 0)
		snprintf(v, sizeof(v), "0x%" PRIx64, (uint64_t)s->mzxid);
	else if (strcmp(name, "pzxid") == 0)
		snprintf(v, sizeof(v), "0x%" PRIx64, (uint64_t)s->pzxid);
	else if (strcmp(name, "ctime") == 0)
		snprintf(v, sizeof(v), "%" PRId64, s->ctime);
	else if (strcmp(name, "mtime") == 0)
		snprintf(v, sizeof(v), "%" PRId64, s->mtime);
	else if (strcmp(name, "ephemeral_owner") == 0)
		snprintf(v, sizeof(v), "0x%" PRIx64, (uint64_t)s->ephemeral_owner);
	else if (strcmp(name, "num_children") == 0)
		snprintf(v, sizeof(v), "%" PRId32, s->num_children);
	else if (strcmp(name, "data_length") == 0)
		snprintf(v, sizeof(v), "%" PRId32, s->data_length);
	else if (strcmp(name, "acl") == 0) {
		*out = acl_format(&n->acl);
		return *out ? 0 : ENOMEM;
	} else if (strcmp(name, "kind") == 0)
		snprintf(v, sizeof(v), "%s%s", kind_name(n->kind),
			 (n->flags & ZNODE_F_SEQUENTIAL) ? "_sequential" : "");
	else if (strcmp(name, "child_kind") == 0) {
		if (n->child_kind == ZNODE_TTL)
			snprintf(v, sizeof(v), "ttl:%" PRId64, n->child_ttl_ms);
		else
			snprintf(v, sizeof(v), "%s", kind_name(n->child_kind));
	} else if (strcmp(name, "owner") == 0) {
		if (n->kind != ZNODE_EPHEMERAL)
			return ENODATA;
		ts = tree_session_get(qcore_tree(m->core), n->stat.ephemeral_owner);
		snprintf(v, sizeof(v), "%s session 0x%" PRIx64,
			 ts && ts->owner ? ts->owner : "(closed)",
			 (uint64_t)n->stat.ephemeral_owner);
	} else if (strcmp(name, "stats") == 0 && is_root) {
		qcore_stats(m->core, &cs);
		snprintf(v, sizeof(v),
			 "requests=%" PRIu64 " lookups=%" PRIu64 " getattrs=%" PRIu64
			 " opens=%" PRIu64 " reads=%" PRIu64 " writes=%" PRIu64
			 " flushes=%" PRIu64 " commits=%" PRIu64 " replays=%" PRIu64
			 " replay_reqs=%" PRIu64 " invals=%" PRIu64 " forgets=%" PRIu64
			 " txns=%" PRIu64 " log_txns=%" PRIu64 " fsyncs=%" PRIu64
			 " replay_queued=%zu replays_skipped=%" PRIu64,
			 m->st.requests, m->st.lookups, m->st.getattrs, m->st.opens,
			 m->st.reads, m->st.writes, m->st.flushes, m->st.commits,
			 __atomic_load_n(&m->st.replays, __ATOMIC_RELAXED),
			 m->st.replay_reqs,
			 __atomic_load_n(&m->st.invals, __ATOMIC_RELAXED), m->st.forgets,
			 cs.txns, cs.log_txns, cs.fsyncs, qfs_replay_queued(m),
			 m->st.replays_skipped);
	} else
		return ENODATA;
	*out = strdup(v);
	return *out ? 0 : ENOMEM;
}

/*
 * The ACL is shown to who may read the node or administer it, as
 * ZooKeeper's getACL (READ or ADMIN); the stat fields and the kinds need no
 * right, as exists() (they are what stat(2) shows anyway).
 */
static int acl_readable(fuse_req_t req, const struct znode *n)
{
	return qfs_allowed(req, n, ZPERM_READ) || qfs_allowed(req, n, ZPERM_ADMIN);
}

static const struct znode *xattr_node(fuse_req_t req, fuse_ino_t ino,
				      struct qfs_inode **inp, int *err)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in = qfs_inode_get(m, ino);
	const struct znode *n;

	*err = ESTALE;
	if (!in)
		return NULL;
	n = qfs_inode_node(m, in);
	*err = ENOENT;
	*inp = in;
	return n;
}

void qfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in;
	const struct znode *n;
	char *v;
	size_t len;
	int err;

	n = xattr_node(req, ino, &in, &err);
	if (!n)
		goto err_reply;
	if (strncmp(name, XPFX, strlen(XPFX)) != 0) {
		err = ENODATA;
		goto err_reply;
	}
	if (strcmp(name, XPFX "acl") == 0 && !acl_readable(req, n)) {
		err = EACCES;
		goto err_reply;
	}
	err = xattr_value(m, n, ino == FUSE_ROOT_ID, name + strlen(XPFX), &v);
	if (err)
		goto err_reply;
	len = strlen(v);
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, v, len);
	free(v);
	return;
err_reply:
	fuse_reply_err(req, err);
}

void qfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct qfs_inode *in;
	const struct znode *n;
	char list[1024];
	size_t used = 0, i, l;
	int err;

	n = xattr_node(req, ino, &in, &err);
	if (!n) {
		fuse_reply_err(req, err);
		return;
	}
	for (i = 0; i < sizeof(xnames) / sizeof(xnames[0]); i++) {
		if (strcmp(xnames[i], "owner") == 0 && n->kind != ZNODE_EPHEMERAL)
			continue;
		if (strcmp(xnames[i], "child_kind") == 0 && !qfs_node_is_dir(n))
			continue;
		/* what the caller may not read is not listed: getfattr -d
		 * then shows the rest without an error */
		if (strcmp(xnames[i], "acl") == 0 && !acl_readable(req, n))
			continue;
		l = strlen(XPFX) + strlen(xnames[i]) + 1;
		memcpy(list + used, XPFX, strlen(XPFX));
		memcpy(list + used + strlen(XPFX), xnames[i], strlen(xnames[i]) + 1);
		used += l;
	}
	if (ino == FUSE_ROOT_ID) {
		memcpy(list + used, XPFX "stats", sizeof(XPFX "stats"));
		used += sizeof(XPFX "stats");
	}
	if (size == 0)
		fuse_reply_xattr(req, used);
	else if (size < used)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, list, used);
}

static void set_done(void *arg, int err, const struct zresult *res)
{
	/* Directly, not behind the replay thread's invalidations: the kernel
	 * holds the inode's lock across SETXATTR, which a queued replay may
	 * need. The kernel refreshes the mode bits itself (ctime changed). */
	if (err >= 0)
		fuse_reply_err(arg, err);
}

/* "persistent" | "ephemeral" | "container" | "ttl:<ms>". 0 or EINVAL. */
static int parse_child_kind(const char *v, int32_t *kind, int64_t *ttl)
{
	char *end;
	long long ms;

	*ttl = 0;
	if (strcmp(v, "persistent") == 0)
		*kind = ZNODE_PERSISTENT;
	else if (strcmp(v, "ephemeral") == 0)
		*kind = ZNODE_EPHEMERAL;
	else if (strcmp(v, "container") == 0)
		*kind = ZNODE_CONTAINER;
	else if (strncmp(v, "ttl:", 4) == 0) {
		ms = strtoll(v + 4, &end, 10);
		if (end == v + 4 || *end || ms <= 0)
			return EINVAL;
		*kind = ZNODE_TTL;
		*ttl = ms;
	} else
		return EINVAL;
	return 0;
}

void qfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		  size_t size, int flags)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in;
	const struct znode *n;
	struct acl_list acl = {0, NULL};
	struct zreq zr;
	char *v, ebuf[128];
	const char *x;
	int err;
	unsigned i;

	if (strncmp(name, XPFX, strlen(XPFX)) != 0) {
		err = ENOTSUP;
		goto err_reply;
	}
	x = name + strlen(XPFX);
	n = xattr_node(req, ino, &in, &err);
	if (qfs_from_replay(req) && (n || err == ENOENT)) {
		/* applied already, the node perhaps deleted since (attr.c,
		 * replay_lookup): only the event is wanted */
		fuse_reply_err(req, 0);
		return;
	}
	if (!n)
		goto err_reply;
	if (flags & XATTR_CREATE) {
		err = EEXIST; /* every attribute always exists */
		goto err_reply;
	}
	v = strndup(value, size);
	if (!v) {
		err = ENOMEM;
		goto err_reply;
	}
	while (size && (v[size - 1] == '\n' || v[size - 1] == '\0'))
		v[--size] = '\0';
	memset(&zr, 0, sizeof(zr));
	zr.path = in->zpath;
	if (strcmp(x, "acl") == 0) {
		if (acl_parse(v, &acl, ebuf, sizeof(ebuf)) != ZOK) {
			err = EINVAL;
			goto err_after_value;
		}
		zr.op = ZOP_SETACL;
		zr.acl = &acl;
		zr.version = -1;
	} else if (strcmp(x, "child_kind") == 0) {
		zr.op = QOP_SETMETA;
		err = parse_child_kind(v, &zr.child_kind, &zr.child_ttl_ms);
		if (err)
			goto err_after_value;
	} else {
		for (i = 0; i < sizeof(xnames) / sizeof(xnames[0]); i++)
			if (strcmp(x, xnames[i]) == 0)
				break;
		/* The stat fields are ZooKeeper's to keep. ENOTSUP rather than
		 * EPERM: cp -a and mv copy every listed attribute and skip the
		 * unsupported ones quietly. */
		(void)i;
		err = ENOTSUP;
		goto err_after_value;
	}
	err = qfs_submit(m, qfs_req_who(req), &zr, set_done, req);
err_after_value:
	acl_free(&acl);
	free(v);
	if (!err)
		return;
err_reply:
	fuse_reply_err(req, err);
}

void qfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct qfs_mount *m = qfs_req_mount(req);
	struct qfs_inode *in;
	const struct znode *n;
	struct zreq zr;
	int err;

	n = xattr_node(req, ino, &in, &err);
	if (!n)
		goto err_reply;
	if (strcmp(name, XPFX "child_kind") != 0) {
		err = strncmp(name, XPFX, strlen(XPFX)) == 0 ? EPERM : ENODATA;
		goto err_reply;
	}
	/* removing the mark means the default: persistent children */
	memset(&zr, 0, sizeof(zr));
	zr.op = QOP_SETMETA;
	zr.path = in->zpath;
	zr.child_kind = ZNODE_PERSISTENT;
	err = qfs_submit(m, qfs_req_who(req), &zr, set_done, req);
	if (!err)
		return;
err_reply:
	fuse_reply_err(req, err);
}
