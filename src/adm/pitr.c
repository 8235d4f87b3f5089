/*
 * pitr.c - point-in-time recovery from a continuous archive (pitr.h).
 *
 * Times are the transactions' own (txn_time: fixed by the leader when it
 * prepared them), so a restore "to 14:02" means: every transaction the
 * leader stamped at or before 14:02, in log order, and nothing from the
 * first one stamped later. A leader's clock that went back across a leader
 * change could interleave times; the cut is then at the first transaction
 * after T in log order (never a hole in the middle of the log).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive_seg.h"
#include "buf.h"
#include "cons.h"
#include "core_format.h"
#include "pitr.h"
#include "snapshot.h"
#include "txn.h"
#include "zerr.h"

/* The first entry any cluster writes: epoch 1's EPOCH entry. A segment
 * starting with it needs no snapshot: the empty tree is its base. */
#define PITR_GENESIS zxid_make(1, 0)

void adm_fmt_time_ms(int64_t ms, char *buf, size_t len)
{
	time_t tt = (time_t)(ms / 1000);
	struct tm tm;
	char s[40];

	if (ms <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "unknown");
		return;
	}
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", s, (int)(ms % 1000));
}

static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -EINVAL;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

int adm_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0, oh, om = 0, sign;
	const char *p = s;
	struct tm tm;
	time_t t;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -EINVAL;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -EINVAL;
	if (*p == '.' || *p == ',') {
		int n = 0, scale = 100;

		p++;
		while (*p >= '0' && *p <= '9') {
			if (n++ < 3) {
				frac += (*p - '0') * scale;
				scale /= 10;
			}
			p++;
		}
		if (!n)
			return -EINVAL;
	}
	if (*p == 'Z' || *p == 'z') {
		sign = 0;
		oh = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh))
			return -EINVAL;
		if (*p == ':')
			p++;
		if (*p && digits(&p, 2, &om))
			return -EINVAL;
	} else {
		return -EINVAL; /* no zone: ambiguous */
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		return -EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	t -= (time_t)sign * (oh * 3600 + om * 60);
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

/* A CE_TXN entry's time, or 0 for any other entry. */
static int64_t rec_time(const struct archive_rec *e)
{
	struct ztxn *txn;
	int64_t t;

	if (!core_entry_is_txn(e->type, e->data, e->len))
		return 0;
	if (txn_decode(e->data + CORE_ENTRY_HDR, e->len - CORE_ENTRY_HDR, &txn) != ZOK)
		return 0;
	t = txn_time(txn);
	txn_free(txn);
	return t;
}

/*
 * By time: the zxid of the last entry before the first transaction stamped
 * after tg->time_ms. Reads only the segments' headers up to the one that
 * holds that transaction (tmax in each header), then that one.
 */
static int find_cut(const char *dir, const struct archive_file *f, size_t nf,
		    struct pitr_target *tg, struct pitr_report *r, char *errbuf,
		    size_t errlen)
{
	struct archive_seg s;
	char when[64];
	size_t i;
	int rc;

	for (i = 0; i < nf; i++) {
		rc = archive_seg_header(dir, f[i].name, &s, errbuf, errlen);
		if (rc)
			return rc;
		if (s.tmax > tg->time_ms)
			break;
		if (s.tmax)
			r->last_time = s.tmax;
	}
	if (i < nf) {
		/* The one holding the cut is read (and verified) whole. */
		rc = archive_seg_load(dir, f[i].name, &s, errbuf, errlen);
		if (rc)
			return rc;
	}
	if (i == nf) {
		adm_fmt_time_ms(r->last_time, when, sizeof(when));
		snprintf(errbuf, errlen,
			 "%s: the newest archived transaction (%s, the archive ends at "
			 "0x%" PRIx64 ") is before the time asked for: the archive may "
			 "not hold everything up to it (is the daemon still archiving?); "
			 "--to-zxid 0x%" PRIx64 " restores to the archive's end",
			 dir, when, (uint64_t)f[nf - 1].last, (uint64_t)f[nf - 1].last);
		return -ERANGE;
	}
	for (uint64_t k = 0; k < s.count; k++) {
		int64_t t = rec_time(&s.recs[k]);

		if (t > tg->time_ms) {
			r->next_time = t;
			r->next_zxid = s.recs[k].zxid;
			if (k)
				tg->zxid = s.recs[k - 1].zxid;
			else if (i)
				tg->zxid = f[i - 1].last;
			else
				tg->zxid = 0;
			break;
		}
	}
	archive_seg_free(&s);
	if (!tg->zxid) {
		adm_fmt_time_ms(r->next_time, when, sizeof(when));
		snprintf(errbuf, errlen,
			 "%s: the time asked for is before the archive's first "
			 "transaction (%s, zxid 0x%" PRIx64 ")",
			 dir, when, (uint64_t)r->next_zxid);
		return -ERANGE;
	}
	return 0;
}

/* Apply one archived entry to t; *tm gets its transaction time (0 for an
 * entry that is no transaction). */
static int apply_rec(struct tree *t, const struct archive_rec *e, int64_t *tm,
		     const char *file, char *errbuf, size_t errlen)
{
	struct zresult res;
	struct ztxn *txn = NULL;
	int rc;

	*tm = 0;
	if (!core_entry_is_txn(e->type, e->data, e->len)) {
		tree_set_last_zxid(t, e->zxid);
		return 0;
	}
	memset(&res, 0, sizeof(res));
	rc = txn_decode(e->data + CORE_ENTRY_HDR, e->len - CORE_ENTRY_HDR, &txn);
	if (rc == ZOK && txn_zxid(txn) != e->zxid)
		rc = ZDATAINCONSISTENCY;
	if (rc == ZOK) {
		*tm = txn_time(txn);
		rc = tree_apply(t, NULL, txn, &res);
	}
	zresult_free(&res);
	if (txn)
		txn_free(txn);
	if (rc != ZOK) {
		snprintf(errbuf, errlen,
			 "%s: entry 0x%" PRIx64 " does not apply to the tree (%s): the "
			 "archive does not belong to this snapshot",
			 file, (uint64_t)e->zxid, zerr_str(rc));
		return -EBADMSG;
	}
	return 0;
}

int adm_pitr_build(const char *dir, const struct pitr_target *tgt, struct progress *pr,
		   struct tree **out, struct pitr_report *r, char *errbuf, size_t errlen)
{
	struct archive_file *f = NULL;
	struct pitr_target tg = *tgt;
	struct archive_seg s;
	struct tree *t = NULL;
	zxid_t *snaps = NULL, prev, base, next = 0;
	char path[4400], gapfile[64] = "";
	int reached = 0;
	size_t nf = 0, ns = 0, i;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = archive_list(dir, &f, &nf);
	if (!rc)
		rc = snapshot_list(dir, &snaps, &ns);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", dir, strerror(-rc));
		goto out;
	}
	if (nf == 0 && ns == 0) {
		snprintf(errbuf, errlen,
			 "%s: no archived snapshot or log segment (not an "
			 "archive directory?)",
			 dir);
		rc = -ENOENT;
		goto out;
	}
	if (tg.by_time) {
		if (nf == 0) {
			snprintf(errbuf, errlen,
				 "%s: no log segment: times cannot be found", dir);
			rc = -ENOENT;
			goto out;
		}
		rc = find_cut(dir, f, nf, &tg, r, errbuf, errlen);
		if (rc)
			goto out;
	} else if ((nf ? f[nf - 1].last : 0) < tg.zxid && (ns ? snaps[0] : 0) < tg.zxid) {
		snprintf(errbuf, errlen,
			 "%s: the archive ends at 0x%" PRIx64 ", before 0x%" PRIx64, dir,
			 (uint64_t)(nf && (!ns || f[nf - 1].last > snaps[0])
					? f[nf - 1].last
					: snaps[0]),
			 (uint64_t)tg.zxid);
		rc = -ERANGE;
		goto out;
	}
	/* The base: the newest snapshot at or below the target. */
	for (i = 0; i < ns && snaps[i] > tg.zxid; i++)
		;
	t = tree_new();
	if (!t) {
		rc = -ENOMEM;
		snprintf(errbuf, errlen, "out of memory");
		goto out;
	}
	if (i < ns) {
		snapshot_path(path, sizeof(path), dir, snaps[i]);
		if (pr->on)
			fprintf(stderr, "loading %s ...\n", path);
		rc = snapshot_load(path, t, &base, errbuf, errlen);
		if (rc)
			goto out;
		if (base != snaps[i]) {
			snprintf(errbuf, errlen,
				 "%s: holds zxid 0x%" PRIx64 ", not its name's", path,
				 (uint64_t)base);
			rc = -EBADMSG;
			goto out;
		}
	} else if (nf && f[0].first == PITR_GENESIS) {
		base = 0; /* the archive holds the cluster's whole history */
	} else {
		snprintf(errbuf, errlen,
			 "%s: no archived snapshot at or before 0x%" PRIx64 "%s%s", dir,
			 (uint64_t)tg.zxid, ns ? "; the oldest is " : "",
			 ns ? "newer"
			    : " (and the log does not start at the cluster's "
			      "beginning)");
		rc = -ERANGE;
		goto out;
	}
	r->snap = base;
	/* Then every entry after it up to the target, without a gap: the
	 * first entry past prev that the archive has must follow prev, also
	 * when it lies beyond the target (else entries up to the target may
	 * be the missing ones). */
	prev = base;
	progress_begin(pr, "replaying", "entries", 0);
	for (i = 0; i < nf && !reached; i++) {
		if (f[i].last <= prev)
			continue;
		if (f[i].first > tg.zxid) {
			reached = archive_follows(prev, f[i].first) ? 1 : -1;
			next = f[i].first;
			snprintf(gapfile, sizeof(gapfile), "%s", f[i].name);
			break;
		}
		rc = archive_seg_load(dir, f[i].name, &s, errbuf, errlen);
		if (rc)
			goto out;
		r->segments++;
		snprintf(path, sizeof(path), "%s/%s", dir, f[i].name);
		for (uint64_t k = 0; k < s.count; k++) {
			const struct archive_rec *e = &s.recs[k];
			int64_t tm;

			if (e->zxid <= prev)
				continue;
			if (!archive_follows(prev, e->zxid) || e->zxid > tg.zxid) {
				reached = archive_follows(prev, e->zxid) ? 1 : -1;
				next = e->zxid;
				snprintf(gapfile, sizeof(gapfile), "%s", f[i].name);
				break;
			}
			rc = apply_rec(t, e, &tm, path, errbuf, errlen);
			if (rc)
				break;
			if (tm)
				r->last_time = tm;
			prev = e->zxid;
			r->entries++;
			if (prev == tg.zxid)
				reached = 1;
		}
		archive_seg_free(&s);
		if (rc)
			goto out;
		progress_update(pr, r->entries);
	}
	progress_end(pr, r->entries);
	if (prev < tg.zxid && reached != 1) {
		if (reached < 0)
			snprintf(
			    errbuf, errlen,
			    "%s: GAP in the archive: after 0x%" PRIx64
			    " the next archived entry is 0x%" PRIx64
			    " (in %s); the entries between left the log before they "
			    "were archived (or a segment file is missing), so 0x%" PRIx64
			    " cannot be reached from the snapshot 0x%" PRIx64
			    ": points up to 0x%" PRIx64 " can, and points from the next "
			    "archived snapshot after the gap",
			    dir, (uint64_t)prev, (uint64_t)next, gapfile,
			    (uint64_t)tg.zxid, (uint64_t)base, (uint64_t)prev);
		else
			snprintf(errbuf, errlen,
				 "%s: the archived log ends at 0x%" PRIx64
				 ", before 0x%" PRIx64 " (a segment file missing?)",
				 dir, (uint64_t)prev, (uint64_t)tg.zxid);
		rc = -ERANGE;
		goto out;
	}
	tree_set_last_zxid(t, prev);
	r->zxid = prev;
	*out = t;
	t = NULL;
out:
	if (t)
		tree_free(t);
	free(f);
	free(snaps);
	return rc;
}

struct sub_walk {
	struct tree *nt;
	const char *path;
	size_t plen;
	uint64_t nodes;
	int rc;
};

static int sub_visit(void *arg, const struct znode *n)
{
	struct sub_walk *w = arg;
	size_t l = strlen(n->path);
	int in, above;

	in = strncmp(n->path, w->path, w->plen) == 0 &&
	     (n->path[w->plen] == '\0' || n->path[w->plen] == '/' || w->plen == 1);
	above = !in && (l == 1 || (l < w->plen && strncmp(n->path, w->path, l) == 0 &&
				   w->path[l] == '/'));
	if (!in && !above)
		return 0;
	if (n->kind == ZNODE_EPHEMERAL)
		return 0;
	w->rc = tree_load_node(w->nt, n, n->data);
	if (w->rc == -ENOENT && in)
		return 0; /* below an ephemeral left out (cannot happen) */
	if (w->rc)
		return 1;
	if (in)
		w->nodes++;
	return 0;
}

int adm_subtree(const struct tree *t, const char *path, struct tree **out,
		uint64_t *nodes, char *errbuf, size_t errlen)
{
	struct sub_walk w;
	const struct znode *n;
	size_t plen = strlen(path);

	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	n = tree_lookup(t, path);
	if (!n || path[0] != '/') {
		snprintf(errbuf, errlen, "%s did not exist at 0x%" PRIx64, path,
			 (uint64_t)tree_last_zxid(t));
		return -ENOENT;
	}
	memset(&w, 0, sizeof(w));
	w.nt = tree_new();
	w.path = path;
	w.plen = plen;
	if (!w.nt) {
		snprintf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	tree_walk(t, sub_visit, &w);
	if (w.rc) {
		snprintf(errbuf, errlen, "copying %s: %s", path, strerror(-w.rc));
		tree_free(w.nt);
		return w.rc;
	}
	tree_set_last_zxid(w.nt, tree_last_zxid(t));
	*nodes = w.nodes;
	*out = w.nt;
	return 0;
}
