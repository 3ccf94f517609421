/* What every action shares: attaching to an observer, progress reports,
 * and the simplest action, a callback. */
#include "act/action.h"
#include "base/util.h"
#include "core/watcher.h"

#include <errno.h>
#include <stdlib.h>

int pm_action_attach(pymon_observer *o, struct pm_action *a, pymon_error *err)
{
	if (o->action) {
		a->ops->free(a);
		return pm_err(err, -EBUSY, "this observer already has an action");
	}
	o->action = a;
	return 0;
}

void pm_action_report(pymon_observer *o, enum pymon_run_state state, int code, const char *command,
                      const pymon_batch *batch, int requested, const char *path)
{
	if (!o->status_fn)
		return;
	pymon_run_status st = {.state = state, .code = code, .command = command, .batch = batch,
	                       .requested = requested, .path = path};
	o->status_fn(o, &st, o->status_ud);
}

struct pm_callback {
	struct pm_action base;
	pymon_batch_fn fn;
	void *userdata;
};

static void cb_batch(struct pm_action *a, const pymon_batch *b)
{
	struct pm_callback *c = (struct pm_callback *)a;
	c->fn(a->o, b, c->userdata);
}

static void cb_nothing(struct pm_action *a)
{
	(void)a;
}

static int cb_restart(struct pm_action *a)
{
	(void)a;
	return -EINVAL;
}

static void cb_terminate(struct pm_action *a, bool now)
{
	(void)a;
	(void)now;
}

static bool cb_busy(const struct pm_action *a)
{
	(void)a;
	return false;
}

static void cb_free(struct pm_action *a)
{
	free(a);
}

static const struct pm_action_ops callback_ops = {
	.files_only = false,
	.start = cb_nothing,
	.batch = cb_batch,
	.restart = cb_restart,
	.terminate = cb_terminate,
	.busy = cb_busy,
	.free = cb_free,
};

PM_API int pymon_observer_callback(pymon_observer *o, pymon_batch_fn fn, void *userdata, pymon_error *err)
{
	if (!fn)
		return pm_err(err, -EINVAL, "a callback action needs a function");
	if (o->action)
		return pm_err(err, -EBUSY, "this observer already has an action");
	struct pm_callback *c = calloc(1, sizeof *c);
	if (!c)
		return pm_err(err, -ENOMEM, "out of memory");
	*c = (struct pm_callback){.base = {.ops = &callback_ops, .o = o}, .fn = fn, .userdata = userdata};
	return pm_action_attach(o, &c->base, err);
}

PM_API int pymon_observer_restart(pymon_observer *o)
{
	return o->action ? o->action->ops->restart(o->action) : -EINVAL;
}
