/* Options to observer: the part every mode shares. */
#include "observer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int cli_check_paths(const struct cli_options *opt, char *msg, size_t len)
{
	for (size_t i = 0; i < opt->nwatch; i++) {
		struct stat st;
		if (stat(opt->watch[i], &st) < 0) {
			int e = errno;
			const struct cli_origin *at = opt->watch_origin ? &opt->watch_origin[i] : NULL;
			if (at && at->source == CLI_SRC_CONFIG)
				snprintf(msg, len, "%s:%u:%u: watch '%s': %s", at->file, at->line, at->col, opt->watch[i],
				         strerror(e));
			else
				snprintf(msg, len, "--watch '%s': %s", opt->watch[i], strerror(e));
			return -e;
		}
	}
	return 0;
}

int cli_observer_configure(pymon_observer *o, const struct cli_options *opt, pymon_error *err)
{
	for (size_t i = 0; i < opt->nwatch; i++)
		if (pymon_observer_add(o, opt->watch[i], err) < 0)
			return err->code;
	for (size_t i = 0; i < opt->nignore; i++)
		if (pymon_observer_ignore(o, opt->ignore[i], err) < 0)
			return err->code;
	for (size_t i = 0; i < opt->next; i++)
		if (pymon_observer_ext(o, opt->ext[i], err) < 0)
			return err->code;
	pymon_observer_on(o, opt->kinds);
	pymon_observer_delay(o, opt->delay_ms);
	pymon_observer_flags(o, opt->observer_flags);
	return 0;
}
