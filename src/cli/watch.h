/* py-mon watch: print each event (text or JSON lines) and run nothing. */
#ifndef PYMON_CLI_WATCH_H
#define PYMON_CLI_WATCH_H

#include "options.h"
#include "output.h"

#include <stddef.h>
#include <stdio.h>

/* Exit statuses of py-mon watch besides 0, 1, 2 and 128+N. */
#define EXIT_WATCH_TIMEOUT 3

/* Runs the watch loop; returns the exit status. */
int cli_watch_run(const struct cli_options *o, struct cli_output *out);

#endif
