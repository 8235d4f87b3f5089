/*
 * sim.c - the simulated cluster, its virtual clock and event queue, and
 * the fault schedule; see sim.h.
 *
 * A run: the seed picks the cluster (3, 5 or 7 participants, 0-2
 * observers, a quorum system) and a fault profile. For FAULT_MS of virtual
 * time clients propose at random servers while faults strike; then every
 * fault is healed, crashed servers restart, and probe proposals must
 * commit everywhere within LIVE_MS (liveness).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define TICK_MS	 10
#define FAULT_MS 3000
#define LIVE_MS	 15000

static struct sim *current; /* for the invariant hook */

uint64_t sim_rand(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int sim_chance(struct sim *s, uint32_t pct)
{
	return pct && sim_rand(s) % 100 < pct;
}

static uint64_t range(struct sim *s, uint64_t lo, uint64_t hi)
{
	return lo + sim_rand(s) % (hi - lo + 1);
}

void sim_tracef(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->o.trace)
		return;
	printf("%8llu  sim  ", (unsigned long long)s->now);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void core_trace(void *arg, uint32_t self, uint64_t now_ms, const char *line)
{
	struct sim_node *n = arg;

	printf("%8llu  n%u   %s (clock %llu)\n", (unsigned long long)n->sim->now, self,
	       line, (unsigned long long)now_ms);
}

/* ---- event queue: a binary heap ordered by (time, insertion) ---- */

static int ev_less(const struct sim_event *a, const struct sim_event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct sim *s, const struct sim_event *ev)
{
	size_t i;

	if (s->h_n == s->h_cap) {
		size_t cap = s->h_cap ? s->h_cap * 2 : 1024;
		struct sim_event *nh = realloc(s->heap, cap * sizeof(*nh));

		if (!nh) {
			free(ev->frame);
			return;
		}
		s->heap = nh;
		s->h_cap = cap;
	}
	i = s->h_n++;
	while (i) {
		size_t p = (i - 1) / 2;

		if (!ev_less(ev, &s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = *ev;
}

static int heap_pop(struct sim *s, struct sim_event *out)
{
	struct sim_event last;
	size_t i = 0;

	if (!s->h_n)
		return 0;
	*out = s->heap[0];
	last = s->heap[--s->h_n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < s->h_n && ev_less(&s->heap[l], &last))
			m = l;
		if (l + 1 < s->h_n &&
		    ev_less(&s->heap[l + 1], m == i ? &last : &s->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (s->h_n)
		s->heap[i] = last;
	return 1;
}

void sim_push(struct sim *s, uint64_t t, int type, int node, uint32_t gen)
{
	struct sim_event ev = {
	    .t = t, .seq = s->seq++, .type = type, .node = node, .gen = gen};

	heap_push(s, &ev);
}

void sim_push_msg(struct sim *s, uint64_t t, int node, uint32_t from, uint8_t *frame,
		  size_t len)
{
	struct sim_event ev = {
	    .t = t, .seq = s->seq++, .type = SIM_EV_DELIVER, .node = node};

	ev.from = from;
	ev.frame = frame;
	ev.len = len;
	heap_push(s, &ev);
}

/* ---- the host of each server: its clock, state and snapshots ---- */

uint64_t sim_node_now(struct sim_node *n)
{
	int64_t t = (int64_t)n->sim->now + n->clock_off;

	return t < 0 ? 0 : (uint64_t)t;
}

static uint64_t host_now(void *arg)
{
	return sim_node_now(arg);
}

static void encode_state(uint8_t *b, const struct sim_state *st)
{
	int i;

	for (i = 0; i < 8; i++) {
		b[i] = (uint8_t)(st->zxid >> (56 - 8 * i));
		b[8 + i] = (uint8_t)(st->count >> (56 - 8 * i));
		b[16 + i] = (uint8_t)(st->hash >> (56 - 8 * i));
		b[24 + i] = (uint8_t)(st->cas >> (56 - 8 * i));
	}
}

static void decode_state(const uint8_t *b, struct sim_state *st)
{
	int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < 8; i++) {
		st->zxid = st->zxid << 8 | b[i];
		st->count = st->count << 8 | b[8 + i];
		st->hash = st->hash << 8 | b[16 + i];
		st->cas = st->cas << 8 | b[24 + i];
	}
}

static void host_apply(void *arg, const struct cons_entry *e, size_t cnt)
{
	struct sim_node *n = arg;
	size_t i;

	sim_check_apply(n, e, cnt);
	for (i = 0; i < cnt; i++)
		if (e[i].type == CONS_ENTRY_CONFIG && e[i].len <= CONS_MEMBERSHIP_MAX) {
			memcpy(n->conf_applied, e[i].data, e[i].len);
			n->conf_applied_len = e[i].len;
		}
	n->since_snap += cnt;
}

/*
 * A snapshot's bytes: the 32-byte state, then filler that depends on the
 * zxid and position only, so both ends can produce and check any chunk
 * without holding the snapshot (up to ~100 KiB by seed, sent in chunks of
 * 16 bytes to 8 KiB).
 */
static uint64_t snap_size(const struct sim *s, const struct sim_state *st)
{
	return 32 + s->snap_pad + (st->count * 13) % 4096;
}

static uint8_t filler(zxid_t zxid, uint64_t i)
{
	return (uint8_t)((i * 131) ^ (zxid >> 3) ^ (i >> 8) ^ zxid);
}

static void snap_bytes(struct sim_node *n, uint64_t off, uint8_t *buf, uint32_t len)
{
	uint32_t i;

	encode_state(n->snap_blob, &n->snap);
	for (i = 0; i < len; i++)
		buf[i] =
		    off + i < 32 ? n->snap_blob[off + i] : filler(n->snap.zxid, off + i);
}

static int host_snap_get(void *arg, zxid_t *zxid, const uint8_t **blob, uint32_t *len)
{
	struct sim_node *n = arg;
	uint64_t total = snap_size(n->sim, &n->snap);
	uint8_t *b = n->legacy_blob;

	if (!b || n->legacy_zxid != n->snap.zxid || n->legacy_len != total) {
		b = realloc(n->legacy_blob, total);
		if (!b)
			return -ENOMEM;
		n->legacy_blob = b;
		n->legacy_zxid = n->snap.zxid;
		n->legacy_len = total;
		snap_bytes(n, 0, b, (uint32_t)total);
	}
	*zxid = n->snap.zxid;
	*blob = b;
	*len = (uint32_t)total;
	return 0;
}

static int host_snap_open(void *arg, zxid_t *zxid, uint64_t *total)
{
	struct sim_node *n = arg;

	*zxid = n->snap.zxid;
	*total = snap_size(n->sim, &n->snap);
	return 0;
}

static int host_snap_read(void *arg, zxid_t zxid, uint64_t off, uint8_t *buf,
			  uint32_t len)
{
	struct sim_node *n = arg;

	if (zxid != n->snap.zxid)
		return -ENOENT; /* replaced by a newer one meanwhile */
	if (off + len > snap_size(n->sim, &n->snap))
		sim_violation(n->sim, "n%u asked to read past its snapshot", n->id);
	snap_bytes(n, off, buf, len);
	return 0;
}

/* Check received bytes as they arrive: the header is kept, the filler
 * must be exactly what the sender generated. */
static void rx_bytes(struct sim_node *n, zxid_t zxid, uint64_t off, const uint8_t *d,
		     uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++) {
		if (off + i < 32)
			n->rx_hdr[off + i] = d[i];
		else if (d[i] != filler(zxid, off + i))
			sim_violation(
			    n->sim,
			    "n%u snapshot %llx corrupted in transfer at byte %llu", n->id,
			    (unsigned long long)zxid, (unsigned long long)(off + i));
	}
}

static int host_snap_begin(void *arg, zxid_t zxid, uint64_t total)
{
	struct sim_node *n = arg;

	n->rx_zxid = zxid;
	n->rx_total = total;
	n->rx_got = 0;
	n->rx_bad = 0;
	return 0;
}

static int host_snap_write(void *arg, zxid_t zxid, uint64_t off, const uint8_t *d,
			   uint32_t len)
{
	struct sim_node *n = arg;

	if (zxid != n->rx_zxid || off != n->rx_got || off + len > n->rx_total)
		sim_violation(n->sim, "n%u snapshot write %llx at %llu out of order",
			      n->id, (unsigned long long)zxid, (unsigned long long)off);
	if (n->failing_disk && sim_chance(n->sim, 20)) {
		n->rx_bad = 1;
		return -EIO;
	}
	rx_bytes(n, zxid, off, d, len);
	n->rx_got += len;
	return 0;
}

static int install(struct sim_node *n, zxid_t zxid, uint64_t total)
{
	struct sim_state st;

	decode_state(n->rx_hdr, &st);
	if (st.zxid != zxid || total != snap_size(n->sim, &st))
		sim_violation(n->sim, "n%u received snapshot %llx is not the one sent",
			      n->id, (unsigned long long)zxid);
	sim_check_snapshot(n, &st);
	n->sim->snaps_installed++;
	n->sim->snap_bytes_installed += total;
	n->snaps++;
	n->snap_bytes = total;
	sim_tracef(n->sim, "n%u installs snapshot %llx (%llu entries)", n->id,
		   (unsigned long long)zxid, (unsigned long long)st.count);
	n->st = st;
	n->snap = st;
	memcpy(n->snap_conf, n->rx_conf, n->rx_conf_len);
	n->snap_conf_len = n->rx_conf_len;
	memcpy(n->conf_applied, n->rx_conf, n->rx_conf_len);
	n->conf_applied_len = n->rx_conf_len;
	n->since_snap = 0;
	n->installing = zxid;
	return 0;
}

static int host_snap_config(void *arg, zxid_t zxid, const uint8_t *conf, uint32_t len)
{
	struct sim_node *n = arg;

	(void)zxid;
	if (len > sizeof(n->rx_conf))
		return -EINVAL;
	memcpy(n->rx_conf, conf, len);
	n->rx_conf_len = len;
	return 0;
}

static int host_boot_config(void *arg, const uint8_t **conf, uint32_t *len)
{
	struct sim_node *n = arg;

	*conf = n->snap_conf;
	*len = n->snap_conf_len;
	return 0;
}

static void host_config(void *arg, zxid_t version, int status)
{
	struct sim_node *n = arg;

	if (status == 0)
		return;
	n->sim->reconfigs_failed++;
	sim_tracef(n->sim, "n%u: reconfig failed (%d)", n->id, status);
}

static int host_snap_finish(void *arg, zxid_t zxid)
{
	struct sim_node *n = arg;

	if (n->rx_bad || zxid != n->rx_zxid || n->rx_got != n->rx_total)
		sim_violation(n->sim, "n%u asked to install an incomplete snapshot %llx",
			      n->id, (unsigned long long)zxid);
	return install(n, zxid, n->rx_total);
}

static int host_snap_install(void *arg, zxid_t zxid, const uint8_t *blob, uint32_t len)
{
	struct sim_node *n = arg;

	if (len < 32)
		return -EINVAL;
	rx_bytes(n, zxid, 0, blob, len);
	return install(n, zxid, len);
}

static void host_read_ready(void *arg, uint64_t token, zxid_t zxid, int status)
{
	struct sim_node *n = arg;

	sim_check_read(n, token, zxid, status);
}

static void host_role(void *arg, enum cons_state st, uint32_t epoch, uint32_t leader)
{
	struct sim_node *n = arg;

	if (st == CONS_LEADER) {
		sim_check_leader(n, epoch);
		n->lead_since = sim_node_clock(n);
	} else {
		n->n_held = 0; /* the requests fail: their clients retry */
		n->n_pend = 0;
	}
}

/*
 * A leader's host proposes what it prepared, as one batch (the daemon's
 * core_flush). Refused (leadership lost, or CONS_ESTALE: the engine
 * appended an entry of its own since), the batch is forgotten: its
 * requests fail and their clients retry.
 */
static void flush(struct sim_node *n)
{
	uint8_t data[SIM_HOLD][56];
	struct cons_payload out[SIM_HOLD];
	int k, cnt = n->n_pend, rc;

	if (!cnt)
		return;
	/* Taken out first: the proposal's step may run callbacks that
	 * prepare (a new batch) or flush again. */
	for (k = 0; k < cnt; k++) {
		memcpy(data[k], n->pend[k], n->pend_len[k]);
		out[k].data = data[k];
		out[k].len = n->pend_len[k];
	}
	n->n_pend = 0;
	rc = cons_node_propose_at(n->node, n->pend_first, out, (size_t)cnt);
	if (rc) {
		/* Refused before anything was stepped: nothing was prepared
		 * since, the state as it will be is the one before the batch. */
		n->prep_count = n->pend_count0;
		if (rc == CONS_ESTALE)
			n->sim->stale_batches++;
		sim_tracef(n->sim, "n%u: a batch of %d prepared at %llx refused (%d)", n->id, cnt,
			   (unsigned long long)n->pend_first, rc);
	}
}

static void host_flush(void *arg)
{
	flush(arg);
}

/*
 * forward_to_host: the leader's host "prepares" each forwarded request
 * against its state as it will be, as ZooKeeper's leader does: it marks it
 * (top bit of the id), appends the counter value it will set (one more
 * than the counter after everything prepared before it) and the zxid it
 * will get; the checker compares both with the state and zxid it is
 * applied at. Like the daemon, it proposes them a little later, in a
 * batch (SIM_EV_FLUSH), so other events may step in between.
 */
static void prepare(struct sim_node *n, const struct cons_payload *p, size_t cnt)
{
	zxid_t z = cons_node_next_zxid(n->node);
	size_t k;
	int i;

	if (!z || cnt > SIM_HOLD)
		return;
	z += (zxid_t)n->n_pend;
	for (k = 0; k < cnt && n->n_pend < SIM_HOLD; k++) {
		uint8_t *b = n->pend[n->n_pend];
		uint64_t v = n->prep_count + 1;

		if (p[k].len < 8 || p[k].len > 40)
			return;
		if (!n->n_pend) {
			n->pend_first = z;
			n->pend_count0 = n->prep_count;
			sim_push(n->sim, n->sim->now + range(n->sim, 0, 1), SIM_EV_FLUSH,
				 n->idx, n->gen);
		}
		memcpy(b, p[k].data, p[k].len);
		b[0] |= 0x80;
		for (i = 0; i < 8; i++) {
			b[p[k].len + (size_t)i] = (uint8_t)(v >> (56 - 8 * i));
			b[p[k].len + 8 + (size_t)i] = (uint8_t)((z + k) >> (56 - 8 * i));
		}
		n->pend_len[n->n_pend++] = p[k].len + 16;
		n->prep_count++;
	}
}

static void host_forwarded(void *arg, uint32_t from, const struct cons_payload *p,
			   size_t cnt)
{
	struct sim_node *n = arg;
	size_t k;

	if (cons_node_can_prepare(n->node)) {
		prepare(n, p, cnt);
		return;
	}
	/* Not yet: hold them for prepare_ready (a full hold drops, as a
	 * host out of room would fail the request). */
	for (k = 0; k < cnt && n->n_held < SIM_HOLD; k++) {
		if (p[k].len > sizeof(n->held[0]))
			continue;
		memcpy(n->held[n->n_held], p[k].data, p[k].len);
		n->held_len[n->n_held++] = p[k].len;
	}
}

static void host_prepare_ready(void *arg, uint32_t epoch)
{
	struct sim_node *n = arg;
	struct cons_payload p[SIM_HOLD];
	int k;

	/* Every txn of the earlier epochs is applied: the state as it will
	 * be is the applied one. */
	n->prep_count = n->st.cas;
	sim_tracef(n->sim, "n%u may prepare in epoch %u (counter %llu, %d held)", n->id,
		   epoch, (unsigned long long)n->prep_count, n->n_held);
	for (k = 0; k < n->n_held; k++) {
		p[k].data = n->held[k];
		p[k].len = n->held_len[k];
	}
	if (n->n_held)
		prepare(n, p, (size_t)n->n_held);
	n->n_held = 0;
}

static void node_start(struct sim *s, struct sim_node *n)
{
	struct cons_node_host host = {
	    .arg = n,
	    .now = host_now,
	    .apply = host_apply,
	    .snap_get = host_snap_get,
	    .snap_install = host_snap_install,
	    .role = host_role,
	    .forwarded = host_forwarded,
	    .read_ready = host_read_ready,
	    .prepare_ready = host_prepare_ready,
	    /* Mutants 13 and 14: a host that does not flush before the
	     * node steps (13 also skips the engine's check). */
	    .flush = s->o.mutant == 13 || s->o.mutant == 14 ? NULL : host_flush,
	    .snap_open = host_snap_open,
	    .snap_read = host_snap_read,
	    .snap_begin = host_snap_begin,
	    .snap_write = host_snap_write,
	    .snap_finish = host_snap_finish,
	    .snap_config = host_snap_config,
	    .boot_config = host_boot_config,
	    .config = host_config,
	};
	struct cons_config cfg = {0};
	int rc;

	cfg.self = n->id;
	cfg.members = s->members;
	cfg.n_members = (unsigned)s->n;
	cfg.quorum = s->quorum;
	cfg.election_timeout_ms = s->election_ms;
	cfg.heartbeat_ms = s->heartbeat_ms;
	cfg.max_batch = s->max_batch;
	cfg.max_inflight = s->max_inflight;
	cfg.seed = sim_rand(s);
	cfg.mutant = s->o.mutant;
	cfg.forward_to_host = s->fwd_host;
	cfg.first_with_all = 1; /* as the daemon runs it */
	cfg.snap_chunk = s->snap_chunk;
	cfg.snap_window = s->snap_window;
	if (s->legacy_snap) {
		host.snap_open = NULL;
		host.snap_read = NULL;
		host.snap_begin = NULL;
		host.snap_write = NULL;
		host.snap_finish = NULL;
	}
	if (s->o.trace) {
		cfg.trace = core_trace;
		cfg.trace_arg = n;
	}
	n->st = n->snap; /* the host recovers its state from the snapshot */
	memcpy(n->conf_applied, n->snap_conf, n->snap_conf_len);
	n->conf_applied_len = n->snap_conf_len;
	n->n_held = 0;
	n->n_pend = 0;
	n->since_snap = 0;
	n->installing = 0;
	rc = cons_node_new(&cfg, &n->store.vt, &n->tr, &host, &n->node);
	if (rc)
		sim_violation(s, "n%u cannot start: %d", n->id, rc);
	sim_check_restart(n);
	n->up = 1;
	sim_push(s, s->now + range(s, 1, TICK_MS), SIM_EV_TICK, n->idx, n->gen);
}

static void node_crash(struct sim *s, struct sim_node *n)
{
	if (!n->up)
		return;
	sim_tracef(s, "crash n%u", n->id);
	sim_store_crash(&n->store);
	cons_node_free(n->node);
	n->node = NULL;
	n->up = 0;
	n->gen++;
	n->paused_until = 0;
}

static void maybe_snapshot(struct sim *s, struct sim_node *n)
{
	if (n->since_snap < s->snap_every || n->st.zxid == n->snap.zxid)
		return;
	n->snap = n->st;
	memcpy(n->snap_conf, n->conf_applied, n->conf_applied_len);
	n->snap_conf_len = n->conf_applied_len;
	n->since_snap = 0;
	(void)cons_node_compact(n->node, n->snap.zxid);
}

/* ---- faults ---- */

static void heal_network(struct sim *s)
{
	memset(s->block, 0, sizeof(s->block));
	s->flapping = 0;
}

static void random_partition(struct sim *s, int asymmetric)
{
	uint32_t side = (uint32_t)sim_rand(s);
	int i, j;

	heal_network(s);
	for (i = 0; i < s->n; i++)
		for (j = 0; j < s->n; j++)
			if (i != j && ((side >> i) & 1) != ((side >> j) & 1)) {
				if (!asymmetric || ((side >> i) & 1))
					s->block[i][j] = 1;
			}
	sim_tracef(s, "%s partition, side mask %x",
		   asymmetric ? "asymmetric" : "symmetric", side & ((1u << s->n) - 1));
}

static void inject_fault(struct sim *s)
{
	struct sim_node *n = &s->nodes[sim_rand(s) % (uint64_t)s->n];
	int i, j;

	switch (sim_rand(s) % 15) {
	case 13:
	case 14:
		/* Pause a server (the leader, mostly) past an election, as
		 * SIGSTOP would: it resumes with a stale view. */
		j = sim_chance(s, 70);
		for (i = 0; j && i < s->n; i++) {
			struct cons_status st;

			if (!s->nodes[i].up)
				continue;
			cons_status(cons_node_core(s->nodes[i].node), &st);
			if (st.state == CONS_LEADER)
				n = &s->nodes[i];
		}
		if (!n->up)
			break;
		j = (int)range(s, s->election_ms, 4ull * s->election_ms);
		if (s->now + (uint64_t)j > n->paused_until)
			n->paused_until = s->now + (uint64_t)j;
		sim_tracef(s, "pause n%u until %llu", n->id,
			   (unsigned long long)n->paused_until);
		/* Its clients keep asking it (ZooKeeper's stale sync). */
		sim_push(s, n->paused_until - 1, SIM_EV_SYNC_AT, n->idx, 0);
		break;
	case 12:
		/* Crash the leader: the most interesting server to lose. */
		for (i = 0; i < s->n; i++) {
			struct cons_status st;

			if (!s->nodes[i].up)
				continue;
			cons_status(cons_node_core(s->nodes[i].node), &st);
			if (st.state == CONS_LEADER)
				n = &s->nodes[i];
		}
		/* fall through */
	case 0:
	case 1:
		if (!n->up)
			break;
		node_crash(s, n);
		sim_push(s, s->now + range(s, 10, 800), SIM_EV_RESTART, n->idx, n->gen);
		break;
	case 2:
	case 3:
		random_partition(s, 0);
		break;
	case 4:
		random_partition(s, 1);
		break;
	case 5:
		heal_network(s);
		for (i = 0; i < s->n; i++)
			for (j = 0; j < s->n; j++)
				s->flap[i][j] = i != j && sim_chance(s, 40);
		s->flapping = 1;
		sim_tracef(s, "flapping links");
		break;
	case 6:
		heal_network(s);
		sim_tracef(s, "network healed");
		break;
	case 7:
		s->loss_pct = (uint32_t)range(s, 0, 30);
		s->dup_pct = (uint32_t)range(s, 0, 10);
		sim_tracef(s, "loss %u%% dup %u%%", s->loss_pct, s->dup_pct);
		break;
	case 8:
		s->max_delay = (uint32_t)range(s, 1, 60);
		sim_tracef(s, "delay up to %ums", s->max_delay);
		break;
	case 9:
		n->slow_disk = !n->slow_disk;
		sim_tracef(s, "n%u disk %s", n->id, n->slow_disk ? "slow" : "fast");
		break;
	case 10:
		n->failing_disk = !n->failing_disk;
		sim_tracef(s, "n%u disk %s", n->id,
			   n->failing_disk ? "failing" : "healthy");
		break;
	case 11:
		n->clock_off += (int64_t)range(s, 0, 4000) - 2000;
		sim_tracef(s, "n%u clock jumps to offset %lld", n->id,
			   (long long)n->clock_off);
		break;
	}
}

static void heal_all(struct sim *s)
{
	int i, k;

	sim_tracef(s, "faults stop: healing everything");
	heal_network(s);
	if (s->o.scenario != 2) {
		s->loss_pct = s->dup_pct = 0;
		s->max_delay = 10;
	}
	for (i = 0; i < s->n; i++) {
		s->nodes[i].slow_disk = 0;
		s->nodes[i].failing_disk = 0;
		if (!s->nodes[i].up) {
			s->nodes[i].gen++;
			node_start(s, &s->nodes[i]);
		}
	}
	s->healed = 1;
	for (k = 0; k < SIM_PROBES; k++) {
		s->probe_id[k] =
		    (1ull << 62) | ((uint64_t)k << 32) | (s->o.seed & 0xffffffff);
		s->probe_pos[k] = -1;
	}
	sim_push(s, s->now + 1, SIM_EV_PROBE, 0, 0);
}

/* ---- membership changes ---- */

static int running(struct sim *s, struct sim_node *n);

static uint64_t rrand(struct sim *s)
{
	uint64_t z = (s->rrng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static struct sim_node *live_leader(struct sim *s)
{
	struct sim_node *l = NULL;
	uint32_t best = 0;
	int i;

	for (i = 0; i < s->n; i++) {
		struct cons_status st;

		if (!running(s, &s->nodes[i]))
			continue;
		cons_status(cons_node_core(s->nodes[i].node), &st);
		if (st.state == CONS_LEADER && st.epoch >= best) {
			best = st.epoch;
			l = &s->nodes[i];
		}
	}
	return l;
}

static int voters(const struct cons_membership *m)
{
	unsigned i;
	int v = 0;

	for (i = 0; i < m->n; i++)
		v += !m->m[i].observer;
	return v;
}

static void drop_member(struct cons_membership *m, unsigned i)
{
	m->m[i] = m->m[--m->n];
}

static void add_member(struct sim *s, struct cons_membership *m, int idx, int observer)
{
	struct cons_member *x = &m->m[m->n++];

	memset(x, 0, sizeof(*x));
	x->id = (uint32_t)idx + 1;
	x->observer = (uint8_t)observer;
	x->weight = (uint32_t)(rrand(s) % 3) + 1;
	x->group = (uint32_t)(idx % 3) + 1;
}

/* A node index not in m, or -1. */
static int outsider(struct sim *s, const struct cons_membership *m)
{
	int k, i = (int)(rrand(s) % (uint64_t)s->n);

	for (k = 0; k < s->n; k++, i = (i + 1) % s->n)
		if (!sim_conf_member(m, (uint32_t)i + 1))
			return i;
	return -1;
}

/*
 * Ask the leader for a random change: remove, add, replace a member,
 * promote an observer, demote a participant, change weights and groups,
 * or a whole new member list (ZooKeeper's non-incremental reconfig).
 */
static void reconfig(struct sim *s)
{
	struct sim_node *l = live_leader(s);
	struct cons_membership cur, t;
	const char *what = "";
	unsigned i;
	int k, rc;

	if (s->now < s->fault_end)
		sim_push(s, s->now + 200 + rrand(s) % 1200, SIM_EV_RECONFIG, 0, 0);
	if (!l)
		return;
	cons_node_membership(l->node, 0, &cur);
	if (cur.joint)
		return;
	t = cur;
	t.version = 0;
	i = (unsigned)(rrand(s) % t.n);
	switch (rrand(s) % 8) {
	case 0:
		what = "remove";
		if (t.n > 1 && (t.m[i].observer || voters(&t) > 1))
			drop_member(&t, i);
		break;
	case 1:
		what = "add";
		k = outsider(s, &t);
		if (k >= 0)
			add_member(s, &t, k, (int)(rrand(s) % 3 == 0));
		break;
	case 2:
		what = "replace";
		k = outsider(s, &t);
		if (k >= 0 && !t.m[i].observer) {
			drop_member(&t, i);
			add_member(s, &t, k, 0);
		}
		break;
	case 3:
		what = "promote";
		t.m[i].observer = 0;
		break;
	case 4:
		what = "demote";
		if (voters(&t) > 1)
			t.m[i].observer = 1;
		break;
	case 5:
		what = "regroup";
		for (i = 0; i < t.n; i++) {
			t.m[i].weight = (uint32_t)(rrand(s) % 3) + 1;
			t.m[i].group = (uint32_t)(rrand(s) % 3) + 1;
		}
		break;
	default:
		what = "new list";
		t.n = 0;
		for (k = 0; k < s->n; k++)
			if (rrand(s) % 4)
				add_member(s, &t, k, (int)(rrand(s) % 3 == 0));
		if (!t.n)
			add_member(s, &t, (int)(rrand(s) % (uint64_t)s->n), 0);
		if (!voters(&t))
			t.m[0].observer = 0;
		break;
	}
	if (rrand(s) % 4 == 0) {
		/* Leadership transfer, to a given voter or the best one. */
		uint32_t to = (uint32_t)(rrand(s) % 2 ? 0 : t.m[i].id);

		rc = cons_node_transfer(l->node, to);
		s->transfers++;
		s->transfers_ok += rc == 0;
		sim_tracef(s, "transfer leadership from n%u to n%u: %d", l->id, to, rc);
		return;
	}
	/* ZooKeeper's fromConfig: a stale version is refused. */
	if (cons_node_reconfig(l->node, &t, cur.version + 1) != -ESTALE)
		sim_violation(s, "n%u took a reconfig from a stale version", l->id);
	rc = cons_node_reconfig(l->node, &t, cur.version);
	s->reconfigs++;
	sim_tracef(s, "reconfig (%s) at n%u from %llx: %u members, %d voters: %d", what,
		   l->id, (unsigned long long)cur.version, t.n, voters(&t), rc);
	if (rc == 0)
		s->reconfigs_ok++;
}

/* ---- clients ---- */

static void propose(struct sim *s, struct sim_node *n, uint64_t id)
{
	uint8_t buf[40];
	struct cons_payload p;
	uint32_t len = 8 + (uint32_t)(id % 32), i;
	int rc;

	for (i = 0; i < 8; i++)
		buf[i] = (uint8_t)(id >> (56 - 8 * i));
	for (i = 8; i < len; i++)
		buf[i] = (uint8_t)(id * 31 + i);
	p.data = buf;
	p.len = len;
	if (s->fwd_host)
		rc = cons_node_forward(n->node, &p, 1);
	else
		rc = cons_node_propose(n->node, &p, 1);
	/* In the transfer scenario a refused write is retried (elsewhere), as
	 * a ZooKeeper client does after a connection loss, and counted. */
	if (rc && s->o.scenario == 4 && id < (1ull << 32)) {
		/* Counted while the transfer is under way (before the first
		 * election they are the usual "no leader yet"). */
		if (s->xfer_first && s->xfer_last == UINT64_MAX) {
			s->xfer_refused++;
			sim_tracef(s, "write %llu refused by n%u: %d",
				   (unsigned long long)id, n->id, rc);
		}
		sim_push(s, s->now + 20, SIM_EV_RETRY, n->idx, (uint32_t)id);
	}
}

static int running(struct sim *s, struct sim_node *n)
{
	return n->up && n->paused_until <= s->now;
}

/* A client sends a sync to n; it reaches n as a SIM_EV_READ. */
static void read_at(struct sim *s, struct sim_node *n)
{
	uint64_t token = sim_read_issue(s, n);

	sim_push(s, s->now, SIM_EV_READ, n->idx, (uint32_t)token);
}

static void client(struct sim *s)
{
	struct sim_node *n = &s->nodes[sim_rand(s) % (uint64_t)s->n];
	int k = (int)range(s, 1, 3);

	if (running(s, n))
		while (k--)
			propose(s, n, ++s->next_id);
	if (sim_chance(s, 40))
		read_at(s, &s->nodes[sim_rand(s) % (uint64_t)s->n]);
	if (s->now < s->fault_end)
		sim_push(s, s->now + range(s, 2, 15), SIM_EV_PROPOSE, 0, 0);
}

static void probe(struct sim *s)
{
	int k;

	for (k = 0; k < SIM_PROBES; k++) {
		struct sim_node *n = &s->nodes[sim_rand(s) % (uint64_t)s->n];

		if (s->probe_pos[k] < 0 && running(s, n))
			propose(s, n, s->probe_id[k]);
	}
	for (k = 0; k < s->n; k++)
		if (!s->nodes[k].read_ok)
			read_at(s, &s->nodes[k]);
	sim_push(s, s->now + 200, SIM_EV_PROBE, 0, 0);
}

/* ---- the run ---- */

static void invariant_hook(const char *file, int line, const char *what)
{
	if (current)
		sim_violation(current, "core invariant %s at %s:%d", what, file, line);
}

static void setup(struct sim *s)
{
	int parts, obs, i;
	static const int sizes[] = {3, 5, 7};

	parts = s->o.participants ? s->o.participants : sizes[sim_rand(s) % 3];
	obs = s->o.observers >= 0 ? s->o.observers : (int)(sim_rand(s) % 3);
	s->n = parts + obs;
	switch (sim_rand(s) % 6) {
	case 0:
		s->quorum = QUORUM_WEIGHTED;
		break;
	case 1:
		s->quorum = parts >= 5 ? QUORUM_HIERARCHICAL : QUORUM_MAJORITY;
		break;
	default:
		s->quorum = QUORUM_MAJORITY;
	}
	for (i = 0; i < s->n; i++) {
		struct sim_node *n = &s->nodes[i];

		s->members[i].id = (uint32_t)i + 1;
		s->members[i].observer = i >= parts;
		s->members[i].weight = (uint32_t)range(s, 1, 3);
		s->members[i].group = (uint32_t)(i % 3) + 1;
		n->sim = s;
		n->idx = i;
		n->id = (uint32_t)i + 1;
		n->observer = i >= parts;
		sim_store_init(&n->store, s, i);
		sim_net_init(n);
	}
	if (quorum_init(&s->q, s->quorum, s->members, (unsigned)s->n))
		sim_violation(s, "bad membership");
	s->gconf.quorum = s->quorum;
	s->gconf.n = (unsigned)s->n;
	memcpy(s->gconf.m, s->members, (size_t)s->n * sizeof(s->members[0]));
	/* Membership changes draw from their own PRNG (the seed's fault
	 * schedule stays the same); none in scenarios or without faults. */
	s->rrng = s->o.seed * 0x9e3779b97f4a7c15ull + 77;
	s->reconfig = s->o.reconfig > 0 || (s->o.reconfig == 0 && rrand(s) % 2);
	if (s->o.scenario || s->o.no_faults || s->o.reconfig < 0)
		s->reconfig = 0;
	s->snap_every = (uint32_t)range(s, 5, 60);
	s->fault_gap = (uint32_t)range(s, 60, 400);
	s->fwd_host = sim_chance(s, 50);
	/* Timing and flow control vary by seed too. */
	s->election_ms = (uint32_t)range(s, 80, 300);
	s->heartbeat_ms = (uint32_t)range(s, 10, s->election_ms / 3);
	s->max_batch = (uint32_t)range(s, 1, 64);
	s->max_inflight = (uint32_t)range(s, 1, 16);
	s->max_delay = (uint32_t)range(s, 1, 20);
	/* Up to ~200 chunks a snapshot: the simulated links are slow (up to
	 * 60 ms a message under faults), so more would outlast the liveness
	 * bound, not break anything. */
	if (sim_chance(s, 30)) {
		s->snap_pad = (uint32_t)range(s, 0, 4096);
		s->snap_chunk = (uint32_t)range(s, 16, 128);
	} else {
		s->snap_pad = (uint32_t)range(s, 0, 100000);
		s->snap_chunk = (uint32_t)range(s, 512, 8192);
	}
	s->snap_window = (uint32_t)range(s, 1, 8);
	if (s->o.scenario == 2) {
		/* 10-60 chunks: at one chunk per 60 ms round trip (window 1,
		 * 20% lost) a hundred of them outlast the liveness bound. */
		s->snap_pad = (uint32_t)range(s, 20000, 60000);
		s->snap_chunk = (uint32_t)range(s, 1024, 4096);
		s->snap_window = (uint32_t)range(s, 2, 8);
	}
	s->legacy_snap = sim_chance(s, 25);
	if (s->o.scenario == 4)
		s->snap_every = 1u << 30; /* the target catches up from the log */
	sim_tracef(
	    s, "seed %llu: %d participants, %d observers, quorum %s, snapshot every %u",
	    (unsigned long long)s->o.seed, parts, obs,
	    s->quorum == QUORUM_MAJORITY   ? "majority"
	    : s->quorum == QUORUM_WEIGHTED ? "weighted"
					   : "hierarchical",
	    s->snap_every);
	sim_tracef(s,
		   "election timeout %ums, heartbeat %ums, batch %u, in flight %u, "
		   "leader prepares forwarded requests: %s",
		   s->election_ms, s->heartbeat_ms, s->max_batch, s->max_inflight,
		   s->fwd_host ? "yes" : "no");
}

/*
 * Scenario 1 (pre-vote): once a leader is elected, cut one follower off
 * for 8 election timeouts (long enough to time out many times), let it
 * back, and require the same leader in the same epoch 10 timeouts later:
 * without pre-vote its raised epoch reaches the leader in its answers and
 * deposes it.
 */
/*
 * Scenario 2 (snapshot catch-up): a server is down while hundreds of txns
 * commit and every other server compacts its log, then comes back over a
 * lossy (20%), duplicating and reordering (up to 60 ms) network that stays
 * so to the end; it can only catch up by a snapshot of many chunks, and
 * every invariant and the liveness bound must hold.
 */
static void scenario_far_behind(struct sim *s)
{
	struct sim_node *n;
	int i;

	switch (s->sc_stage++) {
	case 0:
		/* After the ensemble is born: empty members elect the first
		 * leader only with every voter (first_with_all). */
		for (i = 0; i < s->n; i++) {
			struct cons_status st;

			cons_status(cons_node_core(s->nodes[i].node), &st);
			if (st.commit_zxid)
				break;
		}
		if (i == s->n) {
			s->sc_stage = 0;
			sim_push(s, s->now + 50, SIM_EV_SCENARIO, 0, 0);
			break;
		}
		/* One the others can commit without (weights may forbid). */
		s->sc_node = (int)(sim_rand(s) % (uint64_t)s->n);
		for (i = 0;
		     i < s->n && !quorum_contains(&s->q, ((1ull << s->n) - 1) &
							     ~(1ull << s->sc_node));
		     i++)
			s->sc_node = (s->sc_node + 1) % s->n;
		n = &s->nodes[s->sc_node];
		node_crash(s, n);
		sim_push(s, s->now + 2000, SIM_EV_SCENARIO, 0, 0);
		break;
	default:
		n = &s->nodes[s->sc_node];
		s->loss_pct = 20;
		s->dup_pct = 10;
		s->max_delay = 60;
		sim_tracef(s, "scenario: n%u restarts far behind, lossy network", n->id);
		n->gen++;
		node_start(s, n);
		break;
	}
}

/*
 * Scenario 4 (leadership transfer): under the steady write load, the
 * leader's link to one follower is cut for a few heartbeats so that it
 * falls behind, then restored and the leader asked to transfer to it at
 * once. The target must lead the very next epoch within an election
 * timeout and a round trip of catching up (the transfer waits for it to
 * catch up: mutant 10 does not, and the target loses that election), and
 * every write issued from the request until it leads must commit.
 */
static void scenario_transfer(struct sim *s)
{
	struct cons_status st;
	int i, l = -1;

	switch (s->sc_stage++) {
	case 0:
		for (i = 0; i < s->n; i++) {
			cons_status(cons_node_core(s->nodes[i].node), &st);
			if (st.state == CONS_LEADER) {
				l = i;
				s->sc_epoch = st.epoch;
			}
		}
		if (l < 0)
			sim_violation(s, "scenario: no leader after 1500 ms");
		s->sc_leader = s->nodes[l].id;
		/* A follower the others can do without (weights may forbid):
		 * cutting it off must not cost the leader its quorum. */
		s->sc_node = -1;
		for (i = 0; i < s->n; i++)
			if (i != l && !s->nodes[i].observer &&
			    quorum_contains(&s->q, ((1ull << s->n) - 1) & ~(1ull << i)) &&
			    (s->sc_node < 0 || sim_rand(s) % 2))
				s->sc_node = i;
		if (s->sc_node < 0) {
			s->sc_stage = 99;
			break;
		}
		s->block[l][s->sc_node] = 1;
		sim_tracef(s, "scenario: n%u falls behind leader n%u",
			   s->nodes[s->sc_node].id, s->sc_leader);
		sim_push(s, s->now + 4ull * s->heartbeat_ms, SIM_EV_SCENARIO, 0, 0);
		break;
	case 1:
		heal_network(s);
		s->xfer_first = s->next_id + 1;
		s->xfer_last = UINT64_MAX;
		s->sc_at = s->now;
		i = cons_node_transfer(s->nodes[s->sc_leader - 1].node,
				       s->nodes[s->sc_node].id);
		sim_tracef(s, "scenario: transfer leadership from n%u to n%u: %d",
			   s->sc_leader, s->nodes[s->sc_node].id, i);
		if (i)
			sim_violation(s, "scenario: the transfer was refused (%d)", i);
		sim_push(s, s->now + 1, SIM_EV_SCENARIO, 0, 0);
		break;
	case 2:
		cons_status(cons_node_core(s->nodes[s->sc_node].node), &st);
		if (st.state == CONS_LEADER) {
			s->xfer_ms = s->now - s->sc_at;
			s->xfer_last = s->next_id;
			if (st.epoch != s->sc_epoch + 1 ||
			    s->max_lead_epoch != s->sc_epoch + 1)
				sim_violation(s,
					      "scenario: n%u took over in epoch %u, not "
					      "%u",
					      s->nodes[s->sc_node].id, st.epoch,
					      s->sc_epoch + 1);
			sim_tracef(s, "scenario: n%u leads after %llu ms",
				   s->nodes[s->sc_node].id,
				   (unsigned long long)s->xfer_ms);
			break;
		}
		cons_status(cons_node_core(s->nodes[s->sc_leader - 1].node), &st);
		if (st.state == CONS_LEADER && st.epoch == s->sc_epoch &&
		    !st.transfer_to && s->max_lead_epoch == s->sc_epoch) {
			/* It gave up (the target did not catch up within an
			 * election timeout) and resumed: allowed, counted. */
			s->xfer_last = s->next_id;
			s->xfer_gave_up = 1;
			sim_tracef(s, "scenario: the transfer gave up; n%u resumed",
				   s->sc_leader);
			break;
		}
		if (s->now > s->sc_at + 3ull * s->election_ms + 100 ||
		    s->max_lead_epoch != s->sc_epoch)
			sim_violation(s,
				      "scenario: transfer target n%u did not take over "
				      "(leader now n%u of epoch %u)",
				      s->nodes[s->sc_node].id,
				      s->max_lead_epoch < s->l_cap
					  ? s->leaders[s->max_lead_epoch]
					  : 0,
				      s->max_lead_epoch);
		s->sc_stage = 2;
		sim_push(s, s->now + 1, SIM_EV_SCENARIO, 0, 0);
		break;
	default:
		break;
	}
}

static void scenario_step(struct sim *s)
{
	struct cons_status st;
	int i;

	if (s->o.scenario == 4) {
		scenario_transfer(s);
		return;
	}
	if (s->o.scenario == 2) {
		scenario_far_behind(s);
		return;
	}
	if (s->o.scenario == 3) {
		/* ZooKeeper's stale sync: pause the leader (SIGSTOP) past an
		 * election while clients keep writing elsewhere; a client's
		 * sync reaches it as it resumes, before it notices. */
		for (i = 0; i < s->n; i++) {
			cons_status(cons_node_core(s->nodes[i].node), &st);
			if (st.state == CONS_LEADER)
				s->sc_node = i;
		}
		s->nodes[s->sc_node].paused_until = s->now + 4ull * s->election_ms;
		sim_tracef(s, "scenario: pause leader n%u until %llu",
			   s->nodes[s->sc_node].id,
			   (unsigned long long)s->nodes[s->sc_node].paused_until);
		sim_push(s, s->nodes[s->sc_node].paused_until - 1, SIM_EV_SYNC_AT,
			 s->sc_node, 0);
		return;
	}
	switch (s->sc_stage++) {
	case 0:
		for (i = 0; i < s->n; i++) {
			cons_status(cons_node_core(s->nodes[i].node), &st);
			if (st.state == CONS_LEADER) {
				s->sc_leader = s->nodes[i].id;
				s->sc_epoch = st.epoch;
			}
		}
		if (!s->sc_leader)
			sim_violation(s, "scenario: no leader after 1500 ms");
		/* A follower the others can do without (weights may forbid). */
		s->sc_node = -1;
		for (i = 0; i < s->n; i++) {
			uint64_t rest = ((1ull << s->n) - 1) & ~(1ull << i);

			if (s->nodes[i].id != s->sc_leader && !s->nodes[i].observer &&
			    quorum_contains(&s->q, rest))
				s->sc_node = i;
		}
		if (s->sc_node < 0) {
			s->sc_stage = 99; /* nothing to test on this membership */
			break;
		}
		for (i = 0; i < s->n; i++)
			if (i != s->sc_node)
				s->block[i][s->sc_node] = s->block[s->sc_node][i] = 1;
		sim_tracef(s, "scenario: cut n%u off (leader n%u epoch %u)",
			   s->nodes[s->sc_node].id, s->sc_leader, s->sc_epoch);
		sim_push(s, s->now + 8ull * s->election_ms, SIM_EV_SCENARIO, 0, 0);
		break;
	case 1:
		heal_network(s);
		sim_tracef(s, "scenario: n%u rejoins", s->nodes[s->sc_node].id);
		sim_push(s, s->now + 10ull * s->election_ms, SIM_EV_SCENARIO, 0, 0);
		break;
	case 99:
		break;
	default:
		cons_status(cons_node_core(s->nodes[s->sc_leader - 1].node), &st);
		if (st.state != CONS_LEADER || st.epoch != s->sc_epoch ||
		    s->max_lead_epoch != s->sc_epoch)
			sim_violation(
			    s,
			    "scenario: n%u rejoining deposed leader n%u of epoch "
			    "%u (now epoch %u)",
			    s->nodes[s->sc_node].id, s->sc_leader, s->sc_epoch,
			    s->max_lead_epoch);
		break;
	}
}

/* A paused server sees its events when it resumes, in their order. */
static int deferred(struct sim *s, struct sim_event *ev)
{
	struct sim_node *n = &s->nodes[ev->node];
	struct sim_event e = *ev;

	if (n->paused_until <= s->now ||
	    (ev->type != SIM_EV_TICK && ev->type != SIM_EV_DELIVER &&
	     ev->type != SIM_EV_DISK && ev->type != SIM_EV_READ))
		return 0;
	/* Its clients' requests are handled first: the resumed server may
	 * answer them before it notices (from its peers or its timers) that
	 * it was away, the schedule that makes ZooKeeper's sync stale. */
	e.t = n->paused_until + (ev->type != SIM_EV_READ);
	e.seq = s->seq++;
	heap_push(s, &e);
	ev->frame = NULL; /* the queue owns it again */
	s->cur_frame = NULL;
	return 1;
}

static void dispatch(struct sim *s, struct sim_event *ev)
{
	struct sim_node *n = &s->nodes[ev->node];
	size_t q0;

	if (deferred(s, ev))
		return;
	switch (ev->type) {
	case SIM_EV_TICK:
		if (!n->up || ev->gen != n->gen)
			break;
		q0 = n->store.q_n;
		cons_node_tick(n->node);
		if (!q0 && !n->store.q_n)
			sim_check_watermark(n);
		sim_check_quorum_heard(n);
		maybe_snapshot(s, n);
		sim_push(s, s->now + TICK_MS, SIM_EV_TICK, n->idx, n->gen);
		break;
	case SIM_EV_DELIVER:
		sim_net_deliver(s, ev);
		break;
	case SIM_EV_DISK:
		if (n->up && ev->gen == n->gen)
			sim_store_complete(&n->store);
		break;
	case SIM_EV_PROPOSE:
		client(s);
		break;
	case SIM_EV_FAULT:
		if (s->now >= s->fault_end)
			break;
		inject_fault(s);
		sim_push(s, s->now + range(s, 10, s->fault_gap), SIM_EV_FAULT, 0, 0);
		break;
	case SIM_EV_RESTART:
		if (n->up || ev->gen != n->gen || s->healed)
			break;
		sim_tracef(s, "restart n%u", n->id);
		node_start(s, n);
		break;
	case SIM_EV_FLAP:
		s->flap_on = !s->flap_on;
		sim_push(s, s->now + range(s, 10, 100), SIM_EV_FLAP, 0, 0);
		break;
	case SIM_EV_HEAL:
		heal_all(s);
		break;
	case SIM_EV_PROBE:
		probe(s);
		break;
	case SIM_EV_SCENARIO:
		scenario_step(s);
		break;
	case SIM_EV_RECONFIG:
		reconfig(s);
		break;
	case SIM_EV_RETRY:
		n = &s->nodes[(ev->node + 1 + (int)(sim_rand(s) % (uint64_t)(s->n - 1))) %
			      s->n];
		if (running(s, n))
			propose(s, n, ev->gen);
		else
			sim_push(s, s->now + 20, SIM_EV_RETRY, n->idx, ev->gen);
		break;
	case SIM_EV_SYNC_AT:
		read_at(s, n);
		break;
	case SIM_EV_FLUSH:
		if (n->up && ev->gen == n->gen)
			flush(n);
		break;
	case SIM_EV_READ:
		/* A server that is down drops the request with the connection. */
		if (n->up)
			cons_node_read_index(n->node, ev->gen);
		else
			s->reads[ev->gen].done = 1;
		break;
	}
}

int sim_run(const struct sim_opts *o, struct sim *s)
{
	struct sim_event ev;
	int i;

	memset(s, 0, sizeof(*s));
	s->o = *o;
	s->rng = o->seed * 0x2545f4914f6cdd1dull + 1;
	current = s;
	cons_set_invariant_hook(invariant_hook);
	if (setjmp(s->jmp))
		goto out;
	setup(s);
	s->fault_end = o->no_faults || o->scenario == 1 ? 0 : FAULT_MS;
	s->deadline = s->fault_end + LIVE_MS;
	for (i = 0; i < s->n; i++)
		node_start(s, &s->nodes[i]);
	sim_push(s, 1, SIM_EV_PROPOSE, 0, 0);
	if (o->scenario == 1) {
		sim_push(s, 1500, SIM_EV_SCENARIO, 0, 0);
		s->hold_until = 1500 + 18ull * s->election_ms + 1;
	} else if (o->scenario == 2) {
		sim_push(s, 400, SIM_EV_SCENARIO, 0, 0);
	} else if (o->scenario == 3 || o->scenario == 4) {
		sim_push(s, 1500, SIM_EV_SCENARIO, 0, 0);
	} else if (!o->no_faults) {
		sim_push(s, range(s, 20, 300), SIM_EV_FAULT, 0, 0);
		sim_push(s, 5, SIM_EV_FLAP, 0, 0);
	}
	if (s->reconfig)
		sim_push(s, 300 + rrand(s) % 1200, SIM_EV_RECONFIG, 0, 0);
	sim_push(s, s->fault_end, SIM_EV_HEAL, 0, 0);
	while (heap_pop(s, &ev)) {
		if (ev.t > s->deadline) {
			free(ev.frame);
			break;
		}
		s->now = ev.t;
		s->steps++;
		s->cur_frame = ev.frame;
		dispatch(s, &ev);
		s->cur_frame = NULL;
		free(ev.frame);
		sim_check_step(s);
		if (s->healed && s->now >= s->hold_until && sim_check_live(s)) {
			s->live_ok = 1;
			s->live_ms = s->now - s->fault_end;
			sim_tracef(s, "live: probes committed on every server");
			break;
		}
	}
	if (!s->live_ok && s->o.trace) {
		for (i = 0; i < s->n; i++) {
			struct cons_status st;

			if (!s->nodes[i].up)
				continue;
			cons_status(cons_node_core(s->nodes[i].node), &st);
			sim_tracef(s,
				   "n%u state %d epoch %u leader %u last %llx stable "
				   "%llx commit "
				   "%llx applied %llx snap %llx count %llu",
				   s->nodes[i].id, st.state, st.epoch, st.leader,
				   (unsigned long long)st.last_zxid,
				   (unsigned long long)st.stable_zxid,
				   (unsigned long long)st.commit_zxid,
				   (unsigned long long)st.applied_zxid,
				   (unsigned long long)st.snap_zxid,
				   (unsigned long long)s->nodes[i].st.count);
		}
		for (i = 0; i < SIM_PROBES; i++)
			sim_tracef(s, "probe %d at %ld", i, s->probe_pos[i]);
	}
	if (s->live_ok && s->o.scenario == 4 && s->sc_stage != 99 &&
	    s->xfer_committed != s->xfer_last - s->xfer_first + 1)
		sim_violation(s,
			      "scenario: %llu of the %llu writes issued during the "
			      "transfer committed",
			      (unsigned long long)s->xfer_committed,
			      (unsigned long long)(s->xfer_last - s->xfer_first + 1));
	if (s->live_ok && s->o.scenario == 2 &&
	    (!s->nodes[s->sc_node].snaps ||
	     s->nodes[s->sc_node].snap_bytes <= 4ull * s->snap_chunk))
		sim_violation(s,
			      "scenario: n%u caught up without a snapshot of many chunks",
			      s->nodes[s->sc_node].id);
	if (!s->live_ok)
		sim_violation(
		    s,
		    "liveness: probes not committed everywhere %d ms after faults "
		    "stopped",
		    LIVE_MS);
out:
	free(s->cur_frame);
	s->cur_frame = NULL;
	current = NULL;
	cons_set_invariant_hook(NULL);
	return s->violations;
}

void sim_free(struct sim *s)
{
	struct sim_event ev;
	int i;

	for (i = 0; i < s->n; i++) {
		cons_node_free(s->nodes[i].node);
		s->nodes[i].node = NULL;
		sim_store_free(&s->nodes[i].store);
		free(s->nodes[i].legacy_blob);
		s->nodes[i].legacy_blob = NULL;
	}
	while (heap_pop(s, &ev))
		free(ev.frame);
	free(s->heap);
	free(s->g);
	free(s->leaders);
	free(s->reads);
	s->reads = NULL;
	s->heap = NULL;
	s->g = NULL;
	s->leaders = NULL;
}
