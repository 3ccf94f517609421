/*
 * The guardian: a small process between the caller and the command's
 * tree, one per run (or per-file job) or kept for the next runs. Why a process and not the caller itself: a
 * library must not make its host a child subreaper or reap children it
 * did not start, and only a subreaper keeps a setsid or double-forked
 * descendant in reach; and only a process that outlives the caller can
 * stop the tree when the caller is killed (PR_SET_PDEATHSIG reaches only
 * a direct child, not `sleep` under `sh -c 'sleep 1001 | cat'`).
 *
 * The guardian is cloned from a possibly multithreaded host, so between
 * the clone and its _exit it makes system calls only: no malloc, no stdio,
 * no locks. Everything it needs (argv, envp, the program's path) is
 * prepared by the caller before the clone.
 *
 * A kept guardian outlives its runs: cloned once (before the watcher's
 * scan, while the caller is small), it starts each next run itself, so a
 * restart costs a vfork (or a clone that shares the guardian's memory) and
 * an exec, not a copy of the caller's memory.
 *
 * Protocol on a SOCK_SEQPACKET pair, fixed-size messages (struct msg):
 *   guardian -> caller: 'F' errno (the run did not start: at once, or,
 *                       where the run was cloned, once its one process is
 *                       reaped; a kept guardian waits for the next run,
 *                       another exits); a run
 *                       that starts sends nothing until it ends,
 *                       'X' wait status (the command's first process
 *                       ended), 'E' (a kept guardian's tree is gone); end
 *                       of file: the guardian exited.
 *   caller -> guardian: 'T' sig (signal the whole tree), 'L' sig (the first
 *                       process only), 'G' (struct go: a run for a kept
 *                       guardian); end of file: the caller is gone, stop
 *                       the tree (stop signal, timeout, SIGKILL).
 */
#include "act/spawn.h"
#include "base/sys.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

struct msg {
	int type;
	int value;
};

/* A run for a kept guardian: this header, then `len` bytes of text (the
 * program's path, argv, envp, each NUL-ended), the first GO_CHUNK of them
 * in the same message, the rest in messages of their own. */
struct go {
	int type; /* 'G' */
	uint32_t len;
	uint32_t argc, envc;
	int stop_signal;
	uint32_t stop_timeout_ms;
	uint8_t share_pgrp, null_stdin;
	/* Descriptors that come with the message (SCM_RIGHTS, in this order):
	 * the caller's stdin, stdout, stderr where bit 0, 1, 2 of stdio is set
	 * (the others are closed for the run: closed or close-on-exec in the
	 * caller), then, with cwd set, its working directory (O_PATH). */
	uint8_t stdio, cwd;
};
#define GO_CHUNK 32768
#define GO_FDS 4 /* stdin, stdout, stderr, working directory */

#define MAX_FDS 64          /* descriptors handed to a run */
#define MAX_PROCS 32768     /* processes looked at in one /proc scan */
#define KILL_RECHECK_MS 100 /* after SIGKILL, how often the guardian looks again */

/* ---- /proc scan (async-signal-safe: used inside the guardian) ---------- */

static struct proc_entry {
	pid_t pid, ppid;
} procs[MAX_PROCS];

/* Also called by the command's child (LISTEN_PID): not instrumented. */
static __attribute__((no_sanitize_address)) size_t put_uint(char *p, unsigned long v)
{
	char tmp[24];
	size_t n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* ppid of a live (not zombie) process, or -1. */
static pid_t read_ppid(pid_t pid)
{
	char path[48] = "/proc/", buf[512];
	size_t n = 6 + put_uint(path + 6, (unsigned long)pid);
	memcpy(path + n, "/stat", 6);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t len = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	/* The command name may hold spaces and parentheses: after the last ')'. */
	char *p = NULL;
	for (char *q = buf; *q; q++)
		if (*q == ')')
			p = q;
	if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
		return -1;
	if (p[2] == 'Z' || p[2] == 'X')
		return -1; /* nothing left to signal */
	long ppid = 0;
	for (p += 4; *p >= '0' && *p <= '9'; p++)
		ppid = ppid * 10 + (*p - '0');
	return (pid_t)ppid;
}

/* Every live descendant of `root` into out[max]; the count. */
static size_t scan_tree(pid_t root, pid_t *out, size_t max)
{
	int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t nprocs = 0;
	char buf[8192] __attribute__((aligned(8)));
	long n;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			long pid = 0;
			const char *c = d->d_name;
			for (; *c >= '0' && *c <= '9'; c++)
				pid = pid * 10 + (*c - '0');
			if (*c || !pid || nprocs == MAX_PROCS)
				continue;
			pid_t ppid = read_ppid((pid_t)pid);
			if (ppid >= 0)
				procs[nprocs++] = (struct proc_entry){(pid_t)pid, ppid};
		}
	}
	close(fd);
	/* Breadth first from root: out[] is the frontier and the result. */
	size_t count = 0;
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].ppid == root && count < max)
			out[count++] = procs[i].pid;
	for (size_t k = 0; k < count; k++)
		for (size_t i = 0; i < nprocs; i++)
			if (procs[i].ppid == out[k] && count < max)
				out[count++] = procs[i].pid;
	return count;
}

int pm_descendants(pid_t ancestor, pid_t *pids, size_t max)
{
	return (int)scan_tree(ancestor, pids, max);
}

/* ---- the guardian ---------------------------------------------------- */

static pid_t tree_pids[MAX_PROCS];
static bool cloned_silent; /* the last guardian was cloned with no exit signal */

static bool terminating_signal(int sig)
{
	return sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

static void signal_tree(int sig)
{
	size_t n = scan_tree(getpid(), tree_pids, MAX_PROCS);
	for (size_t i = 0; i < n; i++) {
		kill(tree_pids[i], sig);
		/* A stopped process acts on a signal only once continued. */
		if (terminating_signal(sig))
			kill(tree_pids[i], SIGCONT);
	}
}

static void send_msg(int sock, int type, int value)
{
	struct msg m = {type, value};
	if (sock >= 0)
		(void)!send(sock, &m, sizeof m, MSG_NOSIGNAL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Closes every descriptor from 3 up except the ones in keep[]. */
static void close_others(const int *keep, size_t nkeep)
{
	unsigned lo = 3;
	for (;;) {
		unsigned next = ~0u; /* the smallest kept fd >= lo */
		for (size_t i = 0; i < nkeep; i++)
			if (keep[i] >= (int)lo && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next == ~0u) {
			syscall(SYS_close_range, lo, ~0u, 0);
			return;
		}
		if (next > lo)
			syscall(SYS_close_range, lo, next - 1, 0);
		lo = next + 1;
	}
}

/* Where the vfork child reports back: `started` (1 as soon as it runs)
 * and `err` (the exec's errno if it fails), in the guardian's frame, which
 * it shares until it execs. Where vfork copies the memory instead
 * (valgrind runs it as a fork) the guardian sees `started` stay 0, and
 * then hands each child a close-on-exec pipe as well, errfd (exec success
 * closes it: zero bytes). */
struct exec_report {
	volatile int started;
	volatile int err;
	int errfd; /* -1: memory is shared, no pipe */
};

/* The child's code is not instrumented by AddressSanitizer: a cloned child
 * runs on a stack of its own, which ASan takes for a corrupt one (a
 * warning on the command's stderr before every noreturn call). */
#define CHILD_CODE __attribute__((no_sanitize_address))

/* A system call that returns -errno rather than setting errno: a cloned
 * child shares the guardian's thread-local storage, errno included, and the
 * guardian goes on running (a failed kill() there could change the reason
 * an exec failed). Where it is not written, runs are never cloned. */
#if defined(__x86_64__)
#define CHILD_RAW_SYSCALL 1
static CHILD_CODE inline long child_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
#define CHILD_RAW_SYSCALL 1
static CHILD_CODE inline long child_syscall3(long nr, long a, long b, long c)
{
	register long x8 __asm__("x8") = nr, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
#else
#define CHILD_RAW_SYSCALL 0
#endif

/* dup2 and execve in the child: 0 or an errno, never errno itself. */
static CHILD_CODE inline int child_dup2(int from, int to)
{
#if CHILD_RAW_SYSCALL
	long r = child_syscall3(SYS_dup3, from, to, 0); /* from > to here: dup3 == dup2 */
	return r < 0 ? (int)-r : 0;
#else
	return dup2(from, to) < 0 ? errno : 0;
#endif
}

static CHILD_CODE inline int child_execve(const char *path, char *const argv[], char *const envp[])
{
#if CHILD_RAW_SYSCALL
	long r = child_syscall3(SYS_execve, (long)path, (long)argv, (long)envp);
	return r < 0 ? (int)-r : ENOEXEC;
#else
	execve(path, argv, envp);
	return errno ? errno : ENOEXEC;
#endif
}

static CHILD_CODE __attribute__((noreturn)) void exec_failed(struct exec_report *rep, int e)
{
	rep->err = e;
	if (rep->errfd >= 0)
		(void)!write(rep->errfd, &e, sizeof e);
	_exit(127);
}

/* In the vfork child of the guardian: it shares the guardian's memory until
 * execve, so it only makes system calls. */
static CHILD_CODE __attribute__((noreturn)) void command_child(const struct pm_spawn *spec, const char *path,
                                                    char *listen_pid, struct exec_report *rep)
{
	rep->started = 1;
	if (!spec->share_pgrp)
		setpgid(0, 0);
	if (spec->null_stdin) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd > 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
	}
	/* Handed descriptors become 3, 4, ...: first out of the way, then in place. */
	int tmp[MAX_FDS];
	for (size_t i = 0; i < spec->nfds; i++)
		tmp[i] = fcntl(spec->fds[i], F_DUPFD_CLOEXEC, (int)(3 + spec->nfds));
	for (size_t i = 0; i < spec->nfds; i++) {
		int e = tmp[i] < 0 ? EBADF : child_dup2(tmp[i], (int)(3 + i));
		if (e)
			exec_failed(rep, e);
	}
	/* Everything above the handed descriptors closes, errfd on exec. */
	unsigned first = 3 + (unsigned)spec->nfds;
	if (rep->errfd < 0) {
		syscall(SYS_close_range, first, ~0u, 0);
	} else {
		if ((unsigned)rep->errfd > first)
			syscall(SYS_close_range, first, (unsigned)rep->errfd - 1, 0);
		syscall(SYS_close_range, (unsigned)rep->errfd + 1, ~0u, 0);
	}
	if (listen_pid)
		listen_pid[put_uint(listen_pid, (unsigned long)getpid())] = '\0';
	/* The guardian reset every disposition when it started; it blocks all
	 * signals, the command starts with none blocked. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	exec_failed(rep, child_execve(path, spec->argv, spec->envp));
}

/* The write end of the exec pipe goes above the handed descriptors' places. */
static int above_handed(int fd, size_t nfds)
{
	if (fd >= 3 + (int)nfds)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3 + (int)nfds);
	close(fd);
	return moved;
}

/* Whether the last vfork shared the guardian's memory (until one did, a
 * pipe reports the exec's errno). */
static bool vfork_shared;

/* Once vfork is known to share the memory, a run starts by
 * clone(CLONE_VM) without CLONE_VFORK: the guardian goes back to waiting
 * at once instead of being woken in the middle of the command's execve,
 * on the same CPU (20 us of trigger latency here). The child then shares
 * what it reads until it execs: the run's spec (copied here), its text
 * (go_text; a message that comes while a tree runs goes to busy_text),
 * its stack and the report of an exec that failed, read when the child is
 * reaped. */
static struct cloned_run {
	struct pm_spawn spec;
	const char *path;
	char *listen_pid;
} cloned_run;
static struct exec_report cloned_report = {.errfd = -1};
static char cloned_stack[64 * 1024] __attribute__((aligned(16)));

static CHILD_CODE int cloned_child(void *arg)
{
	struct cloned_run *c = arg;
	command_child(&c->spec, c->path, c->listen_pid, &cloned_report);
}

/* vfork in a frame of its own: the guardian's locals stay out of reach of
 * the child, which shares the memory until it execs. vfork returns once
 * the child has exec'd (past the point where exec can fail) or exited.
 * With `may_clone` (spec, path and argv stay in place until the child is
 * reaped) and a vfork that shared the memory before, clone instead (see
 * cloned_run): an exec failure then shows when the child is reaped. */
static __attribute__((noinline)) pid_t start_command(const struct pm_spawn *spec, const char *path,
                                                     char *listen_pid, bool may_clone, int *exec_errno)
{
	if (CHILD_RAW_SYSCALL && vfork_shared && may_clone) {
		cloned_run = (struct cloned_run){.spec = *spec, .path = path, .listen_pid = listen_pid};
		pid_t pid = clone(cloned_child, cloned_stack + sizeof cloned_stack, CLONE_VM | SIGCHLD, &cloned_run);
		if (pid > 0) {
			*exec_errno = 0;
			return pid;
		}
		/* Refused (a seccomp filter, say): vfork still may work. */
	}
	struct exec_report rep = {.started = 0, .err = 0, .errfd = -1};
	int pipe_fds[2] = {-1, -1}; /* in memory: vfork may not clobber it */
	if (!vfork_shared) {
		if (pipe2(pipe_fds, O_CLOEXEC) < 0) {
			*exec_errno = errno;
			return -1;
		}
		rep.errfd = above_handed(pipe_fds[1], spec->nfds);
		if (rep.errfd < 0) {
			*exec_errno = errno;
			close(pipe_fds[0]);
			return -1;
		}
	}
	pid_t pid = vfork();
	if (pid == 0)
		command_child(spec, path, listen_pid, &rep);
	int e = pid < 0 ? errno : rep.err;
	if (pid > 0)
		vfork_shared = rep.started;
	if (rep.errfd >= 0) {
		close(rep.errfd);
		int got = 0;
		ssize_t n;
		do
			n = read(pipe_fds[0], &got, sizeof got);
		while (n < 0 && errno == EINTR);
		close(pipe_fds[0]);
		if (pid > 0)
			e = n == (ssize_t)sizeof got ? (got ? got : ENOEXEC) : 0;
	}
	*exec_errno = e;
	return pid;
}

/* The guardian's state, in its own memory. */
struct guard {
	int sock;            /* -1 once the caller is gone */
	bool keep;           /* wait for the next run once the tree is gone */
	const int *fds;      /* held for every run, handed as 3, 4, ... */
	size_t nfds;
	int held[MAX_FDS];   /* fds, moved above 0-2 (the runs' stdio) */
	pid_t leader;        /* the command's first process, -1 once it ended */
	bool running;        /* a tree runs */
	int exec_err;        /* a cloned leader's exec failed: 'F', not 'E', once its tree is gone */
	int stop_signal;     /* of the current run: sent when the caller dies */
	unsigned stop_timeout_ms;
};

/* Starts one run; false (after an 'F' message) when it could not start. */
static bool run(struct guard *g, const struct pm_spawn *spec, const char *path, char *listen_pid, bool may_clone)
{
	int exec_errno = 0;
	pid_t leader = start_command(spec, path, listen_pid, may_clone, &exec_errno);
	if (leader < 0 || exec_errno) {
		if (leader > 0)
			while (waitpid(leader, NULL, 0) < 0 && errno == EINTR)
				;
		send_msg(g->sock, 'F', exec_errno);
		return false;
	}
	g->leader = leader;
	g->running = true;
	g->stop_signal = spec->stop_signal ? spec->stop_signal : SIGTERM;
	g->stop_timeout_ms = spec->stop_timeout_ms ? spec->stop_timeout_ms : 5000;
	/* No message: the caller counts the run as started once it asked for
	 * it. A message now would wake the caller while the command is still
	 * in execve, on the same CPU: 80 us of trigger latency here. */
	return true;
}

/* A run's text and its argv/envp arrays: here for the usual sizes (no
 * system call, no page fault after the first run), in a mapping of their
 * own above. */
static char go_text[GO_CHUNK], busy_text[GO_CHUNK];
static char *go_ptrs[1024];

/* A descriptor the guardian (or the caller: a host whose stdio is closed
 * could have its socket there) holds, out of 0-2: those are the runs' stdio. */
static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

/* The descriptors of a 'G' message: the caller's stdio of this moment
 * becomes the guardian's 0-2 (the run inherits them; they are closed
 * again once its tree is gone), and its working directory the guardian's.
 * 0, or the errno that keeps the run from starting. */
static int take_descriptors(const struct go *hdr, int *got, size_t ngot, bool truncated)
{
	size_t want = (size_t)__builtin_popcount(hdr->stdio & 7u) + (hdr->cwd ? 1 : 0);
	int err = ngot == want && !truncated ? 0 : EMFILE;
	/* Usually they are in place already: an idle guardian holds nothing at
	 * 0-2, so the kernel gave them the lowest numbers, in order (received
	 * without close-on-exec: the command inherits them as they are). */
	bool in_place = !err;
	size_t k = 0;
	for (int i = 0; i < 3 && in_place; i++)
		if (hdr->stdio & (1u << i))
			in_place = got[k++] == i;
	if (in_place) {
		for (int i = 0; i < 3; i++)
			if (!(hdr->stdio & (1u << i)) && (!hdr->cwd || got[k] != i))
				close(i);
		if (hdr->cwd) {
			if (fchdir(got[k]) < 0)
				err = errno;
			close(got[k]);
		}
		return err;
	}
	for (k = 0; k < ngot; k++)
		if ((got[k] = above_stdio(got[k])) < 0 && !err)
			err = EMFILE;
	k = 0;
	for (int i = 0; i < 3 && !err; i++) {
		if (!(hdr->stdio & (1u << i)))
			close(i);
		else if (dup2(got[k++], i) < 0)
			err = errno;
	}
	if (!err && hdr->cwd && fchdir(got[k]) < 0)
		err = errno;
	for (k = 0; k < ngot; k++)
		if (got[k] >= 0)
			close(got[k]);
	return err;
}

/* A 'G' message, whose first `got` bytes of text are in `first` (go_text,
 * or busy_text while a tree runs): takes the messages that continue it,
 * builds argv and envp, starts the run. */
static void run_received(struct guard *g, const struct go *hdr, char *first, size_t got, int err)
{
	size_t nptr = (size_t)hdr->argc + hdr->envc + 2;
	char *text = first, **ptrs = go_ptrs;
	void *map = NULL;
	size_t size = 0;
	if (hdr->len > sizeof go_text || nptr > sizeof go_ptrs / sizeof go_ptrs[0]) {
		size = nptr * sizeof(char *) + hdr->len;
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			err = err ? err : ENOMEM;
		} else {
			ptrs = map;
			text = (char *)(ptrs + nptr);
			memcpy(text, first, got < hdr->len ? got : hdr->len);
		}
	}
	while (got < hdr->len) {
		/* Without a place for it (ENOMEM) the rest is read and dropped. */
		bool room = map || text == first;
		ssize_t n = recv(g->sock, room ? text + got : first, room ? hdr->len - got : GO_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (!err && got != hdr->len)
		err = EPROTO;
	/* path \0 argv... \0 envp... \0: split it in place. */
	char *p = text, *end = text + hdr->len, *path = NULL, *listen_pid = NULL;
	size_t k = 0, nstr = 1 + (size_t)hdr->argc + hdr->envc;
	for (size_t i = 0; !err && i < nstr; i++) {
		char *z = memchr(p, '\0', (size_t)(end - p));
		if (!z) {
			err = EPROTO;
			break;
		}
		if (i == 0) {
			path = p;
		} else {
			ptrs[k++] = p;
			if (i == (size_t)hdr->argc)
				ptrs[k++] = NULL;
			if (i > (size_t)hdr->argc && g->nfds && !strncmp(p, "LISTEN_PID=", 11))
				listen_pid = p + 11;
		}
		p = z + 1;
	}
	if (!err && (!hdr->argc || g->running))
		err = g->running ? EBUSY : EINVAL;
	if (err) {
		send_msg(g->sock, 'F', err);
	} else {
		ptrs[k] = NULL;
		struct pm_spawn spec = {.argv = ptrs,
		                        .envp = ptrs + hdr->argc + 1,
		                        .share_pgrp = hdr->share_pgrp,
		                        .null_stdin = hdr->null_stdin,
		                        .stop_signal = hdr->stop_signal,
		                        .stop_timeout_ms = hdr->stop_timeout_ms,
		                        .fds = g->fds,
		                        .nfds = g->nfds};
		run(g, &spec, path, listen_pid, !map);
	}
	if (!g->running) /* nothing started: no stdio held while idle */
		for (int i = 0; i < 3; i++)
			close(i);
	if (map)
		munmap(map, size);
}

/* One message from the caller, or its end. */
static void caller_message(struct guard *g, uint64_t *kill_at)
{
	union {
		struct msg m;
		struct go g;
	} in;
	/* While a tree runs, a cloned child may still read go_text before its
	 * exec: a message then lands elsewhere. */
	char *text = g->running ? busy_text : go_text;
	struct iovec iov[2] = {{.iov_base = &in, .iov_len = sizeof in}, {.iov_base = text, .iov_len = GO_CHUNK}};
	union {
		char buf[CMSG_SPACE(GO_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
	/* No MSG_CMSG_CLOEXEC: the guardian has no thread to leak them to, and
	 * the command's vfork child closes everything above its handed fds. */
	ssize_t n = recvmsg(g->sock, &mh, MSG_DONTWAIT);
	int fds[GO_FDS];
	size_t nfds = 0;
	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			for (size_t k = 0; k < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int) && nfds < GO_FDS; k++)
				memcpy(&fds[nfds++], CMSG_DATA(c) + k * sizeof(int), sizeof(int));
	bool truncated = n > 0 && (mh.msg_flags & MSG_CTRUNC); /* out of descriptors */
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The caller is gone (or died without stopping us). */
		close(g->sock);
		g->sock = -1;
		if (!g->running)
			_exit(0);
		signal_tree(g->stop_signal);
		*kill_at = now_ms() + g->stop_timeout_ms;
		return;
	}
	if (n >= (ssize_t)sizeof in.g && in.g.type == 'G' && !g->running) {
		int err = take_descriptors(&in.g, fds, nfds, truncated);
		run_received(g, &in.g, text, (size_t)n - sizeof in.g, err);
		return;
	}
	for (size_t k = 0; k < nfds; k++)
		close(fds[k]);
	if (n >= (ssize_t)sizeof in.g && in.g.type == 'G') {
		run_received(g, &in.g, text, (size_t)n - sizeof in.g, EBUSY);
		return;
	}
	if (n != (ssize_t)sizeof in.m || !g->running)
		return;
	if (in.m.type == 'T')
		signal_tree(in.m.value);
	else if (in.m.type == 'L' && g->leader > 0)
		kill(g->leader, in.m.value);
}

static __attribute__((noreturn)) void guardian(struct guard *g, const struct pm_spawn *first, const char *path,
                                               char *listen_pid)
{
	prctl(PR_SET_NAME, "py-mon-guard");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Hold nothing of the host's: another guardian's socket held here
	 * would hide the host's death from it. */
	int keep[MAX_FDS + 1];
	size_t nkeep = 0;
	keep[nkeep++] = g->sock;
	for (size_t i = 0; i < g->nfds; i++)
		keep[nkeep++] = g->fds[i];
	close_others(keep, nkeep);
	/* Descriptors 0-2 are the runs' stdio: what the guardian holds lives
	 * above them (a host with its stdio closed could have its socket, or
	 * a handed socket, there). */
	g->sock = above_stdio(g->sock);
	for (size_t i = 0; i < g->nfds; i++)
		g->held[i] = g->fds[i] > 2 ? g->fds[i] : fcntl(g->fds[i], F_DUPFD_CLOEXEC, 3);
	g->fds = g->held;
	/* The host may ignore signals (Python ignores SIGPIPE) or handle them:
	 * every command starts with the defaults. The guardian itself blocks
	 * them all (it was cloned so), SIGCHLD comes through a signalfd. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	int sfd = above_stdio(signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC));

	if (first) {
		struct pm_spawn moved = *first;
		moved.fds = g->fds;
		if (!run(g, &moved, path, listen_pid, false) && !g->keep)
			_exit(0);
	}
	if (!g->running) /* idle: each run brings its stdio */
		for (int i = 0; i < 3; i++)
			close(i);

	uint64_t kill_at = 0; /* the caller is gone: SIGKILL the tree then */
	bool reap = true;     /* SIGCHLD came: collect what ended */
	for (;;) {
		while (g->running && reap) {
			siginfo_t si;
			memset(&si, 0, sizeof si);
			if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0) {
				if (errno == EINTR)
					continue;
				/* ECHILD: the whole tree is gone. */
				g->running = false;
				int exec_err = g->exec_err;
				g->exec_err = 0;
				if (exec_err) /* the run did not start after all */
					send_msg(g->sock, 'F', exec_err);
				if (!g->keep || g->sock < 0)
					_exit(0);
				/* Idle, it holds none of the run's stdio: a reader of
				 * the caller's old stdout sees its end. */
				for (int i = 0; i < 3; i++)
					close(i);
				if (!exec_err)
					send_msg(g->sock, 'E', 0);
				kill_at = 0;
				break;
			}
			if (si.si_pid == 0)
				break;
			if (si.si_pid == g->leader) {
				int status = si.si_code == CLD_EXITED ? (si.si_status & 0xff) << 8 : si.si_status & 0x7f;
				/* Set only by a cloned child whose exec failed. */
				g->exec_err = cloned_report.err;
				cloned_report.err = 0;
				if (!g->exec_err)
					send_msg(g->sock, 'X', status);
				g->leader = -1;
			}
		}
		int timeout = -1;
		if (kill_at) {
			uint64_t now = now_ms();
			timeout = kill_at > now ? (int)(kill_at - now) : 0;
		}
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = g->sock, .events = POLLIN}};
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			_exit(1);
		/* Only SIGCHLD makes waitid worth a call: not the start of a run
		 * (it would delay the command's exec on this CPU). */
		reap = p[0].revents != 0;
		if (reap) {
			struct signalfd_siginfo buf[8];
			while (read(sfd, buf, sizeof buf) > 0)
				;
		}
		if (g->sock >= 0 && p[1].revents)
			caller_message(g, &kill_at);
		if (kill_at && now_ms() >= kill_at) {
			signal_tree(SIGKILL);
			kill_at = now_ms() + KILL_RECHECK_MS;
		}
	}
}

/* ---- the caller's side ------------------------------------------------- */

/* The program's path by PATH, as execvp would find it: malloc'd, or NULL
 * with errno ENOENT or EACCES. */
static char *resolve(const char *prog)
{
	if (strchr(prog, '/'))
		return pm_strdup(prog);
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int err = ENOENT;
	for (const char *p = path;; p++) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct pm_buf b = {0};
		if (pm_buf_put(&b, len ? p : ".", len ? len : 1) < 0 || pm_buf_put(&b, "/", 1) < 0 ||
		    pm_buf_put(&b, prog, strlen(prog)) < 0) {
			pm_buf_free(&b);
			errno = ENOMEM;
			return NULL;
		}
		struct stat st;
		if (stat(b.s, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(b.s, X_OK) == 0)
				return b.s;
			err = EACCES;
		}
		pm_buf_free(&b);
		if (!end)
			break;
		p = end;
	}
	errno = err;
	return NULL;
}

static pid_t clone_guardian(int *pidfd)
{
#ifdef SYS_clone3
	struct clone_args args;
	memset(&args, 0, sizeof args);
	args.flags = CLONE_PIDFD;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = 0; /* no SIGCHLD: the host's handlers never see it */
	long r = syscall(SYS_clone3, &args, sizeof args);
	cloned_silent = r >= 0;
	if (r >= 0 || (errno != ENOSYS && errno != EPERM))
		return (pid_t)r;
#endif
	/* No clone3 (old kernel, seccomp, valgrind): fork, then a pidfd if
	 * the kernel has them; without one the guardian is reaped by its pid. */
	pid_t pid = fork();
	if (pid > 0)
		*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return pid;
}

/* The caller's working directory: {0, 0} when it cannot be stat'ed. */
static void cwd_id(struct pm_cwd_id *id)
{
	struct stat st;
	if (stat(".", &st) == 0)
		*id = (struct pm_cwd_id){.dev = st.st_dev, .ino = st.st_ino};
	else
		*id = (struct pm_cwd_id){0};
}

/* Clones a guardian holding fds; with `first` it starts that run at once,
 * without it waits for one. */
static int new_guardian(struct pm_child *c, const struct pm_spawn *first, const char *path, char *listen_pid,
                        const int *fds, size_t nfds, bool keep)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	/* No handler of the host may run in the guardian: it starts with every
	 * signal blocked, and the host gets its mask back at once. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int pidfd = -1;
	pid_t pid = clone_guardian(&pidfd);
	if (pid == 0) {
		close(sv[0]);
		struct guard g = {.sock = sv[1], .keep = keep, .fds = fds, .nfds = nfds, .leader = -1};
		guardian(&g, first, path, listen_pid);
	}
	int e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -e;
	}
	*c = (struct pm_child){
		.pid = pid, .pidfd = above_stdio(pidfd), .sock = above_stdio(sv[0]), .idle = !first,
	    .keep = keep};
	cwd_id(&c->cwd);
	return 0;
}

/* Hands a run to an idle kept guardian: a 'G' message (see struct go),
 * with the caller's stdio and, when it changed, working directory. */
static int send_run(struct pm_child *c, const struct pm_spawn *spec, const char *path)
{
	struct pm_buf text = {0};
	struct go hdr = {.type = 'G',
	                 .stop_signal = spec->stop_signal,
	                 .stop_timeout_ms = spec->stop_timeout_ms,
	                 .share_pgrp = spec->share_pgrp,
	                 .null_stdin = spec->null_stdin};
	int rc = pm_buf_put(&text, path, strlen(path) + 1);
	for (char *const *a = spec->argv; *a; a++, hdr.argc++)
		rc |= pm_buf_put(&text, *a, strlen(*a) + 1);
	for (char *const *e = spec->envp; *e; e++, hdr.envc++)
		rc |= pm_buf_put(&text, *e, strlen(*e) + 1);
	if (rc < 0 || text.len > UINT32_MAX) {
		pm_buf_free(&text);
		return -ENOMEM;
	}
	hdr.len = (uint32_t)text.len;
	/* What the run inherits, as an exec here would: stdin, stdout and
	 * stderr unless closed or close-on-exec (the caller's own). */
	int fds[GO_FDS];
	size_t nfds = 0;
	for (int i = 0; i < 3; i++) {
		int flags = fcntl(i, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC)) {
			hdr.stdio |= (uint8_t)(1u << i);
			fds[nfds++] = i;
		}
	}
	/* The working directory, where it is not the guardian's any more (by
	 * identity, not name: a directory renamed or made again is another). */
	struct pm_cwd_id now;
	cwd_id(&now);
	int dirfd = -1;
	if ((now.dev != c->cwd.dev || now.ino != c->cwd.ino) &&
	    (dirfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		hdr.cwd = 1;
		fds[nfds++] = dirfd;
	}
	struct iovec iov[2] = {{.iov_base = &hdr, .iov_len = sizeof hdr},
	                       {.iov_base = text.s, .iov_len = text.len < GO_CHUNK ? text.len : GO_CHUNK}};
	union {
		char buf[CMSG_SPACE(GO_FDS * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	if (nfds) {
		memset(&control, 0, sizeof control);
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	for (size_t off = GO_CHUNK; n >= 0 && off < text.len;) {
		size_t len = text.len - off < GO_CHUNK ? text.len - off : GO_CHUNK;
		n = send(c->sock, text.s + off, len, MSG_NOSIGNAL);
		if (n >= 0)
			off += len;
		else if (errno == EINTR)
			n = 0;
	}
	rc = n < 0 ? -errno : 0;
	pm_buf_free(&text);
	if (dirfd >= 0) {
		close(dirfd);
		if (rc == 0) /* the guardian changes to it */
			c->cwd = now;
	}
	return rc;
}

int pm_child_open(struct pm_child *c, const int *fds, size_t nfds)
{
	*c = (struct pm_child){.pid = -1, .pidfd = -1, .sock = -1};
	if (nfds > MAX_FDS)
		return -EMFILE;
	return new_guardian(c, NULL, NULL, NULL, fds, nfds, true);
}

int pm_spawn(const struct pm_spawn *spec, struct pm_child *c)
{
	if (!spec->keep || !c->idle)
		*c = (struct pm_child){.pid = -1, .pidfd = -1, .sock = -1};
	if (spec->nfds > MAX_FDS)
		return -EMFILE;
	char *path = resolve(spec->argv[0]);
	if (!path)
		return -errno;
	/* Socket activation variables; the child writes its pid over the zeros. */
	char fdsvar[32], listen_fds[32], listen_pid[32] = "LISTEN_PID=0000000000",
	                                 sockvar[16 + MAX_FDS * 4] = "PYMON_SOCKET_FDS=";
	char **envp = (char **)spec->envp;
	struct pm_spawn local = *spec;
	if (spec->nfds) {
		snprintf(listen_fds, sizeof listen_fds, "LISTEN_FDS=%zu", spec->nfds);
		for (size_t i = 0; i < spec->nfds; i++) {
			snprintf(fdsvar, sizeof fdsvar, "%s%zu", i ? "," : "", 3 + i);
			strcat(sockvar, fdsvar);
		}
		size_t n = 0;
		while (spec->envp[n])
			n++;
		envp = malloc((n + 4) * sizeof *envp);
		if (!envp) {
			free(path);
			return -ENOMEM;
		}
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (strncmp(spec->envp[i], "LISTEN_", 7) != 0 && strncmp(spec->envp[i], "PYMON_SOCKET_FDS=", 17) != 0)
				envp[k++] = spec->envp[i];
		envp[k++] = listen_fds;
		envp[k++] = listen_pid;
		envp[k++] = sockvar;
		envp[k] = NULL;
		local.envp = envp;
	}
	int rc = -ECHILD;
	if (c->idle) {
		/* A kept guardian: no clone, the run starts at its vfork. One
		 * that died or cannot take the run gives way to a fresh one. */
		rc = send_run(c, &local, path);
		if (rc < 0 && rc != -ENOMEM) /* ours, not the guardian's: it stays */
			pm_child_reap(c, 1000);
	}
	if (rc < 0 && c->pid < 0)
		rc = new_guardian(c, &local, path, spec->nfds ? listen_pid + 11 : NULL, spec->fds, spec->nfds, spec->keep);
	if (rc == 0) {
		/* Started, as far as the caller knows: an exec failure comes
		 * back through pm_child_read ('F'). */
		c->running = true;
		c->idle = false;
		c->keep = spec->keep;
	}
	free(path);
	if (envp != spec->envp)
		free(envp);
	return rc;
}

bool pm_spawn_silent(void)
{
	return cloned_silent;
}

int pm_child_signal(struct pm_child *c, int sig, bool leader_only)
{
	struct msg m = {leader_only ? 'L' : 'T', sig};
	if (c->sock < 0 || !c->running)
		return -ESRCH;
	return send(c->sock, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
}

int pm_child_read(struct pm_child *c, int *status)
{
	for (;;) {
		struct msg m;
		ssize_t n = recv(c->sock, &m, sizeof m, MSG_DONTWAIT);
		if (n == (ssize_t)sizeof m) {
			if (m.type == 'X') {
				*status = m.value;
				return 1;
			}
			if (m.type == 'E') {
				c->running = false;
				c->idle = true;
				return -1;
			}
			if (m.type == 'F') {
				/* Nothing of the run is left; a kept guardian waits
				 * for the next, another one ends. */
				c->running = false;
				c->idle = c->keep;
				*status = m.value ? m.value : ENOEXEC;
				return 2;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		c->running = c->idle = false;
		return -1;
	}
}

/* Without a pidfd: waitpid on the guardian's pid, polled up to the timeout
 * (it ends microseconds after its socket closed). */
static void reap_by_pid(pid_t pid, int timeout_ms)
{
	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, NULL, timeout_ms < 0 ? 0 : WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return; /* reaped, or ECHILD: the host reaped it */
		if (r == 0) {
			if (waited >= timeout_ms)
				return;
			struct timespec ms = {0, 1000000L};
			nanosleep(&ms, NULL);
		}
	}
}

void pm_child_reap(struct pm_child *c, int timeout_ms)
{
	/* The socket closes first: a kept guardian waits on it. */
	if (c->sock >= 0)
		close(c->sock);
	if (c->pidfd < 0 && c->pid > 0)
		reap_by_pid(c->pid, timeout_ms);
	if (c->pidfd >= 0) {
		struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r > 0) {
			siginfo_t si;
			while (waitid((idtype_t)P_PIDFD, (id_t)c->pidfd, &si, WEXITED | __WALL) < 0 && errno == EINTR)
				;
		}
		close(c->pidfd);
	}
	*c = (struct pm_child){.pid = -1, .pidfd = -1, .sock = -1};
}

char **pm_build_env(char *const *extra, size_t nextra)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **env = malloc((n + nextra + 1) * sizeof *env);
	if (!env)
		return NULL;
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		bool shadowed = false;
		for (size_t i = 0; i < nextra && !shadowed; i++) {
			size_t l = (size_t)(strchr(extra[i], '=') - extra[i]) + 1;
			shadowed = strncmp(*e, extra[i], l) == 0;
		}
		if (!shadowed)
			env[k++] = *e;
	}
	for (size_t i = 0; i < nextra; i++)
		env[k++] = extra[i];
	env[k] = NULL;
	return env;
}
