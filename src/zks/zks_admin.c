/*
 * zks_admin.c - ZooKeeper's AdminServer: GET <admin.commandURL>/NAME on
 * admin.serverAddress:admin.serverPort answers command NAME (or its
 * four-letter alias) as one JSON object, with the field names ZooKeeper
 * 3.8's Jetty server gives, so that a liveness probe on /commands/ruok or a
 * dashboard reading /commands/monitor works unchanged. GET on the command
 * URL itself lists the commands as links, as ZooKeeper's does.
 *
 * Every answer ends with "command" (the command's full name) and "error":
 * null, or the reason the command could not run (an unknown name, a
 * standalone server asked for its leader); like ZooKeeper, such answers
 * are still HTTP 200. Only the commands below are served; ZooKeeper's
 * others (hash, system_properties and the trace masks) answer as unknown.
 *
 * libevent's evhttp serves it on the daemon's loop, with the limits of the
 * metrics endpoint: GET and HEAD only, headers bounded, bodies refused, a
 * slow client dropped.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "config.h"
#include "core.h"
#include "jsonstr.h"
#include "log.h"
#include "tree.h"
#include "zks_int.h"

#define ADMIN_TIMEOUT_S	  10
#define ADMIN_MAX_HEADERS 8192
#define JW_DEPTH	  8

/* A JSON writer: containers nest up to JW_DEPTH; commas come by themselves. */
struct jw {
	struct evbuffer *o;
	int depth;
	unsigned char first[JW_DEPTH + 1];
};

static void jw_sep(struct jw *w)
{
	if (!w->first[w->depth])
		evbuffer_add(w->o, ",", 1);
	w->first[w->depth] = 0;
}

static void jw_quoted(struct jw *w, const char *s)
{
	size_t cap = strlen(s) * 6 + 1; /* \u00XX: six bytes for one */
	char stackbuf[256], *buf = cap <= sizeof(stackbuf) ? stackbuf : malloc(cap);

	if (!buf) {
		evbuffer_add(w->o, "\"\"", 2);
		return;
	}
	json_escape(buf, cap, s);
	evbuffer_add_printf(w->o, "\"%s\"", buf);
	if (buf != stackbuf)
		free(buf);
}

static void jw_key(struct jw *w, const char *k)
{
	jw_sep(w);
	if (k) {
		jw_quoted(w, k);
		evbuffer_add(w->o, ":", 1);
	}
}

/* k: the member's name, or NULL for an element of an array (or the top). */
static void jw_open(struct jw *w, const char *k, char c)
{
	if (w->depth >= JW_DEPTH)
		fatalx("zks_admin: JSON nested deeper than %d", JW_DEPTH);
	jw_key(w, k);
	evbuffer_add(w->o, &c, 1);
	w->first[++w->depth] = 1;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	evbuffer_add(w->o, &c, 1);
}

static void jw_str(struct jw *w, const char *k, const char *v)
{
	jw_key(w, k);
	if (v)
		jw_quoted(w, v);
	else
		evbuffer_add(w->o, "null", 4);
}

static void jw_i64(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	evbuffer_add_printf(w->o, "%" PRId64, v);
}

static void jw_dbl(struct jw *w, const char *k, double v)
{
	jw_key(w, k);
	evbuffer_add_printf(w->o, "%.4f", v);
}

static void jw_bool(struct jw *w, const char *k, int v)
{
	jw_key(w, k);
	evbuffer_add_printf(w->o, "%s", v ? "true" : "false");
}

/* ---- the commands ---- */

/* A command writes its fields; a non-NULL return is its "error". */
typedef const char *(*admin_fn)(struct zk_server *s, struct jw *w);

static const char *role_name(const struct zk_server *s)
{
	struct qcore_replica r;

	qcore_replica(s->core, &r);
	return qcore_role_name(r.role);
}

static const char *cmd_ruok(struct zk_server *s, struct jw *w)
{
	(void)s;
	(void)w;
	return NULL;
}

/* mntr's figures, under mntr's names without "zk_"; numbers as numbers. */
static const char *cmd_monitor(struct zk_server *s, struct jw *w)
{
	static const double q[] = {0.5, 0.95, 0.99, 0.999};
	static const char *const qn[] = {"p50", "p95", "p99", "p999"};
	struct zks_fig f[ZKS_FIGS_MAX];
	size_t n = zks_figures(s, f);
	char name[96];

	jw_str(w, "version", zks_version);
	jw_str(w, "server_state", role_name(s));
	for (size_t i = 0; i < n; i++) {
		const struct zks_lat *l = f[i].lat;
		int64_t v[4];

		switch (f[i].kind) {
		case ZKS_FIG_GAUGE:
		case ZKS_FIG_COUNTER:
		case ZKS_FIG_ZXID:
			jw_i64(w, f[i].name, f[i].v);
			break;
		case ZKS_FIG_MS:
			jw_i64(w, f[i].name, f[i].v / 1000);
			break;
		case ZKS_FIG_AVG_MS:
			jw_dbl(w, f[i].name, f[i].ms);
			break;
		case ZKS_FIG_SUMMARY:
			zks_lat_quantiles(l, zks_now_ms(), q, 4, v);
			snprintf(name, sizeof(name), "avg_%s", f[i].name);
			jw_dbl(w, name,
			       l->count ? (double)l->sum_us / 1000.0 / (double)l->count
					: 0.0);
			snprintf(name, sizeof(name), "min_%s", f[i].name);
			jw_i64(w, name, l->min_us < 0 ? 0 : l->min_us / 1000);
			snprintf(name, sizeof(name), "max_%s", f[i].name);
			jw_i64(w, name, l->max_us / 1000);
			snprintf(name, sizeof(name), "cnt_%s", f[i].name);
			jw_i64(w, name, (int64_t)l->count);
			snprintf(name, sizeof(name), "sum_%s", f[i].name);
			jw_i64(w, name, (int64_t)(l->sum_us / 1000));
			for (int k = 0; k < 4; k++) {
				snprintf(name, sizeof(name), "%s_%s", qn[k], f[i].name);
				jw_i64(w, name, v[k] / 1000);
			}
			break;
		}
	}
	return NULL;
}

static const char *cmd_is_read_only(struct zk_server *s, struct jw *w)
{
	jw_bool(w, "read_only", s->degraded);
	return NULL;
}

static void server_stats(struct zk_server *s, struct jw *w)
{
	struct tree *t = qcore_tree(s->core);
	const char *dd = s->cfg ? s->cfg->data_dir : NULL;
	const char *ld = s->cfg && s->cfg->data_log_dir ? s->cfg->data_log_dir : dd;

	jw_str(w, "version", zks_version);
	jw_bool(w, "read_only", s->degraded);
	jw_open(w, "server_stats", '{');
	jw_i64(w, "packets_sent", (int64_t)s->packets_sent);
	jw_i64(w, "packets_received", (int64_t)s->packets_received);
	jw_i64(w, "data_dir_size", (int64_t)zks_dir_size(dd, 0));
	jw_i64(w, "log_dir_size", (int64_t)zks_dir_size(ld, 0));
	jw_str(w, "server_state", role_name(s));
	jw_i64(w, "last_processed_zxid", (int64_t)tree_last_zxid(t));
	jw_i64(w, "outstanding_requests", zks_outstanding(s));
	jw_dbl(w, "avg_latency",
	       s->lat_count ? (double)s->lat_sum_us / 1000.0 / (double)s->lat_count
			    : 0.0);
	jw_i64(w, "max_latency", s->lat_max_us / 1000);
	jw_i64(w, "min_latency", s->lat_count ? s->lat_min_us / 1000 : 0);
	jw_i64(w, "num_alive_client_connections", s->n_conns);
	jw_i64(w, "uptime", zks_now_ms() - s->started_ms);
	jw_close(w, '}');
	jw_i64(w, "node_count", (int64_t)tree_node_count(t));
}

/* Numbers as ZooKeeper gives them: ids and zxids in decimal, established
 * in epoch milliseconds. */
static void connections(struct zk_server *s, struct jw *w)
{
	const struct zks_conn *c;

	jw_open(w, "connections", '[');
	TAILQ_FOREACH(c, &s->conns, link)
	{
		if (c->dead)
			continue;
		jw_open(w, NULL, '{');
		jw_str(w, "remote_socket_address", c->peer);
		jw_i64(w, "interest_ops", c->reading ? 1 : 0); /* OP_READ */
		jw_i64(w, "outstanding_requests", c->n_queued);
		jw_i64(w, "packets_received", (int64_t)c->received);
		jw_i64(w, "packets_sent", (int64_t)c->sent);
		if (c->session_id) {
			jw_i64(w, "session_id", c->session_id);
			jw_str(w, "last_operation", zks_op_name(c->last_op));
			jw_i64(w, "established", c->established_ms);
			jw_i64(w, "session_timeout", c->timeout_ms);
			jw_i64(w, "last_cxid", c->last_cxid);
			jw_i64(w, "last_zxid", c->last_zxid);
			jw_i64(w, "last_response_time", c->last_resp_ms);
			jw_i64(w, "last_latency", c->last_lat_us / 1000);
			jw_i64(w, "min_latency", c->min_lat_us / 1000);
			jw_i64(w, "avg_latency",
			       c->n_lat ? c->sum_lat_us / 1000 / (int64_t)c->n_lat : 0);
			jw_i64(w, "max_latency", c->max_lat_us / 1000);
		}
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_open(w, "secure_connections", '[');
	jw_close(w, ']');
}

static const char *cmd_server_stats(struct zk_server *s, struct jw *w)
{
	server_stats(s, w);
	return NULL;
}

static const char *cmd_stats(struct zk_server *s, struct jw *w)
{
	server_stats(s, w);
	connections(s, w);
	return NULL;
}

static const char *cmd_connections(struct zk_server *s, struct jw *w)
{
	connections(s, w);
	return NULL;
}

static const char *cmd_configuration(struct zk_server *s, struct jw *w)
{
	const struct qfs_config *cfg = s->cfg;

	jw_i64(w, "client_port", s->port);
	if (!cfg)
		return NULL;
	jw_str(w, "data_dir", cfg->data_dir);
	jw_str(w, "data_log_dir", cfg->data_log_dir ? cfg->data_log_dir : cfg->data_dir);
	jw_i64(w, "tick_time", cfg->tick_ms);
	jw_i64(w, "max_client_cnxns", cfg->max_client_cnxns);
	jw_i64(w, "min_session_timeout", cfg->min_session_timeout_ms);
	jw_i64(w, "max_session_timeout", cfg->max_session_timeout_ms);
	jw_i64(w, "server_id", cfg->myid);
	jw_i64(w, "client_port_listen_backlog", 128);
	if (cfg->n_servers) {
		jw_i64(w, "init_limit", cfg->init_limit);
		jw_i64(w, "sync_limit", cfg->sync_limit);
	}
	return NULL;
}

static const char *cmd_environment(struct zk_server *s, struct jw *w)
{
	struct utsname u;
	char host[256] = "", cwd[PATH_MAX] = "";
	struct passwd *pw = getpwuid(getuid());

	(void)s;
	gethostname(host, sizeof(host) - 1);
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	jw_str(w, "zookeeper.version", zks_version);
	jw_str(w, "host.name", host);
	jw_str(w, "java.version", "none (quorumfs is written in C)");
	if (uname(&u) == 0) {
		jw_str(w, "os.name", u.sysname);
		jw_str(w, "os.arch", u.machine);
		jw_str(w, "os.version", u.release);
	}
	jw_str(w, "user.name", pw ? pw->pw_name : "?");
	jw_str(w, "user.home", pw ? pw->pw_dir : "?");
	jw_str(w, "user.dir", cwd);
	return NULL;
}

/* watch_summary, watches, watches_by_path: data watches only, as
 * ZooKeeper's (zks_watch_is_data). */
static const char *cmd_watch_summary(struct zk_server *s, struct jw *w)
{
	size_t conns, paths, total;

	if (zks_watch_data_summary(s->watches, &conns, &paths, &total) < 0)
		return "out of memory";
	jw_i64(w, "num_connections", (int64_t)conns);
	jw_i64(w, "num_paths", (int64_t)paths);
	jw_i64(w, "num_total_watches", (int64_t)total);
	return NULL;
}

/* watches: each session's watched paths, keyed by the session id in decimal
 * (ZooKeeper's JSON turns its Long keys into decimal strings). */
struct watch_walk {
	struct jw *w;
	const struct zks_conn *conn; /* watches: the session being listed */
	const char *path;	     /* watches: the session's first path listed;
				      * watches_by_path: the path being listed */
	char sid[24];
};

static void watched_path(void *arg, const char *path, struct zks_conn *c, unsigned kinds)
{
	struct watch_walk *ww = arg;

	if (c != ww->conn || !zks_watch_is_data(kinds))
		return;
	if (!ww->path) {
		/* the session's first: its key */
		snprintf(ww->sid, sizeof(ww->sid), "%" PRId64, c->session_id);
		jw_open(ww->w, ww->sid, '[');
		ww->path = path;
	}
	jw_str(ww->w, NULL, path);
}

static const char *cmd_watches(struct zk_server *s, struct jw *w)
{
	struct watch_walk ww = {.w = w};
	const struct zks_conn *c;

	jw_open(w, "session_id_to_watched_paths", '{');
	TAILQ_FOREACH(c, &s->conns, link)
	{
		if (c->dead || !c->n_watches)
			continue;
		ww.conn = c;
		ww.path = NULL;
		zks_watch_foreach(s->watches, watched_path, &ww);
		if (ww.path)
			jw_close(w, ']');
	}
	jw_close(w, '}');
	return NULL;
}

/* zks_watch_foreach gives a path's watchers back to back. */
static void path_watcher(void *arg, const char *path, struct zks_conn *c, unsigned kinds)
{
	struct watch_walk *ww = arg;

	if (!zks_watch_is_data(kinds))
		return;
	if (ww->path != path) {
		if (ww->path)
			jw_close(ww->w, ']');
		jw_open(ww->w, path, '[');
		ww->path = path;
	}
	jw_i64(ww->w, NULL, c->session_id);
}

static const char *cmd_watches_by_path(struct zk_server *s, struct jw *w)
{
	struct watch_walk ww = {.w = w};

	jw_open(w, "path_to_session_ids", '{');
	zks_watch_foreach(s->watches, path_watcher, &ww);
	if (ww.path)
		jw_close(w, ']');
	jw_close(w, '}');
	return NULL;
}

static const char *cmd_dirs(struct zk_server *s, struct jw *w)
{
	const char *dd = s->cfg ? s->cfg->data_dir : NULL;
	const char *ld = s->cfg && s->cfg->data_log_dir ? s->cfg->data_log_dir : NULL;

	jw_i64(w, "datadir_size", (int64_t)zks_dir_size(dd, 0));
	jw_i64(w, "logdir_size", (int64_t)(ld ? zks_dir_size(ld, 0) : 0));
	return NULL;
}

/*
 * The configuration in force, as the leader last wrote it to
 * /zookeeper/config ("server.N=spec" lines and "version=..."): calls fn
 * for each server line. Empty for a standalone server.
 */
static void each_server(struct zk_server *s,
			void (*fn)(struct jw *, int64_t, const char *), struct jw *w)
{
	const struct znode *n = tree_lookup(qcore_tree(s->core), "/zookeeper/config");
	const char *p, *end;

	if (!n || !n->data)
		return;
	p = n->data;
	end = p + n->stat.data_length;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		char line[512];
		char *eq;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = 0;
			eq = strchr(line, '=');
			if (!strncmp(line, "server.", 7) && eq) {
				*eq = 0;
				fn(w, strtoll(line + 7, NULL, 10), eq + 1);
			}
		}
		p += len + 1;
	}
}

static void voter(struct jw *w, int64_t id, const char *spec)
{
	char k[24];

	if (strstr(spec, ":observer"))
		return;
	snprintf(k, sizeof(k), "%" PRId64, id);
	jw_str(w, k, spec);
}

static const char *cmd_voting_view(struct zk_server *s, struct jw *w)
{
	jw_open(w, "current_config", '{');
	each_server(s, voter, w);
	jw_close(w, '}');
	return NULL;
}

static const char *cmd_leader(struct zk_server *s, struct jw *w)
{
	struct qcore_replica r;
	const struct qfs_server_cfg *sv = NULL;

	if (!s->cfg || !s->cfg->n_servers)
		return "server is not initialized"; /* ZooKeeper's, standalone */
	qcore_replica(s->core, &r);
	for (size_t i = 0; r.leader && i < s->cfg->n_servers; i++)
		if (s->cfg->servers[i].id == r.leader)
			sv = &s->cfg->servers[i];
	jw_bool(w, "is_leader", r.role == QCORE_LEADER);
	jw_i64(w, "leader_id", r.leader ? r.leader : -1);
	jw_str(w, "leader_ip", sv ? sv->host : NULL);
	return NULL;
}

static const char *cmd_zabstate(struct zk_server *s, struct jw *w)
{
	struct qcore_replica r;
	int clustered = s->cfg && s->cfg->n_servers;
	const char *state = "";

	qcore_replica(s->core, &r);
	if (clustered)
		state = r.role == QCORE_LOOKING ? "election"
			: r.role == QCORE_LEADER || r.role == QCORE_FOLLOWER ||
				r.role == QCORE_OBSERVER
			    ? "broadcast"
			    : "";
	jw_bool(w, "voting",
		clustered && r.role != QCORE_OBSERVER && r.role != QCORE_REMOVED);
	jw_str(w, "zabstate", state);
	return NULL;
}

static const char *cmd_stat_reset(struct zk_server *s, struct jw *w)
{
	(void)w;
	zks_reset_server_stats(s);
	return NULL;
}

static const char *cmd_connection_stat_reset(struct zk_server *s, struct jw *w)
{
	(void)w;
	zks_reset_conn_stats(s);
	return NULL;
}

/*
 * observers: on the leader, each observer connected to it, with the
 * fields of ZooKeeper's learner handlers (last_zxid: what the observer
 * has durable and matching); elsewhere none, as on a ZooKeeper follower
 * that is no observer master. queued_packets counts the messages added to
 * the connection's output since it was last empty: those still queued, or
 * more when a write took part of one.
 */
static const char *cmd_observers(struct zk_server *s, struct jw *w)
{
	struct qcore_learner l[QCORE_MAX_MEMBERS];
	size_t n = qcore_learners(s->core, l, QCORE_MAX_MEMBERS), k = 0;

	for (size_t i = 0; i < n; i++)
		k += l[i].observer != 0;
	jw_i64(w, "synced_observers", (int64_t)k);
	jw_open(w, "observers", '[');
	for (size_t i = 0; i < n; i++) {
		if (!l[i].observer)
			continue;
		jw_open(w, NULL, '{');
		jw_str(w, "remote_socket_address", l[i].addr);
		jw_i64(w, "sid", l[i].id);
		jw_i64(w, "established", l[i].opened_ms);
		jw_i64(w, "queued_packets", (int64_t)l[i].queued);
		jw_i64(w, "queued_packets_size", (int64_t)l[i].queued_bytes);
		jw_i64(w, "packets_received", (int64_t)l[i].received);
		jw_i64(w, "packets_sent", (int64_t)l[i].sent);
		jw_i64(w, "requests", (int64_t)l[i].requests);
		jw_i64(w, "last_zxid", (int64_t)l[i].last_zxid);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	return NULL;
}

static const char *cmd_observer_connection_stat_reset(struct zk_server *s, struct jw *w)
{
	(void)w;
	qcore_learners_reset(s->core, 1);
	return NULL;
}

/* dump: when each session expires, by the leader's clock (keyed by the
 * time, as ZooKeeper's; empty on other members, as on ZooKeeper's
 * learners), and each session's ephemeral nodes. */
struct expiry {
	int64_t at, id;
};

struct expiries {
	struct expiry *e;
	size_t n, cap;
	int failed;
};

static void add_expiry(void *arg, int64_t id, int64_t at)
{
	struct expiries *x = arg;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct expiry *e = realloc(x->e, cap * sizeof(*e));

		if (!e) {
			x->failed = 1;
			return;
		}
		x->e = e;
		x->cap = cap;
	}
	x->e[x->n++] = (struct expiry){at, id};
}

static int by_expiry(const void *a, const void *b)
{
	const struct expiry *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

struct ephemerals_walk {
	struct jw *w;
	struct tree *t;
	int failed;
};

static int session_ephemerals(void *arg, const struct tree_session *ts)
{
	struct ephemerals_walk *ew = arg;
	char **paths = NULL, sid[24];
	size_t n = 0;

	if (tree_session_ephemerals(ew->t, ts->id, &paths, &n) < 0) {
		ew->failed = 1;
		return 0;
	}
	if (n) {
		snprintf(sid, sizeof(sid), "%" PRId64, ts->id);
		jw_open(ew->w, sid, '[');
		for (size_t i = 0; i < n; i++)
			jw_str(ew->w, NULL, paths[i]);
		jw_close(ew->w, ']');
	}
	tree_names_free(paths);
	return 0;
}

static const char *cmd_dump(struct zk_server *s, struct jw *w)
{
	struct expiries x = {0};
	struct ephemerals_walk ew = {.w = w, .t = qcore_tree(s->core)};
	char at[24];

	jw_open(w, "expiry_time_to_session_ids", '{');
	if (qcore_session_expiries(s->core, add_expiry, &x) == 0 && !x.failed) {
		qsort(x.e, x.n, sizeof(*x.e), by_expiry);
		for (size_t i = 0; i < x.n; i++) {
			if (i == 0 || x.e[i].at != x.e[i - 1].at) {
				if (i)
					jw_close(w, ']');
				snprintf(at, sizeof(at), "%" PRId64, x.e[i].at);
				jw_open(w, at, '[');
			}
			jw_i64(w, NULL, x.e[i].id);
		}
		if (x.n)
			jw_close(w, ']');
	}
	free(x.e);
	jw_close(w, '}');
	jw_open(w, "session_id_to_ephemeral_paths", '{');
	tree_session_foreach(ew.t, session_ephemerals, &ew);
	jw_close(w, '}');
	return x.failed || ew.failed ? "out of memory: the answer is incomplete" : NULL;
}

/* last_snapshot: the newest snapshot on disk; ZooKeeper gives its zxid in
 * hex without "0x" and its file's time in seconds. */
static const char *cmd_last_snapshot(struct zk_server *s, struct jw *w)
{
	struct qcore_stats st;
	char z[24];

	qcore_stats(s->core, &st);
	snprintf(z, sizeof(z), "%" PRIx64, (uint64_t)st.snap_zxid);
	jw_str(w, "zxid", z);
	jw_i64(w, "timestamp", st.snap_time);
	return NULL;
}

/* initial_configuration: the keys this server started with, as given (the
 * file's, then -o's), one "key=value" line each, secrets hidden as the conf
 * four-letter word hides them. ZooKeeper answers with its file's text; this
 * drops comments and blank lines. */
static const char *cmd_initial_configuration(struct zk_server *s, struct jw *w)
{
	struct evbuffer *t = evbuffer_new();
	char *text = NULL;
	size_t len;

	if (!t)
		return "out of memory";
	for (size_t i = 0; s->cfg && i < s->cfg->n_kv; i++)
		evbuffer_add_printf(t, "%s=%s\n", s->cfg->kv[i].key,
				    config_key_is_secret(s->cfg->kv[i].key)
					? "(hidden)"
					: s->cfg->kv[i].value);
	len = evbuffer_get_length(t);
	if ((text = malloc(len + 1))) {
		evbuffer_remove(t, text, len);
		text[len] = 0;
	}
	evbuffer_free(t);
	if (!text)
		return "out of memory";
	jw_str(w, "initial_configuration", text);
	free(text);
	return NULL;
}

static const struct admin_cmd {
	const char *name, *alias;
	admin_fn run;
} admin_cmds[] = {
    {"configuration", "conf", cmd_configuration},
    {"connection_stat_reset", "crst", cmd_connection_stat_reset},
    {"connections", "cons", cmd_connections},
    {"dirs", NULL, cmd_dirs},
    {"dump", NULL, cmd_dump},
    {"environment", "envi", cmd_environment},
    {"initial_configuration", NULL, cmd_initial_configuration},
    {"is_read_only", "isro", cmd_is_read_only},
    {"last_snapshot", NULL, cmd_last_snapshot},
    {"leader", "lead", cmd_leader},
    {"monitor", "mntr", cmd_monitor},
    {"observer_connection_stat_reset", "ocrst", cmd_observer_connection_stat_reset},
    {"observers", "obsr", cmd_observers},
    {"ruok", NULL, cmd_ruok},
    {"server_stats", "srvr", cmd_server_stats},
    {"stat_reset", "srst", cmd_stat_reset},
    {"stats", "stat", cmd_stats},
    {"voting_view", NULL, cmd_voting_view},
    {"watch_summary", "wchs", cmd_watch_summary},
    {"watches", "wchc", cmd_watches},
    {"watches_by_path", "wchp", cmd_watches_by_path},
    {"zabstate", NULL, cmd_zabstate},
};

/* ---- HTTP ---- */

static void reply(struct evhttp_request *req, struct evbuffer *o, const char *type)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_send_reply(req, HTTP_OK, "OK", o);
}

static void run_command(struct zk_server *s, struct evhttp_request *req,
			struct evbuffer *o, const char *name)
{
	const struct admin_cmd *cmd = NULL;
	struct jw w = {.o = o};
	const char *err;
	char msg[160];

	for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		if (!strcmp(name, admin_cmds[i].name) ||
		    (admin_cmds[i].alias && !strcmp(name, admin_cmds[i].alias)))
			cmd = &admin_cmds[i];
	w.first[0] = 1;
	jw_open(&w, NULL, '{');
	if (cmd) {
		err = cmd->run(s, &w);
	} else {
		snprintf(msg, sizeof(msg), "Unknown command: %.100s", name);
		err = msg;
	}
	jw_str(&w, "command", cmd ? cmd->name : name);
	jw_str(&w, "error", err);
	jw_close(&w, '}');
	evbuffer_add(o, "\n", 1);
	reply(req, o, "application/json");
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct zk_server *s = arg;
	const char *url = s->admin_url;
	size_t ul = strlen(url);
	struct evhttp_uri *uri = evhttp_uri_parse(evhttp_request_get_uri(req));
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	char *name = NULL;
	struct evbuffer *o = evbuffer_new();

	if (!o || !path) {
		evhttp_send_error(req, o ? HTTP_BADREQUEST : HTTP_SERVUNAVAIL, NULL);
		goto out;
	}
	if (strncmp(path, url, ul) || (path[ul] && path[ul] != '/')) {
		evhttp_send_error(req, HTTP_NOTFOUND, "not a command URL");
		goto out;
	}
	if (!path[ul] || !path[ul + 1]) {
		/* The list, as ZooKeeper's: a link a line. */
		for (size_t i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
			evbuffer_add_printf(o, "<a href=\"%s/%s\">%s</a>\n<br/>\n", url,
					    admin_cmds[i].name, admin_cmds[i].name);
		reply(req, o, "text/html");
		goto out;
	}
	name = evhttp_uridecode(path + ul + 1, 0, NULL);
	if (!name) {
		evhttp_send_error(req, HTTP_SERVUNAVAIL, "out of memory");
		goto out;
	}
	run_command(s, req, o, name);
out:
	free(name);
	if (o)
		evbuffer_free(o);
	if (uri)
		evhttp_uri_free(uri);
}

int zks_admin_start(struct zk_server *s, const char *host, int port, const char *url,
		    char *errbuf, size_t errlen)
{
	struct evhttp_bound_socket *bs;
	size_t ul;

	s->admin_url = strdup(url);
	s->admin = evhttp_new(s->base);
	if (!s->admin || !s->admin_url) {
		snprintf(errbuf, errlen, "admin server: out of memory");
		zks_admin_stop(s);
		return -ENOMEM;
	}
	/* "/commands/" and "/commands" are the same URL. */
	ul = strlen(s->admin_url);
	while (ul > 0 && s->admin_url[ul - 1] == '/')
		s->admin_url[--ul] = 0; /* "/" itself becomes "" */
	evhttp_set_allowed_methods(s->admin, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(s->admin, ADMIN_TIMEOUT_S);
	evhttp_set_max_headers_size(s->admin, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(s->admin, 0);
	evhttp_set_gencb(s->admin, on_request, s);
	errno = 0;
	bs = evhttp_bind_socket_with_handle(s->admin, host, (ev_uint16_t)port);
	if (!bs) {
		int err = errno ? errno : EADDRNOTAVAIL;

		snprintf(errbuf, errlen,
			 "admin.serverPort: cannot serve the admin commands on %s:%d: %s",
			 host, port, strerror(err));
		zks_admin_stop(s);
		return -err;
	}
	log_info("zk: admin commands on http://%s:%d%s/", host, port, s->admin_url);
	return 0;
}

void zks_admin_stop(struct zk_server *s)
{
	if (s->admin)
		evhttp_free(s->admin);
	s->admin = NULL;
	free(s->admin_url);
	s->admin_url = NULL;
}
