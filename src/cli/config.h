/* Project config: [tool.py-mon] in pyproject.toml, or a py-mon.toml,
 * applied under the command line's options; [[rule]] tables become
 * extra jobs. */
#ifndef PYMON_CLI_CONFIG_H
#define PYMON_CLI_CONFIG_H

#include "options.h"
#include "toml.h"

#include <stdio.h>

struct cli_rule {
	struct cli_options opt;
	char name[64];
	struct cli_origin origin; /* where its [[rule]] header is */
};

struct cli_config {
	char *path;     /* the file read, as found ("../pyproject.toml"); NULL if none */
	char *dir;      /* its directory, prefix for relative watch paths; NULL for "." */
	struct toml_value *root;
	struct cli_rule *rules;
	size_t nrules;
	char **strings; /* everything the options point into */
	size_t nstrings;
	char ***argvs;  /* argv arrays made from TOML arrays */
	size_t nargvs;
	char warning[600]; /* "FILE:LINE:COL: [tool.pymon] is not read: ..." or "" */
};

/*
 * Reads `explicit_path`, or else looks for py-mon.toml, then pyproject.toml
 * with a [tool.py-mon] table, in the current directory and its parents (the
 * nearest wins). Applies the settings to o (before the command line is
 * parsed on top) and builds the rules. Returns 0 (also when no file was
 * found), or -EINVAL with "FILE:LINE:COL: message" in msg, or -ENOMEM.
 */
int cli_config_load(struct cli_config *cfg, struct cli_options *o, const char *explicit_path,
                    char *msg, size_t len);

/* --print-config: the merged settings, each with where it came from. */
void cli_config_print(FILE *f, const struct cli_config *cfg, const struct cli_options *o);

void cli_config_free(struct cli_config *cfg);

#endif
