/*
 * quorumctl.c - the command-line client: option parsing, the connection,
 * running one request to completion, and the command table.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "quorumctl.h"
#include "txn.h"
#include "zerr.h"

#define CTL_CONNECT_TIMEOUT_S 10
/* The largest reply frame accepted: the largest log entry's size. */
#define CTL_MAX_REPLY (64 << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: quorumctl [-s HOST[:PORT][,...]] [--auth SCHEME:CREDENTIALS]\n"
		   "                 COMMAND [ARGS...]\n"
		   "       quorumctl -h | --help\n"
		   "       quorumctl -V | --version\n"
		   "  -s  servers (default $QUORUMCTL_SERVER, else 127.0.0.1:2181;\n"
		   "      a HOST without :PORT means port 2181)\n"
		   "  --auth  add an identity to the session, e.g. digest:USER:PASSWORD\n"
		   "      (default $QUORUMCTL_AUTH)\n"
		   "commands:\n"
		   "  get PATH\n"
		   "  set [--version N] PATH DATA\n"
		   "  create [-e] [-s] [-c] [--ttl MS] PATH [DATA]\n"
		   "  delete [--version N] PATH\n"
		   "  ls PATH\n"
		   "  stat PATH\n"
		   "  getacl PATH\n"
		   "  setacl [--version N] PATH ACL\n"
		   "  watch [-r] [-n COUNT] PATH\n"
		   "  multi FILE\n"
		   "  status [-c CONFIG] [-v]\n"
		   "  members list|add SPEC|remove N...|promote N|demote N|set ENTRY...\n"
		   "  leader transfer N\n"
		   "  backup [--force] FILE\n"
		   "  mirror [--once] [--keep] [--rescan S] [--from-auth SCHEME:CRED]\n"
		   "         SOURCE [PATH [TO]]\n");
}

int ctl_parse_int(const char *opt, const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "quorumctl: %s: bad number '%s'\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Does the server of x's session say "Mode: removed" (srvr)? The session
 * cannot tell why it is read-only; a reconfig that removed the server is
 * the one cause its own answer names. 0 when it cannot be asked (srvr not
 * in 4lw.commands.whitelist, gone). */
static int removed(struct ctl *x)
{
	const char *hp = x->zk ? zkc_server(x->zk) : NULL;
	char *out = NULL;
	int yes;

	if (!hp || ctl_four_letter(hp, "srvr", 2, 64 * 1024, &out) < 0)
		return 0;
	yes = strstr(out, "\nMode: removed\n") != NULL;
	free(out);
	return yes;
}

int ctl_zk_fail(struct ctl *x, const char *what, int err)
{
	if (err == ZCONNECTIONLOSS || err == ZSESSIONEXPIRED || err == ZCLOSING) {
		fprintf(stderr, "quorumctl: %s: %s (%s)\n", what, zerr_str(err),
			x->zk ? zkc_error(x->zk) : "");
		return CTL_EXIT_CONNECT;
	}
	if (err == ZNOTREADONLY && removed(x)) {
		fprintf(stderr,
			"quorumctl: %s: server is read-only: it was removed from the "
			"ensemble (quorumctl members list names the members); reads "
			"still work\n",
			what);
		return CTL_EXIT_ZK;
	}
	if (err == ZNOTREADONLY) {
		/* A read-only session: the server could not log a new session
		 * (its disk is full or failing, or it has no quorum). */
		fprintf(stderr,
			"quorumctl: %s: server is read-only: it cannot write now "
			"(its disk is full or failing, or it has no quorum; its log says "
			"which); reads still work\n",
			what);
		return CTL_EXIT_ZK;
	}
	fprintf(stderr, "quorumctl: %s: %s\n", what, zerr_str(err));
	return CTL_EXIT_ZK;
}

static void on_state(void *arg, enum zkc_state st)
{
	struct ctl *x = arg;

	if (st == ZKC_CONNECTED)
		x->connected = 1;
	else if (st == ZKC_LOST || st == ZKC_EXPIRED)
		x->lost = 1;
}

static void on_watch(void *arg, const struct jute_watcher_event *ev)
{
	struct ctl *x = arg;

	if (x->on_watch)
		x->on_watch(x, ev);
}

struct auth_wait {
	int done, err;
};

static void auth_done(void *arg, const struct zkc_reply *r)
{
	struct auth_wait *a = arg;

	a->done = 1;
	a->err = r->err;
}

static int ctl_auth(struct ctl *x);

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/*
 * --auth: one auth packet after the session is up, waited for, so that the
 * command's requests carry the identity. A refusal is reported as such
 * (the server closes the connection after it).
 */
static int ctl_auth(struct ctl *x)
{
	struct auth_wait a = {0, 0};
	const char *colon;
	char scheme[64];

	if (!x->auth)
		return 0;
	colon = strchr(x->auth, ':');
	if ((size_t)(colon - x->auth) >= sizeof(scheme)) {
		fprintf(stderr, "quorumctl: --auth: scheme too long\n");
		return CTL_EXIT_USAGE;
	}
	snprintf(scheme, sizeof(scheme), "%.*s", (int)(colon - x->auth), x->auth);
	if (zkc_add_auth(x->zk, scheme, colon + 1, auth_done, &a) < 0) {
		fprintf(stderr, "quorumctl: --auth: %s\n", zkc_error(x->zk));
		return CTL_EXIT_CONNECT;
	}
	while (!a.done)
		event_base_loop(x->base, EVLOOP_ONCE);
	if (a.err == ZOK)
		return 0;
	if (a.err == ZAUTHFAILED) {
		/* The identity is not printed: it holds a password. */
		fprintf(stderr,
			"quorumctl: --auth: the server refused the %s "
			"credentials (ZAUTHFAILED; its log says why)\n",
			scheme);
		x->lost = 1;
		return CTL_EXIT_ZK;
	}
	return ctl_zk_fail(x, "--auth", a.err);
}

int ctl_connect(struct ctl *x)
{
	struct zkc_opts o;
	struct timeval tv = {CTL_CONNECT_TIMEOUT_S, 0};
	struct event *timer;
	char err[256];
	int timed_out = 0;

	memset(&o, 0, sizeof(o));
	o.hosts = x->hosts;
	o.timeout_ms = 30000;
	/* A reply may be larger than a client's usual 1 MiB: a child list
	 * of many long names, a value written with a large jute.maxbuffer.
	 * An operator's tool reads it rather than reconnect over it forever
	 * (mirror did). */
	o.max_buffer = CTL_MAX_REPLY;
	/* Reads keep working on a server that cannot write (full disk, no
	 * quorum): it gives a read-only session (ctl_zk_fail explains). */
	o.read_only = 1;
	o.watch = on_watch;
	o.state = on_state;
	o.arg = x;
	if (zkc_new(x->base, &o, &x->zk, err, sizeof(err))) {
		/* err names the server already */
		fprintf(stderr, "quorumctl: %s\n", err);
		return CTL_EXIT_CONNECT;
	}
	timer = evtimer_new(x->base, on_timeout, &timed_out);
	if (!timer) {
		fprintf(stderr, "quorumctl: out of memory\n");
		return CTL_EXIT_CONNECT;
	}
	evtimer_add(timer, &tv);
	while (!x->connected && !x->lost && !timed_out)
		event_base_loop(x->base, EVLOOP_ONCE);
	event_free(timer);
	if (x->connected)
		return ctl_auth(x);
	if (timed_out)
		fprintf(stderr, "quorumctl: %s: no session within %d s\n", x->hosts,
			CTL_CONNECT_TIMEOUT_S);
	else
		fprintf(stderr, "quorumctl: %s\n", zkc_error(x->zk));
	return CTL_EXIT_CONNECT;
}

struct call {
	struct ctl *x;
	ctl_print_fn print;
	void *arg;
	int done;
	int err;
};

static void call_done(void *arg, const struct zkc_reply *r)
{
	struct call *c = arg;

	c->done = 1;
	c->err = r->err;
	if (c->print)
		c->print(c->x, r, c->arg);
}

int ctl_call(struct ctl *x, int32_t op, const void *body, ctl_print_fn print, void *arg)
{
	struct call c = {.x = x, .print = print, .arg = arg};
	int rc;

	rc = zkc_submit(x->zk, op, body, call_done, &c);
	if (rc < 0)
		return ZCONNECTIONLOSS;
	while (!c.done)
		event_base_loop(x->base, EVLOOP_ONCE);
	return c.err;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	((struct ctl *)arg)->interrupted = 1;
}

int ctl_signals_on(struct ctl *x)
{
	static const int sigs[2] = {SIGINT, SIGTERM};

	for (int i = 0; i < 2; i++) {
		x->sig_ev[i] = evsignal_new(x->base, sigs[i], on_signal, x);
		if (!x->sig_ev[i] || evsignal_add(x->sig_ev[i], NULL) < 0) {
			fprintf(stderr, "quorumctl: cannot catch signals: out of memory\n");
			ctl_signals_off(x);
			return CTL_EXIT_CONNECT;
		}
	}
	return 0;
}

void ctl_signals_off(struct ctl *x)
{
	for (int i = 0; i < 2; i++) {
		if (x->sig_ev[i])
			event_free(x->sig_ev[i]);
		x->sig_ev[i] = NULL;
	}
}

static const struct {
	const char *name;
	int (*fn)(struct ctl *x, int argc, char **argv);
	int needs_session;
} commands[] = {
    {"get", ctl_cmd_get, 1},	   {"set", ctl_cmd_set, 1},
    {"create", ctl_cmd_create, 1}, {"delete", ctl_cmd_delete, 1},
    {"ls", ctl_cmd_ls, 1},	   {"stat", ctl_cmd_stat, 1},
    {"getacl", ctl_cmd_getacl, 1}, {"setacl", ctl_cmd_setacl, 1},
    {"watch", ctl_cmd_watch, 1},   {"multi", ctl_cmd_multi, 1},
    {"status", ctl_cmd_status, 0},
    {"members", ctl_cmd_members, 0},
    {"leader", ctl_cmd_leader, 0},
    {"backup", ctl_cmd_backup, 1},
    {"mirror", ctl_cmd_mirror, 1},
};

/*
 * A usage error, not an unreachable server, for a malformed -s list: each
 * entry is HOST, HOST:PORT, [V6ADDR] or [V6ADDR]:PORT with PORT 1..65535
 * (a missing port is 2181, as ZooKeeper's connect strings).
 */
static int ctl_check_hosts(const char *hosts)
{
	const char *p = hosts, *e;

	if (!*hosts) {
		fprintf(stderr, "quorumctl: -s: empty server list\n");
		return -1;
	}
	/* Up to the end, not to the last comma: "a:1," ends in an empty
	 * entry. */
	for (;; p = e + 1) {
		const char *colon, *close;
		char port[8];
		int64_t v;
		size_t n;

		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		close = p[0] == '[' ? memchr(p, ']', n) : NULL;
		if (!n) {
			fprintf(stderr, "quorumctl: -s: an empty entry in '%s'\n",
				hosts);
			return -1;
		}
		if (p[0] == '[' && !close) {
			fprintf(stderr, "quorumctl: -s: bad server '%.*s'\n", (int)n, p);
			return -1;
		}
		colon =
		    memrchr(close ? close : p, ':', (size_t)(e - (close ? close : p)));
		if (colon) { /* else the default port */
			if (colon == p || (size_t)(e - colon - 1) >= sizeof(port)) {
				fprintf(stderr, "quorumctl: -s: bad server '%.*s'\n",
					(int)n, p);
				return -1;
			}
			snprintf(port, sizeof(port), "%.*s", (int)(e - colon - 1),
				 colon + 1);
			if (ctl_parse_int("-s port", port, 1, 65535, &v) < 0)
				return -1;
		}
		if (!*e)
			return 0;
	}
}

static const struct option longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"auth", required_argument, NULL, 'a'},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	struct ctl x;
	size_t i;
	int opt, rc;

	memset(&x, 0, sizeof(x));
	x.hosts = getenv("QUORUMCTL_SERVER");
	if (!x.hosts)
		x.hosts = "127.0.0.1:2181";
	x.auth = getenv("QUORUMCTL_AUTH");
	if (x.auth && !*x.auth)
		x.auth = NULL;
	/* "+": stop at the command, whose own options follow it. */
	while ((opt = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			x.hosts = optarg;
			break;
		case 'a':
			x.auth = optarg;
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("quorumctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	x.hosts_given = x.hosts;
	if (ctl_check_hosts(x.hosts) < 0)
		return CTL_EXIT_USAGE;
	if (x.auth &&
	    (!strchr(x.auth, ':') || x.auth[0] == ':' || !strchr(x.auth, ':')[1])) {
		fprintf(stderr, "quorumctl: --auth: expected SCHEME:CREDENTIALS, "
				"e.g. digest:USER:PASSWORD\n");
		return CTL_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, argv[optind]) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "quorumctl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	/* A peer that closes on us must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	x.base = event_base_new();
	if (!x.base) {
		fprintf(stderr, "quorumctl: cannot create an event loop\n");
		return CTL_EXIT_CONNECT;
	}
	argc -= optind;
	argv += optind;
	optind = 1; /* the command parses its own options from argv[0] on */
	if (commands[i].needs_session) {
		rc = ctl_connect(&x);
		if (rc)
			goto out;
	}
	rc = commands[i].fn(&x, argc, argv);
	if (x.zk && !x.lost)
		ctl_call(&x, ZOP_CLOSESESSION, NULL, NULL, NULL);
out:
	zkc_free(x.zk);
	event_base_free(x.base);
	return rc;
}
