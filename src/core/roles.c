/*
 * What a host may hand to the watcher, and the graceful end: the signals
 * role (SIGINT/TERM/HUP end, SIGUSR1 restarts, all read in the loop
 * through a signalfd), the terminal role (read by the supervisor when it
 * starts a command), and pymon_watcher_terminate().
 */
#include "act/action.h"
#include "base/util.h"
#include "core/loop.h"
#include "core/watcher.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

static bool any_busy(pymon_watcher *w)
{
	for (pymon_observer *o = w->observers; o; o = o->next)
		if (o->action && o->action->ops->busy(o->action))
			return true;
	return false;
}

void pm_watcher_action_idle(pymon_watcher *w)
{
	if (w->terminating && !any_busy(w))
		pymon_watcher_stop(w, w->term_status);
}

PM_API void pymon_watcher_terminate(pymon_watcher *w, int status)
{
	bool again = w->terminating;
	if (!again) {
		w->terminating = true;
		w->term_status = status;
	}
	for (pymon_observer *o = w->observers; o; o = o->next)
		if (o->action)
			o->action->ops->terminate(o->action, again);
	pm_watcher_action_idle(w);
}

static void signals_ready(pymon_watcher *w, struct pm_source *src, uint32_t events)
{
	(void)events;
	struct signalfd_siginfo si[8];
	ssize_t n;
	while ((n = read(src->fd, si, sizeof si)) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++) {
			int sig = (int)si[i].ssi_signo;
			if (sig == SIGUSR1) {
				for (pymon_observer *o = w->observers; o; o = o->next)
					pymon_observer_restart(o);
			} else {
				pymon_watcher_terminate(w, 128 + sig);
			}
		}
	}
}

PM_API int pymon_watcher_roles(pymon_watcher *w, unsigned roles, pymon_error *err)
{
	if (roles & ~(unsigned)(PYMON_ROLE_SIGNALS | PYMON_ROLE_TERMINAL))
		return pm_err(err, -EINVAL, "unknown role bits 0x%x", roles);
	if ((roles & PYMON_ROLE_SIGNALS) && w->sfd < 0) {
		sigemptyset(&w->sigs);
		sigaddset(&w->sigs, SIGINT);
		sigaddset(&w->sigs, SIGTERM);
		sigaddset(&w->sigs, SIGHUP);
		sigaddset(&w->sigs, SIGUSR1);
		if (sigprocmask(SIG_BLOCK, &w->sigs, &w->old_mask) < 0)
			return pm_err(err, -errno, "sigprocmask: %s", strerror(errno));
		int fd = signalfd(-1, &w->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
			return pm_err(err, -e, "signalfd: %s", strerror(e));
		}
		w->sfd = fd;
		w->sig_src = (struct pm_source){.fd = fd, .ready = signals_ready};
		int r = pm_loop_add(w, &w->sig_src, EPOLLIN);
		if (r < 0)
			return pm_err(err, r, "epoll_ctl: %s", strerror(-r));
	}
	w->roles |= roles;
	return 0;
}

void pm_roles_free(pymon_watcher *w)
{
	if (w->sfd >= 0) {
		pm_loop_del(w, &w->sig_src);
		close(w->sfd);
		w->sfd = -1;
		sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
	}
}
