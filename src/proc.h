/* Process primitives for the supervisor: spawn into a new process group,
 * find a tree's descendants, simple-command detection. */
#ifndef PM_PROC_H
#define PM_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct pm_spawn {
	char *const *argv;  /* argv[0] is looked up in PATH */
	char *const *envp;
	bool foreground;    /* hand the terminal on fd 0 to the child's group */
	bool null_stdin;    /* stdin from /dev/null */
	int death_signal;   /* sent to the child if py-mon dies first (default SIGTERM) */
};

/* Forks and execs in a new process group (set in parent and child). The
 * exec's outcome comes back through a close-on-exec pipe: returns the pid,
 * or a negative errno when the program could not be started (the child is
 * reaped already then). */
pid_t pm_spawn(const struct pm_spawn *spec);

/* Appends to *pids (growable) every live process that descends from
 * `ancestor` or whose process group is `pgid`, except `skip` groups.
 * Reads /proc; returns the count or a negative errno. */
int pm_descendants(pid_t ancestor, pid_t pgid, pid_t **pids, size_t *n, size_t *cap);

/* The name of a signal without "SIG" ("TERM"), or NULL. */
const char *pm_signal_name(int sig);

#endif
