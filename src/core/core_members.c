/*
 * core_members.c - the daemon's side of membership changes: ZooKeeper's
 * reconfig and leadership transfer handed to the consensus engine
 * (cons_node_reconfig, cons_node_transfer), the engine's configuration
 * kept with snapshots (snap_config/boot_config), the address book of the
 * members (the engine knows ids and roles only), /zookeeper/config and
 * dataDir/zoo.cfg.dynamic.
 *
 * WHERE ADDRESSES LIVE. A configuration entry in the log names ids, roles,
 * groups and weights; addresses travel in /zookeeper/config, which the
 * leader writes (an ordinary setData as the server) once the engine reports
 * the configuration committed. So a follower learns a new member's address
 * one write after the change. Until then it accepts that member's
 * connections (an accept-only transport peer, declared when the CONFIG
 * entry is applied): a new member is started with a zoo.cfg naming every
 * member and dials them itself. The leader has the address from the
 * request and dials the new member at once (it must replicate to it while
 * it catches up as a learner).
 *
 * RESTARTS. The engine's configuration as of each snapshot is stored next
 * to it (SNAPSHOT.conf, written durably before the snapshot counts); later
 * CONFIG entries come back from the log. dataDir/zoo.cfg.dynamic (the text
 * of /zookeeper/config, rewritten whenever it changes) gives config.c the
 * server lines, hence the addresses, on the next start; the engine's
 * membership is the authority and a disagreement is logged at start.
 *
 * FROM ANY MEMBER. ZooKeeper takes a reconfig on any server. Here a member
 * that does not lead keeps it (struct fwd_rc, in the order asked) and
 * forwards it as a CR_RECONFIG request (core_req.h) once a leader is
 * known; the leader queues it (the engine refuses a change asked from
 * inside its own callbacks), makes every check and runs it, then answers
 * with an entry of no effect for the origin's request id (core_answer),
 * proposed after /zookeeper/config was written: applied at the origin, it
 * completes the request there with /zookeeper/config already showing the
 * change. A leader change before the answer is connection loss, as for a
 * forwarded write (a transfer asked so is done once another leads).
 *
 * GROUPS AND WEIGHTS. A whole new member list (reconfig -members/-file)
 * may carry group.X and weight.N entries (members_text.c parses, checks
 * and renders them): the new configuration's quorum system is the list's
 * alone. /zookeeper/config shows them after the server lines, so
 * zoo.cfg.dynamic has them for the next start (config.c takes them over
 * zoo.cfg's), and each member checks the text against its log's
 * configuration (check_text). An incremental change (-add/-remove) of a
 * hierarchical or weighted ensemble is refused, as ZooKeeper refuses it.
 *
 * REMOVED SERVERS. Once a configuration that no longer names a server is
 * committed, the tick takes it from the transport (transport_remove_peer):
 * not dialled, its connections refused, said once.
 *
 * OWNERSHIP: struct core_members belongs to struct qcore (c->mb), freed by
 * core_members_free; a pending reconfig or transfer owns nothing but its
 * callback, which runs exactly once. The fwd_rc entries (mb->fwd, the
 * origin's; mb->inbox, the leader's) and their request bytes belong to
 * their list; a struct fwd_answer belongs to the reconfig it answers and
 * is freed by its callback.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "cons_node.h"
#include "core_int.h"
#include "core_req.h"
#include "log.h"
#include "members_text.h"
#include "serverspec.h"
#include "snapshot.h"
#include "tmpfile.h"
#include "transport.h"
#include "zerr.h"

#define CFG_PATH "/zookeeper/config"

struct core_addr {
	uint32_t id;
	char host[256];
	int peer_port, election_port;
	char client[300]; /* "host:port", or "" */
	int declared;	  /* given to the transport (with host, or accept-only) */
	int dialled;	  /* given with its address */
};

struct core_members {
	struct core_addr a[2 * CONS_MAX_MEMBERS];
	unsigned n;
	/* The newest CONFIG payload applied (len 0: the static one). */
	uint8_t conf[CONS_MEMBERSHIP_MAX];
	uint32_t conf_len;
	uint8_t boot[CONS_MEMBERSHIP_MAX];
	uint32_t boot_len;
	/* A reconfig this leader runs: done once /zookeeper/config shows it. */
	int rc_active, rc_committed, rc_writing;
	zxid_t rc_version;
	qcore_done_fn rc_done;
	void *rc_arg;
	/* Adding a member waits for a background snapshot first (the new
	 * member must start from one): the change, owned, started by the
	 * tick once the snapshot is on disk. */
	struct cons_membership *rc_to;
	zxid_t rc_from;
	int64_t rc_deadline;
	/* A transfer this leader runs. */
	int tr_active;
	int64_t tr_deadline;
	qcore_done_fn tr_done;
	void *tr_arg;
	/* Removed since (ms): said once it lasts, since a new member is
	 * "removed" for a moment, between the snapshot it starts from (taken
	 * before it was added) and the joint configuration after it. */
	int64_t removed_since;
	struct event *write_ev; /* the leader checks /zookeeper/config */
	int writing;		/* a setData of /zookeeper/config in flight */
	int removed_said;
	/* Reconfigs and transfers asked here while this server did not lead,
	 * in the order asked: forwarded to the leader, or waiting for one. */
	struct fwd_rc *fwd;
	/* Leader: reconfigs other members forwarded, run from fwd_ev (the
	 * engine refuses a change asked from inside its callbacks). */
	struct fwd_rc *inbox;
	struct event *fwd_ev;
	/* A configuration was committed: the tick stops dialling the servers
	 * it no longer names (outside the engine's callbacks: closing a
	 * connection may call into the engine). */
	int prune;
};

struct fwd_rc {
	struct fwd_rc *next;
	uint64_t reqid;	  /* in the leader's answer entry */
	uint32_t origin;  /* inbox: the member that asked */
	struct buf msg;	  /* the CR_RECONFIG request */
	int transfer;	  /* a leader transfer: done once another leads */
	uint32_t sent_to; /* the leader it went to; 0: not sent yet */
	int64_t since, sent_at;
	qcore_done_fn done;
	void *arg;
};

/* The leader's side of a request another member forwarded. */
struct fwd_answer {
	struct qcore *c;
	uint32_t origin;
	uint64_t reqid;
};

#define TRANSFER_PREFIX "quorumfs:leader.transfer="

static const struct zauth no_auth = {0, NULL, 0};

static int start_change(struct qcore *c, const struct cons_membership *to, zxid_t from);
static void fwd_run(struct qcore *c);
static void fwd_cb(evutil_socket_t fd, short what, void *arg);
static void fwd_free(struct fwd_rc *f);

static struct core_addr *addr_find(struct core_members *mb, uint32_t id)
{
	for (unsigned i = 0; i < mb->n; i++)
		if (mb->a[i].id == id)
			return &mb->a[i];
	return NULL;
}

static struct core_addr *addr_get(struct core_members *mb, uint32_t id)
{
	struct core_addr *a = addr_find(mb, id);

	if (a || mb->n == sizeof(mb->a) / sizeof(mb->a[0]))
		return a;
	a = &mb->a[mb->n++];
	memset(a, 0, sizeof(*a));
	a->id = id;
	return a;
}

/* Tell the transport about server id: dial it when its address is known,
 * else accept its connections. */
static void declare_peer(struct qcore *c, struct core_addr *a)
{
	int rc;

	if (!c->tpt || a->id == c->self || a->dialled)
		return;
	if (a->host[0] && !a->declared) {
		rc = transport_add_peer(c->tpt, a->id, a->host, (uint16_t)a->peer_port);
		if (rc == 0 || rc == -EEXIST) {
			a->declared = a->dialled = 1;
			if (rc == 0)
				log_info("members: server.%u at %s:%d", a->id, a->host,
					 a->peer_port);
		} else
			log_warnx("members: server.%u=%s:%d: %s", a->id, a->host,
				  a->peer_port, strerror(-rc));
	} else if (!a->declared) {
		rc = transport_add_peer(c->tpt, a->id, NULL, 0);
		if (rc == 0 || rc == -EEXIST)
			a->declared = 1;
		if (rc == 0)
			log_info("members: server.%u: address not known yet, accepting "
				 "its connections",
				 a->id);
	}
}

/*
 * The servers the committed configuration no longer names are neither
 * dialled nor accepted any more (said once each). A joint configuration
 * still names both halves: nothing then.
 */
static void prune_peers(struct qcore *c)
{
	struct core_members *mb = c->mb;
	struct cons_membership m;

	if (mb->rc_active)
		return; /* its learners are not in the configuration yet */
	mb->prune = 0;
	if (!c->tpt || !c->node)
		return;
	cons_node_membership(c->node, 1, &m);
	if (m.joint || !m.n)
		return;
	for (unsigned i = 0; i < mb->n; i++) {
		struct core_addr *a = &mb->a[i];
		unsigned j;

		if (!a->declared || a->id == c->self)
			continue;
		for (j = 0; j < m.n && m.m[j].id != a->id; j++)
			;
		if (j < m.n)
			continue;
		if (transport_remove_peer(c->tpt, a->id) == 0)
			log_info("members: server.%u is no longer a member: no longer "
				 "dialled, its connections refused",
				 a->id);
		a->declared = a->dialled = 0;
	}
}

/* ---- the text form ---- */

/* One server spec (members_text_server) as an address and a role. */
static int parse_spec_id(const char *s, struct core_addr *out, int *observer, long max_id)
{
	struct mt_server v;
	char why[320];

	if (members_text_server(s, &v, max_id, why, sizeof(why))) {
		log_warnx("members: refused '%.120s': %s", s, why);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->id = v.id;
	snprintf(out->host, sizeof(out->host), "%s", v.host);
	out->peer_port = v.peer_port;
	out->election_port = v.election_port;
	snprintf(out->client, sizeof(out->client), "%s", v.client);
	*observer = v.observer;
	return 0;
}

/* A member's id is 1..254, as zoo.cfg's (config.c): a session id carries
 * it in its top byte, and an ephemeral owner whose top byte is 0xff marks
 * a TTL node (ZooKeeper's EphemeralType), so a server 255 would make its
 * sessions' ephemeral nodes look like TTL nodes. */
static int parse_spec(const char *s, struct core_addr *out, int *observer)
{
	return parse_spec_id(s, out, observer, 254);
}

/* The text of membership m (non-joint) in ZooKeeper's form, into buf:
 * server lines, then group.X/weight.N lines unless the quorum is a
 * majority (members_text.h), then version=.
 * Returns its length, or -ENOENT when a member's address is unknown. */
static int render(struct core_members *mb, const struct cons_membership *m, char *buf,
		  size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < m->n; i++) {
		const struct core_addr *a = addr_find(mb, m->m[i].id);
		char host[sizeof(a->host) + 2];
		int k;

		if (!a || !a->host[0])
			return -ENOENT;
		k = snprintf(buf + off, len - off, "server.%u=%s:%d:%d:%s%s%s\n", a->id,
			     serverspec_host(a->host, host, sizeof(host)), a->peer_port,
			     a->election_port,
			     m->m[i].observer ? "observer" : "participant",
			     a->client[0] ? ";" : "", a->client);
		if (k < 0 || (size_t)k >= len - off)
			return -ENOSPC;
		off += (size_t)k;
	}
	if (members_text_render(m, buf, len, &off))
		return -ENOSPC;
	off += (size_t)snprintf(buf + off, len - off, "version=%llx",
				(unsigned long long)m->version);
	return off >= len ? -ENOSPC : (int)off;
}

static int same(const struct cons_membership *a, const struct cons_membership *b);

/*
 * The membership a /zookeeper/config text names: its servers and roles,
 * its quorum system from the group.X/weight.N lines (members_text.h) and
 * its version. 0, or -EINVAL when the text does not parse.
 */
static int text_membership(const char *text, size_t len, struct cons_membership *m)
{
	char *copy = malloc(len + 1), *save = NULL, *line, why[256];
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = 0;
	memset(m, 0, sizeof(*m));
	for (line = strtok_r(copy, "\n", &save); line && !rc;
	     line = strtok_r(NULL, "\n", &save)) {
		struct core_addr x;
		int obs;

		if (!strncmp(line, "version=", 8)) {
			m->version = strtoull(line + 8, NULL, 16);
			continue;
		}
		if (strncmp(line, "server.", 7))
			continue;
		if (parse_spec(line, &x, &obs) || m->n == CONS_MAX_MEMBERS)
			rc = -EINVAL;
		else
			m->m[m->n++] = (struct cons_member){
			    .id = x.id, .observer = (uint8_t)obs, .weight = 1};
	}
	if (rc == 0) {
		memcpy(copy, text, len);
		copy[len] = 0;
		rc = members_text_quorum(m, copy, why, sizeof(why));
		if (rc)
			log_warnx("members: %s: %s", CFG_PATH, why);
	}
	free(copy);
	return rc;
}

/*
 * Does the text agree with the engine's configuration of the same
 * version (servers, roles, groups, weights)? Said when not: every member
 * reads its quorum from the log, and the text (and zoo.cfg.dynamic, from
 * which a restart takes zoo.cfg's server, group and weight lines) should
 * show the same.
 */
static void check_text(struct qcore *c, const char *text, size_t len)
{
	struct cons_membership *t, *e;

	if (!c->node)
		return;
	t = malloc(sizeof(*t));
	e = malloc(sizeof(*e));
	if (t && e && text_membership(text, len, t) == 0) {
		cons_node_membership(c->node, 1, e);
		if (!e->joint && e->version == t->version && !same(t, e))
			log_warnx("members: %s (version 0x%llx) differs from the "
				  "configuration in this server's log",
				  CFG_PATH, (unsigned long long)t->version);
	}
	free(t);
	free(e);
}

/* Learn the addresses in a /zookeeper/config text (and check its quorum). */
static void learn_text(struct qcore *c, const char *text, size_t len)
{
	struct core_members *mb = c->mb;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		char line[1024];
		struct core_addr x, *a;
		int obs;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + 1;
		if (strncmp(line, "server.", 7) || parse_spec(line, &x, &obs))
			continue;
		a = addr_get(mb, x.id);
		if (!a)
			continue;
		if (strcmp(a->host, x.host) || a->peer_port != x.peer_port) {
			if (a->dialled)
				log_warnx(
				    "members: server.%u moved to %s:%d: this server "
				    "dials the new address after a restart",
				    x.id, x.host, x.peer_port);
			else {
				snprintf(a->host, sizeof(a->host), "%s", x.host);
				a->peer_port = x.peer_port;
			}
		}
		a->election_port = x.election_port;
		snprintf(a->client, sizeof(a->client), "%s", x.client);
		declare_peer(c, a);
	}
	check_text(c, text, len);
}

/* dataDir/zoo.cfg.dynamic := text (durably: tmp, fsync, rename). */
static void write_dynamic(struct qcore *c, const char *text, size_t len)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/zoo.cfg.dynamic", c->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = tmpfile_create(tmp, 0644);
	if (fd < 0)
		goto fail;
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0) {
		close(fd);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) < 0)
		goto fail;
	return;
fail:
	log_warnx("members: %s: %s (the next start uses the older server list)", path,
		  strerror(errno));
}

/* ---- /zookeeper/config, kept by the leader ---- */

static void finish_reconfig(struct qcore *c, const struct zresult *res)
{
	struct core_members *mb = c->mb;
	qcore_done_fn done = mb->rc_done;
	void *arg = mb->rc_arg;

	mb->rc_active = mb->rc_committed = mb->rc_writing = 0;
	mb->rc_done = NULL;
	free(mb->rc_to);
	mb->rc_to = NULL;
	if (done)
		done(arg, res);
}

static void fail_reconfig(struct qcore *c, int err)
{
	struct zresult res = {.err = err};

	if (c->mb->rc_active)
		finish_reconfig(c, &res);
}

static void config_written(void *arg, const struct zresult *res)
{
	struct qcore *c = arg;
	struct core_members *mb = c->mb;

	if (!mb)
		return; /* closing: the members' state is gone */
	mb->writing = 0;
	if (res->err)
		log_warnx("members: writing %s failed: %s", CFG_PATH, zerr_str(res->err));
	if (mb->rc_active && mb->rc_writing)
		finish_reconfig(c, res);
	/* A configuration committed while this write was in flight is
	 * written now (write_cb does nothing when the node shows it). */
	if (res->err == ZOK)
		event_active(mb->write_ev, EV_TIMEOUT, 0);
}

/* Leader: make /zookeeper/config show the newest committed configuration. */
static void write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;
	struct core_members *mb = c->mb;
	struct cons_membership m;
	const struct znode *z;
	struct zreq req;
	char text[CONS_MAX_MEMBERS * 600 + 64];
	int len;

	if (!c->node || c->store_closed || mb->writing || !core_leader_ready(c))
		return;
	cons_node_membership(c->node, 1, &m);
	len = render(mb, &m, text, sizeof(text));
	if (len < 0) {
		log_warnx("members: configuration 0x%llx names a server whose address "
			  "this leader does not know: %s not updated",
			  (unsigned long long)m.version, CFG_PATH);
		if (mb->rc_active && mb->rc_committed)
			fail_reconfig(c, ZSYSTEMERROR);
		return;
	}
	z = tree_lookup(c->tree, CFG_PATH);
	if (z && z->stat.data_length == len && !memcmp(z->data, text, (size_t)len)) {
		if (mb->rc_active && mb->rc_committed && m.version == mb->rc_version) {
			struct zresult res = {.err = ZOK, .zxid = c->applied};

			finish_reconfig(c, &res);
		}
		return;
	}
	memset(&req, 0, sizeof(req));
	req.op = ZOP_SETDATA;
	req.path = CFG_PATH;
	req.data = text;
	req.data_len = len;
	req.version = -1;
	if (core_submit(c, 0, 0, &req, &core_server_auth, config_written, c) == 0) {
		mb->writing = 1;
		if (mb->rc_active && mb->rc_committed && m.version == mb->rc_version)
			mb->rc_writing = 1;
	}
}

static void write_soon(struct qcore *c)
{
	if (c->mb && c->mb->write_ev)
		event_active(c->mb->write_ev, EV_TIMEOUT, 0);
}

/* Every change of /zookeeper/config: learn addresses, keep the file. */
static void cfg_listener(void *arg, const struct tree_event *ev)
{
	struct qcore *c = arg;

	if (!c->mb || !ev->node || strcmp(ev->path, CFG_PATH) || ev->type != TREE_DATA)
		return;
	learn_text(c, ev->node->data, (size_t)ev->node->stat.data_length);
	write_dynamic(c, ev->node->data, (size_t)ev->node->stat.data_length);
}

/* ---- host callbacks and hooks (core_int.h) ---- */

/* The file holding the configuration as of the snapshot at zxid. */
static void conf_path(const struct qcore *c, zxid_t zxid, char *buf, size_t len)
{
	char snap[4096];

	snapshot_path(snap, sizeof(snap), c->dir, zxid);
	snprintf(buf, len, "%s.conf", snap);
}

static int store_conf(struct qcore *c, zxid_t zxid, const uint8_t *conf, uint32_t len)
{
	char path[4200], tmp[4300];
	int fd, e;

	conf_path(c, zxid, path, sizeof(path));
	if (len == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = tmpfile_create(tmp, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, conf, len) != (ssize_t)len || fsync(fd) < 0) {
		e = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		return -e;
	}
	close(fd);
	if (rename(tmp, path) < 0)
		return -errno;
	return 0;
}

int core_members_snap_config(struct qcore *c, zxid_t zxid, const uint8_t *conf,
			     uint32_t len)
{
	int rc;

	if (!c->mb || len > sizeof(c->mb->conf))
		return -EINVAL;
	rc = store_conf(c, zxid, conf, len);
	if (rc) {
		log_warnx("members: keeping the configuration of snapshot 0x%llx: %s",
			  (unsigned long long)zxid, strerror(-rc));
		return rc;
	}
	memcpy(c->mb->conf, conf, len);
	c->mb->conf_len = len;
	return 0;
}

void core_members_snap_taken(struct qcore *c, zxid_t zxid)
{
	int rc;

	if (!c->mb || !c->mb->conf_len)
		return;
	rc = store_conf(c, zxid, c->mb->conf, c->mb->conf_len);
	if (rc)
		log_warnx("members: keeping the configuration of snapshot 0x%llx: %s",
			  (unsigned long long)zxid, strerror(-rc));
}

/*
 * dataDir/base.conf: the static configuration this dataDir started with
 * (zoo.cfg's at its first start), kept because zoo.cfg's server lines
 * change with the membership (zoo.cfg.dynamic) while the log's first
 * configuration entry must follow the one the log started from.
 */
static int base_conf(struct qcore *c, char *path, size_t plen)
{
	struct core_members *mb = c->mb;
	struct cons_membership *m;
	size_t len;
	int fd;

	snprintf(path, plen, "%s/base.conf", c->dir);
	if (access(path, F_OK) == 0)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->quorum = c->o.quorum == QCORE_QUORUM_WEIGHTED       ? QUORUM_WEIGHTED
		    : c->o.quorum == QCORE_QUORUM_HIERARCHICAL ? QUORUM_HIERARCHICAL
							       : QUORUM_MAJORITY;
	m->n = c->n_members;
	memcpy(m->m, c->members, c->n_members * sizeof(m->m[0]));
	len = cons_membership_encode(m, mb->boot);
	free(m);
	if (!len)
		return -EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, mb->boot, len) != (ssize_t)len || fsync(fd) < 0) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	return 0;
}

int core_members_boot_config(struct qcore *c, const uint8_t **conf, uint32_t *len)
{
	struct core_members *mb = c->mb;
	char path[4200];
	ssize_t n;
	int fd, rc;

	*conf = NULL;
	*len = 0;
	if (c->standalone)
		return 0; /* standalone: the static one, always */
	fd = -1;
	if (c->snap_zxid) {
		conf_path(c, c->snap_zxid, path, sizeof(path));
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT)
			return -errno;
	}
	if (fd < 0) {
		rc = base_conf(c, path, sizeof(path));
		if (rc)
			return rc;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	n = read(fd, mb->boot, sizeof(mb->boot));
	close(fd);
	if (n < 0)
		return -EIO;
	mb->boot_len = (uint32_t)n;
	memcpy(mb->conf, mb->boot, (size_t)n);
	mb->conf_len = (uint32_t)n;
	*conf = mb->boot;
	*len = mb->boot_len;
	return 0;
}

int core_members_applied(struct qcore *c, const struct cons_entry *e)
{
	struct core_members *mb = c->mb;
	struct cons_membership m;

	if (!mb)
		return 0; /* closing */
	if (e->len > sizeof(mb->conf) || cons_membership_decode(e->data, e->len, &m))
		return -EBADMSG;
	memcpy(mb->conf, e->data, e->len);
	mb->conf_len = e->len;
	for (unsigned i = 0; i < m.n; i++) {
		struct core_addr *a = addr_get(mb, m.m[i].id);

		if (a)
			declare_peer(c, a);
	}
	log_info("members: configuration 0x%llx%s in the log: %u members",
		 (unsigned long long)e->zxid, m.joint ? " (joint)" : "", m.n);
	return 0;
}

void core_members_config(struct qcore *c, zxid_t version, int status)
{
	struct core_members *mb = c->mb;
	struct cons_membership m;
	unsigned i, voters = 0;

	if (!mb)
		return;
	if (status < 0) {
		log_warnx("members: the change failed: %s",
			  status == -ETIMEDOUT	      ? "a new member did not catch up"
			  : status == CONS_ENOTLEADER ? "this server lost the leadership"
						      : strerror(-status));
		fail_reconfig(c, status == -ETIMEDOUT	     ? ZNEWCONFIGNOQUORUM
				 : status == CONS_ENOTLEADER ? ZCONNECTIONLOSS
							     : ZSYSTEMERROR);
		mb->prune = 1; /* a learner that was to join */
		return;
	}
	cons_node_membership(c->node, 1, &m);
	/* qcore_replica counts followers over the members in force. */
	if (!c->standalone && !m.joint && m.n > 0) {
		for (i = 0; i < m.n; i++) {
			c->members[i] = m.m[i];
			voters += !m.m[i].observer;
		}
		c->n_members = m.n;
	}
	log_info("members: configuration 0x%llx committed: %u members, %u voting",
		 (unsigned long long)version, m.n, voters);
	mb->prune = 1;
	if (mb->rc_active && version >= mb->rc_version) {
		mb->rc_committed = 1;
		mb->rc_version = version;
	}
	write_soon(c);
}

void core_members_role(struct qcore *c, enum cons_state s)
{
	struct core_members *mb = c->mb;

	if (!mb)
		return;
	if (s == CONS_REMOVED && !mb->removed_since)
		mb->removed_since = core_mono_ms();
	else if (s != CONS_REMOVED)
		mb->removed_since = 0;
	if (s != CONS_LEADER) {
		if (mb->tr_active) {
			struct zresult res = {.err = ZOK};
			qcore_done_fn done = mb->tr_done;

			mb->tr_active = 0;
			log_info("members: leadership handed over to server %u",
				 c->leader);
			done(mb->tr_arg, &res);
		}
		fail_reconfig(c, ZCONNECTIONLOSS);
	} else
		write_soon(c);
	if (mb->fwd && mb->fwd_ev)
		/* The leader they went to may be gone. */
		event_active(mb->fwd_ev, EV_TIMEOUT, 0);
}

void core_members_tick(struct qcore *c)
{
	struct core_members *mb = c->mb;

	if (mb && mb->prune)
		prune_peers(c);
	if (mb && mb->fwd)
		fwd_run(c);

	if (mb && mb->removed_since && !mb->removed_said &&
	    core_mono_ms() - mb->removed_since >
		2 * (int64_t)c->o.sync_limit * c->o.tick_ms) {
		mb->removed_said = 1;
		log_warnx("members: this server (%u) was removed from the ensemble: it "
			  "no longer votes nor serves writes; stop it",
			  c->self);
	}
	if (mb && mb->rc_active && mb->rc_to && !c->snap_pid) {
		int rc = ZOPERATIONTIMEOUT;

		if (c->snap_zxid) {
			cons_node_compact(c->node, c->snap_zxid);
			rc = start_change(c, mb->rc_to, mb->rc_from);
			free(mb->rc_to);
			mb->rc_to = NULL;
		} else if (core_mono_ms() < mb->rc_deadline) {
			c->since_snap = (uint64_t)c->o.snap_count;
			core_snap_maybe(c); /* the last one failed: again */
			return;
		}
		if (rc)
			fail_reconfig(c, rc);
	}

	if (mb && mb->tr_active && core_mono_ms() > mb->tr_deadline) {
		struct zresult res = {.err = ZOPERATIONTIMEOUT};

		mb->tr_active = 0;
		log_warnx("members: the transfer timed out: this server still leads");
		mb->tr_done(mb->tr_arg, &res);
	}
}

void core_members_leader_ready(struct qcore *c)
{
	write_soon(c);
	if (c->mb && c->mb->fwd && c->mb->fwd_ev)
		/* Asked here while this server got ready. */
		event_active(c->mb->fwd_ev, EV_TIMEOUT, 0);
}

int core_members_open(struct qcore *c)
{
	struct core_members *mb = calloc(1, sizeof(*mb));

	if (!mb)
		return -ENOMEM;
	c->mb = mb;
	for (size_t i = 0; i < c->o.n_members; i++) {
		const struct qcore_member *m = &c->o.members[i];
		struct core_addr *a = addr_get(mb, (uint32_t)m->id);

		if (!a || !m->host)
			continue;
		snprintf(a->host, sizeof(a->host), "%s", m->host);
		a->peer_port = m->peer_port;
		a->election_port = m->election_port ? m->election_port : m->peer_port + 1;
		if (m->client)
			snprintf(a->client, sizeof(a->client), "%s", m->client);
		/* open_transport declares them. */
		a->declared = a->dialled = m->id != c->o.server_id;
	}
	return 0;
}

int core_members_start(struct qcore *c)
{
	struct core_members *mb = c->mb;
	const struct znode *z;
	struct cons_membership m;

	if (!c->tpt)
		return 0;
	mb->write_ev = event_new(c->base, -1, 0, write_cb, c);
	mb->fwd_ev = event_new(c->base, -1, 0, fwd_cb, c);
	if (!mb->write_ev || !mb->fwd_ev)
		return -ENOMEM;
	z = tree_lookup(c->tree, CFG_PATH);
	if (z && z->stat.data_length)
		learn_text(c, z->data, (size_t)z->stat.data_length);
	cons_node_membership(c->node, 0, &m);
	for (unsigned i = 0; i < m.n; i++) {
		struct core_addr *a = addr_get(mb, m.m[i].id);

		if (a)
			declare_peer(c, a);
	}
	/* The file and zoo.cfg gave the transport its peers; the engine's
	 * membership is the authority. Say when they differ. */
	{
		int differ = m.n != c->o.n_members;

		for (unsigned i = 0; i < m.n && !differ; i++) {
			size_t j;

			for (j = 0; j < c->o.n_members; j++)
				if ((uint32_t)c->o.members[j].id == m.m[i].id &&
				    !!c->o.members[j].observer == !!m.m[i].observer)
					break;
			differ = j == c->o.n_members;
		}
		if (differ && m.version)
			log_warnx(
			    "members: the configured server list differs from "
			    "configuration 0x%llx in this server's log (%u members): "
			    "the log's is in force",
			    (unsigned long long)m.version, m.n);
		if (!m.joint && m.version) {
			for (unsigned i = 0; i < m.n; i++)
				c->members[i] = m.m[i];
			c->n_members = m.n;
		}
	}
	return qcore_subscribe(c, cfg_listener, c);
}

void core_members_free(struct qcore *c)
{
	struct core_members *mb = c->mb;

	if (!mb)
		return;
	if (mb->rc_active) {
		struct zresult res = {.err = ZCLOSING};

		finish_reconfig(c, &res);
	}
	if (mb->tr_active) {
		struct zresult res = {.err = ZCLOSING};

		mb->tr_active = 0;
		mb->tr_done(mb->tr_arg, &res);
	}
	while (mb->fwd) {
		struct fwd_rc *f = mb->fwd;
		struct zresult res = {.err = ZCLOSING};

		mb->fwd = f->next;
		f->done(f->arg, &res);
		fwd_free(f);
	}
	while (mb->inbox) {
		struct fwd_rc *f = mb->inbox;

		mb->inbox = f->next;
		fwd_free(f);
	}
	if (mb->fwd_ev)
		event_free(mb->fwd_ev);
	if (mb->write_ev)
		event_free(mb->write_ev);
	free(mb);
	c->mb = NULL;
}

/* ---- requests ---- */

static int add_spec(struct qcore *c, struct cons_membership *to, const char *spec)
{
	struct core_addr x, *a;
	int obs;
	unsigned i;

	if (parse_spec(spec, &x, &obs))
		return ZBADARGUMENTS;
	a = addr_get(c->mb, x.id);
	if (!a)
		return ZBADARGUMENTS;
	if (!a->dialled || x.id == c->self) {
		snprintf(a->host, sizeof(a->host), "%s", x.host);
		a->peer_port = x.peer_port;
	}
	a->election_port = x.election_port;
	snprintf(a->client, sizeof(a->client), "%s", x.client);
	for (i = 0; i < to->n; i++)
		if (to->m[i].id == x.id)
			break;
	if (i == to->n) {
		if (to->n == CONS_MAX_MEMBERS)
			return ZBADARGUMENTS;
		to->m[to->n++] = (struct cons_member){.id = x.id, .weight = 1};
	}
	to->m[i].observer = (uint8_t)obs;
	return ZOK;
}

/* An entry of a whole new member list: a server spec; its group.X,
 * weight.N and version= entries are members_text_quorum's. */
static int add_member_entry(struct qcore *c, struct cons_membership *to,
			    const char *entry)
{
	enum mt_kind k = members_text_kind(entry);

	if (k == MT_GROUP || k == MT_WEIGHT || k == MT_VERSION)
		return ZOK;
	return add_spec(c, to, entry);
}

/* Apply a list with fn: entries separated by commas or newlines, as
 * ZooKeeper takes a new member list (zkCli's -file sends newlines). */
static int each(const char *list,
		int (*fn)(struct qcore *, struct cons_membership *, const char *),
		struct qcore *c, struct cons_membership *to)
{
	char buf[8192], *save = NULL, *tok;
	int rc;

	if (!list || !*list)
		return ZOK;
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return ZBADARGUMENTS;
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		rc = fn(c, to, tok);
		if (rc)
			return rc;
	}
	return ZOK;
}

static int remove_id(struct qcore *c, struct cons_membership *to, const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);
	unsigned i;

	while (*end == ' ')
		end++;
	if (end == s || *end || id < 1 || id > 255)
		return ZBADARGUMENTS;
	for (i = 0; i < to->n; i++)
		if (to->m[i].id == (uint32_t)id)
			break;
	if (i == to->n)
		return ZBADARGUMENTS;
	memmove(&to->m[i], &to->m[i + 1], (to->n - i - 1) * sizeof(to->m[0]));
	to->n--;
	return ZOK;
}

static int same(const struct cons_membership *a, const struct cons_membership *b)
{
	if (a->n != b->n || a->quorum != b->quorum)
		return 0;
	for (unsigned i = 0; i < a->n; i++) {
		unsigned j;

		for (j = 0; j < b->n; j++)
			if (b->m[j].id == a->m[i].id &&
			    b->m[j].observer == a->m[i].observer &&
			    (a->quorum == QUORUM_MAJORITY ||
			     (b->m[j].weight == a->m[i].weight &&
			      b->m[j].group == a->m[i].group)))
				break;
		if (j == b->n)
			return 0;
	}
	return 1;
}

/* The form of a spec or an id, for the checks made before the session's
 * rights (ZooKeeper parses the request first): any server id here. */
static int spec_syntax(struct qcore *c, struct cons_membership *to, const char *s)
{
	struct core_addr x;
	int obs;

	(void)c;
	(void)to;
	return parse_spec_id(s, &x, &obs, 0x7fffffffL) ? ZBADARGUMENTS : ZOK;
}

/* The form of an entry of a whole new member list: a spec, or a
 * group.X/weight.N/version= entry (checked in full once the list is
 * known); any other key is refused, as ZooKeeper's parseDynamicConfig
 * refuses an "Unrecognised parameter". */
static int member_syntax(struct qcore *c, struct cons_membership *to, const char *s)
{
	switch (members_text_kind(s)) {
	case MT_GROUP:
	case MT_WEIGHT:
	case MT_VERSION:
		return ZOK;
	case MT_SERVER:
		return spec_syntax(c, to, s);
	default:
		log_warnx("members: reconfig refused: unrecognised entry '%s' in the "
			  "new member list",
			  s);
		return ZBADARGUMENTS;
	}
}

static int id_syntax(struct qcore *c, struct cons_membership *to, const char *s)
{
	char *end;
	long id = strtol(s, &end, 10);

	(void)c;
	(void)to;
	while (*end == ' ')
		end++;
	return end == s || *end || id < 1 ? ZBADARGUMENTS : ZOK;
}

/* May auth change the ensemble (WRITE on /zookeeper/config)? */
static int may_write_config(struct qcore *c, const struct zauth *auth)
{
	const struct znode *n = tree_lookup(c->tree, CFG_PATH);

	if (n && acl_check(&n->acl, auth ? auth : &no_auth, ZPERM_WRITE) == ZOK)
		return ZOK;
	log_warnx("members: reconfig refused: the session may not write %s "
		  "(authenticate as the superuser)",
		  CFG_PATH);
	return ZNOAUTH;
}

/* Hand the change to the engine: ZOK or the ZooKeeper error. */
static int start_change(struct qcore *c, const struct cons_membership *to, zxid_t from)
{
	int rc;

	/* Prepared writes go to the log before the change starts. */
	core_flush(c);
	rc = cons_node_reconfig(c->node, to, from);
	if (rc) {
		log_warnx("members: reconfig refused: %s",
			  rc == -ESTALE	  ? "fromConfig is not the version in force"
			  : rc == -EBUSY  ? "a change is under way"
			  : rc == -EINVAL ? "not a valid membership"
					  : "not the leader now");
		return rc == -ESTALE   ? ZBADVERSION
		       : rc == -EINVAL ? ZBADARGUMENTS
				       : ZRECONFIGINPROGRESS;
	}
	log_info("members: reconfig started: %u members", to->n);
	return ZOK;
}

/*
 * The leader's reconfig, checked in ZooKeeper's order (its
 * PrepRequestProcessor): a change under way, fromConfig, the form of the
 * request, then the session's rights, then the rest.
 */
static int run_reconfig(struct qcore *c, const char *joining, const char *leaving,
			const char *members, int64_t from_version,
			const struct zauth *auth, qcore_done_fn done, void *arg)
{
	struct core_members *mb = c->mb;
	struct cons_membership cur, *to;
	int rc;

	if (!c->tpt || !mb || !mb->write_ev)
		return ZUNIMPLEMENTED;
	if (c->role != CONS_LEADER || !core_leader_ready(c)) {
		log_info("members: reconfig asked of server %u, which does not lead "
			 "(leader: %u)",
			 c->self, c->leader);
		return ZRECONFIGINPROGRESS;
	}
	if (mb->rc_active || mb->tr_active)
		return ZRECONFIGINPROGRESS;
	to = calloc(1, sizeof(*to));
	if (!to)
		return ZSYSTEMERROR;
	cons_node_membership(c->node, 0, &cur);
	if (cur.joint) {
		rc = ZRECONFIGINPROGRESS;
		goto out_free_to;
	}
	if (from_version != -1 && (zxid_t)from_version != cur.version) {
		log_warnx("members: reconfig refused: fromConfig 0x%llx is not the "
			  "version in force (0x%llx)",
			  (unsigned long long)from_version,
			  (unsigned long long)cur.version);
		rc = ZBADVERSION;
		goto out_free_to;
	}
	rc = members && *members ? each(members, member_syntax, c, to)
				 : each(joining, spec_syntax, c, to);
	if (rc == ZOK && !(members && *members))
		rc = each(leaving, id_syntax, c, to);
	if (rc == ZOK && !(members && *members) && cur.quorum != QUORUM_MAJORITY) {
		/*
		 * As ZooKeeper (PrepRequestProcessor, 3.5+): "Incremental
		 * reconfiguration requested but last configuration seen has
		 * a non-majority quorum system" is BadArguments. An added
		 * server would need a group and a weight, and a removed one
		 * may empty a group: a hierarchical or weighted ensemble is
		 * changed with a whole new list (reconfig -members/-file)
		 * that carries its group.X and weight.N lines.
		 */
		log_warnx("members: reconfig refused: incremental reconfiguration "
			  "(-add/-remove) of an ensemble with a %s quorum: give the "
			  "whole new list with its group.X/weight.N lines "
			  "(reconfig -members)",
			  cur.quorum == QUORUM_HIERARCHICAL ? "hierarchical"
							    : "weighted");
		rc = ZBADARGUMENTS;
	}
	if (rc == ZOK)
		rc = may_write_config(c, auth);
	if (rc)
		goto out_free_to;
	*to = cur;
	if (members && *members) {
		char why[256];

		to->n = 0;
		rc = each(members, add_member_entry, c, to);
		if (rc == ZOK && members_text_quorum(to, members, why, sizeof(why))) {
			log_warnx("members: reconfig refused: %s", why);
			rc = ZBADARGUMENTS;
		}
	} else {
		rc = each(leaving, remove_id, c, to);
		if (rc == ZOK)
			rc = each(joining, add_spec, c, to);
	}
	if (rc)
		goto out_free_to;
	if (same(to, &cur)) {
		rc = ZBADARGUMENTS; /* ZooKeeper: "No new configuration" */
		goto out_free_to;
	}
	for (unsigned i = 0; i < to->n; i++) {
		struct core_addr *a = addr_find(mb, to->m[i].id);

		if (!a || !a->host[0]) {
			log_warnx("members: reconfig names server.%u without an address",
				  to->m[i].id);
			rc = ZBADARGUMENTS;
			goto out_free_to;
		}
		declare_peer(c, a);
	}
	/* A new member must start from a snapshot, which carries the
	 * configuration as of it: a log replayed from its very beginning
	 * would start from the new member's own static list (its zoo.cfg,
	 * which names it), not the one the ensemble started with. */
	{
		struct cons_status st;
		int adds = 0;

		for (unsigned i = 0; i < to->n; i++) {
			unsigned j;

			for (j = 0; j < cur.n && cur.m[j].id != to->m[i].id; j++)
				;
			adds += j == cur.n;
		}
		cons_status(cons_node_core(c->node), &st);
		if (adds && st.snap_zxid == 0 && c->snap_zxid) {
			/* The newest snapshot will do: the log up to it goes. */
			cons_node_compact(c->node, c->snap_zxid);
		} else if (adds && st.snap_zxid == 0) {
			/* None yet: one in the background (a forked child, not
			 * the loop), and the change once it is on disk. */
			c->since_snap = (uint64_t)c->o.snap_count;
			core_snap_maybe(c);
			log_info("members: a snapshot first, for the new member to start "
				 "from");
			mb->rc_to = to;
			to = NULL;
			mb->rc_from =
			    from_version < 0 ? (zxid_t)-1 : (zxid_t)from_version;
			mb->rc_deadline = core_mono_ms() + 600000;
			goto pending;
		}
	}
	rc = start_change(c, to, from_version < 0 ? (zxid_t)-1 : (zxid_t)from_version);
	if (rc)
		goto out_free_to;
pending:
	mb->rc_active = 1;
	mb->rc_committed = mb->rc_writing = 0;
	mb->rc_version = cur.version + 1;
	mb->rc_done = done;
	mb->rc_arg = arg;
	rc = ZOK;
out_free_to:
	free(to);
	return rc;
}

static int run_transfer(struct qcore *c, int64_t to, qcore_done_fn done, void *arg)
{
	struct core_members *mb = c->mb;
	int rc;

	if (!c->tpt || !mb)
		return ZUNIMPLEMENTED;
	if (c->role != CONS_LEADER)
		return ZRECONFIGINPROGRESS;
	if (mb->rc_active || mb->tr_active)
		return ZRECONFIGINPROGRESS;
	if (to < 0 || to > 255 || to == c->self)
		return ZBADARGUMENTS;
	core_flush(c);
	rc = cons_node_transfer(c->node, (uint32_t)to);
	if (rc)
		return rc == -EINVAL ? ZBADARGUMENTS : ZRECONFIGINPROGRESS;
	log_info("members: handing the leadership to server %lld", (long long)to);
	mb->tr_active = 1;
	mb->tr_done = done;
	mb->tr_arg = arg;
	mb->tr_deadline = core_mono_ms() + 4 * (int64_t)c->o.sync_limit * c->o.tick_ms;
	return ZOK;
}

/*
 * The leader's checks, as ZooKeeper's PrepRequestProcessor makes them,
 * then the change or the transfer. ZOK (done runs later) or the error.
 */
static int serve(struct qcore *c, const char *joining, const char *leaving,
		 const char *members, int64_t from_version, const struct zauth *auth,
		 qcore_done_fn done, void *arg)
{
	const char *nm = members ? members : "";
	int rc;

	if (!c->o.reconfig_enabled)
		return ZRECONFIGDISABLED;
	if (!c->tpt || !c->mb || !c->mb->write_ev)
		return ZUNIMPLEMENTED; /* standalone, as ZooKeeper's */
	if (!strncmp(nm, TRANSFER_PREFIX, strlen(TRANSFER_PREFIX))) {
		char *end;
		long to = strtol(nm + strlen(TRANSFER_PREFIX), &end, 10);

		if (*end || end == nm + strlen(TRANSFER_PREFIX) || to < 0 || to > 255)
			return ZBADARGUMENTS;
		rc = may_write_config(c, auth);
		if (rc)
			return rc;
		log_info("members: leader transfer to %ld asked", to);
		return run_transfer(c, to, done, arg);
	}
	log_info("members: reconfig joining '%s' leaving '%s' members '%s' from 0x%llx",
		 joining ? joining : "", leaving ? leaving : "", nm,
		 (unsigned long long)from_version);
	return run_reconfig(c, joining, leaving, members, from_version, auth, done, arg);
}

/* ---- from any member: forwarded to the leader ---- */

static void answer_done(void *arg, const struct zresult *res)
{
	struct fwd_answer *a = arg;

	if (!a->c->closing)
		core_answer(a->c, a->origin, a->reqid, res->err);
	free(a);
}

void core_members_forwarded(struct qcore *c, const struct core_req *q)
{
	struct core_members *mb = c->mb;
	struct fwd_rc *f, **tail;

	log_info("members: a reconfig forwarded by server %u", q->origin);
	f = mb && mb->fwd_ev ? calloc(1, sizeof(*f)) : NULL;
	if (!f) {
		core_answer(c, q->origin, q->reqid, ZSYSTEMERROR);
		return;
	}
	buf_init(&f->msg);
	if (core_req_encode_reconfig(&f->msg, q->origin, q->reqid,
				     q->has_auth ? &q->auth : NULL, q->joining,
				     q->leaving, q->members, q->from_version)) {
		fwd_free(f);
		core_answer(c, q->origin, q->reqid, ZSYSTEMERROR);
		return;
	}
	f->origin = q->origin;
	f->reqid = q->reqid;
	for (tail = &mb->inbox; *tail; tail = &(*tail)->next)
		;
	*tail = f;
	event_active(mb->fwd_ev, EV_TIMEOUT, 0);
}

/* Leader: run what other members forwarded (from the loop). */
static void inbox_run(struct qcore *c)
{
	struct core_members *mb = c->mb;
	struct fwd_rc *f;

	while ((f = mb->inbox)) {
		struct fwd_answer *a = calloc(1, sizeof(*a));
		struct core_req q;
		int rc = ZSYSTEMERROR;

		mb->inbox = f->next;
		if (a && core_req_decode(f->msg.data, f->msg.len, &q) == 0) {
			a->c = c;
			a->origin = f->origin;
			a->reqid = f->reqid;
			rc = serve(c, q.joining, q.leaving, q.members, q.from_version,
				   q.has_auth ? &q.auth : NULL, answer_done, a);
			core_req_free(&q);
		}
		if (rc != ZOK) {
			core_answer(c, f->origin, f->reqid, rc);
			free(a);
		}
		fwd_free(f);
	}
}

/* How long a forwarded reconfig may wait for its answer: a new member's
 * catch-up (the engine gives it 10 election timeouts) and a leader
 * transfer fit in it. */
static int64_t answer_ms(const struct qcore *c)
{
	return 3 * c->hold_ms + 12 * (int64_t)c->o.sync_limit * c->o.tick_ms;
}

static void fwd_free(struct fwd_rc *f)
{
	buf_free(&f->msg);
	free(f);
}

/* Forward f to the leader if one is known and reachable. 0 once sent. */
static int fwd_send(struct qcore *c, struct fwd_rc *f)
{
	struct cons_payload p;

	if (!c->leader || c->leader == c->self || c->closing ||
	    !core_peer_up(c, c->leader))
		return -ENOTCONN;
	p.data = f->msg.data;
	p.len = (uint32_t)f->msg.len;
	if (cons_node_forward(c->node, &p, 1))
		return -ENOTCONN;
	f->sent_to = c->leader;
	f->sent_at = core_mono_ms();
	return 0;
}

/*
 * Move the reconfigs asked here along: run them here once this server is
 * a ready leader, forward them when a leader is known, end them when the
 * leader they went to is gone (connection loss; a transfer has done what
 * it was asked then) or none answered in time. Never from inside
 * qcore_reconfig (done would run there).
 */
static void fwd_run(struct qcore *c)
{
	struct core_members *mb = c->mb;
	struct fwd_rc **pp = &mb->fwd, *f;
	int64_t now = core_mono_ms();

	while ((f = *pp)) {
		struct zresult res = {0};
		int fin = 0;

		if (f->sent_to) {
			if (c->leader != f->sent_to) {
				fin = !f->transfer || c->leader;
				res.err = f->transfer ? ZOK : ZCONNECTIONLOSS;
			} else if (now - f->sent_at > answer_ms(c)) {
				fin = 1;
				res.err = ZCONNECTIONLOSS;
			}
		} else if (core_leader_ready(c) && !c->closing) {
			struct core_req q;

			fin = 1;
			res.err = core_req_decode(f->msg.data, f->msg.len, &q);
			if (res.err == 0) {
				res.err = serve(
				    c, q.joining, q.leaving, q.members, q.from_version,
				    q.has_auth ? &q.auth : NULL, f->done, f->arg);
				core_req_free(&q);
				if (res.err == ZOK) {
					/* done is serve's now. */
					*pp = f->next;
					fwd_free(f);
					continue;
				}
			} else {
				res.err = ZMARSHALLINGERROR;
			}
		} else if (fwd_send(c, f) == 0) {
			log_info("members: reconfig forwarded to the leader, server %u",
				 f->sent_to);
		} else if (now - f->since >= c->hold_ms || c->closing) {
			fin = 1;
			res.err = c->closing ? ZCLOSING : ZCONNECTIONLOSS;
		}
		if (!fin) {
			pp = &f->next;
			continue;
		}
		if (res.err != ZOK)
			log_warnx("members: the reconfig asked here: %s",
				  zerr_str(res.err));
		res.zxid = c->applied;
		*pp = f->next;
		f->done(f->arg, &res);
		fwd_free(f);
	}
}

static void fwd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;

	if (!c->mb || !c->node || c->store_closed)
		return;
	inbox_run(c);
	fwd_run(c);
}

void core_members_answered(struct qcore *c, uint64_t reqid, const struct zresult *res)
{
	struct core_members *mb = c->mb;
	struct fwd_rc **pp, *f;

	if (!mb)
		return;
	for (pp = &mb->fwd; (f = *pp); pp = &f->next)
		if (f->reqid == reqid && f->sent_to)
			break;
	if (!f)
		return;
	*pp = f->next;
	log_info("members: the leader answered the reconfig asked here: %s",
		 zerr_str(res->err));
	f->done(f->arg, res);
	fwd_free(f);
}

int qcore_reconfig(struct qcore *c, const char *joining, const char *leaving,
		   const char *members, int64_t from_version, const struct zauth *auth,
		   qcore_done_fn done, void *arg)
{
	struct core_members *mb = c->mb;
	struct fwd_rc *f, **tail;

	if (!c->tpt || !mb || !mb->write_ev || (core_leader_ready(c) && !mb->fwd))
		return serve(c, joining, leaving, members, from_version, auth, done, arg);
	if (c->closing)
		return ZCLOSING;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ZSYSTEMERROR;
	buf_init(&f->msg);
	f->reqid = ++c->next_reqid;
	if (core_req_encode_reconfig(&f->msg, c->self, f->reqid, auth, joining, leaving,
				     members, from_version)) {
		fwd_free(f);
		return ZSYSTEMERROR;
	}
	f->transfer =
	    members && !strncmp(members, TRANSFER_PREFIX, strlen(TRANSFER_PREFIX));
	f->since = core_mono_ms();
	f->done = done;
	f->arg = arg;
	for (tail = &mb->fwd; *tail; tail = &(*tail)->next)
		;
	*tail = f;
	log_info("members: reconfig asked of server %u, which does not lead: for the "
		 "leader (%u)",
		 c->self, c->leader);
	if (f == mb->fwd && !core_leader_ready(c) && fwd_send(c, f) == 0)
		log_info("members: reconfig forwarded to the leader, server %u",
			 f->sent_to);
	return ZOK;
}

int qcore_leader_transfer(struct qcore *c, int64_t to, const struct zauth *auth,
			  qcore_done_fn done, void *arg)
{
	char members[64];

	if (to < 0 || to > 255)
		return ZBADARGUMENTS;
	snprintf(members, sizeof(members), TRANSFER_PREFIX "%lld", (long long)to);
	return qcore_reconfig(c, NULL, NULL, members, -1, auth, done, arg);
}
