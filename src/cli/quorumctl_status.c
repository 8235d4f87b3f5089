/*
 * quorumctl_status.c - `status`: the whole ensemble as a table, one row a
 * member (mode, epoch, last zxid, lag behind the leader, clients), from the
 * srvr and mntr four-letter words (each a plain TCP exchange: send the word,
 * read until the server closes). The members are the servers of -s, or the
 * server.N lines of a zoo.cfg given with -c. Only ZooKeeper's own field names
 * are read, so it works against Apache ZooKeeper too.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonstr.h"
#include "quorumctl.h"
#include "serverspec.h"

#define FLW_MAX	    (256 * 1024)
#define FLW_TIMEOUT 5

/* One server asked; the answers are owned here (freed by the command). */
struct member {
	int64_t id; /* server.N's N, when from a config */
	char addr[256];
	int observer;
	int err;    /* 0, or why srvr got no answer */
	char *srvr; /* NULL: unreachable */
	char *mntr; /* NULL: not answered */
	char mode[32];
	uint64_t zxid;
	int has_zxid;
	long long epoch; /* mntr's zk_epoch (quorumfs), or -1: the zxid's */
	char clients[16];
	char note[96]; /* why a server that answers does not serve */
};

static int four_letter(const char *hostport, const char *word, char **out)
{
	return ctl_four_letter(hostport, word, FLW_TIMEOUT, FLW_MAX, out);
}

/* The value after "key" and a ':' or tab in a 4lw answer, up to the line's
 * end, into val; 0 when found. */
static int field(const char *text, const char *key, char *val, size_t len)
{
	size_t k = strlen(key);
	const char *p = text, *e;

	while (p && *p) {
		if (!strncmp(p, key, k) && (p[k] == ':' || p[k] == '\t')) {
			p += k + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			e = strchr(p, '\n');
			snprintf(val, len, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static void show(const char *label, const char *text, const char *key)
{
	char v[256];

	if (text && !field(text, key, v, sizeof(v)))
		printf("  %-18s %s\n", label, v);
}

/* The mntr key counting a leader's learners (followers and observers):
 * zk_learners since ZooKeeper 3.5, zk_followers in 3.4. */
static const char *learners_key(const char *mntr)
{
	return mntr && strstr(mntr, "zk_learners") ? "zk_learners" : "zk_followers";
}

/* -v: every field of one server, as srvr and mntr give them. */
static void detail_one(const struct member *m)
{
	printf("%s:\n", m->addr);
	if (!m->srvr) {
		printf("  unreachable (%s)\n", strerror(-m->err));
		return;
	}
	if (m->note[0]) {
		printf("  not serving: %s\n", m->note);
		return;
	}
	show("version", m->srvr, "Zookeeper version");
	show("mode", m->srvr, "Mode");
	show("zxid", m->srvr, "Zxid");
	show("nodes", m->srvr, "Node count");
	show("connections", m->srvr, "Connections");
	show("outstanding", m->srvr, "Outstanding");
	show("latency min/avg/max", m->srvr, "Latency min/avg/max");
	show("received", m->srvr, "Received");
	show("sent", m->srvr, "Sent");
	if (m->mntr) {
		show("watches", m->mntr, "zk_watch_count");
		show("ephemerals", m->mntr, "zk_ephemerals_count");
		show("data size", m->mntr, "zk_approximate_data_size");
		show("open fds", m->mntr, "zk_open_file_descriptor_count");
		show("learners", m->mntr, learners_key(m->mntr));
		show("synced followers", m->mntr, "zk_synced_followers");
		show("synced observers", m->mntr, "zk_synced_observers");
		show("apply failures", m->mntr, "zk_apply_failures");
		show("last apply failure", m->mntr, "zk_last_apply_failure_zxid");
	} else {
		printf("  (mntr not answered: allow it in 4lw.commands.whitelist)\n");
	}
}

/* Ask one member: srvr (mode, zxid, connections, as every ZooKeeper since 3.3
 * answers it), then mntr (zk_server_state, zk_last_zxid when srvr lacks
 * them, and the leader's learners and synced followers and observers). */
static void ask(struct member *m)
{
	char v[256];

	m->err = four_letter(m->addr, "srvr", &m->srvr);
	if (m->err)
		return;
	if (!strstr(m->srvr, "Mode:")) {
		/* ZooKeeper without a quorum says "This ZooKeeper instance is
		 * not currently serving requests"; one that closes at once
		 * does not allow srvr */
		const char *why =
		    m->srvr[0] ? m->srvr
			       : "no answer to srvr (not in 4lw.commands.whitelist?)";

		snprintf(m->mode, sizeof(m->mode), "not-serving");
		snprintf(m->note, sizeof(m->note), "%.*s", (int)strcspn(why, "\n"), why);
		return;
	}
	if (four_letter(m->addr, "mntr", &m->mntr) || !strstr(m->mntr, "zk_")) {
		free(m->mntr);
		m->mntr = NULL;
	}
	if (!field(m->srvr, "Mode", v, sizeof(v)) ||
	    (m->mntr && !field(m->mntr, "zk_server_state", v, sizeof(v))))
		snprintf(m->mode, sizeof(m->mode), "%.31s", v);
	if (!field(m->srvr, "Zxid", v, sizeof(v)) ||
	    (m->mntr && !field(m->mntr, "zk_last_zxid", v, sizeof(v)))) {
		m->zxid = strtoull(v, NULL, 0);
		m->has_zxid = 1;
	}
	m->epoch = -1;
	if (m->mntr && !field(m->mntr, "zk_epoch", v, sizeof(v)))
		m->epoch = strtoll(v, NULL, 10);
	if (!field(m->srvr, "Connections", v, sizeof(v)) ||
	    (m->mntr && !field(m->mntr, "zk_num_alive_connections", v, sizeof(v))))
		snprintf(m->clients, sizeof(m->clients), "%.15s", v);
}

/* One server.N line of a zoo.cfg: "N=host:peer:elec[:role][;[chost:]cport]"
 * after "server." (serverspec.h parses the part after '='). The client
 * address, when the line has one, goes to out; otherwise host with the
 * file's clientPort. 0, or -1 with the reason in why when not parsable. */
static int server_line(const char *line, const char *client_port, int64_t *id, char *out,
		       size_t outlen, int *observer, char *why, size_t wl)
{
	struct serverspec spec;
	char h[SERVERSPEC_HOST_MAX + 2];
	const char *eq = strchr(line, '='), *host;
	char *end;
	int n;

	snprintf(why, wl, "no client port (the line has none, the file no clientPort)");
	*id = strtoll(line, &end, 10);
	if (end == line || !eq || end != eq) {
		snprintf(why, wl, "expected server.N=");
		return -1;
	}
	if (serverspec_parse(eq + 1, &spec, why, wl))
		return -1;
	*observer = spec.observer;
	/* ZooKeeper writes 0.0.0.0 for "every address": ask the host */
	host = spec.client_host[0] && strcmp(spec.client_host, "0.0.0.0") ? spec.client_host
									 : spec.host;
	serverspec_host(host, h, sizeof(h));
	if (spec.has_client)
		n = snprintf(out, outlen, "%s:%d", h, spec.client_port);
	else if (client_port)
		n = snprintf(out, outlen, "%s:%s", h, client_port);
	else
		return -1;
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(why, wl, "the client address is too long");
		return -1;
	}
	return 0;
}

/* The members of the ensemble a zoo.cfg describes: its server.N lines; a
 * file without them is one standalone server at clientPortAddress:clientPort. */
static int members_from_config(const char *path, struct member **out, size_t *n)
{
	char line[512], port[32] = "", addr[256] = "127.0.0.1", *v, why[320];
	struct member *ms = NULL, *grown;
	size_t count = 0;
	FILE *f;
	int pass;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "quorumctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* pass 0 finds clientPort (it may follow the server lines), pass 1
	 * the servers */
	for (pass = 0; pass < 2; pass++) {
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = 0;
			v = strchr(line, '=');
			if (!v)
				continue;
			v++;
			if (pass == 0 && !strncmp(line, "clientPort=", 11))
				snprintf(port, sizeof(port), "%s", v);
			else if (pass == 0 && !strncmp(line, "clientPortAddress=", 18))
				snprintf(addr, sizeof(addr), "%s", v);
			if (pass == 1 && !strncmp(line, "server.", 7)) {
				grown = realloc(ms, (count + 1) * sizeof(*ms));
				if (!grown)
					goto out_nomem;
				ms = grown;
				memset(&ms[count], 0, sizeof(*ms));
				if (server_line(line + 7, port[0] ? port : NULL,
						&ms[count].id, ms[count].addr,
						sizeof(ms[count].addr),
						&ms[count].observer, why, sizeof(why))) {
					fprintf(stderr,
						"quorumctl: %s: cannot read '%s': %s\n",
						path, line, why);
					continue;
				}
				count++;
			}
		}
	}
	fclose(f);
	if (!count) {
		if (!port[0]) {
			fprintf(stderr,
				"quorumctl: %s: no server.N lines and no clientPort\n",
				path);
			free(ms);
			return -1;
		}
		ms = calloc(1, sizeof(*ms));
		if (!ms)
			return -1;
		snprintf(ms->addr, sizeof(ms->addr), "%s:%s", addr, port);
		count = 1;
	}
	*out = ms;
	*n = count;
	return 0;
out_nomem:
	fclose(f);
	free(ms);
	return -1;
}

static int members_from_hosts(const char *hosts, struct member **out, size_t *n)
{
	char *copy, *h, *save;
	struct member *ms = NULL, *grown;
	size_t count = 0;

	copy = strdup(hosts);
	if (!copy)
		return -1;
	for (h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		grown = realloc(ms, (count + 1) * sizeof(*ms));
		if (!grown) {
			free(ms);
			free(copy);
			return -1;
		}
		ms = grown;
		memset(&ms[count], 0, sizeof(*ms));
		snprintf(ms[count].addr, sizeof(ms[count].addr), "%s", h);
		count++;
	}
	free(copy);
	*out = ms;
	*n = count;
	return 0;
}

/* Who answers and who leads, for the table and the JSON alike. */
struct summary {
	const struct member *leader; /* when exactly one says leader */
	size_t up, leaders;
};

static void summarize(const struct member *ms, size_t n, struct summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < n; i++) {
		if (ms[i].srvr && !ms[i].note[0])
			sum->up++;
		if (ms[i].srvr && !strcmp(ms[i].mode, "leader")) {
			sum->leaders++;
			sum->leader = &ms[i];
		}
	}
	if (sum->leaders != 1)
		sum->leader = NULL;
}

/*
 * A member's lag behind the leader, in transactions, when both are in the
 * same epoch (across epochs a zxid difference counts nothing). Returns 1
 * with *lag set, or 0 with why in text ("old-epoch", "ahead", or "-" when
 * there is no single leader or no zxid); text is set in both cases.
 */
static int lag_of(const struct member *m, const struct summary *sum, unsigned long long *lag,
		  char *text, size_t len)
{
	const struct member *l = sum->leader;

	snprintf(text, len, "-");
	if (!m->has_zxid || !l || !l->has_zxid)
		return 0;
	if (l->zxid >> 32 != m->zxid >> 32) {
		snprintf(text, len, "old-epoch");
		return 0;
	}
	if (l->zxid < m->zxid) {
		snprintf(text, len, "ahead");
		return 0;
	}
	*lag = (unsigned long long)(l->zxid - m->zxid);
	snprintf(text, len, "%llu", *lag);
	return 1;
}

static unsigned long long epoch_of(const struct member *m)
{
	return m->epoch >= 0 ? (unsigned long long)m->epoch
			     : (unsigned long long)(m->zxid >> 32);
}

/* The table: one row a member; lag is the leader's last zxid minus the
 * member's, in transactions, when both are in the same epoch (across epochs
 * a zxid difference counts nothing, so the row says which epoch it is in). */
static void table(struct member *ms, size_t n, int with_ids)
{
	struct summary sum;
	const struct member *leader;
	size_t i;
	unsigned long long lagn;
	char lag[32], epoch[24], zxid[24];

	summarize(ms, n, &sum);
	leader = sum.leader;
	printf("%-3s %-22s %-10s %6s %-19s %8s %7s\n", "id", "server", "mode", "epoch",
	       "last zxid", "lag", "clients");
	for (i = 0; i < n; i++) {
		const struct member *m = &ms[i];
		char id[24] = "-";

		if (with_ids && m->id > 0)
			snprintf(id, sizeof(id), "%lld", (long long)m->id);
		if (!m->srvr) {
			printf("%-3s %-22s %-10s %6s %-19s %8s %7s  (%s)\n", id, m->addr,
			       "down", "-", "-", "-", "-", strerror(-m->err));
			continue;
		}
		snprintf(epoch, sizeof(epoch), "-");
		snprintf(zxid, sizeof(zxid), "-");
		lag_of(m, &sum, &lagn, lag, sizeof(lag));
		if (m->has_zxid) {
			snprintf(epoch, sizeof(epoch), "%llu", epoch_of(m));
			snprintf(zxid, sizeof(zxid), "0x%llx",
				 (unsigned long long)m->zxid);
		}
		printf("%-3s %-22s %-10s %6s %-19s %8s %7s\n", id, m->addr,
		       m->mode[0] ? m->mode : "?", epoch, zxid, lag,
		       m->clients[0] ? m->clients : "?");
	}
	if (leader) {
		char f[64] = "", sf[64] = "", so[64] = "";

		if (leader->mntr) {
			/* zk_synced_followers counts only the voting ones */
			field(leader->mntr, learners_key(leader->mntr), f, sizeof(f));
			field(leader->mntr, "zk_synced_followers", sf, sizeof(sf));
			field(leader->mntr, "zk_synced_observers", so, sizeof(so));
		}
		printf("leader: %s", leader->addr);
		if (with_ids && leader->id > 0)
			printf(" (server.%lld)", (long long)leader->id);
		if (f[0]) {
			printf(", %s learner%s (%s follower%s", f, strcmp(f, "1") ? "s" : "",
			       sf[0] ? sf : "?", strcmp(sf, "1") ? "s" : "");
			if (so[0] && strcmp(so, "0") != 0)
				printf(" and %s observer%s", so, strcmp(so, "1") ? "s" : "");
			printf(" synced)");
		}
		printf("; %zu of %zu servers answer\n", sum.up, n);
	} else if (sum.leaders > 1) {
		printf(
		    "%zu servers say leader: an ensemble split, or a stale leader that "
		    "has not yet stepped down; %zu of %zu servers answer\n",
		    sum.leaders, sum.up, n);
	} else if (n == 1 && sum.up == 1 && !strcmp(ms[0].mode, "standalone")) {
		printf("a standalone server\n");
	} else {
		printf("no leader among the servers that answer (%zu of %zu)\n", sum.up, n);
	}
	/* Committed entries a member skipped: its tree may differ. */
	for (size_t k = 0; k < n; k++) {
		char af[32] = "", az[32] = "";

		if (!ms[k].mntr ||
		    field(ms[k].mntr, "zk_apply_failures", af, sizeof(af)) ||
		    !strcmp(af, "0"))
			continue;
		field(ms[k].mntr, "zk_last_apply_failure_zxid", az, sizeof(az));
		printf("warning: %s skipped %s committed entr%s it could not apply (the "
		       "last %s): its tree may differ; see APPLY FAILURES in "
		       "quorumfs(8)\n",
		       ms[k].addr, af, strcmp(af, "1") ? "ies" : "y", az[0] ? az : "?");
	}
}

/* A JSON string, quoted and escaped: member addresses come from the
 * command line or a file, notes from whatever answered. */
static void jstr(const char *s)
{
	char out[1024];

	json_escape(out, sizeof(out), s);
	printf("\"%s\"", out);
}

/* v as a JSON number, or null when it is not a decimal integer. */
static void jnum(const char *v)
{
	char *end;
	long long n = v ? strtoll(v, &end, 10) : 0;

	if (!v || end == v || *end)
		printf("null");
	else
		printf("%lld", n);
}

/* A number from a 4lw field, or null when the server did not give it. */
static void jnum_field(const char *text, const char *key)
{
	char v[64];

	jnum(text && !field(text, key, v, sizeof(v)) ? v : NULL);
}

/*
 * -j: the table's facts as one JSON object, for scripts and health checks.
 * Every server has the same keys (null where the table prints "-"); a zxid
 * is a "0x..." string, since JSON numbers lose precision past 2^53.
 */
static void json_out(struct member *ms, size_t n, int with_ids)
{
	struct summary sum;
	char lag[32];

	summarize(ms, n, &sum);
	printf("{\"servers\":[");
	for (size_t i = 0; i < n; i++) {
		const struct member *m = &ms[i];
		unsigned long long lagn;
		int has_lag = lag_of(m, &sum, &lagn, lag, sizeof(lag));

		printf("%s{\"id\":", i ? "," : "");
		if (with_ids && m->id > 0)
			printf("%lld", (long long)m->id);
		else
			printf("null");
		printf(",\"server\":");
		jstr(m->addr);
		printf(",\"mode\":");
		jstr(!m->srvr ? "down" : m->mode[0] ? m->mode : "?");
		printf(",\"epoch\":");
		if (m->srvr && m->has_zxid)
			printf("%llu,\"last_zxid\":\"0x%llx\"", epoch_of(m),
			       (unsigned long long)m->zxid);
		else
			printf("null,\"last_zxid\":null");
		printf(",\"lag\":");
		if (has_lag)
			printf("%llu", lagn);
		else
			printf("null");
		printf(",\"lag_note\":");
		if (!has_lag && strcmp(lag, "-"))
			jstr(lag);
		else
			printf("null");
		printf(",\"clients\":");
		jnum(m->srvr && m->clients[0] ? m->clients : NULL);
		printf(",\"apply_failures\":");
		jnum_field(m->mntr, "zk_apply_failures");
		printf(",\"error\":");
		if (!m->srvr)
			jstr(strerror(-m->err));
		else if (m->note[0])
			jstr(m->note);
		else
			printf("null");
		printf("}");
	}
	printf("],\"leader\":");
	if (sum.leader) {
		printf("{\"server\":");
		jstr(sum.leader->addr);
		printf(",\"id\":");
		if (with_ids && sum.leader->id > 0)
			printf("%lld", (long long)sum.leader->id);
		else
			printf("null");
		/* "followers" is the learners' count, kept under its first
		 * name: ZooKeeper 3.4's zk_followers, 3.5+'s zk_learners. */
		printf(",\"followers\":");
		jnum_field(sum.leader->mntr, learners_key(sum.leader->mntr));
		printf(",\"synced_followers\":");
		jnum_field(sum.leader->mntr, "zk_synced_followers");
		printf(",\"synced_observers\":");
		jnum_field(sum.leader->mntr, "zk_synced_observers");
		printf("}");
	} else {
		printf("null");
	}
	printf(",\"leaders\":%zu,\"answering\":%zu,\"servers_total\":%zu}\n",
	       sum.leaders, sum.up, n);
}

int ctl_cmd_status(struct ctl *x, int argc, char **argv)
{
	const char *config = NULL;
	struct member *ms = NULL;
	size_t n = 0, i;
	int rc = CTL_EXIT_OK, opt, verbose = 0, json = 0;

	while ((opt = getopt(argc, argv, "c:vj")) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			fprintf(stderr, "usage: quorumctl status [-c CONFIG] [-v | -j]\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (argc - optind != 0 || (verbose && json)) {
		fprintf(stderr, "usage: quorumctl status [-c CONFIG] [-v | -j]\n");
		return CTL_EXIT_USAGE;
	}
	if (config ? members_from_config(config, &ms, &n)
		   : members_from_hosts(x->hosts, &ms, &n))
		return config ? CTL_EXIT_USAGE : CTL_EXIT_CONNECT;
	for (i = 0; i < n; i++) {
		ask(&ms[i]);
		if (!ms[i].srvr || ms[i].note[0])
			rc = CTL_EXIT_CONNECT;
	}
	if (verbose)
		for (i = 0; i < n; i++)
			detail_one(&ms[i]);
	else if (json)
		json_out(ms, n, config != NULL);
	else
		table(ms, n, config != NULL);
	for (i = 0; i < n; i++) {
		free(ms[i].srvr);
		free(ms[i].mntr);
	}
	free(ms);
	return rc;
}
