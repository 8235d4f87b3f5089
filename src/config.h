/*
 * config.h - the daemon's configuration: ZooKeeper's zoo.cfg syntax plus
 * quorumfs's own keys, from a file and from -o KEY=VALUE overrides.
 *
 * Every key is kept, in order, with where it came from (file:line or "-o"),
 * so the conf four-letter word can show them. Unknown keys are reported at
 * load time (a warning naming the file and line), never silently dropped.
 * Options given with -o that are FUSE mount options (allow_other, ro, ...) are
 * collected in fuse_opts instead.
 */
#ifndef QFS_CONFIG_H
#define QFS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct qfs_server_cfg {
	int64_t id;
	char *host;
	int peer_port;
	int election_port;
	int observer;
	char *client_host; /* after ';' in server.N, or NULL */
	int client_port;
	uint32_t group;	 /* group.X naming it (0: none) */
	uint32_t weight; /* weight.N (1 when not given) */
};

/*
 * One entry of mountUserMap: a local user (uid) or group (gid) that has a
 * ZooKeeper identity in the mount. scheme is "digest", "ip" or "sasl" with
 * ident as an ACL names it ("alice:BASE64", "10.1.1.1", "bob"), or "super"
 * (every right) or "mount" (the mount's own identities, mountAuth) with
 * ident "". See quorumfs.conf(5).
 */
struct qfs_user_map {
	int is_group; /* gid:N rather than uid:N */
	uint32_t id;
	char *scheme;
	char *ident;
};

struct qfs_kv {
	char *key;
	char *value;
	char *origin; /* "zoo.cfg:12" or "-o" */
};

struct qfs_config {
	/* ZooKeeper keys */
	int tick_ms;
	int init_limit;
	int sync_limit;
	char *data_dir;
	char *data_log_dir;
	int client_port; /* 0: no client port */
	char *client_port_address;
	int max_client_cnxns;
	int min_session_timeout_ms;
	int max_session_timeout_ms;
	int snap_retain_count;	/* autopurge.snapRetainCount */
	int purge_interval_h;	/* autopurge.purgeInterval */
	int64_t snap_count;	/* snapCount */
	char *four_lw_whitelist; /* 4lw.commands.whitelist */
	int32_t jute_maxbuffer;
	int force_sync;
	int64_t myid;
	struct qfs_server_cfg *servers;
	size_t n_servers;
	/* quorumfs keys */
	char *mount_auth;		/* mountAuth: identities of the mount */
	struct qfs_user_map *user_map;	/* mountUserMap, parsed */
	size_t n_user_map;
	int mount_session_timeout_ms;	/* mountSessionTimeout */
	int mount_replay_limit;		/* mountReplayLimit: 0 = none */
	int repair;			/* repair=yes: cut a torn log tail */
	int64_t container_check_ms;	/* containerCheckInterval */
	char *super_digest;		/* superDigest=super:base64 */
	char *sasl_users;		/* saslUsers=user:password;... (DIGEST-MD5) */
	int client_max_outstanding;	/* clientMaxOutstanding: per connection */
	int client_max_watches;		/* clientMaxWatches: per connection */
	char *cluster_name;		/* clusterName: peers must name the same */
	char *cluster_secret_file;	/* clusterSecretFile: the peers' shared secret */
	int reconfig_enabled;		/* reconfigEnabled: ZooKeeper's reconfig allowed */
	char *dynamic_config_file;	/* dynamicConfigFile: server.N lines kept apart */
	char *archive_dir;		/* archiveDir: the continuous archive, or NULL */
	int64_t archive_interval_ms;	/* archiveInterval: ms between archive passes */
	char *metrics_class;		/* metricsProvider.className */
	char *metrics_host;		/* metricsProvider.httpHost (NULL: all) */
	int metrics_port;		/* metricsProvider.httpPort (7000) */
	char *log_format;		/* logFormat: text (default) or json */
	int admin_enable;		/* admin.enableServer: 1, 0, or -1 unset */
	char *admin_host;		/* admin.serverAddress (NULL: all) */
	int admin_port;			/* admin.serverPort (8080) */
	char *admin_url;		/* admin.commandURL (NULL: /commands) */
	char *servers_from;		/* the file the server lines came from, when not
					   the main one (dataDir/zoo.cfg.dynamic, ...) */
	/* Derived by config_finish. */
	uint8_t *cluster_secret; /* the file's bytes (trailing newline cut) */
	size_t cluster_secret_len;
	int quorum_kind; /* 0 majority, 1 weight.N only, 2 group.X (hierarchical) */
	int metrics_enabled; /* className names the Prometheus provider */
	int admin_enabled;   /* the AdminServer is served (admin_server()) */
	int log_json;	     /* logFormat=json */
	/* FUSE mount options collected from -o */
	char *fuse_opts;
	/* every key as given, in order */
	struct qfs_kv *kv;
	size_t n_kv;
};

/* Defaults for a standalone daemon. */
void config_init(struct qfs_config *c);
void config_free(struct qfs_config *c);

/* Read a zoo.cfg-style file. Returns 0 or -errno / -EINVAL with a message
 * (file:line: what) in errbuf. */
int config_load_file(struct qfs_config *c, const char *path, char *errbuf, size_t errlen);

/* Apply "-o" options: a comma-separated list of KEY=VALUE (config keys) and
 * FUSE mount options. Returns 0 or -EINVAL with a message. */
int config_apply_opts(struct qfs_config *c, const char *opts, char *errbuf, size_t errlen);

/* Check and derive (session timeout bounds from tickTime, myid from
 * dataDir/myid and that it is a server.N, groups and weights, the cluster
 * secret from its file, ...). Returns 0 or -EINVAL with a message. */
int config_finish(struct qfs_config *c, char *errbuf, size_t errlen);

/* Is this key's value a secret that must never be printed (conf, logs,
 * error messages)? Marked once in config.c's key table (CFG_SECRET); keys
 * quorumfs does not know count as secret when their name says password,
 * passwd or secret. */
int config_key_is_secret(const char *key);

/* The value of a key as given, or NULL. Borrowed. */
const char *config_get(const struct qfs_config *c, const char *key);

#endif
