/*
 * test_zks.c - protocol tests of the ZooKeeper client-protocol server.
 *
 * Each case starts a real server: a qcore on a fresh temporary dataDir and
 * zk_server_start on 127.0.0.1 (a free port), driven by an event loop in a
 * second thread (the only thread touching the core and the server). The test
 * thread speaks raw frames over blocking sockets with receive timeouts,
 * encoding and decoding with jute.h, so every byte the server sends is
 * checked: reply order, xids, error codes, watch events.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/evp.h>

#include "config.h"
#include "core.h"
#include "jute.h"
#include "log.h"
#include "tap.h"
#include "zerr.h"
#include "zks.h"

/* ---- the server under test ---- */

struct srv {
	char dir[64];
	struct event_base *base;
	struct qcore *core;
	struct zk_server *zks;
	pthread_t thr;
	int port;
	struct event *keep; /* keeps the loop alive while idle */
};

static struct srv S;

static void srv_stop(void);

static void *srv_thread(void *arg)
{
	event_base_loop(S.base, 0);
	return NULL;
}

static void srv_noop(evutil_socket_t fd, short what, void *arg)
{
}

/* opts may override the defaults (NULL: all words, no limits). */
static void srv_start_opts(const struct zk_server_opts *o, int32_t tick_ms)
{
	struct qcore_opts co;
	struct zk_server_opts zo;
	char err[256];
	struct timeval tv = {3600, 0};

	srv_stop(); /* left running by a case that failed */
	memset(&S, 0, sizeof(S));
	snprintf(S.dir, sizeof(S.dir), "/tmp/test_zks.XXXXXX");
	TAP_ASSERT(mkdtemp(S.dir) != NULL);
	S.base = event_base_new();
	TAP_ASSERT(S.base != NULL);
	memset(&co, 0, sizeof(co));
	co.base = S.base;
	co.data_dir = S.dir;
	co.server_id = 1;
	co.tick_ms = tick_ms;
	co.min_session_timeout_ms = 2 * tick_ms;
	co.max_session_timeout_ms = 20 * tick_ms;
	co.snap_retain = 3;
	co.snap_count = 100000;
	if (qcore_open(&co, &S.core, err, sizeof(err)) != 0) {
		printf("# qcore_open: %s\n", err);
		TAP_ASSERT(0);
	}
	memset(&zo, 0, sizeof(zo));
	if (o)
		zo = *o;
	else
		zo.four_letter_whitelist = "*";
	zo.address = "127.0.0.1";
	zo.port = 0;
	if (!zo.max_buffer)
		zo.max_buffer = 1024 * 1024;
	if (zk_server_start(S.core, S.base, &zo, &S.zks, err, sizeof(err)) != 0) {
		printf("# zk_server_start: %s\n", err);
		TAP_ASSERT(0);
	}
	S.port = zk_server_port(S.zks);
	S.keep = event_new(S.base, -1, EV_PERSIST, srv_noop, NULL);
	event_add(S.keep, &tv);
	TAP_ASSERT(pthread_create(&S.thr, NULL, srv_thread, NULL) == 0);
}

static void srv_start(void)
{
	srv_start_opts(NULL, 100);
}

static void srv_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	zk_server_stop(S.zks);
	qcore_close(S.core);
	event_del(S.keep);
	event_base_loopexit(S.base, NULL);
}

static void srv_stop(void)
{
	char cmd[128];

	if (!S.base)
		return;
	event_base_once(S.base, -1, EV_TIMEOUT, srv_stop_cb, NULL, NULL);
	pthread_join(S.thr, NULL);
	event_free(S.keep);
	event_base_free(S.base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", S.dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", S.dir);
	memset(&S, 0, sizeof(S));
}

/* ---- a raw-frame client ---- */

struct cli {
	int fd;
	int64_t sid;
	uint8_t pw[16];
	int32_t timeout;
	int32_t xid;
};

static int tcp_connect(int port)
{
	struct sockaddr_in sa;
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = read(fd, b, n);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One frame into out (reset first). Returns 0, or -1 on EOF/timeout. */
static int recv_frame(int fd, struct buf *out)
{
	uint8_t l[4];
	uint32_t n;

	buf_reset(out);
	if (read_all(fd, l, 4) < 0)
		return -1;
	n = (uint32_t)l[0] << 24 | (uint32_t)l[1] << 16 | (uint32_t)l[2] << 8 | l[3];
	if (n > 4u << 20 || buf_reserve(out, n) < 0)
		return -1;
	if (read_all(fd, out->data, n) < 0)
		return -1;
	out->len = n;
	return 0;
}

/* Is the connection closed by the server (EOF within a few seconds)? */
static int peer_closed(int fd)
{
	uint8_t b[4096];

	for (int i = 0; i < 100; i++) {
		ssize_t r = read(fd, b, sizeof(b));

		if (r == 0)
			return 1;
		if (r < 0)
			return errno == ECONNRESET;
	}
	return 0;
}

static void cli_handshake(struct cli *c, int64_t sid, const uint8_t *pw, int32_t timeout,
			  int old_client)
{
	struct jute_connect_request cr;
	struct jute_connect_response rsp;
	struct buf b;
	struct rd in;
	uint8_t zero[16] = {0};
	size_t off;

	memset(&cr, 0, sizeof(cr));
	cr.time_out = timeout;
	cr.session_id = sid;
	cr.passwd.len = 16;
	cr.passwd.data = (uint8_t *)(pw ? pw : zero);
	buf_init(&b);
	off = jute_frame_begin(&b);
	jute_put_connect_request(&b, &cr);
	if (old_client)
		b.len--;
	jute_frame_end(&b, off);
	TAP_ASSERT(write_all(c->fd, b.data, b.len) == 0);
	TAP_ASSERT(recv_frame(c->fd, &b) == 0);
	TAP_EQ(b.len, old_client ? 36 : 37);
	rd_init(&in, b.data, b.len);
	TAP_EQ(jute_get_connect_response(&in, &rsp, 1 << 20), ZOK);
	c->sid = rsp.session_id;
	c->timeout = rsp.time_out;
	if (rsp.passwd.len == 16)
		memcpy(c->pw, rsp.passwd.data, 16);
	jute_free_connect_response(&rsp);
	buf_free(&b);
}

static void cli_open(struct cli *c, int32_t timeout)
{
	memset(c, 0, sizeof(*c));
	c->fd = tcp_connect(S.port);
	TAP_ASSERT(c->fd >= 0);
	cli_handshake(c, 0, NULL, timeout, 0);
	TAP_ASSERT(c->sid != 0);
	c->xid = 1;
}

static void cli_close_fd(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Send a request; returns its xid. body: the record for op (or a struct
 * jute_multi for multi/multiRead, NULL for none). */
static int32_t cli_send(struct cli *c, int32_t op, const void *body)
{
	struct jute_request_header h;
	struct buf b;
	size_t off;
	int rec = jute_request_rec(op);

	h.xid = op == ZOP_PING					? -2
		: op == ZOP_AUTH				? -4
		: op == ZOP_SETWATCHES || op == ZOP_SETWATCHES2 ? -8
								: c->xid++;
	h.type = op;
	buf_init(&b);
	off = jute_frame_begin(&b);
	jute_put_request_header(&b, &h);
	if (op == ZOP_MULTI || op == ZOP_MULTIREAD)
		TAP_EQ(jute_put_multi(&b, body, 0), 0);
	else if (rec >= 0 && body)
		/* jute_put_any reads only the member rec names */
		TAP_EQ(jute_put_any(&b, rec, body), 0);
	jute_frame_end(&b, off);
	TAP_ASSERT(write_all(c->fd, b.data, b.len) == 0);
	buf_free(&b);
	return h.xid;
}

struct reply {
	int32_t xid;
	int64_t zxid;
	int32_t err;
	struct buf frame;
	struct rd body;
};

/* Next frame, whatever it is. */
static void cli_recv(struct cli *c, struct reply *r)
{
	struct jute_reply_header h;

	buf_init(&r->frame);
	TAP_ASSERT(recv_frame(c->fd, &r->frame) == 0);
	rd_init(&r->body, r->frame.data, r->frame.len);
	TAP_EQ(jute_get_reply_header(&r->body, &h, 1 << 20), ZOK);
	r->xid = h.xid;
	r->zxid = h.zxid;
	r->err = h.err;
}

static void reply_free(struct reply *r)
{
	buf_free(&r->frame);
}

/* Expect the reply to xid next; returns its error. Body left in r. */
static int32_t cli_expect(struct cli *c, int32_t xid, struct reply *r)
{
	cli_recv(c, r);
	if (r->xid != xid)
		printf("# expected reply xid %d, got %d (err %d)\n", xid, r->xid, r->err);
	TAP_EQ(r->xid, xid);
	return r->err;
}

/* A request whose reply carries nothing we look at; returns the error. */
static int32_t cli_call(struct cli *c, int32_t op, const void *body)
{
	struct reply r;
	int32_t err;

	err = cli_expect(c, cli_send(c, op, body), &r);
	reply_free(&r);
	return err;
}

static int32_t cli_create(struct cli *c, const char *path, const char *data,
			  int32_t flags, char *made, size_t made_len)
{
	struct jute_create_request q = {
	    (char *)path,
	    {data ? (int32_t)strlen(data) : -1, (uint8_t *)data},
	    *acl_open_unsafe(),
	    flags};
	struct reply r;
	int32_t err = cli_expect(c, cli_send(c, ZOP_CREATE, &q), &r);

	if (err == ZOK && made) {
		struct jute_create_response cr;

		TAP_EQ(jute_get_create_response(&r.body, &cr, 1 << 20), ZOK);
		snprintf(made, made_len, "%s", cr.path);
		jute_free_create_response(&cr);
	}
	reply_free(&r);
	return err;
}

/* getData: error; data copied into out (NUL-terminated) and stat. */
static int32_t cli_get(struct cli *c, const char *path, int watch, char *out, size_t n,
		       struct zstat *st)
{
	struct jute_get_data_request q = {(char *)path, watch};
	struct reply r;
	int32_t err = cli_expect(c, cli_send(c, ZOP_GETDATA, &q), &r);

	if (err == ZOK) {
		struct jute_get_data_response gr;

		TAP_EQ(jute_get_get_data_response(&r.body, &gr, 1 << 20), ZOK);
		if (out)
			snprintf(out, n, "%.*s", gr.data.len > 0 ? gr.data.len : 0,
				 gr.data.len > 0 ? (char *)gr.data.data : "");
		if (st)
			*st = gr.stat;
		jute_free_get_data_response(&gr);
	}
	reply_free(&r);
	return err;
}

static int32_t cli_set(struct cli *c, const char *path, const char *data, int32_t version)
{
	struct jute_set_data_request q = {
	    (char *)path, {(int32_t)strlen(data), (uint8_t *)data}, version};

	return cli_call(c, ZOP_SETDATA, &q);
}

static int32_t cli_delete(struct cli *c, const char *path, int32_t version)
{
	struct jute_delete_request q = {(char *)path, version};

	return cli_call(c, ZOP_DELETE, &q);
}

static int32_t cli_exists(struct cli *c, const char *path, int watch)
{
	struct jute_exists_request q = {(char *)path, watch};

	return cli_call(c, ZOP_EXISTS, &q);
}

/* Expect a watch event next. */
static void cli_expect_event(struct cli *c, int32_t type, const char *path)
{
	struct reply r;
	struct jute_watcher_event ev;

	cli_recv(c, &r);
	if (r.xid != -1)
		printf("# expected an event %d on %s, got reply xid %d\n", type, path,
		       r.xid);
	TAP_EQ(r.xid, -1);
	TAP_EQ(jute_get_watcher_event(&r.body, &ev, 1 << 20), ZOK);
	if (ev.type != type || strcmp(ev.path ? ev.path : "", path) != 0)
		printf("# expected event %d on %s, got %d on %s\n", type, path, ev.type,
		       ev.path ? ev.path : "(null)");
	TAP_EQ(ev.type, type);
	TAP_STREQ(ev.path, path);
	TAP_EQ(ev.state, 3);
	jute_free_watcher_event(&ev);
	reply_free(&r);
}

/* Nothing arrives within ms. */
static int cli_quiet(struct cli *c, int ms)
{
	struct pollfd p = {c->fd, POLLIN, 0};

	return poll(&p, 1, ms) == 0;
}

/* ---- cases ---- */

static void t_connect(void)
{
	struct cli c, o;

	srv_start();
	cli_open(&c, 1000);
	TAP_EQ(c.timeout, 1000);
	TAP_EQ(cli_call(&c, ZOP_PING, NULL), ZOK);
	/* clamped to [2, 20] ticks */
	cli_open(&o, 50);
	TAP_EQ(o.timeout, 200);
	cli_close_fd(&o);
	cli_open(&o, 100000);
	TAP_EQ(o.timeout, 2000);
	cli_close_fd(&o);
	/* a client without the readOnly byte gets none back */
	memset(&o, 0, sizeof(o));
	o.fd = tcp_connect(S.port);
	cli_handshake(&o, 0, NULL, 1000, 1);
	TAP_ASSERT(o.sid != 0 && o.sid != c.sid);
	cli_close_fd(&o);
	cli_close_fd(&c);
	srv_stop();
}

static void t_crud(void)
{
	struct cli c;
	struct zstat st;
	char buf[64];

	srv_start();
	cli_open(&c, 2000);
	TAP_EQ(cli_create(&c, "/a", "one", 0, buf, sizeof(buf)), ZOK);
	TAP_STREQ(buf, "/a");
	TAP_EQ(cli_create(&c, "/a", "x", 0, NULL, 0), ZNODEEXISTS);
	TAP_EQ(cli_create(&c, "/no/such", "x", 0, NULL, 0), ZNONODE);
	TAP_EQ(cli_create(&c, "bad", "x", 0, NULL, 0), ZBADARGUMENTS);
	TAP_EQ(cli_get(&c, "/a", 0, buf, sizeof(buf), &st), ZOK);
	TAP_STREQ(buf, "one");
	TAP_EQ(st.version, 0);
	TAP_EQ(st.data_length, 3);
	TAP_EQ(cli_set(&c, "/a", "two", 5), ZBADVERSION);
	TAP_EQ(cli_set(&c, "/a", "two", 0), ZOK);
	TAP_EQ(cli_get(&c, "/a", 0, buf, sizeof(buf), &st), ZOK);
	TAP_STREQ(buf, "two");
	TAP_EQ(st.version, 1);
	TAP_EQ(cli_set(&c, "/nope", "x", -1), ZNONODE);
	TAP_EQ(cli_exists(&c, "/a", 0), ZOK);
	TAP_EQ(cli_exists(&c, "/nope", 0), ZNONODE);
	TAP_EQ(cli_get(&c, "/nope", 0, NULL, 0, NULL), ZNONODE);
	TAP_EQ(cli_create(&c, "/a/b", "", 0, NULL, 0), ZOK);
	TAP_EQ(cli_delete(&c, "/a", -1), ZNOTEMPTY);
	{
		struct jute_get_children2_request q = {"/a", 0};
		struct jute_get_children2_response gr;
		struct reply r;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_GETCHILDREN2, &q), &r), ZOK);
		TAP_EQ(jute_get_get_children2_response(&r.body, &gr, 1 << 20), ZOK);
		TAP_EQ(gr.children.n, 1);
		TAP_STREQ(gr.children.v[0], "b");
		TAP_EQ(gr.stat.num_children, 1);
		jute_free_get_children2_response(&gr);
		reply_free(&r);
	}
	{
		struct jute_get_children_request q = {"/nope", 0};

		TAP_EQ(cli_call(&c, ZOP_GETCHILDREN, &q), ZNONODE);
	}
	{
		struct jute_get_all_children_number_request q = {"/"};
		struct reply r;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_GETALLCHILDRENNUMBER, &q), &r),
		       ZOK);
		/* /a, /a/b, /zookeeper and what lies under it */
		TAP_ASSERT(rd_u32(&r.body) >= 3);
		reply_free(&r);
	}
	TAP_EQ(cli_delete(&c, "/a/b", 7), ZBADVERSION);
	TAP_EQ(cli_delete(&c, "/a/b", 0), ZOK);
	TAP_EQ(cli_delete(&c, "/a", -1), ZOK);
	TAP_EQ(cli_delete(&c, "/a", -1), ZNONODE);
	{
		struct jute_check_version_request q = {"/zookeeper", 0};

		TAP_EQ(cli_call(&c, ZOP_CHECK, &q), ZOK);
		q.version = 3;
		TAP_EQ(cli_call(&c, ZOP_CHECK, &q), ZBADVERSION);
	}
	{
		struct jute_sync_request q = {"/"};
		struct reply r;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_SYNC, &q), &r), ZOK);
		TAP_EQ(rd_u32(&r.body), 1);
		reply_free(&r);
	}
	{
		struct jute_reconfig_request q = {"", "", "", -1};

		TAP_EQ(cli_call(&c, ZOP_RECONFIG, &q), ZRECONFIGDISABLED);
	}
	cli_close_fd(&c);
	srv_stop();
}

static void t_create_modes(void)
{
	struct cli c, o;
	char made[64];

	srv_start();
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	TAP_EQ(cli_create(&c, "/s", "", 0, NULL, 0), ZOK);
	TAP_EQ(cli_create(&c, "/s/n-", "", ZCM_PERSISTENT_SEQUENTIAL, made, sizeof(made)),
	       ZOK);
	TAP_STREQ(made, "/s/n-0000000000");
	TAP_EQ(cli_create(&c, "/s/n-", "", ZCM_EPHEMERAL_SEQUENTIAL, made, sizeof(made)),
	       ZOK);
	TAP_STREQ(made, "/s/n-0000000001");
	TAP_EQ(cli_create(&c, "/e", "", ZCM_EPHEMERAL, NULL, 0), ZOK);
	TAP_EQ(cli_create(&c, "/e/child", "", 0, NULL, 0), ZNOCHILDRENFOREPHEMERALS);
	TAP_EQ(cli_create(&o, "/e2", "", ZCM_EPHEMERAL, NULL, 0), ZOK);
	{
		struct jute_get_ephemerals_request q = {"/"};
		struct jute_get_ephemerals_response gr;
		struct reply r;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_GETEPHEMERALS, &q), &r), ZOK);
		TAP_EQ(jute_get_get_ephemerals_response(&r.body, &gr, 1 << 20), ZOK);
		TAP_EQ(gr.ephemerals.n, 2);
		TAP_STREQ(gr.ephemerals.v[0], "/e");
		TAP_STREQ(gr.ephemerals.v[1], "/s/n-0000000001");
		jute_free_get_ephemerals_response(&gr);
		reply_free(&r);
		q.prefix_path = "/s";
		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_GETEPHEMERALS, &q), &r), ZOK);
		TAP_EQ(jute_get_get_ephemerals_response(&r.body, &gr, 1 << 20), ZOK);
		TAP_EQ(gr.ephemerals.n, 1);
		jute_free_get_ephemerals_response(&gr);
		reply_free(&r);
	}
	{
		struct jute_create_request q = {
		    "/c2", {1, (uint8_t *)"x"}, *acl_open_unsafe(), 0};
		struct jute_create2_response cr;
		struct reply r;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_CREATE2, &q), &r), ZOK);
		TAP_EQ(jute_get_create2_response(&r.body, &cr, 1 << 20), ZOK);
		TAP_STREQ(cr.path, "/c2");
		TAP_EQ(cr.stat.data_length, 1);
		jute_free_create2_response(&cr);
		reply_free(&r);
		q.path = "/cont";
		q.flags = ZCM_CONTAINER;
		TAP_EQ(cli_call(&c, ZOP_CREATECONTAINER, &q), ZOK);
		q.path = "/noacl";
		q.flags = 0;
		q.acl.n = 0;
		TAP_EQ(cli_call(&c, ZOP_CREATE, &q), ZINVALIDACL);
	}
	/* closeSession: reply, connection closed (a request sent after it is
	 * not answered), ephemerals gone */
	{
		struct reply r;
		int32_t x = cli_send(&c, ZOP_CLOSESESSION, NULL);
		struct buf b;

		cli_send(&c, ZOP_PING, NULL);
		TAP_EQ(cli_expect(&c, x, &r), ZOK);
		reply_free(&r);
		buf_init(&b);
		TAP_ASSERT(recv_frame(c.fd, &b) < 0);
		buf_free(&b);
	}
	TAP_EQ(cli_exists(&o, "/e", 0), ZNONODE);
	TAP_EQ(cli_exists(&o, "/s/n-0000000001", 0), ZNONODE);
	TAP_EQ(cli_exists(&o, "/e2", 0), ZOK);
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

static void t_multi(void)
{
	struct cli c;
	struct jute_multi m;
	struct jute_multi_op ops[3];
	struct reply r;
	struct jute_multi res;

	srv_start();
	cli_open(&c, 2000);
	memset(ops, 0, sizeof(ops));
	ops[0].type = ZOP_CREATE;
	ops[0].rec = JUTE_REC_create_request;
	ops[0].body.create_request = (struct jute_create_request){
	    "/m", {1, (uint8_t *)"1"}, *acl_open_unsafe(), 0};
	ops[1].type = ZOP_SETDATA;
	ops[1].rec = JUTE_REC_set_data_request;
	ops[1].body.set_data_request =
	    (struct jute_set_data_request){"/m", {1, (uint8_t *)"2"}, 0};
	ops[2].type = ZOP_CHECK;
	ops[2].rec = JUTE_REC_check_version_request;
	ops[2].body.check_version_request = (struct jute_check_version_request){"/m", 1};
	m.n = 3;
	m.ops = ops;
	TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_MULTI, &m), &r), ZOK);
	TAP_EQ(jute_get_multi(&r.body, &res, 1, 1 << 20), ZOK);
	TAP_EQ(res.n, 3);
	TAP_EQ(res.ops[0].type, ZOP_CREATE);
	TAP_STREQ(res.ops[0].body.create_response.path, "/m");
	TAP_EQ(res.ops[1].type, ZOP_SETDATA);
	TAP_EQ(res.ops[1].body.set_data_response.stat.version, 1);
	TAP_EQ(res.ops[2].type, ZOP_CHECK);
	jute_free_multi(&res);
	reply_free(&r);
	/* failing: the whole multi is refused, header err 0, per-op errors */
	ops[0].body.create_request.path = "/m2";
	ops[1].body.set_data_request.version = -1;
	ops[2].body.check_version_request.version = 9;
	TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_MULTI, &m), &r), ZOK);
	TAP_EQ(jute_get_multi(&r.body, &res, 1, 1 << 20), ZOK);
	TAP_EQ(res.n, 3);
	TAP_EQ(res.ops[0].type, ZOP_ERROR);
	TAP_EQ(res.ops[0].err, ZOK);
	TAP_EQ(res.ops[1].err, ZOK);
	TAP_EQ(res.ops[2].err, ZBADVERSION);
	jute_free_multi(&res);
	reply_free(&r);
	TAP_EQ(cli_exists(&c, "/m2", 0), ZNONODE);
	/* multiRead: every op answered on its own */
	ops[0].type = ZOP_GETDATA;
	ops[0].rec = JUTE_REC_get_data_request;
	ops[0].body.get_data_request = (struct jute_get_data_request){"/m", 0};
	ops[1].type = ZOP_GETCHILDREN;
	ops[1].rec = JUTE_REC_get_children_request;
	ops[1].body.get_children_request = (struct jute_get_children_request){"/nope", 0};
	ops[2].type = ZOP_GETCHILDREN;
	ops[2].rec = JUTE_REC_get_children_request;
	ops[2].body.get_children_request = (struct jute_get_children_request){"/", 0};
	TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_MULTIREAD, &m), &r), ZOK);
	TAP_EQ(jute_get_multi(&r.body, &res, 1, 1 << 20), ZOK);
	TAP_EQ(res.n, 3);
	TAP_EQ(res.ops[0].type, ZOP_GETDATA);
	TAP_EQ(res.ops[0].body.get_data_response.data.len, 1);
	TAP_EQ(res.ops[1].type, ZOP_ERROR);
	TAP_EQ(res.ops[1].err, ZNONODE);
	TAP_EQ(res.ops[2].type, ZOP_GETCHILDREN);
	TAP_ASSERT(res.ops[2].body.get_children_response.children.n >= 2);
	jute_free_multi(&res);
	reply_free(&r);
	cli_close_fd(&c);
	srv_stop();
}

static void t_acl_auth(void)
{
	struct cli c, o;
	struct zacl a = {ZPERM_ALL, "digest", NULL};
	struct acl_list acl = {1, &a};
	char *dg = acl_digest("bob:secret");

	srv_start();
	TAP_ASSERT(dg != NULL);
	a.id = dg;
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	{
		struct jute_create_request q = {"/p", {1, (uint8_t *)"x"}, acl, 0};

		TAP_EQ(cli_call(&c, ZOP_CREATE, &q), ZOK);
	}
	TAP_EQ(cli_get(&c, "/p", 0, NULL, 0, NULL), ZNOAUTH);
	{
		struct jute_get_acl_request q = {"/p"};

		TAP_EQ(cli_call(&c, ZOP_GETACL, &q), ZNOAUTH);
	}
	{
		struct jute_auth_packet ap = {0, "digest", {10, (uint8_t *)"bob:secret"}};

		TAP_EQ(cli_call(&c, ZOP_AUTH, &ap), ZOK);
	}
	TAP_EQ(cli_get(&c, "/p", 0, NULL, 0, NULL), ZOK);
	{
		struct jute_get_acl_request q = {"/p"};
		struct jute_get_acl_response gr;
		struct reply r;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_GETACL, &q), &r), ZOK);
		TAP_EQ(jute_get_get_acl_response(&r.body, &gr, 1 << 20), ZOK);
		TAP_EQ(gr.acl.n, 1);
		TAP_STREQ(gr.acl.v[0].id, dg);
		jute_free_get_acl_response(&gr);
		reply_free(&r);
	}
	{
		struct jute_set_acl_request q = {"/p", *acl_open_unsafe(), 5};

		TAP_EQ(cli_call(&c, ZOP_SETACL, &q), ZBADVERSION);
		q.version = 0;
		TAP_EQ(cli_call(&o, ZOP_SETACL, &q), ZNOAUTH);
		TAP_EQ(cli_call(&c, ZOP_SETACL, &q), ZOK);
	}
	TAP_EQ(cli_get(&o, "/p", 0, NULL, 0, NULL), ZOK);
	{
		struct jute_who_am_i_response w;
		struct reply r;
		int digest = 0, ip = 0;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_WHOAMI, NULL), &r), ZOK);
		TAP_EQ(jute_get_who_am_i_response(&r.body, &w, 1 << 20), ZOK);
		for (int32_t i = 0; i < w.client_info.n; i++) {
			digest |= !strcmp(w.client_info.v[i].auth_scheme, "digest") &&
				  !strcmp(w.client_info.v[i].user, dg);
			ip |= !strcmp(w.client_info.v[i].auth_scheme, "ip") &&
			      !strcmp(w.client_info.v[i].user, "127.0.0.1");
		}
		TAP_ASSERT(digest && ip);
		jute_free_who_am_i_response(&w);
		reply_free(&r);
	}
	/* an unknown scheme: AUTHFAILED and the connection goes */
	{
		struct jute_auth_packet ap = {0, "kerberos", {3, (uint8_t *)"x:y"}};

		TAP_EQ(cli_call(&o, ZOP_AUTH, &ap), ZAUTHFAILED);
		TAP_ASSERT(peer_closed(o.fd));
	}
	TAP_EQ(cli_call(&c, ZOP_PING, NULL), ZOK);
	free(dg);
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

static void t_super_digest(void)
{
	struct zk_server_opts zo;
	struct cli c, o;
	struct zacl a = {ZPERM_ALL, "digest", "nobody:AAAAAAAAAAAAAAAAAAAAAAAAAAA="};
	struct acl_list acl = {1, &a};
	char *sd = acl_digest("super:pw");

	memset(&zo, 0, sizeof(zo));
	zo.four_letter_whitelist = "*";
	zo.super_digest = sd;
	srv_start_opts(&zo, 100);
	free(sd);
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	{
		struct jute_create_request q = {"/locked", {1, (uint8_t *)"x"}, acl, 0};

		TAP_EQ(cli_call(&c, ZOP_CREATE, &q), ZOK);
	}
	TAP_EQ(cli_get(&o, "/locked", 0, NULL, 0, NULL), ZNOAUTH);
	{
		struct jute_auth_packet ap = {0, "digest", {8, (uint8_t *)"super:pw"}};

		TAP_EQ(cli_call(&o, ZOP_AUTH, &ap), ZOK);
	}
	TAP_EQ(cli_get(&o, "/locked", 0, NULL, 0, NULL), ZOK);
	TAP_EQ(cli_delete(&o, "/locked", -1), ZOK);
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

static void t_watch_data(void)
{
	struct cli c, o;
	char buf[32];

	srv_start();
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	TAP_EQ(cli_create(&c, "/w", "0", 0, NULL, 0), ZOK);
	TAP_EQ(cli_get(&c, "/w", 1, NULL, 0, NULL), ZOK);
	TAP_EQ(cli_exists(&c, "/w2", 1), ZNONODE);
	{
		struct jute_get_children_request q = {"/", 1};

		TAP_EQ(cli_call(&c, ZOP_GETCHILDREN, &q), ZOK);
	}
	/* another session changes /w: the event arrives on its own */
	TAP_EQ(cli_set(&o, "/w", "1", -1), ZOK);
	cli_expect_event(&c, 3, "/w");
	/* one-shot: a second change fires nothing */
	TAP_EQ(cli_set(&o, "/w", "2", -1), ZOK);
	TAP_ASSERT(cli_quiet(&c, 200));
	/* exist watch, then the child watch of / for the same create */
	TAP_EQ(cli_create(&o, "/w2", "", 0, NULL, 0), ZOK);
	cli_expect_event(&c, 1, "/w2");
	cli_expect_event(&c, 4, "/");
	/* the watch of our own write: the event comes before the reply */
	TAP_EQ(cli_get(&c, "/w", 1, NULL, 0, NULL), ZOK);
	{
		struct jute_set_data_request q = {"/w", {1, (uint8_t *)"3"}, -1};
		int32_t sx = cli_send(&c, ZOP_SETDATA, &q);
		struct jute_get_data_request g = {"/w", 0};
		int32_t gx = cli_send(&c, ZOP_GETDATA, &g);
		struct reply r;

		cli_expect_event(&c, 3, "/w");
		TAP_EQ(cli_expect(&c, sx, &r), ZOK);
		reply_free(&r);
		TAP_EQ(cli_expect(&c, gx, &r), ZOK);
		reply_free(&r);
	}
	TAP_EQ(cli_get(&c, "/w", 0, buf, sizeof(buf), NULL), ZOK);
	TAP_STREQ(buf, "3");
	/* delete fires on data and child watchers once per connection */
	TAP_EQ(cli_get(&c, "/w2", 1, NULL, 0, NULL), ZOK);
	{
		struct jute_get_children_request q = {"/w2", 1};

		TAP_EQ(cli_call(&c, ZOP_GETCHILDREN, &q), ZOK);
	}
	TAP_EQ(cli_delete(&o, "/w2", -1), ZOK);
	cli_expect_event(&c, 2, "/w2");
	TAP_ASSERT(cli_quiet(&c, 200));
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

static void t_watch_order(void)
{
	struct cli c, o;
	struct reply r;
	int32_t xids[50];

	srv_start();
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	TAP_EQ(cli_create(&c, "/q", "0", 0, NULL, 0), ZOK);
	/* pipelined writes and reads: replies in request order, each read
	 * seeing the session's earlier writes */
	for (int i = 0; i < 50; i++) {
		char v[8];

		snprintf(v, sizeof(v), "%d", i);
		if (i % 2 == 0) {
			struct jute_set_data_request q = {
			    "/q", {(int32_t)strlen(v), (uint8_t *)v}, -1};

			xids[i] = cli_send(&c, ZOP_SETDATA, &q);
		} else {
			struct jute_get_data_request q = {"/q", 0};

			xids[i] = cli_send(&c, ZOP_GETDATA, &q);
		}
	}
	for (int i = 0; i < 50; i++) {
		TAP_EQ(cli_expect(&c, xids[i], &r), ZOK);
		if (i % 2 == 1) {
			struct jute_get_data_response gr;
			char want[8];

			snprintf(want, sizeof(want), "%d", i - 1);
			TAP_EQ(jute_get_get_data_response(&r.body, &gr, 1 << 20), ZOK);
			TAP_EQ(gr.data.len, (int32_t)strlen(want));
			TAP_ASSERT(memcmp(gr.data.data, want, strlen(want)) == 0);
			jute_free_get_data_response(&gr);
		}
		reply_free(&r);
	}
	/* the event reaches the watcher before any reply that could show
	 * the new data */
	TAP_EQ(cli_get(&c, "/q", 1, NULL, 0, NULL), ZOK);
	{
		struct jute_set_data_request q = {"/q", {1, (uint8_t *)"z"}, -1};

		TAP_EQ(cli_call(&o, ZOP_SETDATA, &q), ZOK);
	}
	{
		struct jute_get_data_request g = {"/q", 0};
		int32_t gx = cli_send(&c, ZOP_GETDATA, &g);

		cli_expect_event(&c, 3, "/q");
		TAP_EQ(cli_expect(&c, gx, &r), ZOK);
		reply_free(&r);
	}
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

static void t_watch_persistent(void)
{
	struct cli c, o;

	srv_start();
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	TAP_EQ(cli_create(&o, "/r", "", 0, NULL, 0), ZOK);
	TAP_EQ(cli_create(&o, "/p", "", 0, NULL, 0), ZOK);
	{
		struct jute_add_watch_request q = {"/r", 1};

		TAP_EQ(cli_call(&c, ZOP_ADDWATCH, &q), ZOK);
		q.path = "/p";
		q.mode = 0;
		TAP_EQ(cli_call(&c, ZOP_ADDWATCH, &q), ZOK);
	}
	TAP_EQ(cli_create(&o, "/r/a", "", 0, NULL, 0), ZOK);
	cli_expect_event(&c, 1, "/r/a");
	TAP_EQ(cli_create(&o, "/r/a/b", "", 0, NULL, 0), ZOK);
	cli_expect_event(&c, 1, "/r/a/b");
	TAP_EQ(cli_set(&o, "/r/a/b", "x", -1), ZOK);
	cli_expect_event(&c, 3, "/r/a/b");
	TAP_EQ(cli_delete(&o, "/r/a/b", -1), ZOK);
	cli_expect_event(&c, 2, "/r/a/b");
	/* persistent on /p: data and children, and it stays */
	TAP_EQ(cli_set(&o, "/p", "1", -1), ZOK);
	cli_expect_event(&c, 3, "/p");
	TAP_EQ(cli_set(&o, "/p", "2", -1), ZOK);
	cli_expect_event(&c, 3, "/p");
	TAP_EQ(cli_create(&o, "/p/k", "", 0, NULL, 0), ZOK);
	cli_expect_event(&c, 4, "/p");
	/* checkWatches / removeWatches */
	{
		struct jute_check_watches_request q = {"/p", 4};

		TAP_EQ(cli_call(&c, ZOP_CHECKWATCHES, &q), ZOK);
		q.path = "/nowatch";
		TAP_EQ(cli_call(&c, ZOP_CHECKWATCHES, &q), ZNOWATCHER);
	}
	{
		struct jute_remove_watches_request q = {"/p", 3};

		TAP_EQ(cli_call(&c, ZOP_REMOVEWATCHES, &q), ZOK);
		TAP_EQ(cli_call(&c, ZOP_REMOVEWATCHES, &q), ZNOWATCHER);
	}
	TAP_EQ(cli_set(&o, "/p", "3", -1), ZOK);
	TAP_ASSERT(cli_quiet(&c, 200));
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

static void t_reattach_setwatches(void)
{
	struct cli c, d, o;
	int64_t seen;
	struct reply r;

	srv_start();
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	TAP_EQ(cli_create(&c, "/x", "", 0, NULL, 0), ZOK);
	TAP_EQ(cli_create(&c, "/y", "", 0, NULL, 0), ZOK);
	TAP_EQ(cli_create(&c, "/eph", "", ZCM_EPHEMERAL, NULL, 0), ZOK);
	TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_PING, NULL), &r), ZOK);
	seen = r.zxid;
	reply_free(&r);
	cli_close_fd(&c); /* connection lost, session kept */
	TAP_EQ(cli_set(&o, "/x", "changed", -1), ZOK);
	/* re-attach with id and password */
	memset(&d, 0, sizeof(d));
	d.fd = tcp_connect(S.port);
	d.xid = 100;
	cli_handshake(&d, c.sid, c.pw, 2000, 0);
	TAP_EQ(d.sid, c.sid);
	TAP_EQ(d.timeout, 2000);
	TAP_EQ(cli_exists(&d, "/eph", 0), ZOK);
	{
		char *dw[] = {"/x", "/y", "/gone"};
		char *ew[] = {"/y", "/new"};
		struct jute_set_watches q = {seen, {3, dw}, {2, ew}, {0, NULL}};
		int32_t x = cli_send(&d, ZOP_SETWATCHES, &q);

		cli_expect_event(&d, 3, "/x");	  /* changed since seen */
		cli_expect_event(&d, 2, "/gone"); /* no such node */
		cli_expect_event(&d, 1, "/y");	  /* exists now */
		TAP_EQ(cli_expect(&d, x, &r), ZOK);
		reply_free(&r);
	}
	/* /y data watch registered: it fires */
	TAP_EQ(cli_set(&o, "/y", "v", -1), ZOK);
	cli_expect_event(&d, 3, "/y");
	TAP_EQ(cli_create(&o, "/new", "", 0, NULL, 0), ZOK);
	cli_expect_event(&d, 1, "/new");
	/* a wrong password is refused: timeout 0, session 0, closed */
	{
		struct cli e;
		uint8_t bad[16] = {1};

		memset(&e, 0, sizeof(e));
		e.fd = tcp_connect(S.port);
		cli_handshake(&e, c.sid, bad, 2000, 0);
		TAP_EQ(e.sid, 0);
		TAP_EQ(e.timeout, 0);
		TAP_ASSERT(peer_closed(e.fd));
		cli_close_fd(&e);
	}
	/* the session moved to d: a second re-attach takes it over */
	TAP_EQ(cli_call(&d, ZOP_PING, NULL), ZOK);
	cli_close_fd(&d);
	cli_close_fd(&o);
	srv_stop();
}

static void t_expiry(void)
{
	struct cli c, o, d;
	struct reply r;
	struct jute_watcher_event ev;

	srv_start();
	cli_open(&c, 300);
	cli_open(&o, 2000);
	TAP_EQ(c.timeout, 300);
	TAP_EQ(cli_create(&c, "/gone-soon", "", ZCM_EPHEMERAL, NULL, 0), ZOK);
	TAP_EQ(cli_exists(&o, "/gone-soon", 1), ZOK);
	/* keep o alive while c stays silent past its timeout; the deletion
	 * event may come before or after a ping's reply */
	{
		int seen = 0;

		for (int i = 0; i < 30 && !seen; i++) {
			struct jute_watcher_event we;
			int32_t x;

			usleep(100 * 1000);
			x = cli_send(&o, ZOP_PING, NULL);
			for (;;) {
				cli_recv(&o, &r);
				if (r.xid == x) {
					reply_free(&r);
					break;
				}
				TAP_EQ(r.xid, -1);
				TAP_EQ(jute_get_watcher_event(&r.body, &we, 1 << 20),
				       ZOK);
				TAP_EQ(we.type, 2);
				TAP_STREQ(we.path, "/gone-soon");
				jute_free_watcher_event(&we);
				reply_free(&r);
				seen = 1;
			}
		}
		TAP_ASSERT(seen);
	}
	/* c hears Expired, then the connection closes */
	cli_recv(&c, &r);
	TAP_EQ(r.xid, -1);
	TAP_EQ(jute_get_watcher_event(&r.body, &ev, 1 << 20), ZOK);
	TAP_EQ(ev.state, -112);
	jute_free_watcher_event(&ev);
	reply_free(&r);
	TAP_ASSERT(peer_closed(c.fd));
	/* the same id and password are refused now */
	memset(&d, 0, sizeof(d));
	d.fd = tcp_connect(S.port);
	cli_handshake(&d, c.sid, c.pw, 300, 0);
	TAP_EQ(d.sid, 0);
	TAP_EQ(d.timeout, 0);
	cli_close_fd(&d);
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

/* The raw bytes of a hostile frame; then check the server closed that
 * connection and nobody else noticed. */
static void hostile(const void *p, size_t n, int then_close_writer)
{
	struct cli bystander, h;
	int fd;

	cli_open(&bystander, 2000);
	fd = tcp_connect(S.port);
	TAP_ASSERT(fd >= 0);
	TAP_ASSERT(write_all(fd, p, n) == 0);
	if (then_close_writer) {
		/* a truncated frame: the client goes away mid-frame */
		shutdown(fd, SHUT_WR);
	}
	TAP_ASSERT(peer_closed(fd));
	close(fd);
	/* the same, on an established session */
	cli_open(&h, 2000);
	TAP_ASSERT(write_all(h.fd, p, n) == 0);
	if (then_close_writer)
		shutdown(h.fd, SHUT_WR);
	TAP_ASSERT(peer_closed(h.fd));
	cli_close_fd(&h);
	TAP_EQ(cli_call(&bystander, ZOP_PING, NULL), ZOK);
	TAP_EQ(cli_create(&bystander, "/still-fine", "", ZCM_EPHEMERAL, NULL, 0), ZOK);
	TAP_EQ(cli_delete(&bystander, "/still-fine", -1), ZOK);
	cli_close_fd(&bystander);
}

static void t_hostile(void)
{
	static const uint8_t negative[] = {0xff, 0xff, 0xff, 0xf0, 1, 2, 3};
	static const uint8_t huge[] = {0x10, 0, 0, 0, 1, 2, 3};
	static const uint8_t truncated[] = {0, 0, 0, 40, 0, 0, 0, 1, 0, 0};
	/* a frame whose body is garbage for its opcode (getData with a
	 * string length past the end) */
	static const uint8_t garbage[] = {0, 0, 0, 14,	 0, 0, 0, 1,   0,
					  0, 0, 4, 0x7f, 0, 0, 0, 'x', 'y'};

	srv_start();
	hostile(negative, sizeof(negative), 0);
	hostile(huge, sizeof(huge), 0);
	hostile(truncated, sizeof(truncated), 1);
	hostile(garbage, sizeof(garbage), 0);
	/* an unknown opcode: UNIMPLEMENTED, then closed */
	{
		struct cli c;
		static const uint8_t unk[] = {0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0x30, 0x39};
		struct reply r;

		cli_open(&c, 2000);
		TAP_ASSERT(write_all(c.fd, unk, sizeof(unk)) == 0);
		cli_recv(&c, &r);
		TAP_EQ(r.xid, 7);
		TAP_EQ(r.err, ZUNIMPLEMENTED);
		reply_free(&r);
		TAP_ASSERT(peer_closed(c.fd));
		cli_close_fd(&c);
	}
	srv_stop();
}

static char *fourlw(const char *w)
{
	int fd = tcp_connect(S.port);
	static char out[65536];
	size_t n = 0;
	ssize_t r;

	if (fd < 0 || write_all(fd, w, 4) < 0)
		return NULL;
	while (n < sizeof(out) - 1 && (r = read(fd, out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(fd);
	return out;
}

static void t_four_letter_words(void)
{
	struct cli c;
	struct zk_server_opts zo;

	srv_start();
	cli_open(&c, 2000);
	TAP_EQ(cli_exists(&c, "/", 1), ZOK);
	TAP_STREQ(fourlw("ruok"), "imok");
	TAP_ASSERT(strstr(fourlw("srvr"), "Zookeeper version: 3.8.0") != NULL);
	TAP_ASSERT(strstr(fourlw("srvr"), "Mode: standalone") != NULL);
	TAP_ASSERT(strstr(fourlw("stat"), "Clients:") != NULL);
	TAP_ASSERT(strstr(fourlw("envi"), "\nzookeeper.version=3.8.0") != NULL);
	TAP_ASSERT(strstr(fourlw("conf"), "clientPort=") != NULL);
	TAP_ASSERT(strstr(fourlw("cons"), "sid=0x") != NULL);
	TAP_ASSERT(strstr(fourlw("mntr"), "zk_version\t3.8.0") != NULL);
	{
		/* a child watch: ZooKeeper's wchs, wchc and wchp show data
		 * watches only */
		struct jute_get_children_request q = {"/zookeeper", 1};

		TAP_EQ(cli_call(&c, ZOP_GETCHILDREN, &q), ZOK);
	}
	TAP_ASSERT(strstr(fourlw("wchs"), "1 connections watching 1 paths\nTotal watches:1") !=
		   NULL);
	TAP_ASSERT(strstr(fourlw("wchc"), "\t/\n") != NULL);
	TAP_ASSERT(strstr(fourlw("wchc"), "/zookeeper") == NULL);
	TAP_ASSERT(strstr(fourlw("wchp"), "/\n\t0x") != NULL);
	TAP_ASSERT(strstr(fourlw("wchp"), "/zookeeper") == NULL);
	TAP_ASSERT(strstr(fourlw("dirs"), "datadir_size: ") != NULL);
	TAP_STREQ(fourlw("isro"), "rw");
	TAP_ASSERT(strstr(fourlw("dump"), "0x") != NULL);
	TAP_STREQ(fourlw("crst"), "Connection stats reset.\n");
	TAP_EQ(cli_call(&c, ZOP_PING, NULL), ZOK);
	cli_close_fd(&c);
	srv_stop();
	memset(&zo, 0, sizeof(zo));
	zo.four_letter_whitelist = "srvr, ruok";
	srv_start_opts(&zo, 100);
	TAP_STREQ(fourlw("ruok"), "imok");
	TAP_STREQ(fourlw("envi"),
		  "envi is not executed because it is not in the whitelist.\n");
	srv_stop();
}

/* conf writes the server lines as ZooKeeper does: brackets around an IPv6
 * host, and a client part only where the line has one. */
static void t_conf_servers(void)
{
	struct qfs_server_cfg sv[3] = {
		{.id = 1, .host = "10.0.0.1", .peer_port = 2888, .election_port = 3888,
		 .client_host = "10.0.0.1", .client_port = 2181},
		{.id = 2, .host = "::1", .peer_port = 2889, .election_port = 3889,
		 .observer = 1, .client_port = 2182},
		{.id = 3, .host = "zk3.example", .peer_port = 2890, .election_port = 3890},
	};
	struct qfs_config cfg;
	struct zk_server_opts zo;
	const char *out;

	memset(&cfg, 0, sizeof(cfg));
	cfg.tick_ms = 100;
	cfg.init_limit = 10;
	cfg.sync_limit = 5;
	cfg.myid = 1;
	cfg.servers = sv;
	cfg.n_servers = 3;
	memset(&zo, 0, sizeof(zo));
	zo.four_letter_whitelist = "*";
	zo.cfg = &cfg;
	srv_start_opts(&zo, 100);
	out = fourlw("conf");
	/* Shown as TAP comments, a line each. */
	for (const char *l = out; *l;) {
		size_t n = strcspn(l, "\n");

		printf("# conf: %.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
	TAP_ASSERT(strstr(out, "\nserver.1=10.0.0.1:2888:3888:participant;10.0.0.1:2181\n") !=
		   NULL);
	TAP_ASSERT(strstr(out, "\nserver.2=[::1]:2889:3889:observer;0.0.0.0:2182\n") != NULL);
	TAP_ASSERT(strstr(out, "\nserver.3=zk3.example:2890:3890:participant\n") != NULL);
	TAP_ASSERT(strstr(out, "\nserverId=1\n") != NULL);
	srv_stop();
}

static void t_max_cnxns(void)
{
	struct zk_server_opts zo;
	struct cli c[3];
	int fd;

	memset(&zo, 0, sizeof(zo));
	zo.max_client_cnxns = 3;
	srv_start_opts(&zo, 100);
	for (int i = 0; i < 3; i++)
		cli_open(&c[i], 2000);
	fd = tcp_connect(S.port);
	TAP_ASSERT(fd >= 0);
	TAP_ASSERT(peer_closed(fd));
	close(fd);
	cli_close_fd(&c[0]);
	usleep(100 * 1000);
	cli_open(&c[0], 2000);
	for (int i = 0; i < 3; i++) {
		TAP_EQ(cli_call(&c[i], ZOP_PING, NULL), ZOK);
		cli_close_fd(&c[i]);
	}
	srv_stop();
}

/* A setWatches larger than one slice (ZKS_SLICE_ITEMS) keeps its place:
 * every missed event before its reply, and a write sent right behind it
 * runs only after it, so the exist watch it set on the last path fires for
 * that write. A connection closed while its setWatches is half done leaves
 * the server serving. */
static void t_setwatches_sliced(void)
{
	/* Data watches: a few slices (ZKS_SLICE_ITEMS is 2000). Exist
	 * watches: many more, so that the write behind, were it let through,
	 * would be applied long before the last one is set. */
	enum { ND = 3 * 2000 + 7, NE = 60000 };
	static char dn[ND][16], en[NE][16];
	static char *dw[ND], *ew[NE];
	struct jute_create_request cq = {en[NE - 1], {0, NULL}, *acl_open_unsafe(), 0};
	struct jute_set_watches q = {0, {ND, dw}, {NE, ew}, {0, NULL}};
	struct cli c, d;
	struct reply r;
	int32_t xs, xc;

	for (int i = 0; i < ND; i++) {
		snprintf(dn[i], sizeof(dn[i]), "/d%05d", i);
		dw[i] = dn[i];
	}
	for (int i = 0; i < NE; i++) {
		snprintf(en[i], sizeof(en[i]), "/e%05d", i);
		ew[i] = en[i];
	}
	srv_start();
	cli_open(&c, 2000);
	xs = cli_send(&c, ZOP_SETWATCHES, &q);
	xc = cli_send(&c, ZOP_CREATE, &cq);
	for (int i = 0; i < ND; i++)
		cli_expect_event(&c, 2, dn[i]); /* NodeDeleted */
	TAP_EQ(cli_expect(&c, xs, &r), ZOK);
	reply_free(&r);
	cli_expect_event(&c, 1, en[NE - 1]); /* NodeCreated */
	TAP_EQ(cli_expect(&c, xc, &r), ZOK);
	reply_free(&r);
	/* Closed mid-way: the continuation finds the connection dead. */
	cli_open(&d, 2000);
	cli_send(&d, ZOP_SETWATCHES, &q);
	cli_close_fd(&d);
	usleep(200 * 1000);
	TAP_EQ(cli_call(&c, ZOP_PING, NULL), ZOK);
	cli_close_fd(&c);
	srv_stop();
}

/* The largest value (ZNODE_MAX_DATA) round-trips; one byte more is
 * ZBADARGUMENTS on a connection that stays open, even at exactly 1 MiB
 * (which used to close it as a "malformed frame"). */
static void t_big_data(void)
{
	struct cli c;
	static char big[1024 * 1024];
	struct jute_create_request q = {
	    "/big", {ZNODE_MAX_DATA, (uint8_t *)big}, *acl_open_unsafe(), 0};
	struct zstat st;

	srv_start();
	cli_open(&c, 2000);
	memset(big, 'b', sizeof(big));
	TAP_EQ(cli_call(&c, ZOP_CREATE, &q), ZOK);
	TAP_EQ(cli_get(&c, "/big", 0, NULL, 0, &st), ZOK);
	TAP_EQ(st.data_length, ZNODE_MAX_DATA);
	q.path = "/big1";
	q.data.len = ZNODE_MAX_DATA + 1;
	TAP_EQ(cli_call(&c, ZOP_CREATE, &q), ZBADARGUMENTS);
	q.data.len = (int32_t)sizeof(big);
	TAP_EQ(cli_call(&c, ZOP_CREATE, &q), ZBADARGUMENTS);
	TAP_EQ(cli_call(&c, ZOP_PING, NULL), ZOK);
	cli_close_fd(&c);
	srv_stop();
}

/* Far more requests than the outstanding limit, none read until all are
 * sent: the server stops reading, drains, resumes; every reply arrives, in
 * order. */
static void t_pipeline_throttle(void)
{
	struct cli c;
	struct buf all;
	enum { N = 5000 };
	struct reply r;

	srv_start();
	cli_open(&c, 2000);
	TAP_EQ(cli_create(&c, "/t", "", 0, NULL, 0), ZOK);
	buf_init(&all);
	for (int i = 0; i < N; i++) {
		struct jute_request_header h = {c.xid + i,
						i % 10 == 0 ? ZOP_SETDATA : ZOP_EXISTS};
		size_t off = jute_frame_begin(&all);

		jute_put_request_header(&all, &h);
		if (h.type == ZOP_SETDATA) {
			struct jute_set_data_request q = {"/t", {1, (uint8_t *)"x"}, -1};

			jute_put_set_data_request(&all, &q);
		} else {
			struct jute_exists_request q = {"/t", 0};

			jute_put_exists_request(&all, &q);
		}
		jute_frame_end(&all, off);
	}
	TAP_ASSERT(!buf_failed(&all));
	/* a writer thread would be cleaner; the server answers while we
	 * write because its output goes to its own buffers */
	TAP_ASSERT(write_all(c.fd, all.data, all.len) == 0);
	buf_free(&all);
	for (int i = 0; i < N; i++) {
		TAP_EQ(cli_expect(&c, c.xid + i, &r), ZOK);
		reply_free(&r);
	}
	c.xid += N;
	TAP_EQ(cli_call(&c, ZOP_PING, NULL), ZOK);
	cli_close_fd(&c);
	srv_stop();
}

/* A tiny outstanding limit and watch limit: the throttled connection still
 * gets every reply in order; watches past the limit are not kept (the read
 * still answers) and the others still fire. */
static void t_limits(void)
{
	struct zk_server_opts zo;
	struct cli c, o;
	int32_t xids[200];
	struct reply r;

	memset(&zo, 0, sizeof(zo));
	zo.max_outstanding = 4;
	zo.max_watches = 2;
	srv_start_opts(&zo, 100);
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	TAP_EQ(cli_create(&c, "/l", "", 0, NULL, 0), ZOK);
	for (int i = 0; i < 200; i++) {
		struct jute_set_data_request q = {"/l", {1, (uint8_t *)"v"}, -1};

		xids[i] = cli_send(&c, ZOP_SETDATA, &q);
	}
	for (int i = 0; i < 200; i++) {
		TAP_EQ(cli_expect(&c, xids[i], &r), ZOK);
		reply_free(&r);
	}
	TAP_EQ(cli_exists(&c, "/w1", 1), ZNONODE);
	TAP_EQ(cli_exists(&c, "/w2", 1), ZNONODE);
	/* Over the limit: an error, not a silent ZNONODE without the watch. */
	TAP_EQ(cli_exists(&c, "/w3", 1), ZSYSTEMERROR);
	TAP_EQ(cli_exists(&c, "/w3", 0), ZNONODE); /* no watch asked: fine */
	TAP_EQ(cli_create(&o, "/w3", "", 0, NULL, 0), ZOK);
	TAP_EQ(cli_create(&o, "/w1", "", 0, NULL, 0), ZOK);
	cli_expect_event(&c, 1, "/w1");
	TAP_ASSERT(cli_quiet(&c, 200));
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

/* A connection that never sends its ConnectRequest is closed after 10 s
 * (half a frame here, the slow-loris way), freeing its maxClientCnxns slot. */
static void t_sessionless(void)
{
	struct zk_server_opts zo;
	static const uint8_t half[] = {0, 0, 0, 44, 0, 0};
	struct timeval tv = {15, 0};
	struct cli c;
	uint8_t b[16];
	int fd;

	memset(&zo, 0, sizeof(zo));
	zo.max_client_cnxns = 1;
	srv_start_opts(&zo, 100);
	fd = tcp_connect(S.port);
	TAP_ASSERT(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	TAP_ASSERT(write_all(fd, half, sizeof(half)) == 0);
	TAP_EQ(read(fd, b, sizeof(b)), 0);
	close(fd);
	usleep(100 * 1000);
	cli_open(&c, 2000);
	TAP_EQ(cli_call(&c, ZOP_PING, NULL), ZOK);
	cli_close_fd(&c);
	srv_stop();
}

static void md5_hex(const char *s, size_t n, char out[33])
{
	uint8_t h[16];
	unsigned int len = 16;

	EVP_Digest(s, n, h, &len, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* One SASL step: send token, return the reply's error and token. */
static int32_t sasl_step(struct cli *c, const char *tok, char *out, size_t n)
{
	struct jute_get_sasl_request q = {{(int32_t)strlen(tok), (uint8_t *)tok}};
	struct jute_set_sasl_response rsp;
	struct reply r;
	int32_t err = cli_expect(c, cli_send(c, ZOP_SASL, &q), &r);

	out[0] = 0;
	if (err == ZOK) {
		TAP_EQ(jute_get_set_sasl_response(&r.body, &rsp, 1 << 20), ZOK);
		snprintf(out, n, "%.*s", rsp.token.len > 0 ? rsp.token.len : 0,
			 rsp.token.len > 0 ? (char *)rsp.token.data : "");
		jute_free_set_sasl_response(&rsp);
	}
	reply_free(&r);
	return err;
}

/* The client side of DIGEST-MD5 (RFC 2831) for user/pw against a
 * challenge; the response token into out. */
static void sasl_answer(const char *chal, const char *user, const char *pw, char *out,
			size_t n)
{
	const char *p = strstr(chal, "nonce=\"");
	char nonce[64], buf[512], ha1[33], ha2[33], resp[33];
	uint8_t key[16];
	unsigned int len = 16;
	size_t k;
	int m;

	TAP_ASSERT(p != NULL);
	p += 7;
	for (k = 0; p[k] && p[k] != '"' && k < sizeof(nonce) - 1; k++)
		nonce[k] = p[k];
	nonce[k] = 0;
	m = snprintf(buf, sizeof(buf), "%s:zk-sasl-md5:%s", user, pw);
	EVP_Digest(buf, (size_t)m, key, &len, EVP_md5(), NULL);
	memcpy(buf, key, 16);
	m = snprintf(buf + 16, sizeof(buf) - 16, ":%s:cn0nce", nonce);
	md5_hex(buf, 16 + (size_t)m, ha1);
	m = snprintf(buf, sizeof(buf), "AUTHENTICATE:zookeeper/zk-sasl-md5");
	md5_hex(buf, (size_t)m, ha2);
	m = snprintf(buf, sizeof(buf), "%s:%s:00000001:cn0nce:auth:%s", ha1, nonce, ha2);
	md5_hex(buf, (size_t)m, resp);
	snprintf(out, n,
		 "charset=utf-8,username=\"%s\",realm=\"zk-sasl-md5\",nonce=\"%s\",nc="
		 "00000001,"
		 "cnonce=\"cn0nce\",digest-uri=\"zookeeper/zk-sasl-md5\",maxbuf=65536,"
		 "response=%s,qop=auth",
		 user, nonce, resp);
}

static void t_sasl(void)
{
	struct zk_server_opts zo;
	struct cli c, o;
	char chal[512], tok[512];

	memset(&zo, 0, sizeof(zo));
	zo.sasl_users = "alice:wonder,bob:builder";
	srv_start_opts(&zo, 100);
	cli_open(&c, 2000);
	TAP_EQ(sasl_step(&c, "", chal, sizeof(chal)), ZOK);
	TAP_ASSERT(strstr(chal, "realm=\"zk-sasl-md5\"") != NULL);
	TAP_ASSERT(strstr(chal, "algorithm=md5-sess") != NULL);
	sasl_answer(chal, "bob", "builder", tok, sizeof(tok));
	TAP_EQ(sasl_step(&c, tok, chal, sizeof(chal)), ZOK);
	TAP_ASSERT(strncmp(chal, "rspauth=", 8) == 0);
	{
		struct jute_who_am_i_response w;
		struct reply r;
		int found = 0;

		TAP_EQ(cli_expect(&c, cli_send(&c, ZOP_WHOAMI, NULL), &r), ZOK);
		TAP_EQ(jute_get_who_am_i_response(&r.body, &w, 1 << 20), ZOK);
		for (int32_t i = 0; i < w.client_info.n; i++)
			found |= !strcmp(w.client_info.v[i].auth_scheme, "sasl") &&
				 !strcmp(w.client_info.v[i].user, "bob");
		TAP_ASSERT(found);
		jute_free_who_am_i_response(&w);
		reply_free(&r);
	}
	cli_close_fd(&c);
	/* a wrong password: AUTHFAILED and the connection goes */
	cli_open(&o, 2000);
	TAP_EQ(sasl_step(&o, "", chal, sizeof(chal)), ZOK);
	sasl_answer(chal, "alice", "nope", tok, sizeof(tok));
	TAP_EQ(sasl_step(&o, tok, chal, sizeof(chal)), ZAUTHFAILED);
	TAP_ASSERT(peer_closed(o.fd));
	cli_close_fd(&o);
	srv_stop();
}

/* getACL without ADMIN masks digest hashes. */
static void t_getacl_masked(void)
{
	struct cli c, o;
	struct zacl a[2] = {{ZPERM_READ, "world", "anyone"}, {ZPERM_ALL, "digest", NULL}};
	struct acl_list acl = {2, a};
	char *dg = acl_digest("ann:pw");
	struct jute_get_acl_request q = {"/m"};
	struct jute_get_acl_response gr;
	struct reply r;

	srv_start();
	a[1].id = dg;
	cli_open(&c, 2000);
	cli_open(&o, 2000);
	{
		struct jute_create_request cq = {"/m", {0, NULL}, acl, 0};

		TAP_EQ(cli_call(&c, ZOP_CREATE, &cq), ZOK);
	}
	TAP_EQ(cli_expect(&o, cli_send(&o, ZOP_GETACL, &q), &r), ZOK);
	TAP_EQ(jute_get_get_acl_response(&r.body, &gr, 1 << 20), ZOK);
	TAP_EQ(gr.acl.n, 2);
	TAP_STREQ(gr.acl.v[1].id, "ann:x");
	jute_free_get_acl_response(&gr);
	reply_free(&r);
	{
		struct jute_auth_packet ap = {0, "digest", {6, (uint8_t *)"ann:pw"}};

		TAP_EQ(cli_call(&o, ZOP_AUTH, &ap), ZOK);
	}
	TAP_EQ(cli_expect(&o, cli_send(&o, ZOP_GETACL, &q), &r), ZOK);
	TAP_EQ(jute_get_get_acl_response(&r.body, &gr, 1 << 20), ZOK);
	TAP_STREQ(gr.acl.v[1].id, dg);
	jute_free_get_acl_response(&gr);
	reply_free(&r);
	free(dg);
	cli_close_fd(&c);
	cli_close_fd(&o);
	srv_stop();
}

static const struct tap_case cases[] = {
    {"sasl", t_sasl},
    {"getacl_masked", t_getacl_masked},
    {"limits", t_limits},
    {"setwatches_sliced", t_setwatches_sliced},
    {"pipeline_throttle", t_pipeline_throttle},
    {"connect", t_connect},
    {"crud", t_crud},
    {"create_modes", t_create_modes},
    {"multi", t_multi},
    {"acl_auth", t_acl_auth},
    {"super_digest", t_super_digest},
    {"watch_data", t_watch_data},
    {"watch_order", t_watch_order},
    {"watch_persistent", t_watch_persistent},
    {"reattach_setwatches", t_reattach_setwatches},
    {"expiry", t_expiry},
    {"hostile", t_hostile},
    {"four_letter_words", t_four_letter_words},
    {"conf_servers", t_conf_servers},
    {"max_cnxns", t_max_cnxns},
    {"big_data", t_big_data},
    {"sessionless", t_sessionless},
};

int main(int argc, char **argv)
{
	int rc;

	log_init("test_zks", 1, getenv("QFS_DEBUG") != NULL);
	evthread_use_pthreads();
	rc = tap_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	srv_stop(); /* after a failed case */
	return rc;
}
