/*
 * zks_serve.c - the client-protocol server alone, without the FUSE mount:
 * a core on DATADIR and zk_server_start on 127.0.0.1:PORT, until SIGTERM or
 * SIGINT. For the compatibility scripts when only the protocol is under
 * test, and for running them before the daemon links the server.
 *
 *   zks_serve DATADIR PORT [SUPERDIGEST]
 *
 * SASL DIGEST-MD5 users from $ZKS_SASL_USERS ("user:password,..."), by
 * default the ones kazoo's SASL tests use. All four-letter words are allowed; the session
 * clock ticks every 200 ms so sessions may be as short as 400 ms (kazoo's expiry tests).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core.h"
#include "log.h"
#include "zks.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
	struct qcore_opts co;
	struct zk_server_opts zo;
	struct event_base *base;
	struct event *sigterm, *sigint;
	struct qcore *core;
	struct zk_server *zks;
	char err[256];
	int rc = 1;

	if (argc < 3) {
		fprintf(stderr, "usage: zks_serve DATADIR PORT [SUPERDIGEST]\n");
		return 2;
	}
	log_init("zks_serve", 1, getenv("QFS_DEBUG") != NULL);
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		fatalx("event_base_new failed");
	memset(&co, 0, sizeof(co));
	co.base = base;
	co.data_dir = argv[1];
	co.server_id = 1;
	co.tick_ms = 200;
	co.min_session_timeout_ms = 400;
	co.max_session_timeout_ms = 60000;
	co.snap_retain = 3;
	co.snap_count = 100000;
	if (qcore_open(&co, &core, err, sizeof(err)) != 0)
		fatalx("%s", err);
	memset(&zo, 0, sizeof(zo));
	zo.address = "127.0.0.1";
	zo.port = atoi(argv[2]);
	zo.max_buffer = 1024 * 1024;
	zo.four_letter_whitelist = "*";
	zo.super_digest = argc > 3 ? argv[3] : NULL;
	/* The DIGEST-MD5 users kazoo's SASL tests expect (its JAAS file). */
	zo.sasl_users = getenv("ZKS_SASL_USERS")
			    ? getenv("ZKS_SASL_USERS")
			    : "super:super_secret,jaasuser:jaas_password";
	if (zk_server_start(core, base, &zo, &zks, err, sizeof(err)) != 0) {
		log_warnx("%s", err);
		goto out_core;
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	log_info("zks_serve: listening on 127.0.0.1:%d", zk_server_port(zks));
	event_base_dispatch(base);
	event_free(sigterm);
	event_free(sigint);
	zk_server_stop(zks);
	rc = 0;
out_core:
	qcore_close(core);
	event_base_free(base);
	return rc;
}
