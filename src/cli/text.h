/* Untrusted text, one module: UTF-8 decoding, and the two ways py-mon
 * writes a string it did not choose (a file name, a command, a config
 * value): escaped for a terminal, or as a JSON string. Pure: no I/O but the
 * FILE * given. */
#ifndef PYMON_CLI_TEXT_H
#define PYMON_CLI_TEXT_H

#include <stddef.h>
#include <stdio.h>

/*
 * The well-formed UTF-8 sequence at s (at most n bytes readable): its
 * length (1-4) with the code point in *cp (may be NULL), or 0 when it is
 * not well-formed (overlong, surrogate, above U+10FFFF, truncated). The
 * bytes are read in order and reading stops at the first bad one, so a
 * NUL-terminated string may be passed with n = SIZE_MAX.
 */
size_t cli_utf8_decode(const unsigned char *s, size_t n, unsigned *cp);

/*
 * Copies s into dst (always NUL-terminated when len > 0) with control
 * characters, DEL, backslash, invalid UTF-8, C1 controls and bidi
 * overrides escaped: "\n", "\t", "\r", "\\", "\x1b", "\u202e". Never cuts
 * an escape or a character in half. Returns the bytes written.
 */
size_t cli_escape(char *dst, size_t len, const char *s);

/*
 * Writes s as a JSON string (with quotes). Valid UTF-8 is kept (U+2028 and
 * U+2029 escaped); each byte of invalid UTF-8 becomes \udcXX (Python's
 * surrogateescape: os.fsencode(json.loads(...)) gives the bytes back);
 * control characters, '"' and '\' are escaped.
 */
void cli_json_string(FILE *f, const char *s);

/* Edit distance (insertions, deletions, substitutions, transpositions of
 * neighbours) between a and b, capped at 100; for "did you mean". */
unsigned cli_edit_distance(const char *a, const char *b);

/* The whole of a regular file of at most max bytes, NUL-terminated, its
 * length in *len; NULL with *err set: an errno, EISDIR, EFBIG (longer than
 * max) or CLI_ENOTREG (a FIFO, a device: opened without blocking, then
 * refused, so no open hangs). cli_read_error() words it. */
#define CLI_ENOTREG 1000
char *cli_read_file(const char *path, size_t max, size_t *len, int *err);
const char *cli_read_error(int err);

#endif
