/* py-mon explain [OPTIONS] PATH...: whether each path is watched, and if
 * not, which rule leaves it out (from the library's filter). */
#ifndef PYMON_CLI_EXPLAIN_H
#define PYMON_CLI_EXPLAIN_H

#include "options.h"

/* Prints "PATH: watched" or "PATH: REASON" per path on stdout. Returns the
 * exit status: 0, 2 for bad input, 1 for a runtime error. */
int cli_explain(const struct cli_options *opt);

#endif
