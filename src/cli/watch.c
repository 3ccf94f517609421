/* py-mon watch: inotifywait for humans and scripts, on the same engine and
 * filters as the run mode. One line per event, flushed at once. */
#include "watch.h"
#include "observer.h"
#include "pymon.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct watch_state {
	const struct cli_options *opt;
	pymon_watcher *w;
	unsigned long seen;
	int timer_fd;
};

static void print_text(const pymon_event *e)
{
	char path[8192], from[8192];
	cli_escape(path, sizeof path, e->path);
	if (e->kind == PYMON_MOVE && e->from) {
		cli_escape(from, sizeof from, e->from);
		printf("%-6s  %s -> %s%s\n", pymon_kind_name(e->kind), from, path, e->is_dir ? "/" : "");
	} else {
		printf("%-6s  %s%s\n", pymon_kind_name(e->kind), path, e->is_dir && strcmp(e->path, ".") ? "/" : "");
	}
}

static void print_json(const pymon_event *e)
{
	fputs("{\"event\": ", stdout);
	cli_json_string(stdout, pymon_kind_name(e->kind));
	fputs(", \"path\": ", stdout);
	cli_json_string(stdout, e->path);
	if (e->from) {
		fputs(", \"from\": ", stdout);
		cli_json_string(stdout, e->from);
	}
	printf(", \"dir\": %s}\n", e->is_dir ? "true" : "false");
}

static void on_batch(pymon_observer *o, const pymon_batch *b, void *ud)
{
	struct watch_state *st = ud;
	(void)o;
	for (size_t i = 0; i < b->count; i++) {
		if (st->opt->json)
			print_json(&b->events[i]);
		else
			print_text(&b->events[i]);
		st->seen++;
		if (st->opt->count && st->seen >= st->opt->count) {
			pymon_watcher_stop(st->w, 0);
			break;
		}
	}
	fflush(stdout); /* one write per batch */
}

static void on_timeout(pymon_watcher *w, int fd, void *ud)
{
	struct watch_state *st = ud;
	uint64_t ticks;
	ssize_t r = read(fd, &ticks, sizeof ticks);
	(void)r;
	/* Without --count, any event is success; with it, only reaching it. */
	pymon_watcher_stop(w, !st->opt->count && st->seen ? 0 : EXIT_WATCH_TIMEOUT);
}

static void on_warning(const char *message, void *ud)
{
	cli_output_warning(ud, message);
}

static int arm_timeout(struct watch_state *st, pymon_error *err)
{
	st->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (st->timer_fd < 0) {
		snprintf(err->message, sizeof err->message, "timerfd_create: %s", strerror(errno));
		return -errno;
	}
	struct itimerspec its = {0};
	unsigned ms = st->opt->timeout_ms ? st->opt->timeout_ms : 1;
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	timerfd_settime(st->timer_fd, 0, &its, NULL);
	return pymon_watcher_add_fd(st->w, st->timer_fd, on_timeout, st, err);
}

int cli_watch_run(const struct cli_options *opt, struct cli_output *out)
{
	pymon_error err = {0};
	struct watch_state st = {.opt = opt, .timer_fd = -1};
	int status = 1;
	/* Events leave in one write per batch (flushed in on_batch), not one
	 * per line: a flood costs a few syscalls, not one per event. */
	static char outbuf[64 * 1024];
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	st.w = cli_watcher_new(opt, &err);
	if (!st.w) {
		if (err.code == -EINVAL) {
			cli_output_usage_error(err.message);
			return 2;
		}
		cli_output_error(err.message);
		return 1;
	}
	pymon_watcher_on_warning(st.w, on_warning, out);
	if (cli_watcher_poll(st.w, opt, &err) < 0) {
		cli_output_error(err.message);
		goto done;
	}
	pymon_observer *o = pymon_observer_new(st.w, &err);
	if (!o || cli_observer_configure(o, opt, &err) < 0 || pymon_observer_callback(o, on_batch, &st, &err) < 0) {
		if (o && err.code != -ENOMEM) {
			cli_output_usage_error(err.message);
			status = 2;
		} else {
			cli_output_error(o ? err.message : "out of memory");
		}
		goto done;
	}
	if (pymon_watcher_roles(st.w, PYMON_ROLE_SIGNALS, &err) < 0 || (opt->has_timeout && arm_timeout(&st, &err) < 0) ||
	    pymon_watcher_start(st.w, &err) < 0) {
		cli_output_error(err.message);
		goto done;
	}
	if (out->verbosity >= 0)
		fprintf(stderr, "[py-mon] watching %zu director%s\n", pymon_watcher_watch_count(st.w),
		        pymon_watcher_watch_count(st.w) == 1 ? "y" : "ies");
	status = pymon_observe(st.w, &err);
	if (status < 0) {
		cli_output_error(err.message);
		status = 1;
	}
done:
	pymon_watcher_free(st.w);
	if (st.timer_fd >= 0)
		close(st.timer_fd);
	return status > 255 ? 255 : status;
}
