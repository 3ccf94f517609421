/*
 * eventdump: drives libpymon from the integration tests. Prints, flushed:
 *   ready WATCHES                      once the initial scan is done
 *   batch COUNT DROPPED WATCHES        per debounced batch, then one line per event:
 *   KIND<TAB>PATH<TAB>FROM<TAB>DIR     (FROM is "-" unless a move; DIR is 0/1)
 *   explain PATH<TAB>TEXT              for each --explain, after ready
 *   warning TEXT                       for each warning
 * Names are escaped: \\ \t \n and other control bytes as \xHH.
 */
#include "pymon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_escaped(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '\\')
			fputs("\\\\", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static long batches_left = -1;

static void on_batch(pymon_observer *o, const pymon_batch *b, void *ud)
{
	(void)ud;
	printf("batch %zu %zu %zu\n", b->count, b->dropped, pymon_watcher_watch_count(pymon_observer_watcher(o)));
	for (size_t i = 0; i < b->count; i++) {
		const pymon_event *e = &b->events[i];
		printf("%s\t", pymon_kind_name(e->kind));
		put_escaped(e->path);
		putchar('\t');
		if (e->from)
			put_escaped(e->from);
		else
			putchar('-');
		printf("\t%d\n", e->is_dir);
	}
	printf("end\n");
	fflush(stdout);
	if (batches_left > 0 && --batches_left == 0)
		pymon_watcher_stop(pymon_observer_watcher(o), 0);
}

static void on_warning(const char *msg, void *ud)
{
	(void)ud;
	printf("warning ");
	put_escaped(msg);
	putchar('\n');
	fflush(stdout);
}

static void die(const pymon_error *err)
{
	fprintf(stderr, "eventdump: %s\n", err->message);
	printf("error %d ", err->code);
	put_escaped(err->message);
	putchar('\n');
	exit(1);
}

int main(int argc, char **argv)
{
	pymon_error err = {0};
	pymon_watcher *w = pymon_watcher_new(&err);
	if (!w)
		die(&err);
	pymon_watcher_on_warning(w, on_warning, NULL);
	pymon_observer *o = pymon_observer_new(w, NULL);
	unsigned flags = 0;
	const char *explain[32];
	int nexplain = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--delay") == 0 && v) {
			pymon_observer_delay(o, (unsigned)atoi(v));
			i++;
		} else if (strcmp(a, "--on") == 0 && v) {
			unsigned kinds;
			if (pymon_parse_kinds(v, &kinds, &err) < 0)
				die(&err);
			pymon_observer_on(o, kinds);
			i++;
		} else if (strcmp(a, "--ext") == 0 && v) {
			if (pymon_observer_ext(o, v, &err) < 0)
				die(&err);
			i++;
		} else if (strcmp(a, "-i") == 0 && v) {
			if (pymon_observer_ignore(o, v, &err) < 0)
				die(&err);
			i++;
		} else if (strcmp(a, "--limit") == 0 && v) {
			pymon_observer_batch_limit(o, (size_t)atol(v));
			i++;
		} else if (strcmp(a, "--git-lock-wait") == 0 && v) {
			pymon_observer_git_lock_wait(o, (unsigned)atol(v));
			i++;
		} else if (strcmp(a, "--batches") == 0 && v) {
			batches_left = atol(v);
			i++;
		} else if (strcmp(a, "--explain") == 0 && v && nexplain < 32) {
			explain[nexplain++] = v;
			i++;
		} else if (strcmp(a, "--no-default-ignore") == 0) {
			flags |= PYMON_NO_DEFAULT_IGNORE;
		} else if (strcmp(a, "--no-vcs-ignore") == 0) {
			flags |= PYMON_NO_VCS_IGNORE;
		} else if (strcmp(a, "--no-git-lock-wait") == 0) {
			flags |= PYMON_NO_GIT_LOCK_WAIT;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "eventdump: unknown option %s\n", a);
			return 2;
		} else if (pymon_observer_add(o, a, &err) < 0) {
			die(&err);
		}
	}
	pymon_observer_flags(o, flags);
	pymon_observer_callback(o, on_batch, NULL, NULL);
	if (pymon_watcher_start(w, &err) < 0)
		die(&err);
	printf("ready %zu\n", pymon_watcher_watch_count(w));
	for (int i = 0; i < nexplain; i++) {
		char buf[512];
		const char *p = explain[i];
		size_t n = strlen(p);
		int dir = n > 1 && p[n - 1] == '/';
		pymon_observer_explain(o, p, dir, buf, sizeof buf);
		printf("explain %s\t%s\n", p, buf);
	}
	fflush(stdout);
	int status = pymon_observe(w, &err);
	if (status < 0)
		die(&err);
	pymon_watcher_free(w);
	return status;
}
