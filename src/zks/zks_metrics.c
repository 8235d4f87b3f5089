/*
 * zks_metrics.c - the Prometheus endpoint: GET /metrics on
 * metricsProvider.httpHost:httpPort, as ZooKeeper's PrometheusMetricsProvider
 * serves it, so a scrape configuration and a dashboard written for ZooKeeper
 * work unchanged.
 *
 * The figures are mntr's (zks_figures), named as ZooKeeper's provider names
 * them: mntr's name without "zk_". Latencies are in milliseconds, as mntr
 * gives them; readlatency and updatelatency are summaries (quantiles over
 * the last ten minutes, count, sum); zxids are plain numbers. server_info carries the two texts
 * mntr has, as labels: version and state (leader, follower, observer,
 * standalone, looking).
 *
 * libevent's evhttp serves it on the daemon's loop. A scrape is answered
 * at once from memory, so it costs the loop what mntr costs. Only GET and
 * HEAD are taken; headers are bounded, bodies refused, and an idle or slow
 * client is dropped after ZKS_METRICS_TIMEOUT_S.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "core.h"
#include "log.h"
#include "zks_int.h"

#define ZKS_METRICS_TIMEOUT_S	10
#define ZKS_METRICS_MAX_HEADERS 8192

/*
 * A summary as ZooKeeper's Prometheus provider gives its ADVANCED ones:
 * the 0.5, 0.9 and 0.99 quantiles over the last ten minutes, then _count
 * and _sum since the start, in milliseconds.
 */
static void put_summary(struct evbuffer *o, const char *name, const struct zks_lat *l)
{
	static const double q[] = {0.5, 0.9, 0.99};
	static const char *const qn[] = {"0.5", "0.9", "0.99"};
	int64_t v[3];

	zks_lat_quantiles(l, zks_now_ms(), q, 3, v);
	evbuffer_add_printf(o, "# TYPE %s summary\n", name);
	for (int i = 0; i < 3; i++)
		evbuffer_add_printf(o, "%s{quantile=\"%s\"} %.3f\n", name, qn[i],
				    (double)v[i] / 1000.0);
	evbuffer_add_printf(o, "%s_count %" PRIu64 "\n", name, l->count);
	evbuffer_add_printf(o, "%s_sum %.3f\n", name, (double)l->sum_us / 1000.0);
}

static void put_fig(struct evbuffer *o, const struct zks_fig *f)
{
	int counter = f->kind == ZKS_FIG_COUNTER;

	if (f->kind == ZKS_FIG_SUMMARY) {
		put_summary(o, f->name, f->lat);
		return;
	}
	evbuffer_add_printf(o, "# TYPE %s %s\n", f->name, counter ? "counter" : "gauge");
	switch (f->kind) {
	case ZKS_FIG_GAUGE:
	case ZKS_FIG_COUNTER:
		evbuffer_add_printf(o, "%s %" PRId64 "\n", f->name, f->v);
		break;
	case ZKS_FIG_ZXID:
		evbuffer_add_printf(o, "%s %" PRIu64 "\n", f->name, (uint64_t)f->v);
		break;
	case ZKS_FIG_MS:
		evbuffer_add_printf(o, "%s %.3f\n", f->name, (double)f->v / 1000.0);
		break;
	case ZKS_FIG_AVG_MS:
		evbuffer_add_printf(o, "%s %.4f\n", f->name, f->ms);
		break;
	case ZKS_FIG_SUMMARY:
		break; /* above */
	}
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct zk_server *s = arg;
	struct zks_fig f[ZKS_FIGS_MAX];
	struct qcore_replica rep;
	struct evbuffer *o = evbuffer_new();
	size_t n;

	if (!o) {
		evhttp_send_error(req, HTTP_SERVUNAVAIL, "out of memory");
		return;
	}
	qcore_replica(s->core, &rep);
	evbuffer_add_printf(o, "# HELP server_info The server's version and its role "
			       "(leader, follower, observer, standalone or looking).\n");
	evbuffer_add_printf(o, "# TYPE server_info gauge\n");
	evbuffer_add_printf(o, "server_info{version=\"%s\",state=\"%s\"} 1\n",
			    zks_version, qcore_role_name(rep.role));
	n = zks_figures(s, f);
	for (size_t i = 0; i < n; i++)
		put_fig(o, &f[i]);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", o);
	evbuffer_free(o);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is served here");
}

int zks_metrics_start(struct zk_server *s, const char *host, int port, char *errbuf,
		      size_t errlen)
{
	struct evhttp_bound_socket *bs;

	s->metrics = evhttp_new(s->base);
	if (!s->metrics) {
		snprintf(errbuf, errlen, "metrics: out of memory");
		return -ENOMEM;
	}
	evhttp_set_allowed_methods(s->metrics, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(s->metrics, ZKS_METRICS_TIMEOUT_S);
	evhttp_set_max_headers_size(s->metrics, ZKS_METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(s->metrics, 0);
	evhttp_set_cb(s->metrics, "/metrics", on_metrics, s);
	evhttp_set_gencb(s->metrics, on_other, s);
	errno = 0;
	bs = evhttp_bind_socket_with_handle(s->metrics, host, (ev_uint16_t)port);
	if (!bs) {
		int err = errno ? errno : EADDRNOTAVAIL;

		snprintf(errbuf, errlen,
			 "metricsProvider.httpPort: cannot serve metrics on %s:%d: %s",
			 host, port, strerror(err));
		evhttp_free(s->metrics);
		s->metrics = NULL;
		return -err;
	}
	log_info("zk: Prometheus metrics on http://%s:%d/metrics", host, port);
	return 0;
}

void zks_metrics_stop(struct zk_server *s)
{
	if (s->metrics)
		evhttp_free(s->metrics);
	s->metrics = NULL;
}
