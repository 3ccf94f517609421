/* Turning parsed options into a configured observer (run, each and watch
 * modes, and each config rule, share this). */
#ifndef PYMON_CLI_OBSERVER_H
#define PYMON_CLI_OBSERVER_H

#include "options.h"
#include "pymon.h"

/* Roots, ignores, extensions, kinds, delay and flags. 0 or a negative
 * errno with err filled (bad input unless -ENOMEM). */
int cli_observer_configure(pymon_observer *o, const struct cli_options *opt, pymon_error *err);

/* Every watch path exists: 0, or a negative errno with "--watch 'x': ..." */
int cli_check_paths(const struct cli_options *opt, char *msg, size_t len);

#endif
