/*
 * core_view.c - a member cut off from the quorum expires its own sessions
 * in its own view, and puts the replicated tree back when it rejoins.
 *
 * Only the leader expires sessions (core_session.c), by a logged
 * closeSession. A member that hears no leader cannot log anything, yet the
 * sessions of its own clients (its mount's, the ZooKeeper clients connected
 * to it) reach no leader either: on the majority side they expire after
 * their timeout, and their ephemerals -- the mount's locks first -- go.
 * Showing them held for the whole partition on the cut-off host would hand
 * its users a lock the rest of the cluster already gave to someone else.
 * So once this member has heard no leader for a session's timeout, it
 * applies that session's closeSession to its tree locally: the ephemerals
 * disappear from its mount (IN_DELETE) and its watches fire, as on the
 * majority.
 *
 * That change is not in the log: the tree then differs from the replicated
 * state at c->applied ("diverged"). Nothing is applied on top of it: the
 * first thing done when a leader is heard again (core_view_rejoin, before
 * any entry of the new leader is applied, since the role change comes
 * first) is to rebuild the replicated tree -- the newest snapshot plus the
 * log entries after it up to c->applied, all still in the engine's log --
 * and swap it in with the events of the difference (core_tree_swap), as a
 * snapshot install does. The leader's own closeSession for those sessions
 * then arrives through the log like any other entry. A restart needs
 * nothing: the local change never reached the disk.
 *
 * The local closeSession is prepared against the tree at a zxid above
 * c->applied, and the tree's last zxid is set back to c->applied after it:
 * clients must never see a zxid the cluster has not committed (a client
 * refuses a server behind what it has seen). The session stays in the
 * session clock, so the mount's touches still succeed: it is told of the
 * expiry by the leader's closeSession once it rejoins, and opens a new
 * session then, when it can.
 *
 * Which sessions are this member's own: those touched here
 * (qcore_session_touch), kept in c->view_local.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cons_node.h"
#include "core_int.h"
#include "log.h"
#include "snapshot.h"
#include "zerr.h"

void core_view_local(struct qcore *c, int64_t id)
{
	size_t i;

	for (i = 0; i < c->n_view_local; i++)
		if (c->view_local[i] == id)
			return;
	if (c->n_view_local == c->cap_view_local) {
		size_t cap = c->cap_view_local ? c->cap_view_local * 2 : 16;
		int64_t *v = realloc(c->view_local, cap * sizeof(*v));

		if (!v)
			return; /* the next touch tries again */
		c->view_local = v;
		c->cap_view_local = cap;
	}
	c->view_local[c->n_view_local++] = id;
}

/* Apply id's closeSession to the tree only (see the top). */
static void expire_local(struct qcore *c, int64_t id)
{
	struct ztxn *txn = NULL;
	struct zresult res;
	struct zreq req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.op = ZOP_CLOSESESSION;
	rc = txn_prepare(c->prep, &req, &core_server_auth, id, 0, c->applied + 1,
			 core_wall_ms(), &txn, &res);
	zresult_free(&res);
	if (rc == ZOK)
		rc = tree_apply(c->tree, c->prep, txn, &res);
	else
		memset(&res, 0, sizeof(res));
	zresult_free(&res);
	txn_free(txn);
	prep_abort(c->prep, c->applied);
	tree_set_last_zxid(c->tree, c->applied);
	c->view_diverged = 1;
	if (rc == ZOK)
		log_warnx("session 0x%llx: no leader for its timeout: expired in this "
			  "member's view (the leader logs its expiry once this member "
			  "hears it)",
			  (unsigned long long)id);
	else
		log_warnx("session 0x%llx: expiring it in this member's view failed: %s",
			  (unsigned long long)id, zerr_str(rc));
}

void core_view_tick(struct qcore *c, int64_t now)
{
	size_t i = 0;

	if (c->standalone || c->role == CONS_LEADER || c->leader || c->closing) {
		c->leaderless_since = 0;
		return;
	}
	if (!c->leaderless_since) {
		c->leaderless_since = now;
		return;
	}
	while (i < c->n_view_local) {
		int64_t id = c->view_local[i];
		const struct tree_session *ts = tree_session_get(c->tree, id);

		if (!ts) {
			/* Closed, or expired here already. */
			c->view_local[i] = c->view_local[--c->n_view_local];
			continue;
		}
		if (now - c->leaderless_since >= ts->timeout_ms) {
			expire_local(c, id);
			c->view_local[i] = c->view_local[--c->n_view_local];
			continue;
		}
		i++;
	}
}

/* The replicated tree at c->applied: the newest snapshot and the engine's
 * log entries after it. */
static int rebuild(struct qcore *c, struct tree **out, struct prep **outp, char *why,
		   size_t len)
{
	const struct cons *core = cons_node_core(c->node);
	zxid_t applied = c->applied, z, got;
	struct tree *keep_tree = c->tree;
	struct prep *keep_prep = c->prep;
	uint64_t txns = c->txns, since = c->since_snap;
	char path[4096];
	struct tree *nw;
	struct prep *np;
	int rc;

	nw = tree_new();
	if (!nw)
		return -ENOMEM;
	snapshot_path(path, sizeof(path), c->dir, c->snap_zxid);
	rc = snapshot_load(path, nw, &got, why, len);
	if (rc) {
		tree_free(nw);
		return rc;
	}
	np = prep_new(nw);
	if (!np) {
		tree_free(nw);
		return -ENOMEM;
	}
	/* Replay into the new tree with the apply path itself (replay mode:
	 * no requests answered; the tree has no listener yet: no events). */
	c->tree = nw;
	c->prep = np;
	c->applied = got;
	z = got + 1;
	while (rc == 0 && c->applied < applied && z <= applied) {
		const struct cons_entry *e = cons_find(core, z);

		if (!e) {
			/* Counters restart at each epoch. */
			z = zxid_make(zxid_epoch(z) + 1, 0);
			continue;
		}
		rc = core_apply_replay(c, e, 1, why, len);
		z++;
	}
	if (!rc && c->applied != applied) {
		snprintf(why, len,
			 "the log after snapshot 0x%llx ends at 0x%llx, not 0x%llx",
			 (unsigned long long)got, (unsigned long long)c->applied,
			 (unsigned long long)applied);
		rc = -ENOENT;
	}
	c->tree = keep_tree;
	c->prep = keep_prep;
	c->applied = applied;
	c->txns = txns;
	c->since_snap = since;
	if (rc) {
		prep_free(np);
		tree_free(nw);
		return rc;
	}
	*out = nw;
	*outp = np;
	return 0;
}

void core_view_rejoin(struct qcore *c)
{
	struct tree *nw;
	struct prep *np;
	char why[1024] = "";
	int rc;

	c->leaderless_since = 0;
	if (!c->view_diverged)
		return;
	c->view_diverged = 0;
	rc = rebuild(c, &nw, &np, why, sizeof(why));
	if (rc)
		/* The local expiry never reached the disk: a restart recovers
		 * the replicated tree. Going on would apply the leader's
		 * entries to a tree that is not the log's. */
		fatalx("replica: cannot rebuild the replicated tree after expiring "
		       "sessions in this member's view: %s (%s); restart to recover it "
		       "from dataDir",
		       why, strerror(-rc));
	log_info("replica: a leader is heard again: the replicated tree is back "
		 "(0x%llx); telling the difference",
		 (unsigned long long)c->applied);
	prep_free(c->prep);
	c->prep = np;
	core_tree_swap(c, nw);
}
