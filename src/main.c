/*
 * main.c - the quorumfs daemon: configuration, the loop, and the order in
 * which the parts start and stop.
 *
 *   quorumfs [-f] [-d] [-o KEY=VALUE[,...]] [CONFIG] MOUNTPOINT
 *
 * Start: config -> core (recovers the tree from disk) -> client port ->
 * mount. Only when the mount is live does a backgrounded daemon let its
 * parent exit 0, so `quorumfs ... && ls MOUNTPOINT` works and mount(8) sees
 * failures. Stop (SIGTERM, SIGINT, or the mount going away): close the mount's
 * session (its ephemerals go, with their events), stop serving clients,
 * unmount, flush and close the storage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "acl.h"
#include "config.h"
#include "core.h"
#include "fs.h"
#include "log.h"
#include "serverspec.h"
#include "zks.h"

struct daemon {
	struct qfs_config cfg;
	struct event_base *base;
	struct qcore *core;
	struct zk_server *zks;
	struct qfs_mount *mount;
	struct zauth mount_auth;
	struct event *sigterm, *sigint;
	int stopping;
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: quorumfs [-f] [-d] [-o KEY=VALUE[,...]] [CONFIG] MOUNTPOINT\n"
		     "       quorumfs -V | --version\n"
		     "       quorumfs -h | --help\n"
		     "  -f  stay in the foreground      -d  debug log to stderr\n"
		     "  -o  zoo.cfg keys (dataDir=, clientPort=, ...) and FUSE mount options\n"
		     "  -V  print the version and exit  -h  print this help and exit\n"
		     "See quorumfs(8) and quorumfs.conf(5).\n");
}

/* mountAuth=digest:user:password,ip:10.0.0.1,super : the mount's identities. */
static int parse_mount_auth(const char *spec, struct zauth *a, char *errbuf, size_t errlen)
{
	char *copy, *p, *tok;
	int rc = 0;

	if (zauth_add(a, "ip", "127.0.0.1") < 0)
		return -ENOMEM;
	if (!spec)
		return 0;
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	/* ';' separates entries, since ',' separates -o options. */
	for (p = copy; rc == 0 && (tok = strsep(&p, ";")) != NULL;) {
		if (!*tok)
			continue;
		if (!strcmp(tok, "super")) {
			a->super = 1;
		} else if (!strncmp(tok, "digest:", 7) && strchr(tok + 7, ':')) {
			char *d = acl_digest(tok + 7);

			rc = d ? zauth_add(a, "digest", d) : -ENOMEM;
			free(d);
		} else if (!strncmp(tok, "ip:", 3) && tok[3]) {
			rc = zauth_add(a, "ip", tok + 3);
		} else {
			/* The entry may hold a password: name its scheme only. */
			snprintf(errbuf, errlen,
				 "mountAuth: an entry of scheme '%.*s': expected "
				 "digest:USER:PASSWORD, ip:ADDR or super",
				 (int)strcspn(tok, ":"), tok);
			rc = -EINVAL;
		}
	}
	free(copy);
	return rc;
}

/*
 * Second half of a stop, from a fresh loop turn (qcore_quiesce may not run
 * inside a completion): finish every write still in flight while the mount
 * and the client port can still take their replies, then stop both.
 */
static void daemon_finish(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	qcore_quiesce(d->core);
	if (d->zks) {
		zk_server_stop(d->zks);
		d->zks = NULL;
	}
	if (d->mount) {
		qfs_mount_stop(d->mount);
		d->mount = NULL;
	}
	event_base_loopexit(d->base, NULL);
}

static void on_session_closed(void *arg)
{
	struct daemon *d = arg;

	if (event_base_once(d->base, -1, EV_TIMEOUT, daemon_finish, d, NULL) < 0)
		fatalx("cannot schedule the shutdown");
}

static void daemon_stop(struct daemon *d, const char *why)
{
	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("stopping: %s", why);
	if (d->mount)
		qfs_mount_close_session(d->mount, on_session_closed, d);
	else
		on_session_closed(d);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	daemon_stop(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_unmounted(void *arg)
{
	daemon_stop(arg, "the mount was removed");
}

/*
 * Detach from the terminal. The parent waits on a pipe until the child says
 * the mount is up (a "0" byte) or sends its error text, so failures reach the
 * shell that started us.
 */
static int daemonize(int *notify_fd)
{
	int p[2];
	pid_t pid;
	char msg[512];
	ssize_t n;

	if (pipe(p) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		if (n == 1 && msg[0] == 0)
			_exit(0);
		if (n > 0) {
			msg[n] = 0;
			fprintf(stderr, "quorumfs: %s\n", msg);
		} else {
			fprintf(stderr, "quorumfs: the daemon exited during startup\n");
		}
		_exit(1);
	}
	close(p[0]);
	setsid();
	*notify_fd = p[1];
	return 0;
}

static void notify_parent(int fd, const char *err)
{
	int null;

	if (fd < 0)
		return;
	if (err) {
		if (write(fd, err, strlen(err)) < 0)
			log_warn("startup pipe");
		close(fd);
		return;
	}
	if (write(fd, "", 1) < 0)
		log_warn("startup pipe");
	close(fd);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
}

/*
 * The type of the topmost mount at abs (an absolute path as /proc shows it)
 * from /proc/self/mountinfo, into type; 1 if there is one, 0 if abs is not
 * a mount point. Mount points are octal-escaped there (\040 for a space).
 */
static int mount_type_at(const char *abs, char *type, size_t len)
{
	char line[8192], mp[PATH_MAX], *f, *sep;
	FILE *mi = fopen("/proc/self/mountinfo", "re");
	int found = 0, i;
	size_t o;

	if (!mi)
		return 0;
	while (fgets(line, sizeof(line), mi)) {
		/* id parent maj:min root MOUNTPOINT opts ... - TYPE source ... */
		f = line;
		for (i = 0; i < 4 && f; i++)
			f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
		sep = strstr(line, " - ");
		if (!f || !sep)
			continue;
		for (o = 0; *f && *f != ' ' && o + 1 < sizeof(mp); o++) {
			if (f[0] == '\\' && f[1] >= '0' && f[1] <= '3' && f[2] && f[3]) {
				mp[o] = (char)((f[1] - '0') * 64 + (f[2] - '0') * 8 +
					       (f[3] - '0'));
				f += 4;
			} else {
				mp[o] = *f++;
			}
		}
		mp[o] = '\0';
		if (strcmp(mp, abs) != 0)
			continue;
		snprintf(type, len, "%s", sep + 3);
		type[strcspn(type, " ")] = '\0';
		found = 1; /* later lines are mounted on top: keep the last */
	}
	fclose(mi);
	return found;
}

/*
 * Before mounting at mountpoint (the dataDir lock is already ours). A
 * quorumfs mount whose daemon died (kill -9, a crash) stays behind and
 * answers ENOTCONN ("Transport endpoint is not connected") until it is
 * unmounted: that one is detached (umount2 MNT_DETACH, or fusermount3 -u -z
 * when not root) so that this start can mount again, unattended. ENOTCONN
 * means no process serves that connection any more, so nothing live is
 * cut. A live quorumfs mount there (another daemon, with another dataDir:
 * one with ours would have been refused by the lock) is refused, never
 * unmounted or mounted over. Returns 0 or a negative errno with err set.
 */
static int take_over_stale_mount(const char *mountpoint, char *err, size_t errlen)
{
	char abs[PATH_MAX], dir[PATH_MAX], type[64], *base;
	struct stat st;
	size_t l;
	pid_t pid;
	int status, rc;

	/* The path as mountinfo spells it: realpath() of the directory that
	 * holds the mount point (the mount point itself cannot be resolved
	 * while it is dead), then its name. */
	snprintf(dir, sizeof(dir), "%s", mountpoint);
	for (l = strlen(dir); l > 1 && dir[l - 1] == '/'; l--)
		dir[l - 1] = '\0';
	base = strrchr(dir, '/');
	if (base) {
		*base++ = '\0';
		rc = realpath(*dir ? dir : "/", abs) != NULL;
	} else {
		base = dir;
		rc = realpath(".", abs) != NULL;
	}
	if (!rc || snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "%s%s",
			    strcmp(abs, "/") ? "/" : "",
			    base) >= (int)(sizeof(abs) - strlen(abs)))
		return 0; /* realpath() in start() will say what is wrong */
	if (stat(mountpoint, &st) == 0) {
		if (realpath(mountpoint, abs) && mount_type_at(abs, type, sizeof(type)) &&
		    strcmp(type, "fuse.quorumfs") == 0) {
			snprintf(
			    err, errlen,
			    "mountpoint %.400s is already mounted by a running quorumfs "
			    "daemon (with another dataDir); stop that one first, or "
			    "choose another mountpoint",
			    abs);
			return -EBUSY;
		}
		return 0;
	}
	if (errno != ENOTCONN)
		return 0;
	if (!mount_type_at(abs, type, sizeof(type)) ||
	    strcmp(type, "fuse.quorumfs") != 0) {
		snprintf(err, errlen,
			 "mountpoint %.400s: %s, and it is not a quorumfs mount (%s): "
			 "unmount it first",
			 abs, strerror(ENOTCONN),
			 mount_type_at(abs, type, sizeof(type)) ? type : "none");
		return -ENOTCONN;
	}
	log_warnx("mountpoint %s: a quorumfs mount left by a daemon that died (%s); "
		  "detaching it to mount again",
		  abs, strerror(ENOTCONN));
	rc = umount2(abs, MNT_DETACH);
	if (rc < 0 && (errno == EPERM || errno == EACCES)) {
		/* Not root: fusermount3 is setuid and lets the mount's owner. */
		pid = fork();
		if (pid == 0) {
			execlp("fusermount3", "fusermount3", "-u", "-z", "--", abs,
			       (char *)NULL);
			_exit(127);
		}
		rc = -1;
		if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			rc = 0;
		errno = EPERM;
	}
	if (rc < 0 || stat(mountpoint, &st) < 0) {
		rc = -errno;
		snprintf(
		    err, errlen,
		    "mountpoint %.400s: %s, and detaching the dead quorumfs mount there "
		    "failed (%s): run fusermount3 -u -z %.400s",
		    abs, strerror(ENOTCONN), strerror(-rc), abs);
		return rc;
	}
	return 0;
}

#ifdef QFS_ALLOW_MUTANT
#include <pthread.h>

static void *stuck_main(void *arg)
{
	struct stat st;
	sigset_t all;

	/* Signals stay with the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* In a directory of its own: the stuck lookup holds its parent's
	 * lock, and the rest of the mount stays usable. */
	if (mkdir(arg, 0755) < 0 && errno != EEXIST)
		log_warn("%s", (char *)arg);
	strcat(arg, "/.qfs-test-unanswered");
	stat(arg, &st); /* never returns while the daemon lives */
	free(arg);
	return NULL;
}
#endif

static int start(struct daemon *d, const char *mountpoint, int debug, char *err,
		 size_t errlen)
{
	char *sasl_users = NULL;
	struct qcore_opts co = {0};
	struct qcore_member *members = NULL;
	char *clients = NULL; /* the members' client addresses, 300 bytes each */
	struct qfs_mount_opts mo = {0};
	char host[256], owner[PATH_MAX + 300], real[PATH_MAX];
	int rc;

	if (mkdir(d->cfg.data_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "dataDir %s: %s", d->cfg.data_dir, strerror(errno));
		return -errno;
	}
	co.base = d->base;
	co.data_dir = d->cfg.data_dir;
	co.server_id = d->cfg.myid;
	co.snap_count = d->cfg.snap_count;
	co.snap_retain = d->cfg.snap_retain_count;
	co.purge_interval_h = d->cfg.purge_interval_h;
	co.min_session_timeout_ms = d->cfg.min_session_timeout_ms;
	co.max_session_timeout_ms = d->cfg.max_session_timeout_ms;
	co.tick_ms = d->cfg.tick_ms;
	co.force_sync = d->cfg.force_sync;
	co.repair = d->cfg.repair;
	co.container_check_ms = d->cfg.container_check_ms;
	co.reconfig_enabled = d->cfg.reconfig_enabled;
	co.archive_dir = d->cfg.archive_dir;
	co.archive_interval_ms = d->cfg.archive_interval_ms;
#ifdef QFS_ALLOW_MUTANT
	/* Only in tests/chaos/quorumfs_mutant, a test build. */
	if (getenv("QUORUMFS_MUTANT"))
		co.mutant = atoi(getenv("QUORUMFS_MUTANT"));
#endif
	/* Standalone too: the dataDir's CLUSTER file is checked against it. */
	co.cluster_name = d->cfg.cluster_name;
	/* server.N lines: an ensemble (one line naming myid alone is a
	 * one-member ensemble, as standalone is). */
	if (d->cfg.n_servers > 0) {
		if (d->cfg.servers_from)
			log_info("the ensemble's members from %s", d->cfg.servers_from);
		members = calloc(d->cfg.n_servers, sizeof(*members));
		clients = calloc(d->cfg.n_servers, 300);
		if (!members || !clients) {
			free(members);
			free(clients);
			return -ENOMEM;
		}
		for (size_t i = 0; i < d->cfg.n_servers; i++) {
			const struct qfs_server_cfg *s = &d->cfg.servers[i];

			members[i] = (struct qcore_member){.id = s->id,
							   .observer = s->observer,
							   .group = s->group,
							   .weight = s->weight,
							   .host = s->host,
							   .peer_port = s->peer_port,
							   .election_port = s->election_port,
							   .client = clients + 300 * i};
			if (s->client_port) {
				char ch[SERVERSPEC_HOST_MAX + 2];

				snprintf(clients + 300 * i, 300, "%s:%d",
					 serverspec_host(s->client_host ? s->client_host
									: "0.0.0.0",
							 ch, sizeof(ch)),
					 s->client_port);
			}
		}
		co.members = members;
		co.n_members = d->cfg.n_servers;
		co.quorum = d->cfg.quorum_kind == 2   ? QCORE_QUORUM_HIERARCHICAL
			    : d->cfg.quorum_kind == 1 ? QCORE_QUORUM_WEIGHTED
						      : QCORE_QUORUM_MAJORITY;
		co.cluster_secret = d->cfg.cluster_secret;
		co.cluster_secret_len = d->cfg.cluster_secret_len;
		co.init_limit = d->cfg.init_limit;
		co.sync_limit = d->cfg.sync_limit;
	}
	rc = qcore_open(&co, &d->core, err, errlen);
	free(members);
	free(clients);
	if (rc < 0)
		return rc;

	/* Without a client port (a host that only mounts) the server still
	 * runs, with no listener, when it has metrics or admin commands to
	 * serve. */
	if (d->cfg.client_port || d->cfg.metrics_enabled || d->cfg.admin_enabled) {
		/* saslUsers separates users with ';' (',' separates -o items);
		 * the server takes ','. */
		if (d->cfg.sasl_users) {
			sasl_users = strdup(d->cfg.sasl_users);
			if (!sasl_users)
				return -ENOMEM;
			for (char *p = sasl_users; *p; p++)
				if (*p == ';')
					*p = ',';
		}
		struct zk_server_opts zo = {
			.address = d->cfg.client_port_address,
			.port = d->cfg.client_port,
			.no_clients = !d->cfg.client_port,
			.max_client_cnxns = d->cfg.max_client_cnxns,
			.max_buffer = d->cfg.jute_maxbuffer,
			.four_letter_whitelist = d->cfg.four_lw_whitelist,
			.super_digest = d->cfg.super_digest,
			.sasl_users = sasl_users,
			.max_outstanding = d->cfg.client_max_outstanding,
			.max_watches = d->cfg.client_max_watches,
			.metrics_host = d->cfg.metrics_host,
			.metrics_port = d->cfg.metrics_enabled ? d->cfg.metrics_port : 0,
			.admin_host = d->cfg.admin_host,
			.admin_port = d->cfg.admin_enabled ? d->cfg.admin_port : 0,
			.admin_url = d->cfg.admin_url,
			.cfg = &d->cfg,
		};

		rc = zk_server_start(d->core, d->base, &zo, &d->zks, err, errlen);
		free(sasl_users);
		if (rc < 0)
			return rc;
	}

	rc = parse_mount_auth(d->cfg.mount_auth, &d->mount_auth, err, errlen);
	if (rc < 0)
		return rc;
	rc = take_over_stale_mount(mountpoint, err, errlen);
	if (rc < 0)
		return rc;
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	if (!realpath(mountpoint, real)) {
		rc = -errno;
		snprintf(err, errlen, "mountpoint %s: %s", mountpoint, strerror(errno));
		return rc;
	}
	snprintf(owner, sizeof(owner), "%s%s", host, real);
	mo.mountpoint = real;
	mo.fuse_opts = d->cfg.fuse_opts;
	mo.auth = &d->mount_auth;
	mo.user_map = d->cfg.user_map;
	mo.n_user_map = d->cfg.n_user_map;
	mo.session_timeout_ms = d->cfg.mount_session_timeout_ms;
	mo.replay_limit = (size_t)d->cfg.mount_replay_limit;
	mo.owner = owner;
	mo.debug = debug > 1;
	mo.on_unmounted = on_unmounted;
	mo.arg = d;
#ifndef QFS_ALLOW_MUTANT
	return qfs_mount_start(d->core, d->base, &mo, &d->mount, err, errlen);
#else
	/* Only in tests/chaos/quorumfs_mutant: a thread of this daemon stuck
	 * in a request on its own mount, which only an abort of the FUSE
	 * connection ends once the daemon is killed (tests/fs/killed.sh). */
	if (getenv("QUORUMFS_TEST_STUCK"))
		mo.test_unanswered = ".qfs-test-unanswered";
	mo.test_no_watchdog = getenv("QUORUMFS_TEST_NO_WATCHDOG") != NULL;
	if (getenv("QUORUMFS_TEST_REPLAY_DELAY_MS"))
		mo.test_replay_delay_ms = atoi(getenv("QUORUMFS_TEST_REPLAY_DELAY_MS"));
	rc = qfs_mount_start(d->core, d->base, &mo, &d->mount, err, errlen);
	if (rc == 0 && mo.test_unanswered) {
		char *path = malloc(strlen(real) + 64);
		pthread_t t;

		if (!path)
			return -ENOMEM;
		sprintf(path, "%s/stuck", real);
		if (pthread_create(&t, NULL, stuck_main, path) == 0)
			pthread_detach(t);
	}
	return rc;
#endif
}

/* GNU-style long forms of -h and -V, as every other tool has. */
static const struct option longopts[] = {
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct daemon d = {0};
	char err[1024] = "";
	const char *config_path = NULL, *mountpoint;
	int foreground = 0, debug = 0, notify_fd = -1, c, rc;
	char **opts = calloc((size_t)argc + 1, sizeof(char *));
	int n_opts = 0;

	if (!opts)
		return 1;
	config_init(&d.cfg);
	while ((c = getopt_long(argc, argv, "fdo:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = 1;
			break;
		case 'd':
			debug++;
			break;
		case 'o':
			opts[n_opts++] = optarg;
			break;
		case 'V':
			printf("quorumfs %s\n", PACKAGE_VERSION);
			goto out_usage;
		case 'h':
			usage(stdout);
			goto out_usage;
		default:
			usage(stderr);
			d.exit_code = 2;
			goto out_usage;
		}
	}
	if (argc - optind == 2) {
		config_path = argv[optind];
		mountpoint = argv[optind + 1];
	} else if (argc - optind == 1) {
		mountpoint = argv[optind];
	} else {
		usage(stderr);
		d.exit_code = 2;
		goto out_usage;
	}
	log_init("quorumfs", foreground || debug, debug);
	log_echo_stderr(!foreground && !debug);

	if (config_path && (rc = config_load_file(&d.cfg, config_path, err, sizeof(err))) < 0)
		goto fail;
	for (int i = 0; i < n_opts; i++)
		if ((rc = config_apply_opts(&d.cfg, opts[i], err, sizeof(err))) < 0)
			goto fail;
	if ((rc = config_finish(&d.cfg, err, sizeof(err))) < 0)
		goto fail;
	log_set_json(d.cfg.log_json, (long)d.cfg.myid);

	if (!foreground && daemonize(&notify_fd) < 0) {
		snprintf(err, sizeof(err), "fork: %s", strerror(errno));
		goto fail;
	}
	signal(SIGPIPE, SIG_IGN);
	/* The storage writer and replay threads wake the loop with event_active. */
	evthread_use_pthreads();
	d.base = event_base_new();
	if (!d.base) {
		snprintf(err, sizeof(err), "event_base_new failed");
		goto fail;
	}
	if (start(&d, mountpoint, debug, err, sizeof(err)) < 0)
		goto fail;
	d.sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
	if (!d.sigterm || !d.sigint || evsignal_add(d.sigterm, NULL) < 0 ||
	    evsignal_add(d.sigint, NULL) < 0) {
		snprintf(err, sizeof(err), "cannot install signal handlers");
		goto fail;
	}
	log_info("quorumfs %s: %s mounted, data in %s, client port %d", PACKAGE_VERSION,
		 mountpoint, d.cfg.data_dir, d.cfg.client_port);
	notify_parent(notify_fd, NULL);
	notify_fd = -1;
	log_echo_stderr(0); /* detached: syslog alone */

	event_base_dispatch(d.base);

	if (d.zks)
		zk_server_stop(d.zks);
	if (d.mount)
		qfs_mount_stop(d.mount);
	qcore_close(d.core);
	event_free(d.sigterm);
	event_free(d.sigint);
	event_base_free(d.base);
	zauth_free(&d.mount_auth);
	config_free(&d.cfg);
	free(opts);
	log_info("stopped");
	return d.exit_code;
fail:
	log_echo_stderr(0); /* said once, below or by the parent */
	log_warnx("%s", err);
	if (notify_fd >= 0)
		notify_parent(notify_fd, err);
	else if (!foreground && !debug)
		fprintf(stderr, "quorumfs: %s\n", err);
	if (d.core)
		qcore_quiesce(d.core);
	if (d.mount)
		qfs_mount_stop(d.mount);
	if (d.zks)
		zk_server_stop(d.zks);
	if (d.core)
		qcore_close(d.core);
	if (d.base)
		event_base_free(d.base);
	zauth_free(&d.mount_auth);
	config_free(&d.cfg);
	free(opts);
	return 1;
out_usage:
	config_free(&d.cfg);
	free(opts);
	return d.exit_code;
}
