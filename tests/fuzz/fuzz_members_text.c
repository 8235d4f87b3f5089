/*
 * fuzz_members_text.c - libFuzzer target for a reconfig's member list,
 * which a client with the right to reconfigure sends over the wire: its
 * server entries (members_text_server) and its quorum lines
 * (members_text_quorum: group.X=, weight.N=, version=).
 *
 * Server entries: the whole text, as one entry, is taken or refused; a
 * taken one, written out again in ZooKeeper's form, parses to the same
 * fields.
 *
 * Properties: any text (cut at the first NUL) is taken or refused with a
 * reason, never a crash; what is taken is a valid membership
 * (cons_membership_check), every participant of a hierarchical one in a
 * group and no observer in one; and it renders (members_text_render) to
 * text that parses back to the same quorum system, groups and weights.
 * The members: 1..7, the last two observers. Seeds:
 * tests/fuzz/corpus/members_text/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "members_text.h"
#include "serverspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_MEMBERS   7
#define N_OBSERVERS 2

static void members(struct cons_membership *m)
{
	memset(m, 0, sizeof(*m));
	m->n = N_MEMBERS;
	for (unsigned i = 0; i < N_MEMBERS; i++)
		m->m[i] = (struct cons_member){
		    .id = i + 1, .observer = i >= N_MEMBERS - N_OBSERVERS, .weight = 1};
}

static void server_round_trip(const char *entry)
{
	struct mt_server a, b;
	char again[1200], why[320], host[sizeof(a.host) + 2];
	int n;

	if (members_text_server(entry, &a, 0x7fffffffL, why, sizeof(why)) != 0)
		return;
	if (strlen(a.host) >= sizeof(a.host) || strlen(a.client) >= sizeof(a.client) ||
	    !a.id || a.peer_port < 1 || a.peer_port > 65535 || a.election_port < 1 ||
	    a.election_port > 65535)
		abort();
	n = snprintf(again, sizeof(again), "server.%u=%s:%d:%d:%s%s%s", a.id,
		     serverspec_host(a.host, host, sizeof(host)),
		     a.peer_port, a.election_port, a.observer ? "observer" : "participant",
		     a.client[0] ? ";" : "", a.client);
	if (n < 0 || (size_t)n >= sizeof(again))
		abort();
	if (members_text_server(again, &b, 0x7fffffffL, why, sizeof(why)) != 0 || a.id != b.id ||
	    strcmp(a.host, b.host) || a.peer_port != b.peer_port ||
	    a.election_port != b.election_port || strcmp(a.client, b.client) ||
	    a.observer != b.observer)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cons_membership m, back;
	char why[256], text[4096], *list = malloc(size + 1);
	size_t off = 0;

	if (!list)
		return 0;
	memcpy(list, data, size);
	list[size] = 0;
	server_round_trip(list);
	members(&m);
	why[0] = 0;
	if (members_text_quorum(&m, list, why, sizeof(why)) != 0) {
		if (!why[0] || !memchr(why, 0, sizeof(why)))
			abort(); /* refused without a reason */
		free(list);
		return 0;
	}
	free(list);
	if (cons_membership_check(&m) != 0)
		abort();
	for (unsigned i = 0; i < m.n; i++)
		if (m.quorum == QUORUM_HIERARCHICAL &&
		    (m.m[i].observer ? m.m[i].group != 0 : m.m[i].group == 0))
			abort();
	text[0] = 0; /* a majority renders nothing */
	if (members_text_render(&m, text, sizeof(text), &off) != 0 || off >= sizeof(text))
		abort();
	members(&back);
	if (members_text_quorum(&back, text, why, sizeof(why)) != 0 || back.quorum != m.quorum)
		abort();
	for (unsigned i = 0; i < m.n; i++)
		if (back.m[i].group != m.m[i].group || back.m[i].weight != m.m[i].weight)
			abort();
	return 0;
}
