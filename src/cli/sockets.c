/* --socket (see sockets.h). */
#include "sockets.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG 128

const char *cli_socket_normalise(const char *spec, char *out, size_t len)
{
	const char *host = "127.0.0.1", *port = spec;
	size_t hostlen = strlen(host);
	int v6 = 0;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			return "expected [IPV6]:PORT, e.g. [::1]:8000";
		host = spec + 1;
		hostlen = (size_t)(close - host);
		port = close + 2;
		v6 = 1;
	} else {
		const char *colon = strrchr(spec, ':');
		if (colon) {
			if (memchr(spec, ':', (size_t)(colon - spec)))
				return "write an IPv6 address in brackets, e.g. [::1]:8000";
			host = spec;
			hostlen = (size_t)(colon - spec);
			port = colon + 1;
		}
	}
	if (hostlen == 0)
		return "empty host (leave out HOST: for 127.0.0.1, or give 0.0.0.0 for every interface)";
	if (!*port)
		return "no port (e.g. 8000 or 127.0.0.1:8000)";
	unsigned long n = 0;
	for (const char *p = port; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return "the port must be a number from 1 to 65535";
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 65535)
			return "the port must be a number from 1 to 65535";
	}
	if (n == 0)
		return "the port must be a number from 1 to 65535";
	for (size_t i = 0; i < hostlen; i++)
		if (!isgraph((unsigned char)host[i]))
			return "the host holds a space or a control character";
	if ((size_t)snprintf(out, len, "%s%.*s%s:%lu", v6 ? "[" : "", (int)hostlen, host, v6 ? "]" : "", n) >= len)
		return "the host is too long";
	return NULL;
}

/* "HOST:PORT" (normalised) split back into getaddrinfo's two strings. */
static void split(const char *addr, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t n = (size_t)(colon - addr);
	if (h[0] == '[') {
		h++;
		n -= 2;
	}
	snprintf(host, hlen, "%.*s", (int)n, h);
	snprintf(port, plen, "%s", colon + 1);
}

/* One listening socket on addr, or -errno with *what naming the step. */
static int listen_on(const char *addr, const char **what)
{
	char host[300], port[8];
	split(addr, host, sizeof host, port, sizeof port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res;
	int g = getaddrinfo(host, port, &hints, &res);
	if (g != 0) {
		*what = gai_strerror(g);
		return -EHOSTUNREACH;
	}
	int err = -EADDRNOTAVAIL;
	*what = "cannot listen";
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		int one = 1;
		if (fd < 0) {
			err = -errno;
			continue;
		}
		/* A server that just stopped leaves TIME_WAIT connections on the port. */
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, BACKLOG) == 0) {
			freeaddrinfo(res);
			return fd;
		}
		err = -errno;
		close(fd);
	}
	freeaddrinfo(res);
	return err;
}

int cli_sockets_open(const struct cli_options *opt, int *fds, char *msg, size_t len)
{
	for (size_t i = 0; i < opt->nsockets; i++) {
		const char *what;
		int fd = listen_on(opt->sockets[i], &what);
		if (fd >= 0) {
			fds[i] = fd;
			continue;
		}
		char where[300] = "--socket";
		const struct cli_origin *o = &opt->socket_origin[i];
		if (o->source == CLI_SRC_CONFIG) {
			cli_origin_text(o, where, sizeof where);
			strncat(where, ": socket", sizeof where - strlen(where) - 1);
		}
		if (fd == -EHOSTUNREACH)
			snprintf(msg, len, "%s '%s': unknown host: %s", where, opt->sockets[i], what);
		else
			snprintf(msg, len, "%s '%s': %s: %s", where, opt->sockets[i], what, strerror(-fd));
		cli_sockets_close(fds, i);
		return -EINVAL;
	}
	return 0;
}

void cli_sockets_close(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}
