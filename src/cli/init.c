/* py-mon init (see init.h). */
#include "init.h"
#include "text.h"
#include "toml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_READ (4u << 20)

/* The whole file (NUL-terminated), or NULL with errno (ENOENT: absent;
 * EINVAL: not a regular file). */
static char *slurp(const char *path, size_t *len)
{
	int err;
	char *text = cli_read_file(path, MAX_READ, len, &err);
	if (!text)
		errno = err == CLI_ENOTREG || err == EISDIR ? EINVAL : err;
	return text;
}

static int exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether dir/name imports module (import x, from x import ...). */
static int imports(const char *dir, const char *name, const char *module)
{
	char path[4096], a[64], b[64];
	size_t len;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	char *text = slurp(path, &len);
	if (!text)
		return 0;
	snprintf(a, sizeof a, "import %s", module);
	snprintf(b, sizeof b, "from %s", module);
	int found = 0;
	for (char *line = text; line && !found; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		line += strspn(line, " \t");
		size_t n = strlen(module) + 5;
		found = (strncmp(line, a, n + 2) == 0 && strchr(" \t\n.,;", line[n + 2])) ||
		        (strncmp(line, b, n) == 0 && strchr(" \t\n.", line[n]));
	}
	free(text);
	return found;
}

struct kind {
	const char *name;    /* for the message */
	char command[128];   /* empty: none detected */
	const char *ext;
	const char *ignore;  /* a suggestion, commented out */
};

static void detect(const char *dir, struct kind *k)
{
	memset(k, 0, sizeof *k);
	k->ext = "\"py\"";
	k->ignore = "\"build/\"";
	if (exists(dir, "manage.py")) {
		k->name = "Django";
		snprintf(k->command, sizeof k->command, "python3 manage.py runserver --noreload");
		k->ext = "\"py\", \"html\", \"css\", \"js\"";
		k->ignore = "\"media/\", \"staticfiles/\"";
		return;
	}
	if (exists(dir, "app.py") && imports(dir, "app.py", "flask")) {
		k->name = "Flask";
		snprintf(k->command, sizeof k->command, "flask --app app run --no-reload");
		k->ext = "\"py\", \"html\", \"css\", \"js\"";
		k->ignore = "\"instance/*.db\"";
		return;
	}
	static const char *const mains[] = {"main.py", "app.py"};
	for (size_t i = 0; i < 2; i++) {
		if (exists(dir, mains[i]) && imports(dir, mains[i], "fastapi")) {
			k->name = "FastAPI";
			snprintf(k->command, sizeof k->command, "python3 -m uvicorn %.*s:app", (int)strcspn(mains[i], "."),
			         mains[i]);
			return;
		}
	}
	for (size_t i = 0; i < 2; i++) {
		if (exists(dir, mains[i])) {
			k->name = "Python";
			snprintf(k->command, sizeof k->command, "python3 %s", mains[i]);
			return;
		}
	}
	k->name = "unknown";
}

static void table(FILE *f, const struct kind *k)
{
	fprintf(f, "[tool.py-mon]\n"
	           "# Written by `py-mon init` (%s project). The keys are py-mon's long options:\n"
	           "# see `py-mon --help` or `man py-mon`. The command line wins over this table.\n",
	        k->name);
	if (k->command[0])
		fprintf(f, "command = \"%s\"\n", k->command);
	else
		fprintf(f, "# The command to run and restart (none was detected):\n# command = \"python3 app.py\"\n");
	fprintf(f, "# Restart only for changes to these file types (default: every file).\n"
	           "ext = [%s]\n"
	           "# More paths to skip, in gitignore syntax (.gitignore is read too).\n"
	           "# ignore = [%s]\n"
	           "# Wait this long after the last change before restarting.\n"
	           "# delay = \"100ms\"\n"
	           "# Variables for the command, read again at each start.\n"
	           "# env-file = [\".env\"]\n",
	        k->ext, k->ignore);
}

int cli_init(const char *dir, char *msg, size_t len)
{
	char path[4096];
	size_t n = 0;
	snprintf(path, sizeof path, "%s/pyproject.toml", dir);
	char *text = slurp(path, &n);
	if (!text && errno != ENOENT) {
		snprintf(msg, len, "pyproject.toml: %s", errno == EINVAL ? "not a regular file" : strerror(errno));
		return errno == EINVAL || errno == EFBIG ? 2 : 1;
	}
	if (text) {
		char perr[300];
		struct toml_value *root = toml_parse(text, n, perr, sizeof perr);
		const struct toml_value *t = root ? toml_get_path(root, "tool.py-mon") : NULL;
		int status = 0;
		if (!root) {
			snprintf(msg, len, "pyproject.toml:%s (the file was not changed)", perr);
			status = 2;
		} else if (t) {
			snprintf(msg, len, "pyproject.toml:%u:%u: [tool.py-mon] exists already (the file was not changed)",
			         t->line, t->col);
			status = 2;
		}
		toml_free(root);
		if (status) {
			free(text);
			return status;
		}
	}
	struct kind k;
	detect(dir, &k);
	/* Appended: whatever the file holds stays byte for byte. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!f) {
		snprintf(msg, len, "pyproject.toml: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		free(text);
		return 1;
	}
	if (n > 0)
		fputs(text[n - 1] == '\n' ? "\n" : "\n\n", f);
	table(f, &k);
	free(text);
	if (fclose(f) != 0) {
		snprintf(msg, len, "pyproject.toml: %s", strerror(errno));
		return 1;
	}
	if (k.command[0])
		snprintf(msg, len, "[py-mon] wrote [tool.py-mon] to %spyproject.toml (%s project: %s)\n",
		         n ? "" : "a new ", k.name, k.command);
	else
		snprintf(msg, len, "[py-mon] wrote [tool.py-mon] to %spyproject.toml; no project kind found: "
		         "set its command\n", n ? "" : "a new ");
	return 0;
}
