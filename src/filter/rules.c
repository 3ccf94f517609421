/*
 * Does an event count for an observer: ignore sets, extensions, kinds and
 * file roots (see rules.h); loading ignore files; finding the git work tree
 * a root lives in.
 */
#include "filter/rules.h"
#include "base/sys.h"
#include "core/watcher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_IGNORE_FILE (4u << 20)

bool pm_is_ignore_file(const char *name)
{
	return strcmp(name, ".gitignore") == 0 || strcmp(name, ".ignore") == 0;
}

bool pm_ext_ok(const struct pymon_observer *o, const char *name)
{
	if (!o->nexts)
		return true;
	const char *dot = strrchr(name, '.');
	if (!dot || dot == name)
		return false;
	for (size_t i = 0; i < o->nexts; i++)
		if (strcmp(dot + 1, o->exts[i]) == 0)
			return true;
	return false;
}

bool pm_visible(struct pm_node *dir, const char *name, bool is_dir)
{
	struct pm_root *root = dir->root;
	if (root->file)
		return !dir->parent && strcmp(name, root->file) == 0;
	/* The extension filter is for files; a directory's own events are
	 * pm_kind_counts()'s call. */
	if (!is_dir && !pm_ext_ok(root->obs, name))
		return false;
	return !pm_ignored(dir, name, is_dir, NULL, 0);
}

bool pm_kind_counts(const struct pymon_observer *o, unsigned kind, bool is_dir)
{
	if (kind == PYMON_RESCAN)
		return true; /* always delivered */
	if (!(o->kinds & kind))
		return false;
	/* With an extension filter a new directory is not news (its matching
	 * files are reported by the scan), but one that goes or moves takes
	 * its files along. */
	return !(is_dir && o->nexts && (kind == PYMON_CREATE || kind == PYMON_MODIFY));
}

struct verdict {
	int result;
	const struct pm_rule *rule;
	const struct pm_ruleset *set;
};

/* True when the set decides (a rule matched); then v holds it. */
static bool try_set(struct verdict *v, const struct pm_ruleset *rs, const char *path, size_t len, bool is_dir)
{
	if (!rs || !rs->count)
		return false;
	int r = pm_ruleset_match(rs, path, len, is_dir, &v->rule);
	if (r == PM_IGN_NONE)
		return false;
	v->result = r;
	v->set = rs;
	return true;
}

/*
 * The sets stack as defaults < info/exclude and the .gitignore files above
 * the root < each directory's .gitignore < its .ignore, from the root
 * down < the observer's own patterns: the last matching rule of the
 * highest set decides. So the sets are tried from the highest down and
 * the first that matches decides; most events end at the first set.
 *
 * buf holds the root-relative path of the entry at buf + off (len bytes,
 * the last nlen of them its name), with room for the longest above-root
 * prefix before it.
 */
static void decide(struct pm_node *dir, char *buf, size_t off, size_t len, size_t nlen, bool is_dir,
                   struct verdict *v)
{
	struct pm_root *root = dir->root;
	struct pymon_observer *o = root->obs;
	char *rel = buf + off;

	if (try_set(v, &o->user, rel, len, is_dir))
		return;
	if (!(o->flags & PYMON_NO_VCS_IGNORE)) {
		/* Each directory's sets see the path below it: the suffix of
		 * rel after the directory's own component. */
		const char *below = rel + len - nlen;
		for (struct pm_node *p = dir; p; p = p->parent) {
			struct pm_dirrules *dr = pm_node_rules(p);
			size_t sublen = len - (size_t)(below - rel);
			if (dr && (try_set(v, dr->ignore, below, sublen, is_dir) ||
			           try_set(v, dr->gitignore, below, sublen, is_dir)))
				return;
			if (p->parent)
				below -= strlen(p->name) + 1; /* over "<p's name>/" */
		}
		for (size_t i = root->nabove; i-- > 0;) {
			size_t pl = strlen(root->above_prefix[i]);
			memcpy(rel - pl, root->above_prefix[i], pl);
			if (try_set(v, root->above[i], rel - pl, pl + len, is_dir))
				return;
		}
	}
	if (!(o->flags & PYMON_NO_DEFAULT_IGNORE))
		try_set(v, &o->defaults, rel, len, is_dir);
}

bool pm_ignored(struct pm_node *dir, const char *name, bool is_dir, char *why, size_t whylen)
{
	struct pm_root *root = dir->root;
	struct verdict v = {PM_IGN_NONE, NULL, NULL};
	if (why && whylen)
		snprintf(why, whylen, "not ignored");
	if (root->file)
		return false; /* a file named on purpose is never ignored */

	/* One buffer, on the stack unless the path is long: room for the
	 * longest above-root prefix, then the root-relative path, built
	 * from the end. */
	size_t pre = 0, nlen = strlen(name), len = nlen;
	for (size_t i = 0; i < root->nabove; i++) {
		size_t pl = strlen(root->above_prefix[i]);
		pre = pl > pre ? pl : pre;
	}
	for (const struct pm_node *p = dir; p->parent; p = p->parent)
		len += strlen(p->name) + 1;
	char stackbuf[1024], *buf = stackbuf;
	if (pre + len + 1 > sizeof stackbuf && !(buf = malloc(pre + len + 1)))
		return false;
	char *end = buf + pre + len;
	*end = '\0';
	end -= nlen;
	memcpy(end, name, nlen);
	for (const struct pm_node *p = dir; p->parent; p = p->parent) {
		size_t l = strlen(p->name);
		*--end = '/';
		end -= l;
		memcpy(end, p->name, l);
	}
	decide(dir, buf, pre, len, nlen, is_dir, &v);
	if (buf != stackbuf)
		free(buf);

	if (why && whylen && v.rule) {
		if (v.rule->line && strcmp(v.set->source, "default") != 0 &&
		    strcmp(v.set->source, "--ignore") != 0)
			snprintf(why, whylen, "%s by %s:%u: %s", v.result == PM_IGN_EXCLUDE ? "ignored" : "included",
			         v.set->source, v.rule->line, v.rule->text);
		else
			snprintf(why, whylen, "%s by %s %s '%s'", v.result == PM_IGN_EXCLUDE ? "ignored" : "included",
			         v.set->source, strcmp(v.set->source, "default") == 0 ? "ignore" : "pattern", v.rule->text);
	}
	return v.result == PM_IGN_EXCLUDE;
}


/* Reads a whole small file relative to dirfd; NULL when absent. */
static char *slurp(int dirfd, const char *name, size_t *len)
{
	int fd = pm_sys.openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_IGNORE_FILE) {
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap)
			break; /* grew while reading: take what fits */
	}
	close(fd);
	*len = n;
	return buf;
}

static struct pm_ruleset *load_set(int dirfd, const char *name, const char *source)
{
	size_t len = 0;
	char *text = slurp(dirfd, name, &len);
	if (!text)
		return NULL;
	struct pm_ruleset *rs = malloc(sizeof *rs);
	if (rs) {
		pm_ruleset_init(rs, source);
		if (pm_ruleset_parse(rs, text, len) < 0 || !rs->source) {
			pm_ruleset_free(rs);
			free(rs);
			rs = NULL;
		}
	}
	free(text);
	return rs;
}

void pm_rules_load(pymon_watcher *w, struct pm_node *n, int dirfd)
{
	int own = -1;
	if (dirfd < 0) {
		own = dirfd = pm_node_open(n, NULL);
		if (dirfd < 0)
			return;
	}
	struct pm_dirrules *old = pm_node_rules(n), *r = calloc(1, sizeof *r);
	if (r) {
		struct pm_buf src = {0};
		if (n->root->gitdir && pm_node_display(n, ".gitignore", &src) == 0)
			r->gitignore = load_set(dirfd, ".gitignore", src.s);
		if (pm_node_display(n, ".ignore", &src) == 0)
			r->ignore = load_set(dirfd, ".ignore", src.s);
		pm_buf_free(&src);
		if (!r->gitignore && !r->ignore) {
			free(r);
			r = NULL;
		}
		if (pm_node_set_rules(n, r) < 0) {
			pm_dirrules_free(r); /* out of memory: the old sets stay */
		} else {
			pm_dirrules_free(old);
		}
	}
	if (own >= 0)
		close(own);
	(void)w;
}

static int add_above(struct pm_root *root, struct pm_ruleset *rs, const char *prefix)
{
	struct pm_ruleset **sets = realloc(root->above, (root->nabove + 1) * sizeof *sets);
	if (!sets)
		return -ENOMEM;
	root->above = sets;
	char **prefixes = realloc(root->above_prefix, (root->nabove + 1) * sizeof *prefixes);
	if (!prefixes)
		return -ENOMEM;
	root->above_prefix = prefixes;
	char *p = pm_strdup(prefix);
	if (!p)
		return -ENOMEM;
	sets[root->nabove] = rs;
	prefixes[root->nabove] = p;
	root->nabove++;
	return 0;
}

/* "gitdir: <path>" in a .git file (worktrees, submodules). */
static char *read_gitfile(const char *top)
{
	char *path = pm_path_join(top, ".git");
	if (!path)
		return NULL;
	size_t len = 0;
	char *text = slurp(AT_FDCWD, path, &len);
	free(path);
	if (!text)
		return NULL;
	char *res = NULL;
	if (len > 8 && strncmp(text, "gitdir: ", 8) == 0) {
		size_t e = 8;
		while (e < len && text[e] != '\n' && text[e] != '\r')
			e++;
		char *g = pm_strndup(text + 8, e - 8);
		if (g && g[0] != '/') {
			res = pm_path_join(top, g);
			free(g);
		} else {
			res = g;
		}
	}
	free(text);
	return res;
}

/*
 * Finds the work tree above root->real: its git directory (for the
 * index.lock wait) and, unless VCS ignores are off, the ignore sets that
 * apply from above the root.
 */
int pm_root_git_setup(pymon_watcher *w, struct pm_root *root)
{
	(void)w;
	char *top = pm_strdup(root->real);
	if (!top)
		return -ENOMEM;
	struct stat st;
	for (;;) {
		char *dotgit = pm_path_join(top, ".git");
		if (!dotgit) {
			free(top);
			return -ENOMEM;
		}
		int found = lstat(dotgit, &st) == 0;
		if (found && S_ISDIR(st.st_mode)) {
			root->gitdir = dotgit;
			break;
		}
		free(dotgit);
		if (found && S_ISREG(st.st_mode)) {
			root->gitdir = read_gitfile(top);
			if (root->gitdir)
				break;
		}
		char *slash = strrchr(top, '/');
		if (!slash || slash == top) {
			free(top);
			return 0; /* not in a work tree */
		}
		*slash = '\0';
	}
	int r = 0;
	if (!(root->obs->flags & PYMON_NO_VCS_IGNORE)) {
		/* root->real relative to top: "" or "a/b" */
		const char *below = root->real + strlen(top);
		while (*below == '/')
			below++;
		struct pm_buf prefix = {0};
		if (*below) {
			pm_buf_put(&prefix, below, strlen(below));
			pm_buf_put(&prefix, "/", 1);
		} else {
			pm_buf_put(&prefix, "", 0);
		}
		char *exclude = pm_path_join(root->gitdir, "info/exclude");
		struct pm_ruleset *rs = exclude ? load_set(AT_FDCWD, exclude, exclude) : NULL;
		if (rs && (r = add_above(root, rs, prefix.s)) < 0) {
			pm_ruleset_free(rs);
			free(rs);
		}
		free(exclude);
		/* .gitignore of top and of each directory down to the root's parent. */
		struct pm_buf dir = {0};
		pm_buf_put(&dir, top, strlen(top));
		const char *p = below;
		while (*p && r == 0) {
			char *gi = pm_path_join(dir.s, ".gitignore");
			rs = gi ? load_set(AT_FDCWD, gi, gi) : NULL;
			free(gi);
			if (rs && (r = add_above(root, rs, p[0] ? prefix.s + (p - below) : "")) < 0) {
				pm_ruleset_free(rs);
				free(rs);
			}
			const char *s = strchr(p, '/');
			size_t l = s ? (size_t)(s - p) : strlen(p);
			pm_buf_put(&dir, "/", 1);
			pm_buf_put(&dir, p, l);
			p += l;
			while (*p == '/')
				p++;
		}
		pm_buf_free(&dir);
		pm_buf_free(&prefix);
	}
	free(top);
	return r;
}

void pm_root_git_free(struct pm_root *root)
{
	for (size_t i = 0; i < root->nabove; i++) {
		pm_ruleset_free(root->above[i]);
		free(root->above[i]);
		free(root->above_prefix[i]);
	}
	free(root->above);
	free(root->above_prefix);
	free(root->gitdir);
	root->above = NULL;
	root->above_prefix = NULL;
	root->nabove = 0;
	root->gitdir = NULL;
}

bool pm_git_locked(const struct pm_root *root)
{
	if (!root->gitdir)
		return false;
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/index.lock", root->gitdir) >= sizeof path)
		return false;
	return faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) == 0;
}

/* ---- explain ---------------------------------------------------------- */

/* The absolute path of `path` as the user typed it (relative to the
 * working directory), with symlinks of its existing part resolved as the
 * roots' are; the rest is kept as written. */
static char *absolute(const char *path)
{
	char *real = realpath(path, NULL);
	if (real)
		return real;
	char *copy = pm_strdup(path);
	if (!copy)
		return NULL;
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *slash = strrchr(copy, '/');
	const char *base = slash ? slash + 1 : copy;
	char *dir = slash ? (slash == copy ? pm_strdup("/") : pm_strndup(copy, (size_t)(slash - copy))) : pm_strdup(".");
	char *rdir = dir ? realpath(dir, NULL) : NULL;
	char *out = NULL;
	if (rdir)
		out = pm_path_join(rdir, base);
	else if (dir && path[0] != '/') {
		char cwd[4096];
		if (getcwd(cwd, sizeof cwd))
			out = pm_path_join(cwd, copy);
	} else {
		out = pm_strdup(copy);
	}
	free(rdir);
	free(dir);
	free(copy);
	return out;
}

/* Walks rel ("a/b/c") from the root's node: ignored as soon as one of its
 * directories is. Directories not in the tree get temporary nodes. */
static int explain_in_root(struct pm_root *root, char *rel, int is_dir, char *buf, size_t len)
{
	struct pm_node *cur = root->node, *temps = NULL;
	int ignored = 0;
	for (char *comp = rel, *slash; comp && *comp; comp = slash ? slash + 1 : NULL) {
		slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		bool last = !slash || !slash[1];
		bool comp_dir = last ? is_dir : true;
		char why[400];
		if (pm_ignored(cur, comp, comp_dir, why, sizeof why)) {
			if (last)
				snprintf(buf, len, "%s", why);
			else
				snprintf(buf, len, "ignored (its directory %s/ is %s)", comp, why);
			ignored = 1;
			break;
		}
		if (last) {
			if (!is_dir && !pm_ext_ok(root->obs, comp)) {
				struct pm_buf list = {0};
				for (size_t i = 0; i < root->obs->nexts; i++) {
					pm_buf_put(&list, i ? ", " : "", i ? 2 : 0);
					pm_buf_put(&list, root->obs->exts[i], strlen(root->obs->exts[i]));
				}
				snprintf(buf, len, "not a watched extension (%s)", list.s ? list.s : "");
				pm_buf_free(&list);
				ignored = 1;
			}
			break;
		}
		struct pm_node *next = pm_node_find_child(cur, comp);
		if (!next) {
			next = calloc(1, sizeof *next);
			if (!next || !(next->name = pm_strdup(comp))) {
				free(next);
				break;
			}
			next->root = root;
			next->parent = cur;
			next->hash_next = temps; /* reuse the link to free them later */
			temps = next;
		}
		cur = next;
	}
	while (temps) {
		struct pm_node *n = temps->hash_next;
		free(temps->name);
		free(temps);
		temps = n;
	}
	return ignored;
}

PM_API int pymon_observer_explain(pymon_observer *o, const char *path, int is_dir, char *buf, size_t len)
{
	snprintf(buf, len, "watched");
	char *abs = path && *path ? absolute(path) : NULL;
	if (!abs) {
		snprintf(buf, len, "cannot resolve the path");
		return 1;
	}
	int result = -1;
	for (struct pm_root *root = o->roots; root && result < 0; root = root->next) {
		size_t rl = strlen(root->real);
		if (root->file) {
			if (strncmp(abs, root->real, rl) == 0 && abs[rl] == '/' && strcmp(abs + rl + 1, root->file) == 0)
				result = 0;
			continue;
		}
		bool inside = strncmp(abs, root->real, rl) == 0 && (abs[rl] == '/' || abs[rl] == '\0' || rl == 1);
		if (!inside || !root->node)
			continue;
		char *rel = pm_strdup(abs + rl + (abs[rl] == '/' ? 1 : 0));
		if (!rel)
			break;
		result = *rel ? explain_in_root(root, rel, is_dir, buf, len) : 0;
		free(rel);
	}
	free(abs);
	if (result < 0) {
		struct pm_buf roots = {0};
		for (struct pm_root *r = o->roots; r; r = r->next) {
			const char *d = r->display[0] ? r->display : ".";
			pm_buf_put(&roots, r != o->roots ? ", " : "", r != o->roots ? 2 : 0);
			pm_buf_put(&roots, d, strlen(d));
		}
		snprintf(buf, len, "outside the watched paths (%s)", roots.s ? roots.s : "none");
		pm_buf_free(&roots);
		return 1;
	}
	if (result == 0 && (o->kinds & PYMON_ALL) != PYMON_ALL) {
		char kinds[64] = "";
		for (unsigned k = PYMON_CREATE; k <= PYMON_MOVE; k <<= 1)
			if (o->kinds & k) {
				strcat(kinds, kinds[0] ? ", " : "");
				strcat(kinds, pymon_kind_name(k));
			}
		snprintf(buf, len, "watched (only %s events count)", kinds);
	}
	return result;
}

void pm_report_skip(struct pm_node *dir, const char *name, unsigned kind, bool is_dir)
{
	pymon_observer *o = dir->root->obs;
	char why[512];
	if (!(o->kinds & kind))
		snprintf(why, sizeof why, "a %s event, and only other kinds count", pymon_kind_name(kind));
	else if (dir->root->file)
		snprintf(why, sizeof why, "not the watched file %s", dir->root->file);
	else if (is_dir && o->nexts && !pm_ignored(dir, name, true, NULL, 0))
		snprintf(why, sizeof why, "a directory's %s: with an extension filter its files count", pymon_kind_name(kind));
	else if (!pm_ignored(dir, name, is_dir, why, sizeof why))
		snprintf(why, sizeof why, "not a watched extension");
	struct pm_buf path = {0};
	if (pm_node_display(dir, name, &path) == 0)
		o->skip_fn(o, kind, path.s, why, o->skip_ud);
	pm_buf_free(&path);
}

PM_API void pymon_observer_on_skip(pymon_observer *o, pymon_skip_fn fn, void *userdata)
{
	o->skip_fn = fn;
	o->skip_ud = userdata;
}
