/* py-mon completions bash|zsh|fish: shell completion scripts generated
 * from the option table, so they never disagree with the parser. */
#ifndef PYMON_CLI_COMPLETIONS_H
#define PYMON_CLI_COMPLETIONS_H

#include <stdio.h>

/* Writes the script for shell ("bash", "zsh" or "fish"); -1 if unknown. */
int cli_completions(FILE *f, const char *shell);

#endif
