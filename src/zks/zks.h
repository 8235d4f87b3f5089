/*
 * zks.h - the ZooKeeper client-protocol server on clientPort.
 *
 * Speaks the binary protocol of ZooKeeper 3.4 to 3.9 clients (the records
 * of jute.h) and the four-letter words, on the daemon's libevent loop:
 * reads are answered from qcore_tree(), writes go through qcore_submit(),
 * sessions are the core's, and watches fire from qcore_subscribe(), so a
 * change made through the FUSE mount fires protocol watches too. The
 * private structure and the file map are in zks_int.h.
 */
#ifndef QFS_ZKS_H
#define QFS_ZKS_H

#include <stdint.h>

struct event_base;
struct qcore;
struct qfs_config;
struct zk_server;

struct zk_server_opts {
	const char *address;		   /* clientPortAddress; NULL = all */
	int port;			   /* clientPort */
	/* clientPort=0 in the configuration: no listener and no clients; the
	 * server runs for its metrics and admin endpoints alone. */
	int no_clients;
	int max_client_cnxns;		   /* per IP; 0 = unlimited (maxClientCnxns) */
	int32_t max_buffer;		   /* jute.maxbuffer: largest frame accepted */
	const char *four_letter_whitelist; /* 4lw.commands.whitelist, "*" = all */
	const char *super_digest;	   /* "super:base64hash" or NULL */
	/* Users of SASL DIGEST-MD5, "user:password,..." (ZooKeeper's JAAS
	 * DigestLoginModule user_NAME entries), or NULL: SASL refused. */
	const char *sasl_users;
	/* Per connection: requests queued before its socket is no longer read
	 * (0: 1000), and watches held (0: 100000). */
	int max_outstanding;
	int max_watches;
	/* Prometheus metrics (zks_metrics.c) on metrics_host (NULL: all
	 * addresses) : metrics_port; 0: none. */
	const char *metrics_host;
	int metrics_port;
	/* ZooKeeper's admin commands (zks_admin.c) on admin_host (NULL: all
	 * addresses) : admin_port under admin_url (NULL: /commands); port 0:
	 * none. */
	const char *admin_host;
	int admin_port;
	const char *admin_url;
	/* The whole configuration, for the conf and envi words. */
	const struct qfs_config *cfg;
};

/*
 * Listen on opts->address:opts->port (not with no_clients) and serve
 * clients. The strings of opts
 * are copied; opts->cfg is borrowed and must outlive the server; core and
 * base are borrowed. Subscribes to the core's changes until
 * zk_server_stop. Returns 0 and *out, or a negative
 * errno (-EADDRINUSE, -EINVAL for a bad address, -ENOMEM) with the reason in
 * errbuf.
 */
int zk_server_start(struct qcore *core, struct event_base *base,
		    const struct zk_server_opts *opts, struct zk_server **out,
		    char *errbuf, size_t errlen);
/* The port actually listened on (clientPort=0 in opts picks a free one,
 * for tests). */
int zk_server_port(const struct zk_server *s);
/* Close every connection (sessions stay, as a restart would leave them) and
 * the listener. Call before qcore_close: requests still in the core complete
 * into closed connections. s must not be used afterwards. */
void zk_server_stop(struct zk_server *s);

#endif
