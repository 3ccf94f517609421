/*
 * filterbench: the cost of the filter path, without the kernel's part.
 *
 *   filterbench DIR [NDIRS [FILES_PER_DIR [WRITES]]]
 *
 * Builds DIR (must not exist): a git work tree (an empty .git/) holding
 * GitHub's Python .gitignore, NDIRS directories three levels deep with
 * FILES_PER_DIR files each; starts a watcher on it (prints the time to
 * ready), then feeds WRITES writes through pm_observer_event() as the
 * inotify reader would (two MODIFY events per write: the truncate and the
 * write), clearing the batch every 5000 events as a debounce would. The
 * names written are a mix of watched sources and what editors and apps
 * write beside them (ignored by the defaults or the .gitignore).
 *
 * Wall time per event is printed; for instructions per event run it under
 *   valgrind --tool=callgrind --toggle-collect=pm_observer_event
 * and divide the Ir total by the event count it prints.
 */
#include "pymon.h"
#include "core/batch.h"
#include "core/tree.h"
#include "core/watcher.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char gitignore[] =
	"# Byte-compiled / optimized / DLL files\n__pycache__/\n*.py[cod]\n*$py.class\n\n"
	"# C extensions\n*.so\n\n# Distribution / packaging\n.Python\nbuild/\ndevelop-eggs/\n"
	"dist/\ndownloads/\neggs/\n.eggs/\nlib/\nlib64/\nparts/\nsdist/\nvar/\nwheels/\n"
	"share/python-wheels/\n*.egg-info/\n.installed.cfg\n*.egg\nMANIFEST\n\n"
	"*.manifest\n*.spec\n\npip-log.txt\npip-delete-this-directory.txt\n\n"
	"htmlcov/\n.tox/\n.nox/\n.coverage\n.coverage.*\n.cache\nnosetests.xml\ncoverage.xml\n"
	"*.cover\n*.py,cover\n.hypothesis/\n.pytest_cache/\ncover/\n\n*.mo\n*.pot\n\n"
	"*.log\nlocal_settings.py\ndb.sqlite3\ndb.sqlite3-journal\n\ninstance/\n.webassets-cache\n\n"
	".scrapy\n\ndocs/_build/\n\n.pybuilder/\ntarget/\n\n.ipynb_checkpoints\n\n"
	"profile_default/\nipython_config.py\n\n.pdm.toml\n__pypackages__/\n\n"
	"celerybeat-schedule\ncelerybeat.pid\n\n*.sage.py\n\n.env\n.venv\nenv/\nvenv/\nENV/\n"
	"env.bak/\nvenv.bak/\n\n.spyderproject\n.spyproject\n\n.ropeproject\n\n/site\n\n"
	".mypy_cache/\n.dmypy.json\ndmypy.json\n\n.pyre/\n\n.pytype/\n\ncython_debug/\n";

/* What gets written in a flood, in turn. */
static const char *const names[] = {
	"models.py", "views.py", "test_api.py", "app.log", ".views.py.swp", "views.py~",
	"settings.py", "data.db-journal", "README.md", "schema.json", "coverage.xml", "util.py",
};
#define NNAMES (sizeof names / sizeof names[0])

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		die(path);
}

static void make_tree(const char *dir, long ndirs, long files)
{
	char p[4096];
	if (mkdir(dir, 0755) < 0)
		die(dir);
	snprintf(p, sizeof p, "%s/.git", dir);
	if (mkdir(p, 0755) < 0)
		die(p);
	snprintf(p, sizeof p, "%s/.gitignore", dir);
	put(p, gitignore);
	/* d<i/100>/e<i/10%10>/f<i%10>: three levels. */
	for (long i = 0; i < ndirs; i++) {
		int n = snprintf(p, sizeof p, "%s/d%ld", dir, i / 100);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			die(p);
		n += snprintf(p + n, sizeof p - (size_t)n, "/e%ld", i / 10 % 10);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			die(p);
		n += snprintf(p + n, sizeof p - (size_t)n, "/f%ld", i % 10);
		if (mkdir(p, 0755) < 0)
			die(p);
		for (long f = 0; f < files; f++) {
			snprintf(p + n, sizeof p - (size_t)n, "/%s", names[f % NNAMES]);
			put(p, "x");
		}
	}
}

/* Every node of the observer's first root, leaves first does not matter. */
static struct pm_node **nodes;
static size_t nnodes, capnodes;
static void collect(struct pm_node *n)
{
	if (nnodes == capnodes) {
		capnodes = capnodes ? capnodes * 2 : 1024;
		nodes = realloc(nodes, capnodes * sizeof *nodes);
		if (!nodes)
			die("realloc");
	}
	nodes[nnodes++] = n;
	for (struct pm_node *c = n->child; c; c = c->next)
		collect(c);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: filterbench DIR [NDIRS [FILES_PER_DIR [WRITES]]]\n");
		return 2;
	}
	long ndirs = argc > 2 ? atol(argv[2]) : 1000;
	long files = argc > 3 ? atol(argv[3]) : 10;
	long writes = argc > 4 ? atol(argv[4]) : 100000;
	make_tree(argv[1], ndirs, files);

	pymon_error err = {0};
	pymon_watcher *w = pymon_watcher_new(&err);
	pymon_observer *o = w ? pymon_observer_new(w, &err) : NULL;
	if (!o || pymon_observer_add(o, argv[1], &err) < 0) {
		fprintf(stderr, "filterbench: %s\n", err.message);
		return 1;
	}
	double t0 = now_s();
	if (pymon_watcher_start(w, &err) < 0) {
		fprintf(stderr, "filterbench: %s\n", err.message);
		return 1;
	}
	double t1 = now_s();
	collect(o->roots->node);
	printf("ready %.3f s, %zu directories watched\n", t1 - t0, nnodes);

	size_t events = 0, counted = 0;
	t0 = now_s();
	for (long i = 0; i < writes; i++) {
		struct pm_node *n = nodes[(size_t)i % nnodes];
		const char *name = names[((size_t)i / nnodes + (size_t)i) % NNAMES];
		for (int k = 0; k < 2; k++) {
			pm_observer_event(n, name, PYMON_MODIFY, false, NULL);
			events++;
			if (events % 5000 == 0) {
				counted += o->batch.count;
				pm_batch_clear(&o->batch);
			}
		}
	}
	counted += o->batch.count;
	t1 = now_s();
	printf("%zu events, %zu in batches, %.1f ns/event\n", events, counted, (t1 - t0) * 1e9 / (double)events);
	pymon_watcher_free(w);
	free(nodes);
	return 0;
}
