/*
 * core_repl.c - the replica: the consensus node (consensus/cons_node.h)
 * over the SQLite log store (dataDir/txnlog.db) and, with several members,
 * the peer transport; its tick; and the host callbacks that tie it to the
 * tree (apply, snapshots, role changes).
 *
 * Start-up: the tree is the newest snapshot (core_recover.c); a one-member
 * ensemble then replays its whole log, since every entry it holds durably
 * was committed (it is its own quorum), and waits (at most a few seconds)
 * to be elected, so a standalone server is writable when qcore_open
 * returns. A member of a larger ensemble applies what the leader commits.
 *
 * Timing (cons.h): election timeout = syncLimit * tickTime, heartbeat =
 * tickTime / 2, the node ticked every heartbeat / 2. A one-member ensemble
 * uses a short election timeout: there is nobody to wait for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <event2/event.h>

#include "cons_node.h"
#include "core_int.h"
#include "log.h"
#include "logstore.h"
#include "logstore_cons.h"
#include "transport.h"
#include "transport_cons.h"
#include "zerr.h"

/* ---- a transport for a one-member ensemble: nobody to talk to ---- */

static int null_send(struct cons_transport *t, struct cons_send_req *req, uint32_t to,
		     const uint8_t *frame, size_t len, cons_send_cb cb)
{
	return -ENOTCONN;
}

static void null_set_recv(struct cons_transport *t, cons_recv_fn fn, void *arg)
{
}

static void null_close(struct cons_transport *t)
{
}

static struct cons_transport null_transport = {NULL, null_send, null_set_recv,
					       null_close};

int core_peer_up(const struct qcore *c, uint32_t id)
{
	return c->tpt && transport_connected(c->tpt, id);
}

/* The numeric address of host (the transport listens on one). */
static int numeric(const char *host, char *out, size_t len)
{
	struct addrinfo hints = {0}, *ai;
	int rc;

	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc)
		return -EHOSTUNREACH;
	rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)len, NULL, 0,
			 NI_NUMERICHOST);
	freeaddrinfo(ai);
	return rc ? -EHOSTUNREACH : 0;
}

/* Tick the node every ms from now on (0 or -1, as event_add). */
static int tick_every(struct qcore *c, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	return event_add(c->cons_tick_ev, &tv);
}

/* Several members: the authenticated peer transport. */
#define FAST_TICK_MS 5

/*
 * A peer's connection came up or closed. A closed connection to the leader
 * (its process died: the kernel closes its sockets) is told to the engine,
 * which stands soon rather than after the election timeout
 * (cons_on_peer_down); one replaced by another is not a loss. The engine
 * then stands within milliseconds (the first survivor in id order), but it
 * acts only when ticked, and the tick is a quarter of tickTime: tick every
 * few ms until a leader is known again, for at most an election timeout.
 */
static void peer_changed(void *arg, uint32_t id, int up)
{
	struct qcore *c = arg;

	if (up || !c->node || transport_connected(c->tpt, id))
		return;
	if (id != c->leader || c->role == CONS_LEADER) {
		/* Still told: what the engine heard from it may not hold
		 * for the process that connects next (first_with_all). */
		cons_node_peer_down(c->node, id);
		return;
	}
	log_info("replica: the connection to leader %u closed", id);
	cons_node_peer_down(c->node, id);
	if (c->tick_ms > FAST_TICK_MS) {
		c->fast_until = core_mono_ms() + (int64_t)c->o.sync_limit * c->o.tick_ms;
		tick_every(c, FAST_TICK_MS);
	}
}

/*
 * The in-memory log's entry bytes (cons_config.seg_map): mappings a fork
 * leaves out. A snapshot or backup child is forked every snapCount writes
 * and writes the tree, which holds copies of its data, never the log's
 * bytes; without this every page of the log the loop wrote while a child
 * lived, or first after, was copied on a write fault.
 */
static void *log_seg_map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Without it (an old kernel) the block is copied as before. */
	(void)madvise(p, len, MADV_DONTFORK);
	return p;
}

static void log_seg_unmap(void *p, size_t len)
{
	munmap(p, len);
}

static int open_transport(struct qcore *c, char *errbuf, size_t errlen)
{
	const struct qcore_member *self = NULL;
	struct transport_config tc = {0};
	char addr[256], msg[512];
	int rc;

	for (size_t i = 0; i < c->o.n_members; i++)
		if (c->o.members[i].id == c->o.server_id)
			self = &c->o.members[i];
	if (!c->o.cluster_secret || c->o.cluster_secret_len < 16) {
		snprintf(errbuf, errlen,
			 "an ensemble needs the cluster secret (clusterSecretFile, at "
			 "least 16 bytes): peers prove they hold it");
		return -EINVAL;
	}
	if (!self->host || numeric(self->host, addr, sizeof(addr))) {
		snprintf(errbuf, errlen, "server.%lld: cannot resolve %s",
			 (long long)self->id, self->host ? self->host : "(no host)");
		return -EHOSTUNREACH;
	}
	tc.self_id = c->self;
	tc.cluster =
	    c->o.cluster_name && *c->o.cluster_name ? c->o.cluster_name : "quorumfs";
	tc.secret = c->o.cluster_secret;
	tc.secret_len = c->o.cluster_secret_len;
	tc.listen_host = addr;
	tc.listen_port = (uint16_t)self->peer_port;
	rc = transport_new(c->base, &tc, &c->tpt, msg, sizeof(msg));
	if (rc) {
		snprintf(errbuf, errlen, "peer port %s:%d: %s", addr, self->peer_port,
			 msg);
		return rc;
	}
	for (size_t i = 0; i < c->o.n_members; i++) {
		const struct qcore_member *m = &c->o.members[i];

		if (m == self)
			continue;
		rc = transport_add_peer(c->tpt, (uint32_t)m->id, m->host,
					(uint16_t)m->peer_port);
		if (rc) {
			snprintf(errbuf, errlen, "server.%lld=%s:%d: %s",
				 (long long)m->id, m->host ? m->host : "?", m->peer_port,
				 rc == -EHOSTUNREACH ? "does not resolve"
						     : strerror(-rc));
			transport_free(c->tpt);
			c->tpt = NULL;
			return rc;
		}
	}
	rc = transport_cons_new(c->tpt, &c->tr);
	if (rc) {
		transport_free(c->tpt);
		c->tpt = NULL;
		return rc;
	}
	transport_set_peer_cb(c->tpt, peer_changed, c);
	return 0;
}

/* ---- host callbacks ---- */

static uint64_t h_now(void *arg)
{
	return (uint64_t)core_mono_ms();
}

static void h_apply(void *arg, const struct cons_entry *e, size_t n)
{
	core_apply(arg, e, n);
}

static int h_snap_open(void *arg, zxid_t *zxid, uint64_t *total)
{
	return core_snap_open(arg, zxid, total);
}

static int h_snap_read(void *arg, zxid_t zxid, uint64_t offset, uint8_t *buf,
		       uint32_t len)
{
	return core_snap_read(arg, zxid, offset, buf, len);
}

static int h_snap_begin(void *arg, zxid_t zxid, uint64_t total)
{
	return core_snap_begin(arg, zxid, total);
}

static int h_snap_write(void *arg, zxid_t zxid, uint64_t offset, const uint8_t *data,
			uint32_t len)
{
	return core_snap_write(arg, zxid, offset, data, len);
}

static int h_snap_finish(void *arg, zxid_t zxid)
{
	return core_snap_finish(arg, zxid);
}

static int h_snap_config(void *arg, zxid_t zxid, const uint8_t *conf, uint32_t len)
{
	return core_members_snap_config(arg, zxid, conf, len);
}

static int h_boot_config(void *arg, const uint8_t **conf, uint32_t *len)
{
	return core_members_boot_config(arg, conf, len);
}

static void h_config(void *arg, zxid_t version, int status)
{
	core_members_config(arg, version, status);
}

static void h_role(void *arg, enum cons_state s, uint32_t epoch, uint32_t leader)
{
	struct qcore *c = arg;
	int was_leader = c->role == CONS_LEADER;
	uint32_t old_leader = c->leader;

	if (s == CONS_LEADER && !was_leader)
		memset(c->fwd_from, 0, sizeof(c->fwd_from));
	c->role = s;
	c->role_epoch = epoch;
	c->leader = leader;
	if (leader)
		/* Before anything of this leader is applied: a tree that
		 * expired sessions on its own becomes the log's again. */
		core_view_rejoin(c);
	log_info("replica: %s, epoch %u, leader %u",
		 s == CONS_LEADER      ? "leader"
		 : s == CONS_OBSERVER  ? "observer"
		 : s == CONS_CANDIDATE ? "candidate"
		 : s == CONS_REMOVED   ? "removed"
				       : "follower",
		 epoch, leader);
	core_members_role(c, s);
	/* A leader's loop keeps serving while its writer flushes: a quorum
	 * can form from the followers' acks alone, and a leader whose disk
	 * stalls still heartbeats. (Leaders inline measured +1.5% at 1x1 on
	 * a disk, +7% on tmpfs: not worth a loop that stalls with its disk.)
	 * Anyone else writes on the loop, which has only the ack to send
	 * once the flush is done. */
	if (c->ls)
		logstore_set_inline(c->ls, s != CONS_LEADER);
	if ((was_leader && s != CONS_LEADER) || (old_leader && leader != old_leader))
		/* What the old leader took may or may not commit under the
		 * next one: its writers hear connection loss, as ZooKeeper's
		 * clients do when their server loses the leader. What is
		 * held goes to the next leader. */
		core_leader_changed(c);
	else if (leader && leader != c->self)
		core_release_soon(c);
}

void core_release_soon(struct qcore *c)
{
	if (c->release_ev)
		event_active(c->release_ev, EV_TIMEOUT, 0);
}

static void release_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;

	if (c->node && !c->store_closed)
		core_release(c);
}

static void h_read_ready(void *arg, uint64_t token, zxid_t read_zxid, int status)
{
	core_read_ready(arg, token, read_zxid, status);
}

static void h_forwarded(void *arg, uint32_t from, const struct cons_payload *p, size_t n)
{
	core_forwarded(arg, from, p, n);
}

/* The node is about to step something else: what is prepared goes first
 * (cons_node.h, flush). */
static void h_flush(void *arg)
{
	struct qcore *c = arg;

	if (c->node && !c->store_closed)
		core_flush(c);
}

int core_leader_ready(const struct qcore *c)
{
	/* The engine's prepare gating: leading, with every older epoch
	 * applied (prepare_ready). */
	return c->node && !c->store_closed && cons_node_can_prepare(c->node);
}

static void h_prepare_ready(void *arg, uint32_t epoch)
{
	struct qcore *c = arg;

	c->ready_epoch = epoch;
	core_leader_became_ready(c);
	core_members_leader_ready(c);
}

/*
 * A member with an empty data directory elects the ensemble's first leader
 * only with every voter (cons_config.first_with_all): one not started
 * keeps a new ensemble waiting. Say so when that lasts two election
 * timeouts, naming the member, and say when it ends.
 */
static void birth_note(struct qcore *c)
{
	int64_t now = core_mono_ms();
	struct cons_status st;

	cons_status(cons_node_core(c->node), &st);
	if (!st.birth_wait) {
		if (c->birth_logged)
			log_info("replica: every voter heard: the new ensemble's first "
				 "election goes ahead");
		c->birth_since = 0;
		c->birth_logged = 0;
		return;
	}
	if (!c->birth_since)
		c->birth_since = now;
	if (c->birth_logged != st.birth_wait &&
	    now - c->birth_since >= 2 * (int64_t)c->o.sync_limit * c->o.tick_ms) {
		log_warnx("replica: no leader yet: this member's data directory is "
			 "empty, and empty members elect a new ensemble's first "
			 "leader only with every voter; member %u has not been heard "
			 "(not started, or unreachable)",
			 st.birth_wait);
		c->birth_logged = st.birth_wait;
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;

	if (!c->node || c->store_closed)
		return;
	cons_node_tick(c->node);
	if (!c->leader && !c->standalone)
		birth_note(c);
	else if (c->birth_since)
		c->birth_since = c->birth_logged = 0;
	if (c->fast_until && ((c->leader && c->role != CONS_CANDIDATE) ||
			      core_mono_ms() >= c->fast_until)) {
		c->fast_until = 0;
		tick_every(c, c->tick_ms);
	}
	core_members_tick(c);
	if (c->held || c->lq_n || (c->outstanding && !c->standalone))
		core_release(c);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qcore *c = arg;

	if (c->node && !c->store_closed)
		core_flush(c);
}

/* ---- open ---- */

static int replay_log(struct qcore *c, char *errbuf, size_t errlen)
{
	struct logstore_req req;
	struct cons_entry *e = NULL;
	char why[512];
	int rc;

	memset(&req, 0, sizeof(req));
	rc = logstore_read_sync(c->ls, &req, c->snap_zxid + 1, INT64_MAX, SIZE_MAX);
	if (rc < 0) {
		snprintf(errbuf, errlen, "%s", req.errmsg);
		goto out;
	}
	if (req.n_entries) {
		e = calloc(req.n_entries, sizeof(*e));
		rc = -ENOMEM;
		if (!e)
			goto out;
		for (size_t i = 0; i < req.n_entries; i++)
			e[i] = (struct cons_entry){.zxid = req.entries[i].zxid,
						   .type = req.entries[i].type,
						   .len = (uint32_t)req.entries[i].len,
						   .data = req.entries[i].data};
	}
	rc = core_apply_replay(c, e, req.n_entries, why, sizeof(why));
	if (rc)
		snprintf(errbuf, errlen, "%s/txnlog.db: %s", c->dir, why);
	else
		log_info("replayed %zu log entries: zxid 0x%llx", req.n_entries,
			 (unsigned long long)c->applied);
out:
	free(e);
	logstore_req_release(&req);
	return rc;
}

static int timers(struct qcore *c, int tick_ms)
{
	c->tick_ms = tick_ms;
	c->cons_tick_ev = event_new(c->base, -1, EV_PERSIST, tick_cb, c);
	c->flush_ev = event_new(c->base, -1, 0, flush_cb, c);
	c->release_ev = event_new(c->base, -1, 0, release_cb, c);
	if (!c->cons_tick_ev || !c->flush_ev || !c->release_ev ||
	    tick_every(c, tick_ms) < 0)
		return -ENOMEM;
	return 0;
}

/* One member: run the loop until elected (a few election timeouts). */
static int wait_leader(struct qcore *c, char *errbuf, size_t errlen)
{
	int64_t until = core_mono_ms() + 10000;

	while (!core_leader_ready(c)) {
		if (core_mono_ms() > until) {
			snprintf(errbuf, errlen,
				 "%s: the replica did not become ready (see the log)",
				 c->dir);
			return -ETIMEDOUT;
		}
		event_base_loop(c->base, EVLOOP_ONCE);
	}
	return 0;
}

int core_repl_open(struct qcore *c, char *errbuf, size_t errlen)
{
	struct cons_config cfg;
	struct cons_node_host host = {
	    .arg = c,
	    .now = h_now,
	    .apply = h_apply,
	    .snap_open = h_snap_open,
	    .snap_read = h_snap_read,
	    .snap_begin = h_snap_begin,
	    .snap_write = h_snap_write,
	    .snap_finish = h_snap_finish,
	    .role = h_role,
	    .forwarded = h_forwarded,
	    .flush = h_flush,
	    .prepare_ready = h_prepare_ready,
	    .read_ready = h_read_ready,
	    .snap_config = h_snap_config,
	    .boot_config = h_boot_config,
	    .config = h_config,
	};
	char path[4096], msg[4400];
	int rc, tick_ms;

	rc = core_members_open(c);
	if (rc) {
		snprintf(errbuf, errlen, "qcore_open: out of memory");
		return rc;
	}
	/* core_recover opened the log and chose a snapshot it continues. */
	snprintf(path, sizeof(path), "%s/txnlog.db", c->dir);
	if (c->log_last < c->snap_zxid && c->log_compacted < c->snap_zxid) {
		/* Every snapshot is taken of applied, hence logged, entries:
		 * the log lost what it held. */
		snprintf(msg, sizeof(msg),
			 "%s ends at 0x%llx, before the snapshot at 0x%llx: the log lost "
			 "records",
			 path, (unsigned long long)c->log_last,
			 (unsigned long long)c->snap_zxid);
		if (!c->o.repair) {
			snprintf(
			    errbuf, errlen,
			    "%s; start with -o repair=yes to start from the snapshot",
			    msg);
			logstore_close(c->ls);
			c->ls = NULL;
			return -EBADMSG;
		}
		log_warnx("REPAIR: %s; starting from the snapshot (repair=yes)", msg);
	}
	/* Request ids name this server's requests in the log, also in
	 * entries of earlier runs still being applied after a restart: start
	 * above any of those (the wall clock, in ms << 16). */
	c->next_reqid = (uint64_t)core_wall_ms() << 16;
	c->applied = c->snap_zxid;
	if (c->standalone) {
		rc = replay_log(c, errbuf, errlen);
		if (rc) {
			logstore_close(c->ls);
			c->ls = NULL;
			return rc;
		}
	}
	rc = logstore_cons_new(c->ls, &c->lsc);
	if (rc) {
		logstore_close(c->ls);
		c->ls = NULL;
		return rc;
	}
	core_store_init(c);

	memset(&cfg, 0, sizeof(cfg));
	cfg.seg_map = log_seg_map;
	cfg.seg_unmap = log_seg_unmap;
	cfg.self = c->self;
	cfg.members = c->members;
	cfg.n_members = c->n_members;
	cfg.quorum = c->o.quorum == QCORE_QUORUM_WEIGHTED	? QUORUM_WEIGHTED
		     : c->o.quorum == QCORE_QUORUM_HIERARCHICAL ? QUORUM_HIERARCHICAL
								: QUORUM_MAJORITY;
	cfg.forward_to_host = 1;
	cfg.first_with_all = 1;
	cfg.mutant = c->o.mutant;
	cfg.seed = (uint64_t)core_wall_ms() ^ ((uint64_t)c->self << 40);
	if (c->standalone) {
		cfg.election_timeout_ms = 30;
		cfg.heartbeat_ms = 10;
		tick_ms = 5;
	} else {
		cfg.election_timeout_ms = (uint32_t)(c->o.sync_limit * c->o.tick_ms);
		cfg.heartbeat_ms =
		    (uint32_t)(c->o.tick_ms / 2 > 0 ? c->o.tick_ms / 2 : 1);
		tick_ms = (int)cfg.heartbeat_ms / 2 > 0 ? (int)cfg.heartbeat_ms / 2 : 1;
	}
	c->hold_ms = c->standalone ? 5000 : 2 * (int64_t)cfg.election_timeout_ms;
	if (c->hold_ms < 1000)
		c->hold_ms = 1000;
	c->tr = &null_transport;
	if (!c->standalone) {
		rc = open_transport(c, errbuf, errlen);
		if (rc)
			return rc;
	}
	rc = cons_node_new(&cfg, &c->store, c->tr, &host, &c->node);
	if (rc) {
		snprintf(errbuf, errlen, "%s: starting the replica: %s", path,
			 rc == -EINVAL ? "the log does not fit the snapshot or the "
					 "membership is invalid"
				       : strerror(-rc));
		return rc;
	}
	rc = core_members_start(c);
	if (rc == 0)
		rc = timers(c, tick_ms);
	if (rc) {
		snprintf(errbuf, errlen, "qcore_open: timers: %s", strerror(-rc));
		return rc;
	}
	if (c->standalone) {
		rc = wait_leader(c, errbuf, errlen);
		if (rc)
			return rc;
		/* Idle, a lone leader needs its tick only to retry failed
		 * writes. */
		tick_every(c, 50);
	}
	return 0;
}

static void drop_frame(void *arg, uint32_t from, const uint8_t *frame, size_t len)
{
}

void core_repl_stop(struct qcore *c)
{
	if (c->cons_tick_ev)
		event_del(c->cons_tick_ev);
	/* Stopping: the replica hears nothing more (the node stays, idle,
	 * until core_repl_free). */
	if (c->tr && c->tr != &null_transport)
		c->tr->set_recv(c->tr, drop_frame, NULL);
	/* Propose what was prepared, then let the store finish: its
	 * completions commit and apply (one member) before it closes. */
	if (c->node && !c->store_closed && c->batch_n)
		core_flush(c);
	if (c->lsc)
		c->store.close(&c->store);
	c->store_closed = 1;
	/* A pending reconfig or transfer hears ZCLOSING now, while its
	 * client can still take the reply. */
	core_members_free(c);
}

void core_repl_free(struct qcore *c)
{
	core_repl_stop(c);
	if (c->node)
		cons_node_free(c->node);
	c->node = NULL;
	if (c->tr && c->tr != &null_transport)
		c->tr->close(c->tr); /* frees tpt too */
	c->tr = NULL;
	c->tpt = NULL;
	if (c->ls) {
		/* Opened but never wrapped. */
		logstore_close(c->ls);
		c->ls = NULL;
	}
	if (c->cons_tick_ev)
		event_free(c->cons_tick_ev);
	if (c->flush_ev)
		event_free(c->flush_ev);
	if (c->release_ev)
		event_free(c->release_ev);
	c->cons_tick_ev = c->flush_ev = c->release_ev = NULL;
	buf_free(&c->batch);
	buf_free(&c->batch_spare);
	free(c->batch_len);
	free(c->voids);
}

/* ---- figures ---- */

const char *qcore_role_name(enum qcore_role r)
{
	switch (r) {
	case QCORE_STANDALONE:
		return "standalone";
	case QCORE_LEADER:
		return "leader";
	case QCORE_FOLLOWER:
		return "follower";
	case QCORE_OBSERVER:
		return "observer";
	case QCORE_REMOVED:
		return "removed";
	default:
		/* No leader heard for an election timeout (or none yet):
		 * reads are served from the replica, writes refused, which is
		 * what ZooKeeper's read-only mode reports. */
		return "read-only";
	}
}

void qcore_replica(const struct qcore *c, struct qcore_replica *out)
{
	struct cons_status st;

	memset(out, 0, sizeof(*out));
	out->n_members = (int)c->n_members;
	for (unsigned i = 0; i < c->n_members; i++)
		out->n_voters += !c->members[i].observer;
	out->epoch = c->role_epoch;
	out->leader = c->leader;
	out->pending_syncs = c->pending_syncs;
	if (c->node) {
		cons_status(cons_node_core(c->node), &st);
		out->last_zxid = st.last_zxid;
		out->commit_zxid = st.commit_zxid;
	}
	if (c->standalone)
		out->role = QCORE_STANDALONE;
	else if (c->role == CONS_LEADER)
		out->role = QCORE_LEADER;
	else if (c->role == CONS_REMOVED)
		out->role = QCORE_REMOVED;
	else if (c->role == CONS_OBSERVER && c->leader)
		out->role = QCORE_OBSERVER;
	else if (c->role == CONS_FOLLOWER && c->leader)
		out->role = QCORE_FOLLOWER;
	else
		out->role = QCORE_LOOKING;
	if (out->role == QCORE_LEADER && c->tr)
		for (unsigned i = 0; i < c->n_members; i++)
			if (c->members[i].id != c->self &&
			    core_peer_up(c, c->members[i].id)) {
				out->n_followers++;
				if (c->members[i].observer)
					out->n_synced_observers++;
				else
					out->n_synced++;
			}
}

_Static_assert(QCORE_MAX_MEMBERS == CONS_MAX_MEMBERS, "qcore_learners' bound");

static uint64_t *fwd_slot(struct qcore *c, uint32_t id, int take)
{
	for (size_t i = 0; i < CONS_MAX_MEMBERS; i++) {
		if (c->fwd_from[i].id == id)
			return &c->fwd_from[i].n;
		if (!c->fwd_from[i].id) {
			if (!take)
				return NULL;
			c->fwd_from[i].id = id;
			return &c->fwd_from[i].n;
		}
	}
	return NULL; /* more ids than members were ever seen: not counted */
}

void core_count_forwarded(struct qcore *c, uint32_t from, size_t n)
{
	uint64_t *v = fwd_slot(c, from, 1);

	if (v)
		*v += n;
}

size_t qcore_learners(struct qcore *c, struct qcore_learner *out, size_t max)
{
	size_t n = 0;

	if (!c->node || !c->tpt || c->role != CONS_LEADER)
		return 0;
	for (unsigned i = 0; i < c->n_members && n < max; i++) {
		struct cons_peer_status ps;
		struct transport_peer_stats ts;
		struct qcore_learner *l = &out[n];
		uint64_t *req;

		if (c->members[i].id == c->self ||
		    cons_peer_status(cons_node_core(c->node), c->members[i].id, &ps) < 0 ||
		    transport_peer_stats(c->tpt, c->members[i].id, &ts) < 0)
			continue;
		memset(l, 0, sizeof(*l));
		l->id = c->members[i].id;
		l->observer = ps.observer;
		snprintf(l->addr, sizeof(l->addr), "%s", ts.addr);
		l->opened_ms = ts.opened_ms;
		l->queued = ts.queued;
		l->queued_bytes = ts.queued_bytes;
		l->sent = ts.sent;
		l->received = ts.received;
		req = fwd_slot(c, l->id, 0);
		l->requests = req ? *req : 0;
		l->last_zxid = ps.match;
		n++;
	}
	return n;
}

void qcore_learners_reset(struct qcore *c, int observers_only)
{
	if (!c->tpt)
		return;
	for (unsigned i = 0; i < c->n_members; i++) {
		uint64_t *req;

		if (c->members[i].id == c->self ||
		    (observers_only && !c->members[i].observer))
			continue;
		transport_peer_stats_reset(c->tpt, c->members[i].id);
		if ((req = fwd_slot(c, c->members[i].id, 0)))
			*req = 0;
	}
}
