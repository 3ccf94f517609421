/* Ignore rules in gitignore syntax: parsing and matching. */
#include "filter/ignore.h"

#include "filter/glob.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NONE_POS SIZE_MAX

const char *const pm_default_ignores[] = {
	".git/", ".hg/", ".svn/",
	"__pycache__/", "*.pyc", "*.pyo",
	".venv/", "venv/", "node_modules/",
	".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".tox/",
	"*.swp", "*.swx", "*~", ".#*", "4913",
	".DS_Store",
	/* What a Python app writes while it runs (README, "Default ignores"). */
	"*.sqlite3", "*.sqlite3-journal", "*.sqlite3-wal", "*.sqlite3-shm",
	"*.sqlite", "*.sqlite-journal", "*.sqlite-wal", "*.sqlite-shm",
	"*.db", "*.db-journal", "*.db-wal", "*.db-shm",
	"*.log", ".coverage", ".coverage.*", "htmlcov/",
	NULL,
};

void pm_ruleset_init(struct pm_ruleset *rs, const char *source)
{
	rs->rules = NULL;
	rs->count = 0;
	rs->cap = 0;
	/* On allocation failure the set works, only without a name. */
	rs->source = source ? strdup(source) : NULL;
	memset(&rs->idx, 0, sizeof rs->idx);
}

void pm_ruleset_free(struct pm_ruleset *rs)
{
	for (size_t i = 0; i < rs->count; i++) {
		free(rs->rules[i].pattern);
		free(rs->rules[i].text);
	}
	free(rs->rules);
	free(rs->source);
	free(rs->idx.slots);
	free(rs->idx.suffix_lens);
	free(rs->idx.prefix_lens);
	free(rs->idx.globs);
	memset(&rs->idx, 0, sizeof rs->idx);
	rs->rules = NULL;
	rs->count = 0;
	rs->cap = 0;
	rs->source = NULL;
}

static char *dup_mem(const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *d = malloc(n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/*
 * Length of the line without its trailing spaces, as git counts them: a
 * space escaped by a backslash stays, and so does everything when the line
 * ends in a lone backslash. Tabs are not spaces here.
 */
static size_t trim_trailing_spaces(const char *s, size_t len)
{
	size_t first_space = NONE_POS;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (first_space == NONE_POS)
				first_space = i;
			continue;
		}
		if (s[i] == '\\' && ++i == len)
			return len;
		first_space = NONE_POS;
	}
	return first_space == NONE_POS ? len : first_space;
}

static int grow(struct pm_ruleset *rs)
{
	if (rs->count < rs->cap)
		return 0;
	size_t cap = rs->cap ? rs->cap * 2 : 16;
	if (cap < rs->cap || cap > SIZE_MAX / sizeof *rs->rules)
		return -ENOMEM;
	struct pm_rule *rules = realloc(rs->rules, cap * sizeof *rules);
	if (!rules)
		return -ENOMEM;
	rs->rules = rules;
	rs->cap = cap;
	return 0;
}

/* ---- the compiled index (see struct pm_rule_index) ---------------------- */

enum {
	PM_KEY_GLOB = 0, /* not a key: through the glob matcher */
	PM_KEY_NAME,     /* the last component equals the key */
	PM_KEY_PATH,     /* the whole path equals the key (anchored rules) */
	PM_KEY_SUFFIX,   /* the last component ends with the key ("*S") */
	PM_KEY_PREFIX,   /* the last component starts with the key ("P*") */
};

/* No character the glob matcher treats specially: the pattern matches
 * exactly its own text (a '/' matches only a '/'). */
static int is_literal(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return 0;
	return 1;
}

/*
 * Which table a rule goes to. A pattern without '/' is matched against the
 * last component, which holds no '/', so a '*' there can absorb any run of
 * it: "*S" matches exactly the names ending in S, "P*" those starting with
 * P. Anchored rules are matched against the whole path, where '*' stops at
 * '/': only their literals are keys.
 */
static unsigned classify(const struct pm_rule *r, const char **key, size_t *klen)
{
	const char *p = r->pattern;
	size_t n = r->len;

	if (is_literal(p, n)) {
		*key = p;
		*klen = n;
		return r->anchored ? PM_KEY_PATH : PM_KEY_NAME;
	}
	if (r->anchored || n < 2)
		return PM_KEY_GLOB;
	if (p[0] == '*' && is_literal(p + 1, n - 1)) {
		*key = p + 1;
		*klen = n - 1;
		return PM_KEY_SUFFIX;
	}
	if (p[n - 1] == '*' && is_literal(p, n - 1)) {
		*key = p;
		*klen = n - 1;
		return PM_KEY_PREFIX;
	}
	return PM_KEY_GLOB;
}

/* FNV-1a, seeded by the kind. Suffix keys are hashed from their last byte
 * back, so that the hashes of all the suffixes of a name are steps of one
 * walk from its end (and prefixes of one walk from its start). */
static uint32_t hash_seed(unsigned kind)
{
	return (2166136261u ^ kind) * 16777619u;
}

static uint32_t hash_step(uint32_t h, char c)
{
	return (h ^ (unsigned char)c) * 16777619u;
}

static uint32_t key_hash(unsigned kind, const char *s, size_t n)
{
	uint32_t h = hash_seed(kind);
	if (kind == PM_KEY_SUFFIX)
		for (size_t i = n; i-- > 0;)
			h = hash_step(h, s[i]);
	else
		for (size_t i = 0; i < n; i++)
			h = hash_step(h, s[i]);
	return h;
}

/* A bit per key length (lengths from 63 up share the last bit): most
 * lookups of a name or a path end here. */
static uint64_t len_bit(size_t n)
{
	return (uint64_t)1 << (n < 63 ? n : 63);
}

static struct pm_rule_key *key_slot(const struct pm_rule_index *x, unsigned kind, const char *s, size_t n,
                                    uint32_t h)
{
	size_t mask = x->nslots - 1;
	for (size_t k = h & mask;; k = (k + 1) & mask) {
		struct pm_rule_key *e = &x->slots[k];
		if (!e->key || (e->hash == h && e->kind == kind && e->len == n && memcmp(e->key, s, n) == 0))
			return e;
	}
}

static int grow_slots(struct pm_rule_index *x)
{
	if ((x->used + 1) * 2 <= x->nslots)
		return 0;
	size_t nslots = x->nslots ? x->nslots * 2 : 16; /* small: many directories have a set */
	if (nslots > SIZE_MAX / 2 / sizeof *x->slots)
		return -ENOMEM;
	struct pm_rule_key *old = x->slots;
	size_t nold = x->nslots;
	x->slots = calloc(nslots, sizeof *x->slots);
	if (!x->slots) {
		x->slots = old;
		return -ENOMEM;
	}
	x->nslots = nslots;
	for (size_t i = 0; i < nold; i++)
		if (old[i].key)
			*key_slot(x, old[i].kind, old[i].key, old[i].len, old[i].hash) = old[i];
	free(old);
	return 0;
}

static int grow_array(size_t **v, size_t *cap, size_t n)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	if (c > SIZE_MAX / sizeof **v)
		return -ENOMEM;
	size_t *p = realloc(*v, c * sizeof *p);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static void set_byte(uint64_t bits[4], char c)
{
	unsigned char u = (unsigned char)c;
	bits[u >> 6] |= (uint64_t)1 << (u & 63);
}

static int has_byte(const uint64_t bits[4], char c)
{
	unsigned char u = (unsigned char)c;
	return (bits[u >> 6] >> (u & 63)) & 1;
}

/* Adds len to the ascending list v of n distinct lengths; 0 or -ENOMEM. */
static int add_len(size_t **v, size_t *cap, size_t *n, size_t len)
{
	size_t i = 0;
	while (i < *n && (*v)[i] < len)
		i++;
	if (i < *n && (*v)[i] == len)
		return 0;
	if (grow_array(v, cap, *n) < 0)
		return -ENOMEM;
	memmove(*v + i + 1, *v + i, (*n - i) * sizeof **v);
	(*v)[i] = len;
	(*n)++;
	return 0;
}

/* Enters rule `i` (the newest) into the index; on -ENOMEM the index is as
 * it was. */
static int index_add(struct pm_rule_index *x, const struct pm_rule *r, size_t i)
{
	const char *key = NULL;
	size_t klen = 0;
	unsigned kind = classify(r, &key, &klen);

	if (kind == PM_KEY_GLOB) {
		if (x->nglobs == x->cap_globs) {
			size_t c = x->cap_globs ? x->cap_globs * 2 : 8;
			struct pm_glob_rule *g = c > SIZE_MAX / sizeof *g ? NULL : realloc(x->globs, c * sizeof *g);
			if (!g)
				return -ENOMEM;
			x->globs = g;
			x->cap_globs = c;
		}
		struct pm_glob_rule *g = &x->globs[x->nglobs++];
		g->rule = i;
		g->known = pm_glob_last_bytes(r->pattern, r->len, g->last);
		return 0;
	}
	if (grow_slots(x) < 0)
		return -ENOMEM;
	if (kind == PM_KEY_SUFFIX && add_len(&x->suffix_lens, &x->cap_suffix, &x->nsuffix_lens, klen) < 0)
		return -ENOMEM;
	if (kind == PM_KEY_PREFIX && add_len(&x->prefix_lens, &x->cap_prefix, &x->nprefix_lens, klen) < 0)
		return -ENOMEM;
	if (kind == PM_KEY_SUFFIX)
		set_byte(x->suffix_last, key[klen - 1]);
	if (kind == PM_KEY_PREFIX)
		set_byte(x->prefix_first, key[0]);
	if (kind == PM_KEY_NAME)
		x->name_lens |= len_bit(klen);
	if (kind == PM_KEY_PATH)
		x->path_lens |= len_bit(klen);
	uint32_t h = key_hash(kind, key, klen);
	struct pm_rule_key *e = key_slot(x, kind, key, klen, h);
	if (!e->key) {
		*e = (struct pm_rule_key){.key = key, .len = klen, .hash = h, .kind = kind};
		x->used++;
	}
	/* Rules arrive in order: the newest is the highest with this key. */
	e->best_dir = i + 1;
	if (!r->dir_only)
		e->best_file = i + 1;
	return 0;
}

/* The best (highest index + 1) rule with this key for a file or a
 * directory, or `best` if that is higher. */
static size_t key_best(const struct pm_rule_index *x, unsigned kind, const char *s, size_t n, uint32_t h,
                       int is_dir, size_t best)
{
	const struct pm_rule_key *e = key_slot(x, kind, s, n, h);
	if (!e->key)
		return best;
	size_t b = is_dir ? e->best_dir : e->best_file;
	return b > best ? b : best;
}

int pm_ruleset_add(struct pm_ruleset *rs, const char *line, size_t len, unsigned lineno)
{
	struct pm_rule r = { .line = lineno };
	const char *p = line;
	size_t n;

	/* Blank lines, comments, and lines holding NUL add nothing. */
	if (len == 0 || line[0] == '#' || memchr(line, '\0', len))
		return 0;
	n = trim_trailing_spaces(line, len);
	if (n && p[0] == '!') {
		r.negate = 1;
		p++;
		n--;
	}
	if (n && p[n - 1] == '/') {
		r.dir_only = 1;
		n--;
	}
	r.anchored = memchr(p, '/', n) != NULL;
	if (n && p[0] == '/') {
		p++;
		n--;
	}
	/* Nothing left ("/", "!", "!/", spaces): git's empty pattern, which
	 * matches no path. */
	if (n == 0)
		return 0;

	if (grow(rs) < 0)
		return -ENOMEM;
	r.len = n;
	r.pattern = dup_mem(p, n);
	r.text = dup_mem(line, len);
	if (!r.pattern || !r.text || index_add(&rs->idx, &r, rs->count) < 0) {
		free(r.pattern);
		free(r.text);
		return -ENOMEM;
	}
	rs->rules[rs->count++] = r;
	return 0;
}

int pm_ruleset_parse(struct pm_ruleset *rs, const char *text, size_t len)
{
	size_t i = 0;
	unsigned lineno = 0;

	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t n = end - i;
		if (n && text[i + n - 1] == '\r')
			n--;
		int err = pm_ruleset_add(rs, text + i, n, ++lineno);
		if (err < 0)
			return err;
		i = end + 1;
	}
	return 0;
}

int pm_ruleset_add_defaults(struct pm_ruleset *rs)
{
	for (unsigned i = 0; pm_default_ignores[i]; i++) {
		const char *line = pm_default_ignores[i];
		int err = pm_ruleset_add(rs, line, strlen(line), i + 1);
		if (err < 0)
			return err;
	}
	return 0;
}

int pm_ruleset_match_each(const struct pm_ruleset *rs, const char *path, size_t len, int is_dir,
                          const struct pm_rule **which)
{
	const char *base = path;
	size_t blen = len;

	if (len) {
		const char *slash = memrchr(path, '/', len);
		if (slash) {
			base = slash + 1;
			blen = len - (size_t)(base - path);
		}
	}
	/* The last matching rule wins: look from the end. */
	for (size_t i = rs->count; i-- > 0;) {
		const struct pm_rule *r = &rs->rules[i];
		if (r->dir_only && !is_dir)
			continue;
		int m = r->anchored ? pm_glob_match(r->pattern, r->len, path, len)
		                    : pm_glob_match(r->pattern, r->len, base, blen);
		if (m) {
			if (which)
				*which = r;
			return r->negate ? PM_IGN_INCLUDE : PM_IGN_EXCLUDE;
		}
	}
	if (which)
		*which = NULL;
	return PM_IGN_NONE;
}

static int verdict(const struct pm_ruleset *rs, size_t best, const struct pm_rule **which)
{
	const struct pm_rule *r = best ? &rs->rules[best - 1] : NULL;
	if (which)
		*which = r;
	return !r ? PM_IGN_NONE : r->negate ? PM_IGN_INCLUDE : PM_IGN_EXCLUDE;
}

int pm_ruleset_match(const struct pm_ruleset *rs, const char *path, size_t len, int is_dir,
                     const struct pm_rule **which)
{
	const struct pm_rule_index *x = &rs->idx;
	const char *base = path;
	size_t blen = len, best = 0;

	if (len) {
		const char *slash = memrchr(path, '/', len);
		if (slash) {
			base = slash + 1;
			blen = len - (size_t)(base - path);
		}
	}
	/* The last matching rule wins: the highest index among the keys that
	 * match, then the glob rules after it, from the end. */
	if (x->used) {
		if (x->name_lens & len_bit(blen))
			best = key_best(x, PM_KEY_NAME, base, blen, key_hash(PM_KEY_NAME, base, blen), is_dir, best);
		if (x->path_lens & len_bit(len))
			best = key_best(x, PM_KEY_PATH, path, len, key_hash(PM_KEY_PATH, path, len), is_dir, best);
		uint32_t h = hash_seed(PM_KEY_SUFFIX);
		size_t nsuf = blen && has_byte(x->suffix_last, base[blen - 1]) ? x->nsuffix_lens : 0;
		for (size_t i = 0, n = 0; i < nsuf && x->suffix_lens[i] <= blen; i++) {
			for (; n < x->suffix_lens[i]; n++)
				h = hash_step(h, base[blen - 1 - n]);
			best = key_best(x, PM_KEY_SUFFIX, base + blen - n, n, h, is_dir, best);
		}
		h = hash_seed(PM_KEY_PREFIX);
		size_t npre = blen && has_byte(x->prefix_first, base[0]) ? x->nprefix_lens : 0;
		for (size_t i = 0, n = 0; i < npre && x->prefix_lens[i] <= blen; i++) {
			for (; n < x->prefix_lens[i]; n++)
				h = hash_step(h, base[n]);
			best = key_best(x, PM_KEY_PREFIX, base, n, h, is_dir, best);
		}
	}
	for (size_t k = x->nglobs; k-- > 0;) {
		const struct pm_glob_rule *g = &x->globs[k];
		size_t i = g->rule;
		if (i < best)
			break;
		const struct pm_rule *r = &rs->rules[i];
		if (r->dir_only && !is_dir)
			continue;
		const char *str = r->anchored ? path : base;
		size_t slen = r->anchored ? len : blen;
		if (g->known && (!slen || !has_byte(g->last, str[slen - 1])))
			continue;
		if (pm_glob_match(r->pattern, r->len, str, slen)) {
			best = i + 1;
			break;
		}
	}
	return verdict(rs, best, which);
}

void pm_dirrules_free(struct pm_dirrules *r)
{
	if (!r)
		return;
	if (r->gitignore) {
		pm_ruleset_free(r->gitignore);
		free(r->gitignore);
	}
	if (r->ignore) {
		pm_ruleset_free(r->ignore);
		free(r->ignore);
	}
	free(r);
}
