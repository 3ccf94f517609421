/* .env files (--env-file): a pure parser over a buffer, no I/O.
 *
 *     # comment
 *     KEY=value              unquoted: up to a " #" comment, trimmed
 *     export KEY = "a\nb"    double quotes: \n \t \r \" \\ \$ escapes
 *     KEY='literal $x'       single quotes: nothing is special
 *
 * Quoted values may span lines. Keys are [A-Za-z_][A-Za-z0-9_]*. No
 * variable expansion: $x stays $x. A NUL byte anywhere is an error. */
#ifndef PYMON_CLI_DOTENV_H
#define PYMON_CLI_DOTENV_H

#include <stddef.h>

/* One assignment; line is where its key is. A negative return stops the
 * parse and is returned by cli_dotenv_parse(). */
typedef int (*cli_dotenv_fn)(const char *key, const char *value, unsigned line, void *userdata);

/*
 * Parses len bytes of text, calling fn for each assignment in order.
 * Returns 0; or -EINVAL with *err_line set and a message in err ("expected
 * '=' after the key FOO"); or -ENOMEM; or what fn returned.
 */
int cli_dotenv_parse(const char *text, size_t len, cli_dotenv_fn fn, void *userdata, unsigned *err_line,
                     char *err, size_t errlen);

#endif
