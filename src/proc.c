/* Spawning a command in its own process group, and finding the processes
 * of a tree through /proc. */
#include "internal.h"
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs in the vfork child between vfork and exec: only async-signal-safe
 * calls, no return (the parent's stack is shared until exec). */
static void child(const struct pm_spawn *spec, int errfd, pid_t parent)
{
	setpgid(0, 0);
	/* If py-mon dies without stopping it (SIGKILL, OOM), the command
	 * does not live on unsupervised. */
	prctl(PR_SET_PDEATHSIG, spec->death_signal ? spec->death_signal : SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (spec->foreground)
		tcsetpgrp(STDIN_FILENO, getpid()); /* SIGTTOU is blocked here */
	if (spec->null_stdin) {
		int fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
	}
	/* The supervisor blocks signals to read them from a signalfd (it
	 * changes no disposition); the command starts with an empty mask. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(spec->argv[0], spec->argv, spec->envp);
	int e = errno;
	ssize_t r = write(errfd, &e, sizeof e);
	(void)r;
	_exit(127);
}

pid_t pm_spawn(const struct pm_spawn *spec)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid_t parent = getpid();
	/* vfork: no copy of the page tables, about 1 ms less per start here.
	 * The child only makes system calls on its own stack frame, then
	 * execs or _exits, as posix_spawn's own child does. */
	pid_t pid = vfork();
	if (pid < 0) {
		int e = errno;
		close(pfd[0]);
		close(pfd[1]);
		return -e;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(spec, pfd[1], parent);
	}
	close(pfd[1]);
	/* Both sides set the group, so it exists before either goes on. */
	setpgid(pid, pid);
	if (spec->foreground)
		tcsetpgrp(STDIN_FILENO, pid);
	int e = 0;
	ssize_t n;
	do
		n = read(pfd[0], &e, sizeof e);
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof e) {
		/* exec failed: the child is ours to reap right here. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -(e ? e : ENOEXEC);
	}
	return pid;
}

struct pstat {
	pid_t pid, ppid, pgrp;
};

static bool read_stat(pid_t pid, struct pstat *ps)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	char *p = strrchr(buf, ')');
	char state;
	int ppid, pgrp;
	if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
		return false;
	if (state == 'Z' || state == 'X')
		return false; /* nothing left to signal */
	ps->pid = pid;
	ps->ppid = ppid;
	ps->pgrp = pgrp;
	return true;
}

static int push_pid(pid_t **pids, size_t *n, size_t *cap, pid_t pid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*pids)[i] == pid)
			return 0;
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		pid_t *p = realloc(*pids, c * sizeof *p);
		if (!p)
			return -ENOMEM;
		*pids = p;
		*cap = c;
	}
	(*pids)[(*n)++] = pid;
	return 1;
}

int pm_descendants(pid_t ancestor, pid_t pgid, pid_t **pids, size_t *n, size_t *cap)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	struct pstat *all = NULL;
	size_t nall = 0, capall = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		struct pstat ps;
		if (!read_stat((pid_t)atoi(de->d_name), &ps))
			continue;
		if (nall == capall) {
			size_t c = capall ? capall * 2 : 256;
			struct pstat *a = realloc(all, c * sizeof *a);
			if (!a)
				break;
			all = a;
			capall = c;
		}
		all[nall++] = ps;
	}
	closedir(d);
	size_t start = *n;
	for (size_t i = 0; i < nall; i++)
		if ((pgid > 0 && all[i].pgrp == pgid) || all[i].ppid == ancestor)
			push_pid(pids, n, cap, all[i].pid);
	/* Close over children until nothing new appears. */
	for (bool grew = true; grew;) {
		grew = false;
		for (size_t i = 0; i < nall; i++)
			for (size_t j = start; j < *n; j++)
				if (all[i].ppid == (*pids)[j] && push_pid(pids, n, cap, all[i].pid) > 0)
					grew = true;
	}
	free(all);
	return (int)(*n - start);
}

const char *pm_signal_name(int sig)
{
	const char *abbrev = sigabbrev_np(sig);
	return abbrev;
}

/* ---- simple commands -------------------------------------------------- */

void pm_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

/* Words that only a shell understands as the first word. */
static const char *const shell_words[] = {
	"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
	"function", "select", "time", "cd", "export", "source", ".", "exec", "set", "unset", "alias",
	"eval", "ulimit", "umask", "trap", "read", "wait", "shift", "return", "exit", "!", "{", "}",
	"[[", "]]", "local", "readonly", "declare", "typeset", "let", NULL,
};

static bool plain_char(unsigned char c)
{
	return isalnum(c) || strchr("_-./:=,+@%^", c) || c >= 0x80;
}

int pm_split_simple(const char *cmd, char ***argvp)
{
	size_t words = 0;
	for (const char *p = cmd; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		words++;
		while (*p && *p != ' ' && *p != '\t') {
			if (!plain_char((unsigned char)*p))
				return 0;
			p++;
		}
	}
	if (!words)
		return 0;
	char **argv = calloc(words + 1, sizeof *argv);
	if (!argv)
		return -ENOMEM;
	size_t i = 0;
	for (const char *p = cmd; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (!(argv[i++] = pm_strndup(s, (size_t)(p - s)))) {
			pm_argv_free(argv);
			return -ENOMEM;
		}
	}
	/* VAR=value prefixes and shell keywords or builtins need the shell. */
	bool shell = strchr(argv[0], '=') != NULL;
	for (const char *const *k = shell_words; *k && !shell; k++)
		shell = strcmp(argv[0], *k) == 0;
	if (shell) {
		pm_argv_free(argv);
		return 0;
	}
	*argvp = argv;
	return 1;
}
