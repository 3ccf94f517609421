/*
 * The action interface: what an observer does with a batch. The core
 * (watcher, loop) calls an action only through this table and never names
 * an implementation; the implementations (callback.c, supervisor.c,
 * each.c) never see inotify, the tree or the filter.
 */
#ifndef PM_ACT_ACTION_H
#define PM_ACT_ACTION_H

#include "pymon.h"

#include <stdbool.h>

struct pm_action;

struct pm_action_ops {
	/* Directory creations and modifications are left out of its batches
	 * (commands): a new directory alone is no reason to run. */
	bool files_only;
	/* Optional: the watcher is about to scan (the process is still small:
	 * a supervisor clones its guardian now). */
	void (*prepare)(struct pm_action *a);
	/* The watcher started: every watch exists (a command starts now). */
	void (*start)(struct pm_action *a);
	/* A debounced batch of events that count for the observer. */
	void (*batch)(struct pm_action *a, const pymon_batch *b);
	/* A manual restart; -EINVAL when the action has nothing to restart. */
	int (*restart)(struct pm_action *a);
	/* Stop every process: gracefully (stop signal, timeout, SIGKILL) or,
	 * with now, SIGKILL at once. Calls pm_watcher_action_idle() once
	 * nothing of it is left. */
	void (*terminate)(struct pm_action *a, bool now);
	/* Whether any process of the action is still alive. */
	bool (*busy)(const struct pm_action *a);
	/* Kills what is left (SIGKILL), reaps it and frees the action. */
	void (*free)(struct pm_action *a);
};

struct pm_action {
	const struct pm_action_ops *ops;
	pymon_observer *o;
};

/* Installs a as o's action: -EBUSY (err filled) when o has one already. */
int pm_action_attach(pymon_observer *o, struct pm_action *a, pymon_error *err);
/* Progress report to the observer's pymon_run_fn, if any. */
void pm_action_report(pymon_observer *o, enum pymon_run_state state, int code, const char *command,
                      const pymon_batch *batch, int requested, const char *path);

#endif
