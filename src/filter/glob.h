/* gitignore-style wildcard matching. Pure: no allocation, no syscalls. */
#ifndef PM_GLOB_H
#define PM_GLOB_H

#include <stddef.h>
#include <stdint.h>

/*
 * Matches `str` (a '/'-separated relative path) against `pat`, both given
 * with explicit lengths (no NUL needed). Semantics follow git's wildmatch
 * with WM_PATHNAME:
 *   '*'  any run of characters except '/'
 *   '?'  one character except '/'
 *   '[...]' a class: ranges a-z, negation with '!' or '^', ']' first is
 *        literal, [:alpha:] style names, backslash escapes; never matches '/'
 *   '**' as a whole component (leading, trailing or between slashes) matches zero or
 *        more components; elsewhere it acts like '*'
 *   '\x' matches x literally
 * Returns 1 on match, 0 otherwise. Runs in bounded time for hostile input
 * (no exponential backtracking).
 */
int pm_glob_match(const char *pat, size_t plen, const char *str, size_t slen);

/*
 * The bytes a string matched by `pat` can end with, as a 256-bit set, when
 * the pattern ends in an item that matches one character (a literal, an
 * escape, '?' or a class): then the string's last character is the one
 * that item matched. Returns 1 with `set` filled, or 0 when the pattern
 * ends in a star or a '/' (after "**" a '/' can match nothing). A pattern that can never
 * match (a malformed class) gives 1 and an empty set.
 */
int pm_glob_last_bytes(const char *pat, size_t plen, uint64_t set[4]);

#endif
