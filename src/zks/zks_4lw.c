/*
 * zks_4lw.c - ZooKeeper's four-letter words on the client port.
 *
 * A new connection whose first four bytes spell a known word (read as the
 * int32 a frame length would be) gets that word's text answer and is closed
 * (NIOServerCnxn.checkFourLetterWord). Words not in 4lw.commands.whitelist
 * ("*" for all; ZooKeeper's default is srvr alone) are answered with
 * "<word> is not executed because it is not in the whitelist.". The text
 * follows ZooKeeper 3.8's so tools that parse it (kazoo's server_version
 * reads the envi line zookeeper.version=3.8.0-...) work unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "log.h"
#include "serverspec.h"
#include "zks_int.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif
/* The ZooKeeper version whose protocol and words we speak; clients parse
 * the leading digits. */
#define ZKS_VERSION "3.8.0-quorumfs-" PACKAGE_VERSION
#define ZKS_BUILT   ", built on " __DATE__ " " __TIME__ " UTC"

#define ZKS_WORD(a, b, c, d)                                                             \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const char *const zks_words[] = {
    "ruok", "srvr", "stat", "conf", "cons", "crst", "envi", "mntr",
    "wchs", "wchc", "wchp", "dirs", "isro", "dump", "srst",
};

static const char *zks_4lw_name(uint32_t word)
{
	for (size_t i = 0; i < sizeof(zks_words) / sizeof(zks_words[0]); i++) {
		const char *w = zks_words[i];

		if (ZKS_WORD(w[0], w[1], w[2], w[3]) == word)
			return w;
	}
	return NULL;
}

int zks_4lw_is(uint32_t word)
{
	return zks_4lw_name(word) != NULL;
}

static int zks_4lw_allowed(const struct zk_server *s, const char *word)
{
	const char *p = s->whitelist;
	size_t n;

	/* A comma- and/or space-separated list, as zoo.cfg writes it. */
	while (*p) {
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if ((n == 1 && *p == '*') || (n == 4 && strncmp(p, word, 4) == 0))
			return 1;
		p += n;
	}
	return 0;
}

static void zks_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void zks_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n + 1) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void zks_latency(struct buf *b, const struct zk_server *s)
{
	zks_printf(b, "Latency min/avg/max: %" PRId64 "/%.4f/%" PRId64 "\n",
		   s->lat_count ? s->lat_min_us / 1000 : 0,
		   s->lat_count ? (double)s->lat_sum_us / 1000.0 / (double)s->lat_count
				: 0.0,
		   s->lat_max_us / 1000);
}

unsigned zks_outstanding(const struct zk_server *s)
{
	const struct zks_conn *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &s->conns, link)
	n += c->n_queued;
	return n;
}

static void zks_conn_line(struct buf *b, const struct zks_conn *c, int full)
{
	zks_printf(b, " /%s[1](queued=%u,recved=%" PRIu64 ",sent=%" PRIu64, c->peer,
		   c->n_queued, c->received, c->sent);
	if (full && c->session_id)
		zks_printf(b,
			   ",sid=0x%" PRIx64 ",lop=%s,est=%" PRId64
			   ",to=%d,lcxid=0x%x,lzxid=0x%" PRIx64 ",lresp=%" PRId64
			   ",llat=%" PRId64 ",minlat=%" PRId64 ",avglat=%" PRId64
			   ",maxlat=%" PRId64,
			   (uint64_t)c->session_id, zks_op_name(c->last_op),
			   c->established_ms, c->timeout_ms, (unsigned)c->last_cxid,
			   (uint64_t)c->last_zxid, c->last_resp_ms, c->last_lat_us / 1000,
			   c->min_lat_us / 1000,
			   c->n_lat ? c->sum_lat_us / 1000 / (int64_t)c->n_lat : 0,
			   c->max_lat_us / 1000);
	zks_printf(b, ")\n");
}

/* The ensemble role, as ZooKeeper names it ("looking" without a leader). */
static const char *zks_mode(const struct zk_server *s)
{
	struct qcore_replica r;

	qcore_replica(s->core, &r);
	return qcore_role_name(r.role);
}

static void zks_srvr(struct buf *b, const struct zk_server *s, int with_clients)
{
	struct tree *t = qcore_tree(s->core);
	const struct zks_conn *c;

	zks_printf(b, "Zookeeper version: %s%s\n", ZKS_VERSION, ZKS_BUILT);
	if (with_clients) {
		zks_printf(b, "Clients:\n");
		TAILQ_FOREACH(c, &s->conns, link)
		zks_conn_line(b, c, 0);
		zks_printf(b, "\n");
	}
	zks_latency(b, s);
	zks_printf(b, "Received: %" PRIu64 "\nSent: %" PRIu64 "\nConnections: %u\n",
		   s->packets_received, s->packets_sent, s->n_conns);
	zks_printf(b,
		   "Outstanding: %u\nZxid: 0x%" PRIx64 "\nMode: %s\nNode count: %zu\n",
		   zks_outstanding(s), (uint64_t)tree_last_zxid(t), zks_mode(s),
		   tree_node_count(t));
}

static void zks_conf(struct buf *b, const struct zk_server *s)
{
	const struct qfs_config *cfg = s->cfg;

	zks_printf(b, "clientPort=%d\n", s->port);
	if (!cfg)
		return;
	if (cfg->client_port_address)
		zks_printf(b, "clientPortAddress=%s\n", cfg->client_port_address);
	if (cfg->data_dir)
		zks_printf(b, "dataDir=%s\n", cfg->data_dir);
	zks_printf(b, "dataLogDir=%s\n",
		   cfg->data_log_dir ? cfg->data_log_dir
		   : cfg->data_dir   ? cfg->data_dir
				     : "");
	zks_printf(b, "tickTime=%d\nmaxClientCnxns=%d\n", cfg->tick_ms,
		   cfg->max_client_cnxns);
	zks_printf(b, "minSessionTimeout=%d\nmaxSessionTimeout=%d\n",
		   cfg->min_session_timeout_ms, cfg->max_session_timeout_ms);
	zks_printf(b, "clientPortListenBacklog=128\nserverId=%" PRId64 "\n", cfg->myid);
	if (cfg->n_servers) {
		zks_printf(b, "initLimit=%d\nsyncLimit=%d\n", cfg->init_limit,
			   cfg->sync_limit);
		for (size_t i = 0; i < cfg->n_servers; i++) {
			const struct qfs_server_cfg *sv = &cfg->servers[i];
			char h[SERVERSPEC_HOST_MAX + 2], ch[SERVERSPEC_HOST_MAX + 2];

			zks_printf(b, "server.%" PRId64 "=%s:%d:%d:%s", sv->id,
				   serverspec_host(sv->host, h, sizeof(h)), sv->peer_port,
				   sv->election_port,
				   sv->observer ? "observer" : "participant");
			/* As ZooKeeper's QuorumServer writes it: the client
			 * part only where the line has one, its host the
			 * wildcard when only the port was given. */
			if (sv->client_port > 0)
				zks_printf(b, ";%s:%d",
					   serverspec_host(sv->client_host ? sv->client_host
									   : "0.0.0.0",
							   ch, sizeof(ch)),
					   sv->client_port);
			zks_printf(b, "\n");
		}
	}
	/* The rest as given, for quorumfs's own keys; a secret (mountAuth,
	 * superDigest, saslUsers, ...) shows only that it is set. */
	for (size_t i = 0; i < cfg->n_kv; i++)
		if (strchr(cfg->kv[i].key, '.') == NULL &&
		    strcmp(cfg->kv[i].key, "dataDir") &&
		    strcmp(cfg->kv[i].key, "clientPort") &&
		    strcmp(cfg->kv[i].key, "tickTime"))
			zks_printf(b, "%s=%s\n", cfg->kv[i].key,
				   config_key_is_secret(cfg->kv[i].key)
				       ? "(hidden)"
				       : cfg->kv[i].value);
}

static void zks_envi(struct buf *b, const struct zk_server *s)
{
	struct utsname u;
	char host[256] = "", cwd[PATH_MAX] = "";
	struct passwd *pw = getpwuid(getuid());

	gethostname(host, sizeof(host) - 1);
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	zks_printf(b, "Environment:\n");
	zks_printf(b, "zookeeper.version=%s%s\n", ZKS_VERSION, ZKS_BUILT);
	zks_printf(b, "host.name=%s\n", host);
	zks_printf(b, "java.version=none (quorumfs is written in C)\n");
	if (uname(&u) == 0)
		zks_printf(b, "os.name=%s\nos.arch=%s\nos.version=%s\n", u.sysname,
			   u.machine, u.release);
	zks_printf(b, "user.name=%s\nuser.home=%s\nuser.dir=%s\n", pw ? pw->pw_name : "?",
		   pw ? pw->pw_dir : "?", cwd);
}

const char zks_version[] = ZKS_VERSION;

static unsigned zks_open_fds(void)
{
	unsigned nfd = 0;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return 0;
	while (readdir(d))
		nfd++;
	closedir(d);
	return nfd > 2 ? nfd - 3 : 0; /* ".", "..", the DIR itself */
}

size_t zks_figures(const struct zk_server *s, struct zks_fig *out)
{
	struct tree *t = qcore_tree(s->core);
	struct qcore_stats st;
	struct qcore_replica rep;
	struct rlimit rl;
	size_t n = 0;

#define FIG(nm, k, val)                                                                  \
	do {                                                                             \
		out[n].name = (nm);                                                      \
		out[n].kind = (k);                                                       \
		out[n].v = (int64_t)(val);                                               \
		out[n].ms = 0;                                                           \
		out[n].lat = NULL;                                                       \
		n++;                                                                     \
	} while (0)
	qcore_stats(s->core, &st);
	qcore_replica(s->core, &rep);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		rl.rlim_cur = 0;
	FIG("avg_latency", ZKS_FIG_AVG_MS, 0);
	out[n - 1].ms = s->lat_count ? (double)s->lat_sum_us / 1000.0 / (double)s->lat_count
				     : 0.0;
	FIG("max_latency", ZKS_FIG_MS, s->lat_max_us);
	FIG("min_latency", ZKS_FIG_MS, s->lat_count ? s->lat_min_us : 0);
	FIG("readlatency", ZKS_FIG_SUMMARY, 0);
	out[n - 1].lat = &s->read_lat;
	FIG("updatelatency", ZKS_FIG_SUMMARY, 0);
	out[n - 1].lat = &s->update_lat;
	FIG("packets_received", ZKS_FIG_COUNTER, s->packets_received);
	FIG("packets_sent", ZKS_FIG_COUNTER, s->packets_sent);
	FIG("num_alive_connections", ZKS_FIG_GAUGE, s->n_conns);
	FIG("outstanding_requests", ZKS_FIG_GAUGE, zks_outstanding(s));
	FIG("znode_count", ZKS_FIG_GAUGE, tree_node_count(t));
	FIG("watch_count", ZKS_FIG_GAUGE, zks_watch_total(s->watches));
	FIG("last_zxid", ZKS_FIG_ZXID, tree_last_zxid(t));
	FIG("txns_applied", ZKS_FIG_COUNTER, st.txns);
	FIG("apply_failures", ZKS_FIG_COUNTER, st.apply_failed);
	FIG("last_apply_failure_zxid", ZKS_FIG_ZXID, st.apply_failed_zxid);
	FIG("fsyncs", ZKS_FIG_COUNTER, st.fsyncs);
	FIG("core_outstanding", ZKS_FIG_GAUGE, st.outstanding);
	FIG("max_commit_latency_us", ZKS_FIG_GAUGE, st.max_commit_us);
	if (rep.role == QCORE_LEADER) {
		/* ZooKeeper 3.4's name, then 3.5's and its split by kind */
		FIG("followers", ZKS_FIG_GAUGE, rep.n_followers);
		FIG("learners", ZKS_FIG_GAUGE, rep.n_followers);
		FIG("synced_followers", ZKS_FIG_GAUGE, rep.n_synced);
		FIG("synced_non_voting_followers", ZKS_FIG_GAUGE, 0);
		FIG("synced_observers", ZKS_FIG_GAUGE, rep.n_synced_observers);
		FIG("pending_syncs", ZKS_FIG_GAUGE, rep.pending_syncs);
	}
	/* ZooKeeper's: the voting members (observers do not count) */
	FIG("quorum_size", ZKS_FIG_GAUGE, rep.n_voters);
	FIG("epoch", ZKS_FIG_GAUGE, rep.epoch);
	FIG("leader_id", ZKS_FIG_GAUGE, rep.leader);
	FIG("commit_zxid", ZKS_FIG_ZXID, rep.commit_zxid);
	FIG("open_file_descriptor_count", ZKS_FIG_GAUGE, zks_open_fds());
	FIG("max_file_descriptor_count", ZKS_FIG_GAUGE, rl.rlim_cur);
#undef FIG
	if (n > ZKS_FIGS_MAX)
		fatalx("zks_figures: %zu figures, room for %d", n, ZKS_FIGS_MAX);
	return n;
}

/*
 * A summary as ZooKeeper's default metrics provider shows one in mntr
 * (zk_avg_NAME ... zk_p999_NAME), in milliseconds; the percentiles are
 * over the last ten minutes (zks_latency.c).
 */
static void zks_mntr_summary(struct buf *b, const char *name, const struct zks_lat *l)
{
	static const double q[] = {0.5, 0.95, 0.99, 0.999};
	static const char *const qn[] = {"p50", "p95", "p99", "p999"};
	int64_t v[4];

	zks_lat_quantiles(l, zks_now_ms(), q, 4, v);
	zks_printf(b, "zk_avg_%s\t%.4f\n", name,
		   l->count ? (double)l->sum_us / 1000.0 / (double)l->count : 0.0);
	zks_printf(b, "zk_min_%s\t%" PRId64 "\n", name, l->min_us < 0 ? 0 : l->min_us / 1000);
	zks_printf(b, "zk_max_%s\t%" PRId64 "\n", name, l->max_us / 1000);
	zks_printf(b, "zk_cnt_%s\t%" PRIu64 "\n", name, l->count);
	zks_printf(b, "zk_sum_%s\t%" PRIu64 "\n", name, l->sum_us / 1000);
	for (int i = 0; i < 4; i++)
		zks_printf(b, "zk_%s_%s\t%" PRId64 "\n", qn[i], name, v[i] / 1000);
}

static void zks_mntr(struct buf *b, const struct zk_server *s)
{
	struct zks_fig f[ZKS_FIGS_MAX];
	size_t n = zks_figures(s, f);

	zks_printf(b, "zk_version\t%s%s\n", ZKS_VERSION, ZKS_BUILT);
	zks_printf(b, "zk_server_state\t%s\n", zks_mode(s));
	for (size_t i = 0; i < n; i++)
		switch (f[i].kind) {
		case ZKS_FIG_GAUGE:
		case ZKS_FIG_COUNTER:
			zks_printf(b, "zk_%s\t%" PRId64 "\n", f[i].name, f[i].v);
			break;
		case ZKS_FIG_ZXID:
			zks_printf(b, "zk_%s\t0x%" PRIx64 "\n", f[i].name, (uint64_t)f[i].v);
			break;
		case ZKS_FIG_MS:
			zks_printf(b, "zk_%s\t%" PRId64 "\n", f[i].name, f[i].v / 1000);
			break;
		case ZKS_FIG_AVG_MS:
			zks_printf(b, "zk_%s\t%.4f\n", f[i].name, f[i].ms);
			break;
		case ZKS_FIG_SUMMARY:
			zks_mntr_summary(b, f[i].name, f[i].lat);
			break;
		}
}

/* a[0] the buffer, a[1] the connection listed, a[2] non-NULL once its
 * session id is printed (only sessions with a data watch are listed) */
static void zks_wchc_one(void *arg, const char *path, struct zks_conn *c, unsigned kinds)
{
	void **a = arg;

	if (c != a[1] || !zks_watch_is_data(kinds))
		return;
	if (!a[2])
		zks_printf(a[0], "0x%" PRIx64 "\n", (uint64_t)c->session_id);
	a[2] = c;
	zks_printf(a[0], "\t%s\n", path);
}

static void zks_wchp_one(void *arg, const char *path, struct zks_conn *c, unsigned kinds)
{
	void **a = arg;

	if (!zks_watch_is_data(kinds))
		return;
	/* foreach yields a path's watchers back to back */
	if (a[1] != (void *)path)
		zks_printf(a[0], "%s\n", path);
	a[1] = (void *)path;
	zks_printf(a[0], "\t0x%" PRIx64 "\n", (uint64_t)c->session_id);
}

uint64_t zks_dir_size(const char *dir, int depth)
{
	uint64_t total = 0;
	struct dirent *e;
	DIR *d;

	if (!dir || depth > 2)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char p[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			total += zks_dir_size(p, depth + 1);
		else if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

struct zks_dump_ctx {
	struct buf *b;
	struct tree *t;
};

static int zks_dump_session(void *arg, const struct tree_session *ts)
{
	struct zks_dump_ctx *d = arg;

	zks_printf(d->b, "0x%" PRIx64 "\t%dms\t%s\n", (uint64_t)ts->id, ts->timeout_ms,
		   ts->owner ? ts->owner : "");
	return 0;
}

static int zks_dump_ephemerals(void *arg, const struct tree_session *ts)
{
	struct zks_dump_ctx *d = arg;
	char **paths = NULL;
	size_t n = 0;

	if (tree_session_ephemerals(d->t, ts->id, &paths, &n) < 0 || n == 0) {
		tree_names_free(paths);
		return 0;
	}
	zks_printf(d->b, "0x%" PRIx64 ":\n", (uint64_t)ts->id);
	for (size_t i = 0; i < n; i++)
		zks_printf(d->b, "\t%s\n", paths[i]);
	tree_names_free(paths);
	return 0;
}

void zks_reset_conn_stats(struct zk_server *s)
{
	struct zks_conn *c;

	TAILQ_FOREACH(c, &s->conns, link)
	{
		c->received = c->sent = 0;
		c->min_lat_us = c->max_lat_us = c->sum_lat_us = 0;
		c->n_lat = 0;
		c->last_lat_us = 0;
	}
}

void zks_reset_server_stats(struct zk_server *s)
{
	s->packets_received = s->packets_sent = 0;
	s->lat_min_us = -1;
	s->lat_max_us = s->lat_sum_us = 0;
	s->lat_count = 0;
	zks_lat_reset(&s->read_lat, zks_now_ms());
	zks_lat_reset(&s->update_lat, zks_now_ms());
}

static void zks_4lw_answer(struct zk_server *s, struct zks_conn *self, const char *w,
			   struct buf *b)
{
	struct zks_conn *c;

	if (!strcmp(w, "ruok")) {
		zks_printf(b, "imok");
	} else if (!strcmp(w, "srvr")) {
		zks_srvr(b, s, 0);
	} else if (!strcmp(w, "stat")) {
		zks_srvr(b, s, 1);
	} else if (!strcmp(w, "conf")) {
		zks_conf(b, s);
	} else if (!strcmp(w, "cons")) {
		TAILQ_FOREACH(c, &s->conns, link)
		zks_conn_line(b, c, 1);
		zks_printf(b, "\n");
	} else if (!strcmp(w, "crst")) {
		zks_reset_conn_stats(s);
		zks_printf(b, "Connection stats reset.\n");
	} else if (!strcmp(w, "srst")) {
		zks_reset_server_stats(s);
		zks_printf(b, "Server stats reset.\n");
	} else if (!strcmp(w, "envi")) {
		zks_envi(b, s);
	} else if (!strcmp(w, "mntr")) {
		zks_mntr(b, s);
	} else if (!strcmp(w, "wchs")) {
		size_t conns, paths, total;

		if (zks_watch_data_summary(s->watches, &conns, &paths, &total) < 0)
			zks_printf(b, "Out of memory\n");
		else
			zks_printf(b, "%zu connections watching %zu paths\nTotal watches:%zu\n",
				   conns, paths, total);
	} else if (!strcmp(w, "wchc")) {
		TAILQ_FOREACH(c, &s->conns, link)
		{
			void *a[3] = {b, c, NULL};

			if (c->n_watches)
				zks_watch_foreach(s->watches, zks_wchc_one, a);
		}
	} else if (!strcmp(w, "wchp")) {
		void *a[2] = {b, NULL};

		zks_watch_foreach(s->watches, zks_wchp_one, a);
	} else if (!strcmp(w, "dirs")) {
		const char *dd = s->cfg ? s->cfg->data_dir : NULL;
		const char *ld =
		    s->cfg && s->cfg->data_log_dir ? s->cfg->data_log_dir : NULL;

		/* quorumfs keeps log and snapshots together unless dataLogDir
		 * says otherwise. */
		zks_printf(b, "datadir_size: %" PRIu64 "\nlogdir_size: %" PRIu64 "\n",
			   zks_dir_size(dd, 0), ld ? zks_dir_size(ld, 0) : 0);
	} else if (!strcmp(w, "isro")) {
		/* "ro" while new sessions can only be read-only (the last
		 * createSession failed), as a read-only ZooKeeper server. */
		zks_printf(b, "%s", s->degraded ? "ro" : "rw");
	} else if (!strcmp(w, "dump")) {
		struct zks_dump_ctx d = {b, qcore_tree(s->core)};

		zks_printf(b, "SessionTracker dump:\nGlobal Sessions:\n");
		tree_session_foreach(d.t, zks_dump_session, &d);
		zks_printf(b, "ephemeral nodes dump:\n");
		tree_session_foreach(d.t, zks_dump_ephemerals, &d);
		zks_printf(b, "Connections dump:\n");
		TAILQ_FOREACH(c, &s->conns, link)
		if (c != self && c->session_id)
			zks_printf(b, "%s\t0x%" PRIx64 "\n", c->peer,
				   (uint64_t)c->session_id);
	}
}

void zks_4lw_run(struct zks_conn *c, uint32_t word)
{
	struct zk_server *s = c->srv;
	const char *w = zks_4lw_name(word);
	struct buf b;

	buf_init(&b);
	log_debug("zk: four-letter word %s from %s", w, c->peer);
	if (!zks_4lw_allowed(s, w))
		zks_printf(&b, "%s is not executed because it is not in the whitelist.\n",
			   w);
	else
		zks_4lw_answer(s, c, w, &b);
	if (buf_failed(&b) || zks_conn_write_frame(c, b.data, b.len) < 0) {
		buf_free(&b);
		zks_conn_close(c, "out of memory answering a four-letter word");
		return;
	}
	buf_free(&b);
	/* The answer is raw text, not a frame: the connection ends with it. */
	c->state = ZKS_CONN_OPEN;
	zks_conn_drain(c);
}
