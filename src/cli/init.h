/* py-mon init: a commented [tool.py-mon] table for this project. */
#ifndef PYMON_CLI_INIT_H
#define PYMON_CLI_INIT_H

#include <stddef.h>

/*
 * Appends a [tool.py-mon] table to dir/pyproject.toml (creating the file
 * if absent; the bytes already there are never changed), with the command
 * of the project kind found in dir: manage.py → Django, app.py importing
 * flask → Flask, a main.py or app.py importing fastapi → uvicorn. Returns
 * 0 with what was done in msg (a line to print), 2 when the table exists
 * or the file does not parse (nothing written), 1 on an I/O error.
 */
int cli_init(const char *dir, char *msg, size_t len);

#endif
