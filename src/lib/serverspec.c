/*
 * serverspec.c - parsing and writing the host:peer:election[:role][;client]
 * text of a server.N= line (serverspec.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "serverspec.h"

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t len,
						      const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The decimal number in [s, end), from lo to hi, or -1. */
static long number(const char *s, const char *end, long lo, long hi)
{
	long v = 0;

	if (s == end || end - s > 5)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

/* The port in [s, end), from lo to 65535, into *out; what names it. */
static int take_port(const char *s, const char *end, long lo, const char *what, int *out,
		     char *why, size_t wl)
{
	long v = number(s, end, lo, 65535);

	if (v < 0)
		return fail(why, wl, "%s '%.*s' is not a number from %ld to 65535", what,
			    (int)(end - s), s, lo);
	*out = (int)v;
	return 0;
}

/*
 * A host at *p, bracketed or not, copied into out without brackets; *p
 * is left at the character after it (':' or the end). what names the
 * field for the messages.
 */
static int take_host(const char **p, const char *end, char *out, const char *what,
		     char *why, size_t wl)
{
	const char *s = *p, *e;
	size_t n;

	if (s < end && *s == '[') {
		e = memchr(s, ']', (size_t)(end - s));
		if (!e)
			return fail(why, wl, "%s: '[' without its ']'", what);
		s++;
		*p = e + 1;
		if (*p < end && **p != ':')
			return fail(why, wl, "%s: ':' expected after ']'", what);
	} else {
		e = memchr(s, ':', (size_t)(end - s));
		if (!e)
			e = end;
		*p = e;
	}
	n = (size_t)(e - s);
	if (n == 0)
		return fail(why, wl, "%s is empty", what);
	if (n >= SERVERSPEC_HOST_MAX)
		return fail(why, wl, "%s is longer than %d bytes", what,
			    SERVERSPEC_HOST_MAX - 1);
	for (const char *c = s; c < e; c++)
		if (is_blank(*c) || *c == '[' || *c == ']' || *c == ';')
			return fail(why, wl, "%s '%.*s' holds '%c'", what, (int)n, s,
				    *c == '\t' ? ' ' : *c);
	memcpy(out, s, n);
	out[n] = 0;
	return 0;
}

/* ";[clientHost:]clientPort", the part after the ';' in [s, end). */
static int take_client(const char *s, const char *end, struct serverspec *out, char *why,
		       size_t wl)
{
	const char *colon = NULL, *port;

	out->has_client = 1;
	if (s < end && *s == '[') {
		if (take_host(&s, end, out->client_host, "the client address", why, wl))
			return -EINVAL;
		if (s == end)
			return fail(why, wl, "the client port is missing after ']'");
		port = s + 1;
	} else {
		for (const char *c = s; c < end; c++)
			if (*c == ':') {
				if (colon)
					return fail(why, wl,
						    "the client address: an IPv6 address "
						    "goes in brackets, [addr]:port");
				colon = c;
			}
		if (colon) {
			if (take_host(&s, colon, out->client_host, "the client address",
				      why, wl))
				return -EINVAL;
			port = colon + 1;
		} else {
			port = s;
		}
	}
	return take_port(port, end, 0, "client port", &out->client_port, why, wl);
}

int serverspec_parse(const char *value, struct serverspec *out, char *why, size_t whylen)
{
	const char *p = value, *end, *semi, *f[3], *fe[3];
	int nf = 0;

	memset(out, 0, sizeof(*out));
	while (is_blank(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_blank(end[-1]))
		end--;
	semi = memchr(p, ';', (size_t)(end - p));
	if (*p != '[') {
		int colons = 0;

		for (const char *c = p; c < (semi ? semi : end); c++)
			colons += *c == ':';
		if (colons > 3)
			return fail(why, whylen,
				    "too many ':' fields (an IPv6 address goes in "
				    "brackets, [addr]:peerPort:electionPort)");
	}
	if (take_host(&p, semi ? semi : end, out->host, "the host", why, whylen))
		return -EINVAL;
	/* p is at the ':' after the host, or the end of this part. */
	while (p < (semi ? semi : end) && *p == ':') {
		const char *s = p + 1, *e = s;

		while (e < (semi ? semi : end) && *e != ':')
			e++;
		if (nf == 3)
			return fail(why, whylen, "too many ':' fields after the host");
		f[nf] = s;
		fe[nf++] = e;
		p = e;
	}
	if (nf < 2)
		return fail(why, whylen, "expected host:peerPort:electionPort");
	if (take_port(f[0], fe[0], 1, "peer port", &out->peer_port, why, whylen) ||
	    take_port(f[1], fe[1], 1, "election port", &out->election_port, why, whylen))
		return -EINVAL;
	if (nf == 3) {
		size_t n = (size_t)(fe[2] - f[2]);

		if (n == 8 && !memcmp(f[2], "observer", 8))
			out->observer = 1;
		else if (!(n == 11 && !memcmp(f[2], "participant", 11)))
			return fail(why, whylen,
				    "role '%.*s' is neither participant nor observer",
				    (int)n, f[2]);
	}
	if (semi)
		return take_client(semi + 1, end, out, why, whylen);
	return 0;
}

const char *serverspec_host(const char *host, char *buf, size_t len)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]" : "%s", host);
	return buf;
}
