/* --env-file: reading the files and putting their variables into this
 * process's environment, from which the library builds each command's. */
#ifndef PYMON_CLI_ENVFILES_H
#define PYMON_CLI_ENVFILES_H

#include <stddef.h>

/* The variables the files set, and what each was before (to put back
 * when a later version of a file no longer sets it). */
struct cli_env {
	char **keys;
	char **orig; /* NULL: was unset */
	size_t n;
};

/*
 * Reads every file (later ones win) and sets their variables with
 * setenv(); a variable the files set before and no longer set gets its
 * original value back. All or nothing: on a bad file nothing changes and
 * -EINVAL comes back with "FILE:LINE: message" (or "FILE: reason") in msg.
 */
int cli_env_load(struct cli_env *e, const char *const *files, size_t n, char *msg, size_t len);

void cli_env_free(struct cli_env *e);

#endif
