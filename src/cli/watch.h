/* py-mon watch: print each event (text or JSON lines) and run nothing. */
#ifndef PYMON_CLI_WATCH_H
#define PYMON_CLI_WATCH_H

#include "cli/options.h"
#include "cli/output.h"

#include <stddef.h>
#include <stdio.h>

/* Exit statuses of py-mon watch besides 0, 1, 2 and 128+N. */
#define EXIT_WATCH_TIMEOUT 3

/* Runs the watch loop; returns the exit status. */
int cli_watch_run(const struct cli_options *o, struct cli_output *out);

/* Writes s as a JSON string (with quotes). Valid UTF-8 is kept (U+2028 and
 * U+2029 escaped); each byte of invalid UTF-8 becomes \udcXX (Python's
 * surrogateescape: os.fsencode(json.loads(...)) gives the bytes back);
 * control characters, '"' and '\' are escaped. */
void cli_json_string(FILE *f, const char *s);

#endif
