/*
 * A debounce batch: the events of one observer since its last action, each
 * path at most once (later events merge into the first), bounded in size.
 * Events enter through pm_observer_event() (the filter decides) or
 * pm_observer_push() (already decided).
 */
#include "core/batch.h"
#include "core/tree.h"
#include "core/watcher.h"
#include "filter/rules.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static int rehash(struct pm_batch *b, size_t nslots)
{
	uint32_t *slots = calloc(nslots, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < b->count; i++) {
		size_t k = b->entries[i].hash & (nslots - 1);
		while (slots[k])
			k = (k + 1) & (nslots - 1);
		slots[k] = (uint32_t)i + 1;
	}
	free(b->slots);
	b->slots = slots;
	b->nslots = nslots;
	return 0;
}

/* Merging: a later kind replaces an earlier one, except that a file created
 * in this batch stays "create" when it is then written. */
static int add(struct pm_batch *b, unsigned kind, const char *path, const char *from, int is_dir);

static void merge(struct pm_batch_entry *e, unsigned kind, const char *from, int is_dir)
{
	if (e->kind == PYMON_RESCAN || (e->kind == PYMON_CREATE && kind == PYMON_MODIFY))
		return;
	e->kind = kind;
	e->is_dir = is_dir;
	free(e->from);
	e->from = from ? strdup(from) : NULL;
	if (kind == PYMON_MOVE && !e->from)
		e->kind = PYMON_CREATE;
}

static struct pm_batch_entry *lookup(struct pm_batch *b, const char *path, uint32_t h)
{
	if (!b->nslots)
		return NULL;
	for (size_t k = h & (b->nslots - 1); b->slots[k]; k = (k + 1) & (b->nslots - 1)) {
		struct pm_batch_entry *e = &b->entries[b->slots[k] - 1];
		if (e->hash == h && strcmp(e->path, path) == 0)
			return e;
	}
	return NULL;
}

int pm_batch_add(struct pm_batch *b, unsigned kind, const char *path, const char *from, int is_dir)
{
	char *carried = NULL;
	if (kind == PYMON_MOVE && from && !is_dir) {
		/* An atomic save: a file written as a temp name, renamed into place.
		 * The temp name is gone, so what the batch reports is the
		 * final name with the temp's kind (a move of a moved path keeps
		 * its first origin; moved back to it, it is a modification). */
		struct pm_batch_entry *t = lookup(b, from, hash_str(from));
		if (t && (t->kind == PYMON_CREATE || t->kind == PYMON_MODIFY || t->kind == PYMON_MOVE)) {
			kind = t->kind;
			if (kind == PYMON_MOVE) {
				carried = t->from;
				t->from = NULL;
				if (carried && strcmp(carried, path) == 0) {
					free(carried);
					carried = NULL;
					kind = PYMON_MODIFY;
				}
			}
			free(t->from);
			t->from = NULL;
			t->kind = 0; /* gone: skipped when the batch fires, revived by a later event */
			from = carried;
		}
	}
	int r = add(b, kind, path, from, is_dir);
	free(carried);
	return r;
}

static int add(struct pm_batch *b, unsigned kind, const char *path, const char *from, int is_dir)
{
	uint32_t h = hash_str(path);
	struct pm_batch_entry *old = lookup(b, path, h);
	if (old) {
		merge(old, kind, from, is_dir);
		return 0;
	}
	/* Past the bound a change is counted, and the caller adds a RESCAN
	 * for its root (a RESCAN itself is never left out). */
	if (b->limit && b->count >= b->limit && kind != PYMON_RESCAN) {
		b->dropped++;
		return 1;
	}
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct pm_batch_entry *e = realloc(b->entries, cap * sizeof *e);
		if (!e) {
			b->dropped++;
			return -ENOMEM;
		}
		b->entries = e;
		b->cap = cap;
	}
	if ((b->count + 1) * 2 > b->nslots && rehash(b, b->nslots ? b->nslots * 2 : 32) < 0) {
		b->dropped++;
		return -ENOMEM;
	}
	struct pm_batch_entry *e = &b->entries[b->count];
	e->path = strdup(path);
	e->from = from ? strdup(from) : NULL;
	if (!e->path || (from && !e->from)) {
		free(e->path);
		free(e->from);
		b->dropped++;
		return -ENOMEM;
	}
	e->kind = kind;
	e->is_dir = is_dir;
	e->hash = h;
	size_t k = h & (b->nslots - 1);
	while (b->slots[k])
		k = (k + 1) & (b->nslots - 1);
	b->slots[k] = (uint32_t)b->count + 1;
	b->count++;
	return 0;
}

void pm_batch_clear(struct pm_batch *b)
{
	for (size_t i = 0; i < b->count; i++) {
		free(b->entries[i].path);
		free(b->entries[i].from);
	}
	b->count = 0;
	b->dropped = 0;
	/* Give back the memory of a flood; keep a small table. */
	if (b->cap > 1024) {
		free(b->entries);
		b->entries = NULL;
		b->cap = 0;
		free(b->slots);
		b->slots = NULL;
		b->nslots = 0;
	} else if (b->slots) {
		memset(b->slots, 0, b->nslots * sizeof *b->slots);
	}
}

void pm_batch_free(struct pm_batch *b)
{
	pm_batch_clear(b);
	free(b->entries);
	free(b->slots);
	memset(b, 0, sizeof *b);
}

void pm_observer_event(struct pm_node *dir, const char *name, unsigned kind, bool is_dir,
                       const char *from_display)
{
	struct pymon_observer *o = dir->root->obs;
	if (!pm_event_counts(dir, name, kind, is_dir)) {
		if (o->skip_fn)
			pm_report_skip(dir, name, kind, is_dir);
		return;
	}
	struct pm_buf path = {0};
	if (pm_node_display(dir, kind == PYMON_RESCAN ? NULL : name, &path) < 0)
		return;
	if (kind == PYMON_RESCAN && path.len == 0)
		pm_buf_put(&path, ".", 1);
	pm_observer_push(dir->root, kind, path.s, from_display, is_dir);
	pm_buf_free(&path);
}

void pm_observer_push(const struct pm_root *r, unsigned kind, const char *path, const char *from, int is_dir)
{
	struct pymon_observer *o = r->obs;
	if (pm_batch_add(&o->batch, kind, path, from, is_dir) == 1) {
		/* Never a silent loss: the batch says that its root must be
		 * looked at again, and `dropped` says how much is missing. */
		pm_batch_add(&o->batch, PYMON_RESCAN, r->display[0] ? r->display : ".", NULL, !r->file);
	}
	/* While anything is polled, changes arrive once per round: the quiet
	 * period spans a round and a half, so a stream of writes is one batch. */
	uint64_t quiet = o->delay_ms;
	if (o->w->npolled && quiet < o->w->poll_interval_ms * 3u / 2u)
		quiet = o->w->poll_interval_ms * 3u / 2u;
	o->deadline_ns = pm_now_ns() + quiet * 1000000u;
}
