/*
 * fuzz_jute_corpus.c - writes the seed corpus of fuzz_jute: real encoded
 * requests, replies and records, each prefixed with the selector byte
 * fuzz_jute.c expects. Usage: fuzz_jute_corpus DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jute.h"
#include "txn.h"
#include "zerr.h"

/* Selectors above every record number, by fuzz_jute.c's sel % 4. */
#define SEL_BASE    252 /* 252 % 4 == 0 */
#define SEL_REQUEST (SEL_BASE + 0)
#define SEL_CONNECT (SEL_BASE + 1)
#define SEL_MULTIR  (SEL_BASE + 2)
#define SEL_REPLY   (SEL_BASE + 3)

static int write_seed(const char *dir, const char *name, int sel, const struct buf *b)
{
	char path[4096];
	FILE *f;
	uint8_t s = (uint8_t)sel;

	if (buf_failed(b))
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (fwrite(&s, 1, 1, f) != 1 || fwrite(b->data, 1, b->len, f) != b->len) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

static struct zacl open_acl = {.perms = ZPERM_ALL, .scheme = "world", .id = "anyone"};

static int request_seed(const char *dir, const char *name, const struct jute_request *q)
{
	struct buf b;
	int rc;

	buf_init(&b);
	rc = jute_request_encode(&b, q);
	if (!rc)
		rc = write_seed(dir, name, SEL_REQUEST, &b);
	buf_free(&b);
	return rc;
}

int main(int argc, char **argv)
{
	struct jute_request q;
	struct jute_multi_op ops[3];
	struct buf b;
	union jute_any v;
	char name[64];
	char *watches[] = {"/a", "/b/c"};
	uint8_t pw[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	int rec, rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_jute_corpus DIR\n");
		return 2;
	}
	/* Every record, zeroed (null strings, empty vectors). */
	for (rec = 0; rec < JUTE_REC_COUNT && !rc; rec++) {
		memset(&v, 0, sizeof(v));
		buf_init(&b);
		jute_put_any(&b, rec, &v);
		snprintf(name, sizeof(name), "rec-%s", jute_rec_name(rec));
		rc = write_seed(argv[1], name, rec, &b);
		buf_free(&b);
	}

	/* The first frame of a reconnecting 3.5 client. */
	memset(&v, 0, sizeof(v));
	v.connect_request.last_zxid_seen = 0x100000005LL;
	v.connect_request.time_out = 30000;
	v.connect_request.session_id = 0x1000000abcdLL;
	v.connect_request.passwd.len = 16;
	v.connect_request.passwd.data = pw;
	buf_init(&b);
	jute_put_connect_request(&b, &v.connect_request);
	rc = rc ? rc : write_seed(argv[1], "connect", SEL_CONNECT, &b);
	buf_free(&b);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = 1;
	q.hdr.type = ZOP_CREATE2;
	q.rec = JUTE_REC_create_request;
	q.body.create_request.path = "/app/lock-";
	q.body.create_request.data.len = 5;
	q.body.create_request.data.data = (uint8_t *)"hello";
	q.body.create_request.acl.n = 1;
	q.body.create_request.acl.v = &open_acl;
	q.body.create_request.flags = ZCM_EPHEMERAL_SEQUENTIAL;
	rc = rc ? rc : request_seed(argv[1], "create2", &q);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = 2;
	q.hdr.type = ZOP_CREATETTL;
	q.rec = JUTE_REC_create_ttl_request;
	q.body.create_ttl_request.path = "/ttl";
	q.body.create_ttl_request.acl.n = 1;
	q.body.create_ttl_request.acl.v = &open_acl;
	q.body.create_ttl_request.flags = ZCM_PERSISTENT_WITH_TTL;
	q.body.create_ttl_request.ttl = 60000;
	rc = rc ? rc : request_seed(argv[1], "createttl", &q);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = 3;
	q.hdr.type = ZOP_SETDATA;
	q.rec = JUTE_REC_set_data_request;
	q.body.set_data_request.path = "/app/conf";
	q.body.set_data_request.data.len = 3;
	q.body.set_data_request.data.data = (uint8_t *)"x=1";
	q.body.set_data_request.version = 4;
	rc = rc ? rc : request_seed(argv[1], "setdata", &q);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = 4;
	q.hdr.type = ZOP_GETCHILDREN2;
	q.rec = JUTE_REC_get_children2_request;
	q.body.get_children2_request.path = "/";
	q.body.get_children2_request.watch = 1;
	rc = rc ? rc : request_seed(argv[1], "getchildren2", &q);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = JUTE_XID_AUTH;
	q.hdr.type = ZOP_AUTH;
	q.rec = JUTE_REC_auth_packet;
	q.body.auth_packet.scheme = "digest";
	q.body.auth_packet.auth.len = 10;
	q.body.auth_packet.auth.data = (uint8_t *)"ops:secret";
	rc = rc ? rc : request_seed(argv[1], "auth", &q);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = JUTE_XID_SET_WATCHES;
	q.hdr.type = ZOP_SETWATCHES2;
	q.rec = JUTE_REC_set_watches2;
	q.body.set_watches2.relative_zxid = 12;
	q.body.set_watches2.data_watches.n = 2;
	q.body.set_watches2.data_watches.v = watches;
	q.body.set_watches2.persistent_recursive_watches.n = 1;
	q.body.set_watches2.persistent_recursive_watches.v = watches;
	rc = rc ? rc : request_seed(argv[1], "setwatches2", &q);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = 5;
	q.hdr.type = ZOP_ADDWATCH;
	q.rec = JUTE_REC_add_watch_request;
	q.body.add_watch_request.path = "/app";
	q.body.add_watch_request.mode = JUTE_ADD_WATCH_PERSISTENT_RECURSIVE;
	rc = rc ? rc : request_seed(argv[1], "addwatch", &q);

	memset(&q, 0, sizeof(q));
	q.hdr.xid = JUTE_XID_PING;
	q.hdr.type = ZOP_PING;
	q.rec = JUTE_REC_NONE;
	rc = rc ? rc : request_seed(argv[1], "ping", &q);
	q.hdr.xid = 6;
	q.hdr.type = ZOP_WHOAMI;
	rc = rc ? rc : request_seed(argv[1], "whoami", &q);

	memset(&q, 0, sizeof(q));
	memset(ops, 0, sizeof(ops));
	q.hdr.xid = 7;
	q.hdr.type = ZOP_MULTI;
	q.rec = JUTE_REC_NONE;
	ops[0].type = ZOP_CREATE;
	ops[0].body.create_request.path = "/m";
	ops[0].body.create_request.acl.n = 1;
	ops[0].body.create_request.acl.v = &open_acl;
	ops[1].type = ZOP_CHECK;
	ops[1].body.check_version_request.path = "/m";
	ops[1].body.check_version_request.version = 0;
	ops[2].type = ZOP_DELETE;
	ops[2].body.delete_request.path = "/m";
	ops[2].body.delete_request.version = -1;
	q.multi.n = 3;
	q.multi.ops = ops;
	rc = rc ? rc : request_seed(argv[1], "multi", &q);

	/* A multi response with an error in it. */
	memset(ops, 0, sizeof(ops));
	ops[0].type = ZOP_ERROR;
	ops[0].err = ZOK;
	ops[1].type = ZOP_ERROR;
	ops[1].err = ZNODEEXISTS;
	ops[1].body.error_response.err = ZNODEEXISTS;
	q.multi.n = 2;
	buf_init(&b);
	jute_put_multi(&b, &q.multi, 1);
	rc = rc ? rc : write_seed(argv[1], "multi-response", SEL_MULTIR, &b);
	buf_free(&b);

	/* A watch notification as the client reads it. */
	buf_init(&b);
	buf_put_u8(&b, 0);
	memset(&v, 0, sizeof(v));
	v.reply_header.xid = JUTE_XID_WATCH;
	v.reply_header.zxid = -1;
	jute_put_reply_header(&b, &v.reply_header);
	memset(&v, 0, sizeof(v));
	v.watcher_event.type = JUTE_EVENT_DATA_CHANGED;
	v.watcher_event.state = JUTE_STATE_SYNC_CONNECTED;
	v.watcher_event.path = "/app/conf";
	jute_put_watcher_event(&b, &v.watcher_event);
	rc = rc ? rc : write_seed(argv[1], "watch-event", SEL_REPLY, &b);
	buf_free(&b);

	if (rc) {
		fprintf(stderr, "fuzz_jute_corpus: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}
	return 0;
}
