/* gitignore-style wildcard matching. Pure: no allocation, no syscalls. */
#ifndef PM_GLOB_H
#define PM_GLOB_H

#include <stddef.h>

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

#endif
