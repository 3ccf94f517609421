/*
 * Starting a command under a guardian. pm_spawn() clones a small process
 * (py-mon-guard) that becomes the child subreaper of the command's tree,
 * starts the command, reports its exit, signals the whole tree on request
 * and, if the caller dies (its end of the socket closes), stops the tree
 * by itself: stop signal, timeout, SIGKILL. The guardian exits once no
 * process of the tree is left; the caller sees its socket close and reaps
 * it through a pidfd. The guardian is cloned with no exit signal, so a
 * host's SIGCHLD handler or waitpid(-1) never sees it.
 *
 * A kept guardian (pm_child_open, or pm_spawn with keep) stays once its
 * tree is gone and takes the next run: no clone of the caller then, the
 * run starts at the guardian's vfork, or clone(CLONE_VM) once vfork proved
 * the memory shared, on x86-64 and arm64 (the child's dup2 and execve are
 * raw system calls there: it shares the guardian's errno). The restart
 * latency is one exec.
 * Each run carries its argv and environment, the caller's stdin, stdout
 * and stderr (SCM_RIGHTS; an idle guardian holds none) and, where it
 * changed, its working directory; the handed descriptors are those the
 * guardian was opened with.
 */
#ifndef PM_ACT_SPAWN_H
#define PM_ACT_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pm_spawn {
	char *const *argv;      /* argv[0] is looked up in PATH (by the caller's PATH) */
	char *const *envp;
	bool share_pgrp;        /* stay in the caller's process group (terminal role) */
	bool null_stdin;        /* stdin from /dev/null */
	int stop_signal;        /* what the guardian sends if the caller dies */
	unsigned stop_timeout_ms;
	const int *fds;         /* passed as 3, 4, ...; LISTEN_PID set in the child */
	size_t nfds;
	bool keep;              /* reuse c's idle guardian; keep it after the run */
};

struct pm_cwd_id {
	dev_t dev;
	ino_t ino;
};

/* A running guardian and the tree below it. */
struct pm_child {
	pid_t pid;   /* the guardian's */
	int pidfd;   /* the guardian's */
	int sock;    /* messages both ways; readable when one came or it ended */
	bool running; /* a tree runs */
	bool idle;    /* a kept guardian waits for the next run */
	bool keep;    /* it stays for the next run once this one is over */
	struct pm_cwd_id cwd; /* the guardian's working directory */
};

/* An idle kept guardian that will hand fds[] to every run. */
int pm_child_open(struct pm_child *c, const int *fds, size_t nfds);

/* Starts the command: 0 once the run is handed to the guardian, with *c
 * filled, or a negative errno when it could not be (no such program, not
 * executable, no memory). The guardian does not answer a run that starts:
 * an exec that fails later (a script's missing interpreter, ENOEXEC,
 * E2BIG) comes back through pm_child_read. With keep, *c is an idle
 * guardian to reuse or none (pid -1); without, *c is filled in whatever
 * it held. */
int pm_spawn(const struct pm_spawn *spec, struct pm_child *c);

/* Whether the last guardian was cloned with no exit signal (clone3). Not
 * under valgrind or seccomp profiles without clone3: then it is forked and
 * sends SIGCHLD like any child, and a host's waitpid(-1) could reap it. */
bool pm_spawn_silent(void);

/* Sends sig to every process of the tree (leader_only: to the command's
 * first process only). Terminating signals are followed by SIGCONT. */
int pm_child_signal(struct pm_child *c, int sig, bool leader_only);

/* Reads one message: 1 with *status set when the command's first process
 * ended (a wait status), 2 with *status an errno when the run did not
 * start (its exec failed; nothing of it is left), 0 for nothing more now,
 * -1 when the tree is gone. After 2 or -1 a kept guardian is idle, another
 * one has ended (call pm_child_reap). */
int pm_child_read(struct pm_child *c, int *status);

/* Closes the socket and waits for the guardian to end (an idle one ends at
 * once, another once its tree is gone, or at once after SIGKILL of the
 * tree, unless a process hangs in the kernel: then after timeout_ms it is
 * left as it is), reaps it, closes the pidfd. */
void pm_child_reap(struct pm_child *c, int timeout_ms);

/* Every live process below `ancestor` (not itself), from /proc; for tests
 * and diagnostics. Returns the count (at most max) or a negative errno. */
int pm_descendants(pid_t ancestor, pid_t *pids, size_t max);

/* environ without the variables `extra` sets ("NAME=value"), plus extra.
 * The array is the caller's to free; the strings are not copied. */
char **pm_build_env(char *const *extra, size_t nextra);

#endif
