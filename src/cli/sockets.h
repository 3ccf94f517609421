/* --socket: listening sockets py-mon opens once and hands to every run
 * (pymon_command.fds), so connections made during a restart wait in the
 * backlog instead of being refused. */
#ifndef PYMON_CLI_SOCKETS_H
#define PYMON_CLI_SOCKETS_H

#include "options.h"

#include <stddef.h>

/* "[HOST:]PORT" as "HOST:PORT" (HOST 127.0.0.1 when left out; an IPv6
 * address in brackets, "[::1]:8000"), in out. NULL, or why spec is not
 * an address (for "--socket 'x': REASON"). Pure: no syscalls. */
const char *cli_socket_normalise(const char *spec, char *out, size_t len);

/* Binds and listens on each of opt's sockets (SO_REUSEADDR, backlog 128,
 * close-on-exec), into fds (room for opt->nsockets). 0, or -EINVAL with
 * "--socket '127.0.0.1:8000': cannot listen: Address already in use" (the
 * key and FILE:LINE:COL when a config file gave it) in msg and nothing
 * left open. */
int cli_sockets_open(const struct cli_options *opt, int *fds, char *msg, size_t len);

void cli_sockets_close(int *fds, size_t n);

#endif
