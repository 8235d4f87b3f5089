/*
 * config.c - zoo.cfg parsing, -o overrides and validation; see config.h.
 *
 * Syntax as ZooKeeper's QuorumPeerConfig reads it: one KEY=VALUE per line,
 * '#' comments, blank lines ignored, surrounding whitespace trimmed. A key
 * given twice keeps the last value (an -o override beats the file).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "serverspec.h"

enum cfg_type { CFG_INT, CFG_I64, CFG_STR, CFG_BOOL, CFG_ACCEPTED };
/* Or'ed into a key's type: its value is a secret, never printed (conf, logs,
 * error messages); see config_key_is_secret. */
#define CFG_SECRET  0x100
#define CFG_TYPE(k) ((enum cfg_type)((k)->type & ~CFG_SECRET))

/* Keys ZooKeeper knows that quorumfs accepts but does not act on yet; kept
 * (and shown by conf) without a warning, so a zoo.cfg moves over as is. */
#define CFG_OFF(f) offsetof(struct qfs_config, f)

static const struct cfg_key {
	const char *name;
	unsigned type; /* enum cfg_type, | CFG_SECRET */
	size_t off;
	int64_t min, max;
} cfg_keys[] = {
	{"tickTime", CFG_INT, CFG_OFF(tick_ms), 1, 600000},
	{"initLimit", CFG_INT, CFG_OFF(init_limit), 1, 100000},
	{"syncLimit", CFG_INT, CFG_OFF(sync_limit), 1, 100000},
	{"dataDir", CFG_STR, CFG_OFF(data_dir), 0, 0},
	{"dataLogDir", CFG_STR, CFG_OFF(data_log_dir), 0, 0},
	{"clientPort", CFG_INT, CFG_OFF(client_port), 0, 65535},
	{"clientPortAddress", CFG_STR, CFG_OFF(client_port_address), 0, 0},
	{"maxClientCnxns", CFG_INT, CFG_OFF(max_client_cnxns), 0, 1000000},
	{"minSessionTimeout", CFG_INT, CFG_OFF(min_session_timeout_ms), 1, INT_MAX},
	{"maxSessionTimeout", CFG_INT, CFG_OFF(max_session_timeout_ms), 1, INT_MAX},
	{"autopurge.snapRetainCount", CFG_INT, CFG_OFF(snap_retain_count), 3, 100000},
	{"autopurge.purgeInterval", CFG_INT, CFG_OFF(purge_interval_h), 0, 100000},
	{"snapCount", CFG_I64, CFG_OFF(snap_count), 2, INT64_MAX},
	{"4lw.commands.whitelist", CFG_STR, CFG_OFF(four_lw_whitelist), 0, 0},
	{"jute.maxbuffer", CFG_INT, CFG_OFF(jute_maxbuffer), 1024, 64 * 1024 * 1024},
	{"forceSync", CFG_BOOL, CFG_OFF(force_sync), 0, 0},
	{"myid", CFG_I64, CFG_OFF(myid), 0, 254},
	{"mountAuth", CFG_STR | CFG_SECRET, CFG_OFF(mount_auth), 0, 0},
	{"mountSessionTimeout", CFG_INT, CFG_OFF(mount_session_timeout_ms), 1, INT_MAX},
	{"mountReplayLimit", CFG_INT, CFG_OFF(mount_replay_limit), 0, INT_MAX},
	{"repair", CFG_BOOL, CFG_OFF(repair), 0, 0},
	{"containerCheckInterval", CFG_I64, CFG_OFF(container_check_ms), 10, 86400000},
	{"superDigest", CFG_STR | CFG_SECRET, CFG_OFF(super_digest), 0, 0},
	{"saslUsers", CFG_STR | CFG_SECRET, CFG_OFF(sasl_users), 0, 0},
	{"clientMaxOutstanding", CFG_INT, CFG_OFF(client_max_outstanding), 1, 1000000},
	{"clientMaxWatches", CFG_INT, CFG_OFF(client_max_watches), 1, 100000000},
	{"clusterName", CFG_STR, CFG_OFF(cluster_name), 0, 0},
	{"clusterSecretFile", CFG_STR, CFG_OFF(cluster_secret_file), 0, 0},
	{"reconfigEnabled", CFG_BOOL, CFG_OFF(reconfig_enabled), 0, 0},
	{"dynamicConfigFile", CFG_STR, CFG_OFF(dynamic_config_file), 0, 0},
	{"archiveDir", CFG_STR, CFG_OFF(archive_dir), 0, 0},
	{"archiveInterval", CFG_I64, CFG_OFF(archive_interval_ms), 10, 3600000},
	{"metricsProvider.className", CFG_STR, CFG_OFF(metrics_class), 0, 0},
	{"metricsProvider.httpHost", CFG_STR, CFG_OFF(metrics_host), 0, 0},
	{"metricsProvider.httpPort", CFG_INT, CFG_OFF(metrics_port), 1, 65535},
	{"logFormat", CFG_STR, CFG_OFF(log_format), 0, 0},
	{"admin.enableServer", CFG_BOOL, CFG_OFF(admin_enable), 0, 0},
	{"admin.serverAddress", CFG_STR, CFG_OFF(admin_host), 0, 0},
	{"admin.serverPort", CFG_INT, CFG_OFF(admin_port), 1, 65535},
	{"admin.commandURL", CFG_STR, CFG_OFF(admin_url), 0, 0},
	/* accepted for zoo.cfg compatibility; not acted on yet */
	{"standaloneEnabled", CFG_ACCEPTED, 0, 0, 0},
	{"admin.idleTimeout", CFG_ACCEPTED, 0, 0, 0},
	{"metricsProvider.exportJvmInfo", CFG_ACCEPTED, 0, 0, 0},
	{"globalOutstandingLimit", CFG_ACCEPTED, 0, 0, 0},
	{"preAllocSize", CFG_ACCEPTED, 0, 0, 0},
	{"electionAlg", CFG_ACCEPTED, 0, 0, 0},
	{"peerType", CFG_ACCEPTED, 0, 0, 0},
	{"quorumListenOnAllIPs", CFG_ACCEPTED, 0, 0, 0},
	{"extendedTypesEnabled", CFG_ACCEPTED, 0, 0, 0},
};

/* FUSE and mount(8) options that -o and fstab may carry. */
static const char *const fuse_opt_names[] = {
	"allow_other", "allow_root", "default_permissions", "auto_unmount", "ro", "rw",
	"dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime", "noatime",
	"nodiratime", "relatime", "sync", "async", "dirsync", "fsname", "subtype",
	"max_read", "blkdev", "blksize", "defaults", "_netdev", "nofail", "noauto",
	"auto", "user", "users", "nouser", "owner", "group", "comment", "context",
};

void config_init(struct qfs_config *c)
{
	memset(c, 0, sizeof(*c));
	c->tick_ms = 2000;
	c->init_limit = 10;
	c->sync_limit = 5;
	c->client_port = 2181;
	c->max_client_cnxns = 60;
	c->snap_retain_count = 3;
	c->snap_count = 100000;
	c->jute_maxbuffer = 0xfffff;
	c->force_sync = 1;
	c->mount_session_timeout_ms = 10000;
	c->mount_replay_limit = 100000;
	c->container_check_ms = 1000;
	c->archive_interval_ms = 5000;
	c->metrics_port = 7000;
	c->admin_enable = -1; /* unset: see admin_server() */
}

static void user_map_free(struct qfs_user_map *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].scheme);
		free(v[i].ident);
	}
	free(v);
}

void config_free(struct qfs_config *c)
{
	for (size_t i = 0; i < c->n_kv; i++) {
		free(c->kv[i].key);
		free(c->kv[i].value);
		free(c->kv[i].origin);
	}
	free(c->kv);
	for (size_t i = 0; i < c->n_servers; i++) {
		free(c->servers[i].host);
		free(c->servers[i].client_host);
	}
	free(c->servers);
	free(c->servers_from);
	if (c->cluster_secret)
		memset(c->cluster_secret, 0, c->cluster_secret_len);
	free(c->cluster_secret);
	for (size_t i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++)
		if (CFG_TYPE(&cfg_keys[i]) == CFG_STR)
			free(*(char **)((char *)c + cfg_keys[i].off));
	free(c->fuse_opts);
	user_map_free(c->user_map, c->n_user_map);
	memset(c, 0, sizeof(*c));
}

static int cfg_err(char *errbuf, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cfg_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int cfg_remember(struct qfs_config *c, const char *key, const char *value,
			const char *origin)
{
	struct qfs_kv *kv;

	for (size_t i = 0; i < c->n_kv; i++) {
		if (strcmp(c->kv[i].key, key) != 0)
			continue;
		char *v = strdup(value), *o = strdup(origin);

		if (!v || !o) {
			free(v);
			free(o);
			return -ENOMEM;
		}
		free(c->kv[i].value);
		free(c->kv[i].origin);
		c->kv[i].value = v;
		c->kv[i].origin = o;
		return 0;
	}
	kv = realloc(c->kv, (c->n_kv + 1) * sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	c->kv = kv;
	kv = &c->kv[c->n_kv];
	kv->key = strdup(key);
	kv->value = strdup(value);
	kv->origin = strdup(origin);
	if (!kv->key || !kv->value || !kv->origin) {
		free(kv->key);
		free(kv->value);
		free(kv->origin);
		return -ENOMEM;
	}
	c->n_kv++;
	return 0;
}

static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	return -EINVAL;
}

/* server.N=host:peerPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
 * (serverspec.h: the same parser as a reconfig's member list). */
static int parse_server(struct qfs_config *c, const char *key, const char *value,
			const char *origin, char *errbuf, size_t errlen)
{
	struct qfs_server_cfg s = {0}, *v;
	struct serverspec spec;
	char why[320];
	int64_t id;

	if (parse_i64(key + 7, 1, 254, &id) < 0)
		return cfg_err(errbuf, errlen, "%s: bad server id in '%s' (1..254: session ids carry it in their top byte)", origin, key);
	if (serverspec_parse(value, &spec, why, sizeof(why)) < 0)
		return cfg_err(errbuf, errlen, "%s: %s=%s: %s", origin, key, value, why);
	for (size_t i = 0; i < c->n_servers; i++)
		if (c->servers[i].id == id)
			return cfg_err(errbuf, errlen, "%s: server.%lld given twice", origin,
				       (long long)id);
	s.id = id;
	s.weight = 1;
	s.peer_port = spec.peer_port;
	s.election_port = spec.election_port;
	s.observer = spec.observer;
	s.client_port = spec.client_port;
	s.host = strdup(spec.host);
	if (spec.client_host[0])
		s.client_host = strdup(spec.client_host);
	v = realloc(c->servers, (c->n_servers + 1) * sizeof(*v));
	if (v)
		c->servers = v; /* grown or not, it is the array now */
	if (!v || !s.host || (spec.client_host[0] && !s.client_host)) {
		free(s.host);
		free(s.client_host);
		return -ENOMEM;
	}
	c->servers[c->n_servers++] = s;
	return 0;
}

static char *trim(char *s);

/* One identity of mountUserMap: SCHEME:ID as an ACL names it (digest
 * USER:BASE64, ip ADDRESS, sasl USER), super or mount. 0 or -EINVAL. */
static int user_ident_ok(const char *scheme, const char *ident)
{
	if (!strcmp(scheme, "super") || !strcmp(scheme, "mount"))
		return *ident ? -EINVAL : 0;
	if (!strcmp(scheme, "digest")) {
		const char *colon = strchr(ident, ':');

		return colon && colon > ident && colon[1] ? 0 : -EINVAL;
	}
	if (!strcmp(scheme, "ip"))
		return *ident && !ident[strspn(ident, "0123456789.:abcdefABCDEF")] ? 0
										   : -EINVAL;
	if (!strcmp(scheme, "sasl"))
		return *ident ? 0 : -EINVAL;
	return -EINVAL;
}

/*
 * mountUserMap=ENTRY[;ENTRY...] with ENTRY uid:N=IDENTITY or gid:N=IDENTITY
 * (';' separates entries because ',' separates -o options; a user with
 * several identities has several entries). Replaces any earlier map.
 */
static int parse_user_map(struct qfs_config *c, const char *value, const char *origin,
			  char *errbuf, size_t errlen)
{
	char *copy = strdup(value), *p = copy, *tok;
	struct qfs_user_map *v = NULL, *nv;
	size_t n = 0;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	while ((tok = strsep(&p, ";")) != NULL) {
		char *t = trim(tok), *eq, *who, *colon, *end;
		struct qfs_user_map e = {0};
		unsigned long id;

		if (!*t)
			continue;
		eq = strchr(t, '=');
		who = t;
		if (!eq)
			goto bad;
		*eq = 0;
		if (!strncmp(who, "uid:", 4))
			e.is_group = 0;
		else if (!strncmp(who, "gid:", 4))
			e.is_group = 1;
		else
			goto bad;
		errno = 0;
		id = strtoul(who + 4, &end, 10);
		if (end == who + 4 || *end || errno || id >= UINT32_MAX)
			goto bad;
		e.id = (uint32_t)id;
		colon = strchr(eq + 1, ':');
		e.scheme =
		    colon ? strndup(eq + 1, (size_t)(colon - eq - 1)) : strdup(eq + 1);
		e.ident = strdup(colon ? colon + 1 : "");
		if (!e.scheme || !e.ident) {
			free(e.scheme);
			free(e.ident);
			rc = -ENOMEM;
			goto out;
		}
		if (user_ident_ok(e.scheme, e.ident) < 0) {
			*eq = '=';
			free(e.scheme);
			free(e.ident);
			goto bad;
		}
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(e.scheme);
			free(e.ident);
			rc = -ENOMEM;
			goto out;
		}
		v = nv;
		v[n++] = e;
		continue;
bad:
		if (eq)
			*eq = '=';
		rc = cfg_err(errbuf, errlen,
			     "%s: mountUserMap: '%s': expected uid:N=IDENTITY or gid:N=IDENTITY, "
			     "IDENTITY digest:USER:BASE64, ip:ADDRESS, sasl:USER, super or mount",
			     origin, t);
		goto out;
	}
	user_map_free(c->user_map, c->n_user_map);
	c->user_map = v;
	c->n_user_map = n;
	v = NULL;
	n = 0;
out:
	user_map_free(v, n);
	free(copy);
	return rc;
}

int config_key_is_secret(const char *key)
{
	static const char *const words[] = {"password", "passwd", "secret"};

	for (size_t i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++)
		if (!strcmp(cfg_keys[i].name, key))
			return (cfg_keys[i].type & CFG_SECRET) != 0;
	/* Keys quorumfs does not know (ZooKeeper's ssl.*.password, ...). */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(key, words[i]))
			return 1;
	return 0;
}

static int cfg_set(struct qfs_config *c, const char *key, const char *value,
		   const char *origin, char *errbuf, size_t errlen)
{
	int rc = cfg_remember(c, key, value, origin);

	if (rc < 0)
		return rc;
	if (!strncmp(key, "server.", 7))
		return parse_server(c, key, value, origin, errbuf, errlen);
	if (!strncmp(key, "group.", 6) || !strncmp(key, "weight.", 7))
		return 0; /* read by the quorum system from the kv list */
	if (!strcmp(key, "mountUserMap"))
		return parse_user_map(c, value, origin, errbuf, errlen);
	for (size_t i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		void *field = (char *)c + k->off;
		const char *shown;
		int64_t v;

		if (strcmp(k->name, key) != 0)
			continue;
		/* Messages below never echo a secret. */
		shown = (k->type & CFG_SECRET) ? "(hidden)" : value;
		switch (CFG_TYPE(k)) {
		case CFG_INT:
		case CFG_I64:
			if (parse_i64(value, k->min, k->max, &v) < 0)
				return cfg_err(errbuf, errlen,
					       "%s: %s=%s: expected an integer in %lld..%lld",
					       origin, key, shown, (long long)k->min,
					       (long long)k->max);
			if (k->type == CFG_INT)
				*(int *)field = (int)v;
			else
				*(int64_t *)field = v;
			return 0;
		case CFG_BOOL:
			if (parse_bool(value, (int *)field) < 0)
				return cfg_err(errbuf, errlen, "%s: %s=%s: expected yes or no",
					       origin, key, shown);
			return 0;
		case CFG_STR: {
			char *s = strdup(value);

			if (!s)
				return -ENOMEM;
			free(*(char **)field);
			*(char **)field = s;
			return 0;
		}
		case CFG_ACCEPTED:
			log_info("config: %s: %s accepted for compatibility, has no effect",
				 origin, key);
			return 0;
		}
	}
	log_warnx("config: %s: unknown key '%s' (kept, has no effect)", origin, key);
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int config_load_file(struct qfs_config *c, const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, origin[PATH_MAX + 32];
	size_t cap = 0;
	int lineno = 0, rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while (getline(&line, &cap, f) > 0) {
		char *s = trim(line), *eq;

		lineno++;
		if (!*s || *s == '#')
			continue;
		snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
		eq = strchr(s, '=');
		if (!eq) {
			rc = cfg_err(errbuf, errlen, "%s: expected KEY=VALUE", origin);
			break;
		}
		*eq = 0;
		rc = cfg_set(c, trim(s), trim(eq + 1), origin, errbuf, errlen);
		if (rc < 0)
			break;
	}
	free(line);
	fclose(f);
	return rc;
}

static int is_fuse_opt(const char *key)
{
	if (!strncmp(key, "x-", 2))
		return 1;
	for (size_t i = 0; i < sizeof(fuse_opt_names) / sizeof(fuse_opt_names[0]); i++)
		if (!strcmp(key, fuse_opt_names[i]))
			return 1;
	return 0;
}

static int add_fuse_opt(struct qfs_config *c, const char *opt)
{
	size_t old = c->fuse_opts ? strlen(c->fuse_opts) : 0;
	char *s = realloc(c->fuse_opts, old + strlen(opt) + 2);

	if (!s)
		return -ENOMEM;
	if (old)
		s[old++] = ',';
	strcpy(s + old, opt);
	c->fuse_opts = s;
	return 0;
}

int config_apply_opts(struct qfs_config *c, const char *opts, char *errbuf, size_t errlen)
{
	char *copy = strdup(opts), *p = copy, *tok;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	while (rc == 0 && (tok = strsep(&p, ",")) != NULL) {
		char key[256], *eq;

		if (!*tok)
			continue;
		eq = strchr(tok, '=');
		snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - tok) : (int)strlen(tok), tok);
		if (is_fuse_opt(key)) {
			/* mount(8)'s own options mean nothing to FUSE: drop them. */
			if (!strcmp(key, "defaults") || !strcmp(key, "_netdev") ||
			    !strcmp(key, "nofail") || !strcmp(key, "noauto") ||
			    !strcmp(key, "auto") || !strncmp(key, "x-", 2) ||
			    !strcmp(key, "user") || !strcmp(key, "users") ||
			    !strcmp(key, "nouser") || !strcmp(key, "comment"))
				continue;
			rc = add_fuse_opt(c, tok);
		} else if (!eq) {
			rc = cfg_err(errbuf, errlen,
				     "-o %s: neither a KEY=VALUE setting nor a mount option",
				     tok);
		} else {
			rc = cfg_set(c, key, eq + 1, "-o", errbuf, errlen);
		}
	}
	free(copy);
	return rc;
}

static int read_myid(struct qfs_config *c, char *errbuf, size_t errlen)
{
	char path[PATH_MAX], buf[32] = {0};
	FILE *f;
	int64_t id;

	snprintf(path, sizeof(path), "%s/myid", c->data_dir);
	f = fopen(path, "r");
	if (!f)
		return cfg_err(errbuf, errlen, "%s: %s (a clustered server needs its id there "
			       "or in -o myid=N)", path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f) || parse_i64(trim(buf), 0, 254, &id) < 0) {
		fclose(f);
		return cfg_err(errbuf, errlen, "%s: expected a number 0..254", path);
	}
	fclose(f);
	c->myid = id;
	return 0;
}

static struct qfs_server_cfg *server_by_id(struct qfs_config *c, int64_t id)
{
	for (size_t i = 0; i < c->n_servers; i++)
		if (c->servers[i].id == id)
			return &c->servers[i];
	return NULL;
}

/*
 * This server's client address from its own server.N line (";[host:]port"),
 * as ZooKeeper 3.5 and later take it: a configuration that gives the client
 * port only there, with no clientPort line (the dynamic-configuration
 * style), serves on that port, not on 2181, and on that host when no
 * clientPortAddress says otherwise. Where both give one they must agree,
 * as ZooKeeper requires; clientPort=0 (no ZooKeeper clients) stands.
 */
static int own_client_address(struct qfs_config *c, char *errbuf, size_t errlen)
{
	const struct qfs_server_cfg *s = server_by_id(c, c->myid);
	const char *addr = config_get(c, "clientPortAddress");

	if (!s || !s->client_port)
		return 0;
	if (config_get(c, "clientPort")) {
		if (c->client_port && c->client_port != s->client_port)
			return cfg_err(errbuf, errlen,
				       "clientPort=%d, but this server's line server.%lld "
				       "gives client port %d: give it once, or the same in "
				       "both",
				       c->client_port, (long long)s->id, s->client_port);
	} else {
		c->client_port = s->client_port;
	}
	if (!s->client_host)
		return 0;
	if (addr) {
		if (strcmp(addr, s->client_host))
			return cfg_err(errbuf, errlen,
				       "clientPortAddress=%s, but this server's line "
				       "server.%lld gives client address %s: give it once, "
				       "or the same in both",
				       addr, (long long)s->id, s->client_host);
		return 0;
	}
	free(c->client_port_address);
	c->client_port_address = strdup(s->client_host);
	return c->client_port_address ? 0 : -ENOMEM;
}

/* group.X=1:2:3 and weight.N=W, ZooKeeper's hierarchical quorums. */
static int groups_and_weights(struct qfs_config *c, char *errbuf, size_t errlen)
{
	struct qfs_server_cfg *s;
	int64_t x, v;
	int groups = 0, weights = 0;

	for (size_t i = 0; i < c->n_kv; i++) {
		const struct qfs_kv *kv = &c->kv[i];

		if (!strncmp(kv->key, "group.", 6)) {
			char *copy = strdup(kv->value), *p = copy, *tok;

			if (!copy)
				return -ENOMEM;
			if (parse_i64(kv->key + 6, 1, 1000000, &x) < 0) {
				free(copy);
				return cfg_err(errbuf, errlen, "%s: bad group id in '%s'",
					       kv->origin, kv->key);
			}
			while ((tok = strsep(&p, ":")) != NULL) {
				if (parse_i64(trim(tok), 1, 254, &v) < 0 ||
				    !(s = server_by_id(c, v))) {
					free(copy);
					return cfg_err(
					    errbuf, errlen,
					    "%s: %s=%s: '%s' is not a server.N id",
					    kv->origin, kv->key, kv->value, tok);
				}
				if (s->group && s->group != (uint32_t)x) {
					free(copy);
					return cfg_err(errbuf, errlen,
						       "%s: server.%lld is in two groups",
						       kv->origin, (long long)v);
				}
				s->group = (uint32_t)x;
			}
			free(copy);
			groups++;
		} else if (!strncmp(kv->key, "weight.", 7)) {
			if (parse_i64(kv->key + 7, 1, 254, &x) < 0 ||
			    !(s = server_by_id(c, x)))
				return cfg_err(errbuf, errlen,
					       "%s: '%s' names no server.N", kv->origin,
					       kv->key);
			if (parse_i64(kv->value, 0, 1000000, &v) < 0)
				return cfg_err(errbuf, errlen,
					       "%s: %s=%s: expected a weight", kv->origin,
					       kv->key, kv->value);
			s->weight = (uint32_t)v;
			weights++;
		}
	}
	c->quorum_kind = groups ? 2 : weights ? 1 : 0;
	if (groups)
		for (size_t i = 0; i < c->n_servers; i++)
			if (!c->servers[i].group && !c->servers[i].observer)
				return cfg_err(
				    errbuf, errlen,
				    "server.%lld is in no group.X (with groups, "
				    "every participant must be in one)",
				    (long long)c->servers[i].id);
	return 0;
}

/* The cluster secret: the file's bytes, a trailing newline cut. */
static int read_secret(struct qfs_config *c, char *errbuf, size_t errlen)
{
	uint8_t buf[4096];
	size_t n;
	FILE *f;

	f = fopen(c->cluster_secret_file, "r");
	if (!f)
		return cfg_err(errbuf, errlen, "clusterSecretFile %s: %s",
			       c->cluster_secret_file, strerror(errno));
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < 16)
		return cfg_err(errbuf, errlen,
			       "clusterSecretFile %s: at least 16 bytes of secret needed "
			       "(e.g. head -c 32 /dev/urandom | base64 > FILE)",
			       c->cluster_secret_file);
	free(c->cluster_secret);
	c->cluster_secret = malloc(n);
	if (!c->cluster_secret)
		return -ENOMEM;
	memcpy(c->cluster_secret, buf, n);
	c->cluster_secret_len = n;
	memset(buf, 0, sizeof(buf));
	return 0;
}

/* Forget zoo.cfg's group./weight. entries: those of the dynamic file at
 * path (its origin) are the quorum system now. */
static void drop_static_quorum(struct qfs_config *c, const char *path)
{
	size_t k = 0, plen = strlen(path);

	for (size_t i = 0; i < c->n_kv; i++) {
		struct qfs_kv *kv = &c->kv[i];

		if ((strncmp(kv->key, "group.", 6) && strncmp(kv->key, "weight.", 7)) ||
		    (!strncmp(kv->origin, path, plen) && kv->origin[plen] == ':')) {
			c->kv[k++] = *kv;
			continue;
		}
		free(kv->key);
		free(kv->value);
		free(kv->origin);
	}
	c->n_kv = k;
}

/*
 * The membership changes at runtime (reconfig): each member keeps the
 * newest configuration's server lines in dataDir/zoo.cfg.dynamic, which
 * replace zoo.cfg's on the next start; before the first change, ZooKeeper's
 * dynamicConfigFile= (server.N lines in a file of their own) may hold them.
 * Its group.X and weight.N lines (a reconfig may change them) replace
 * zoo.cfg's, as ZooKeeper's dynamic file does: zoo.cfg's groups may name
 * servers that left, and a file without them is a majority. version= lines
 * are the configuration's version (the log's), ignored here.
 */
static int load_dynamic(struct qfs_config *c, char *errbuf, size_t errlen)
{
	char path[4096], line[1024], origin[4200];
	struct qfs_server_cfg *old = c->servers;
	size_t n_old = c->n_servers, lineno = 0;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/zoo.cfg.dynamic", c->data_dir);
	f = fopen(path, "re");
	if (!f && c->dynamic_config_file) {
		snprintf(path, sizeof(path), "%s", c->dynamic_config_file);
		f = fopen(path, "re");
		if (!f)
			return cfg_err(errbuf, errlen, "dynamicConfigFile %s: %s", path,
				       strerror(errno));
	}
	if (!f)
		return 0;
	c->servers = NULL;
	c->n_servers = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		char *eq, *end = line + strlen(line);

		lineno++;
		while (end > line && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
			*--end = 0;
		eq = strchr(line, '=');
		if (eq && (!strncmp(line, "group.", 6) || !strncmp(line, "weight.", 7))) {
			*eq = 0;
			snprintf(origin, sizeof(origin), "%s:%zu", path, lineno);
			rc = cfg_remember(c, line, eq + 1, origin);
			continue;
		}
		if (!eq || strncmp(line, "server.", 7))
			continue;
		*eq = 0;
		snprintf(origin, sizeof(origin), "%s:%zu", path, lineno);
		rc = parse_server(c, line, eq + 1, origin, errbuf, errlen);
	}
	fclose(f);
	if (rc || c->n_servers == 0) {
		/* Keep zoo.cfg's lines: a file with none is no membership. */
		for (size_t i = 0; i < c->n_servers; i++) {
			free(c->servers[i].host);
			free(c->servers[i].client_host);
		}
		free(c->servers);
		c->servers = old;
		c->n_servers = n_old;
		return rc;
	}
	for (size_t i = 0; i < n_old; i++) {
		free(old[i].host);
		free(old[i].client_host);
	}
	free(old);
	drop_static_quorum(c, path);
	free(c->servers_from);
	c->servers_from = strdup(path);
	return 0;
}

/* ZooKeeper's metricsProvider.className: its Prometheus provider is served
 * (zks_metrics.c); its default and null providers serve nothing, as in
 * ZooKeeper; another class would be a plugin quorumfs cannot load. */
static int metrics_provider(struct qfs_config *c, char *errbuf, size_t errlen)
{
	static const char prom[] = "PrometheusMetricsProvider";
	const char *k = c->metrics_class, *dot;

	if (!k)
		return 0;
	dot = strrchr(k, '.');
	dot = dot ? dot + 1 : k;
	if (!strcmp(dot, prom)) {
		c->metrics_enabled = 1;
		return 0;
	}
	if (!strcmp(dot, "DefaultMetricsProvider") || !strcmp(dot, "NullMetricsProvider"))
		return 0;
	return cfg_err(errbuf, errlen,
		       "metricsProvider.className=%s: quorumfs serves ZooKeeper's "
		       "org.apache.zookeeper.metrics.prometheus.%s (or its Default or "
		       "Null provider: no endpoint), not other classes",
		       k, prom);
}

/*
 * ZooKeeper's AdminServer (zks_admin.c). ZooKeeper opens it by default on
 * 0.0.0.0:8080; quorumfs opens it only when asked: admin.enableServer=true,
 * or admin.serverPort given without admin.enableServer (a zoo.cfg that moves
 * the port means to use it). Every host runs a daemon, mount-only hosts
 * included, and an HTTP port on every interface that nobody asked for is a
 * surprise there.
 */
static int admin_server(struct qfs_config *c, char *errbuf, size_t errlen)
{
	c->admin_enabled = c->admin_enable == 1 || (c->admin_enable < 0 && c->admin_port);
	if (!c->admin_port)
		c->admin_port = 8080;
	if (c->admin_url && (c->admin_url[0] != '/' || strpbrk(c->admin_url, " ?#")))
		return cfg_err(errbuf, errlen,
			       "admin.commandURL=%s: expected a path starting with /, "
			       "without spaces, ? or #",
			       c->admin_url);
	return 0;
}

int config_finish(struct qfs_config *c, char *errbuf, size_t errlen)
{
	int rc;

	if (!c->data_dir)
		return cfg_err(errbuf, errlen, "dataDir is not set (in the file or -o dataDir=)");
	rc = load_dynamic(c, errbuf, errlen);
	if (rc)
		return rc;
	if (!c->min_session_timeout_ms)
		c->min_session_timeout_ms = 2 * c->tick_ms;
	if (!c->max_session_timeout_ms)
		c->max_session_timeout_ms = 20 * c->tick_ms;
	if (c->min_session_timeout_ms > c->max_session_timeout_ms)
		return cfg_err(errbuf, errlen, "minSessionTimeout %d > maxSessionTimeout %d",
			       c->min_session_timeout_ms, c->max_session_timeout_ms);
	if (c->n_servers > 0 && !config_get(c, "myid")) {
		rc = read_myid(c, errbuf, errlen);
		if (rc)
			return rc;
	}
	if (c->n_servers > 0 && !server_by_id(c, c->myid))
		return cfg_err(errbuf, errlen,
			       "myid %lld is not one of the server.N lines (ids from 1)",
			       (long long)c->myid);
	rc = own_client_address(c, errbuf, errlen);
	if (rc)
		return rc;
	rc = groups_and_weights(c, errbuf, errlen);
	if (rc)
		return rc;
	rc = metrics_provider(c, errbuf, errlen);
	if (rc)
		return rc;
	rc = admin_server(c, errbuf, errlen);
	if (rc)
		return rc;
	if (c->log_format && strcmp(c->log_format, "text") && strcmp(c->log_format, "json"))
		return cfg_err(errbuf, errlen, "logFormat=%s: expected text or json",
			       c->log_format);
	c->log_json = c->log_format && !strcmp(c->log_format, "json");
	if (c->cluster_secret_file)
		return read_secret(c, errbuf, errlen);
	return 0;
}

const char *config_get(const struct qfs_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_kv; i++)
		if (!strcmp(c->kv[i].key, key))
			return c->kv[i].value;
	return NULL;
}
