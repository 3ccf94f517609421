/*
 * The one rule that decides whether a command line runs directly or under
 * /bin/sh -c, for every caller (commands, per-file jobs, the CLI, the
 * Python package). Direct exec matters: signals reach the real program and
 * no sh sits between py-mon and it. The shell is needed for its syntax and
 * for what only it knows: keywords, builtins, VAR=value prefixes.
 */
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Keywords and the builtins that must act on the shell itself: a program
 * of the same name on PATH would not do what the line means. */
static const char *const shell_only[] = {
	"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
	"function", "select", "time", "!", "{", "}", "[[", "]]", "cd", "export", "source", ".", "exec",
	"set", "unset", "alias", "unalias", "eval", "ulimit", "umask", "trap", "read", "wait", "shift",
	"return", "exit", "local", "readonly", "declare", "typeset", "let", "break", "continue",
	"builtin", "shopt", "getopts", "hash", "jobs", "fg", "bg", "disown", "times", "command",
	"type", "enable", "history", "fc", "pushd", "popd", "dirs", "suspend", "logout", "mapfile",
	"readarray", "caller", "compgen", "complete", ":", NULL,
};

static bool plain_char(unsigned char c)
{
	return isalnum(c) || strchr("_-./:=,+@%^", c) || c >= 0x80;
}

static bool is_shell_only(const char *word)
{
	for (const char *const *k = shell_only; *k; k++)
		if (strcmp(word, *k) == 0)
			return true;
	return false;
}

/* A VAR=value prefix: a name, then '='. */
static bool is_assignment(const char *word)
{
	if (!(isalpha((unsigned char)*word) || *word == '_'))
		return false;
	while (isalnum((unsigned char)*word) || *word == '_')
		word++;
	return *word == '=';
}

static int shell_argv(const char *line, char ***out, pymon_error *err)
{
	char **argv = calloc(4, sizeof *argv);
	if (!argv || !(argv[0] = pm_strdup("/bin/sh")) || !(argv[1] = pm_strdup("-c")) ||
	    !(argv[2] = pm_strdup(line))) {
		pm_argv_free(argv);
		return pm_err(err, -ENOMEM, "out of memory");
	}
	*out = argv;
	return 0;
}

PM_API int pymon_split_command(const char *line, char ***out, pymon_error *err)
{
	if (!line || !out)
		return pm_err(err, -EINVAL, "no command line given");
	size_t words = 0;
	bool plain = true;
	for (const char *p = line; *p && plain;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		words++;
		for (; *p && *p != ' ' && *p != '\t'; p++) {
			if (p[0] == '{' && p[1] == '}') {
				p++; /* the per-file placeholder is a plain word */
				continue;
			}
			if (!plain_char((unsigned char)*p)) {
				plain = false;
				break;
			}
		}
	}
	if (!words)
		return pm_err(err, -EINVAL, "empty command line");
	if (!plain)
		return shell_argv(line, out, err);
	char **argv = calloc(words + 1, sizeof *argv);
	if (!argv)
		return pm_err(err, -ENOMEM, "out of memory");
	size_t i = 0;
	for (const char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (!(argv[i++] = pm_strndup(s, (size_t)(p - s)))) {
			pm_argv_free(argv);
			return pm_err(err, -ENOMEM, "out of memory");
		}
	}
	if (is_assignment(argv[0]) || is_shell_only(argv[0])) {
		pm_argv_free(argv);
		return shell_argv(line, out, err);
	}
	*out = argv;
	return 1;
}

PM_API void pymon_argv_free(char **argv)
{
	pm_argv_free(argv);
}

static const char *const busy_names[] = {"restart", "queue", "ignore", "signal"};

PM_API const char *pymon_busy_name(enum pymon_busy mode)
{
	return (unsigned)mode < sizeof busy_names / sizeof busy_names[0] ? busy_names[mode] : "unknown";
}

PM_API int pymon_parse_busy(const char *name, enum pymon_busy *out)
{
	for (size_t i = 0; i < sizeof busy_names / sizeof busy_names[0]; i++)
		if (name && strcasecmp(name, busy_names[i]) == 0) {
			*out = (enum pymon_busy)i;
			return 0;
		}
	return -EINVAL;
}
