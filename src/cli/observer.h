/* Turning parsed options into a configured observer (run, each and watch
 * modes, and each config rule, share this). */
#ifndef PYMON_CLI_OBSERVER_H
#define PYMON_CLI_OBSERVER_H

#include "options.h"
#include "pymon.h"

/* Roots, ignores, extensions, kinds, delay and flags. 0 or a negative
 * errno with err filled (bad input unless -ENOMEM). */
int cli_observer_configure(pymon_observer *o, const struct cli_options *opt, pymon_error *err);

/* --poll, --no-poll, --poll-on-limit (or the keys): pymon_watcher_poll(),
 * only when one was given, so that otherwise PYMON_POLL and the library's
 * choice by file system stand. 0 or a negative errno with err filled. */
int cli_watcher_poll(pymon_watcher *w, const struct cli_options *opt, pymon_error *err);
/* pymon_watcher_new(), where --poll/--no-poll (or the config key) win over
 * PYMON_POLL: the library does not read it then. */
pymon_watcher *cli_watcher_new(const struct cli_options *opt, pymon_error *err);

/* Every watch path exists: 0, or a negative errno with "--watch 'x': ..." */
int cli_check_paths(const struct cli_options *opt, char *msg, size_t len);

/* The absolute, symlink-free form of path, also when it does not exist
 * (its directory resolved, its name appended); NULL if neither (free it). */
char *cli_resolve(const char *path);

/* An absolute path below an absolute root: the part after "root/", ""
 * for the root itself, NULL when outside. */
const char *cli_below(const char *root, const char *path);

/* Makes the observer ignore one file (an --env-file, which has an observer
 * of its own), under whichever of opt's roots holds it. */
int cli_observer_ignore_file(pymon_observer *o, const struct cli_options *opt, const char *file, pymon_error *err);

#endif
