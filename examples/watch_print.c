/* Print every change below the given directories, one batch at a time.
 * Build: cc watch_print.c $(pkg-config --cflags --libs pymon) */
#include <pymon.h>
#include <stdio.h>

static void on_batch(pymon_observer *o, const pymon_batch *batch, void *userdata)
{
	(void)o;
	(void)userdata;
	for (size_t i = 0; i < batch->count; i++) {
		const pymon_event *e = &batch->events[i];
		if (e->kind == PYMON_MOVE)
			printf("%s %s -> %s\n", pymon_kind_name(e->kind), e->from, e->path);
		else
			printf("%s %s%s\n", pymon_kind_name(e->kind), e->path, e->is_dir ? "/" : "");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	pymon_error err;
	pymon_watcher *w = pymon_watcher_new(&err);
	if (!w) {
		fprintf(stderr, "watch_print: %s\n", err.message);
		return 1;
	}
	pymon_observer *o = pymon_observer_new(w, NULL);
	for (int i = 1; i < argc; i++) {
		if (pymon_observer_add(o, argv[i], &err) < 0) {
			fprintf(stderr, "watch_print: %s\n", err.message);
			return 2;
		}
	}
	if (argc < 2)
		pymon_observer_add(o, ".", &err);
	pymon_observer_ignore(o, "*.log", &err);     /* gitignore syntax */
	pymon_observer_on(o, PYMON_CREATE | PYMON_MODIFY | PYMON_DELETE | PYMON_MOVE);
	pymon_observer_delay(o, 100);                /* ms of quiet before a batch */
	pymon_observer_callback(o, on_batch, NULL, NULL);
	if (pymon_watcher_start(w, &err) < 0) {
		fprintf(stderr, "watch_print: %s\n", err.message);
		return 1;
	}
	fprintf(stderr, "watching %zu directories\n", pymon_watcher_watch_count(w));
	int status = pymon_observe(w, &err);         /* runs until pymon_watcher_stop() */
	if (status < 0)
		fprintf(stderr, "watch_print: %s\n", err.message);
	pymon_watcher_free(w);
	return status < 0 ? 1 : status;
}
