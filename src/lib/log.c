/* log.c - stderr or syslog logging; see log.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "jsonstr.h"
#include "log.h"

static int log_fg = 1;
static int log_dbg;
static int log_json;	/* log_set_json: one JSON object per line */
static long log_member; /* its "member" field, when above 0 */
static int log_echo;	/* log_echo_stderr */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The daemon forks children (snapshots, backups) that log: a child forked
 * while another thread held log_lock would wait for it for ever. Held
 * across every fork() instead, and released on both sides.
 */
static void log_fork_prepare(void)
{
	pthread_mutex_lock(&log_lock);
}

static void log_fork_done(void)
{
	pthread_mutex_unlock(&log_lock);
}

__attribute__((constructor)) static void log_register_fork(void)
{
	pthread_atfork(log_fork_prepare, log_fork_done, log_fork_done);
}

void log_init(const char *ident, int foreground, int debug)
{
	log_fg = foreground;
	log_dbg = debug;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_json(int on, long member)
{
	log_json = on;
	log_member = member;
}

void log_echo_stderr(int on)
{
	log_echo = on;
}

int log_debug_enabled(void)
{
	return log_dbg;
}

static const char *const level_names[] = {[LOG_ERR] = "error",
					  [LOG_WARNING] = "warn",
					  [LOG_INFO] = "info",
					  [LOG_DEBUG] = "debug"};

/*
 * A JSON line: {"ts":..,"level":..,"pid":..,"member":..,"msg":..,"error":..}
 * with ts in UTC (RFC 3339, milliseconds), member only in an ensemble, and
 * error (log_warn's strerror) apart from the message, so that a pipeline
 * can group lines by what went wrong. Fields are in that fixed order.
 */
static void json_line(char *out, size_t cap, int prio, const char *msg,
		      const char *errstr)
{
	struct timespec ts;
	struct tm tm;
	char when[32], member[32] = "";
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_member > 0)
		snprintf(member, sizeof(member), ",\"member\":%ld", log_member);
	n = (size_t)snprintf(
	    out, cap, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"pid\":%ld%s,\"msg\":\"",
	    when, ts.tv_nsec / 1000000, level_names[prio], (long)getpid(), member);
	/* The escapes leave room for the closing fields (64 bytes at most). */
	n += json_escape(out + n, cap - n - 64, msg);
	if (errstr) {
		n += (size_t)snprintf(out + n, cap - n, "\",\"error\":\"");
		n += json_escape(out + n, cap - n - 8, errstr);
	}
	snprintf(out + n, cap - n, "\"}");
}

static void log_vemit(int prio, const char *errstr, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void log_vemit(int prio, const char *errstr, const char *fmt, va_list ap)
{
	char msg[2048], line[8192];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		return;
	if (log_json) {
		json_line(line, sizeof(line), prio, msg, errstr);
		if (log_fg) {
			pthread_mutex_lock(&log_lock);
			fprintf(stderr, "%s\n", line);
			pthread_mutex_unlock(&log_lock);
		} else {
			syslog(prio, "%s", line);
		}
		return;
	}
	if (errstr)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), ": %s", errstr);
	if (log_fg) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		pthread_mutex_lock(&log_lock);
		fprintf(stderr, "%s.%03ld %s %s\n", when, ts.tv_nsec / 1000000,
			level_names[prio] ? level_names[prio] : "log", msg);
		pthread_mutex_unlock(&log_lock);
	} else {
		syslog(prio, "%s", msg);
		if (log_echo && prio <= LOG_WARNING) {
			pthread_mutex_lock(&log_lock);
			fprintf(stderr, "quorumfs: %s\n", msg);
			pthread_mutex_unlock(&log_lock);
		}
	}
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!log_dbg)
		return;
	va_start(ap, fmt);
	log_vemit(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *e = strerror(errno);

	va_start(ap, fmt);
	log_vemit(LOG_WARNING, e, fmt, ap);
	va_end(ap);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
