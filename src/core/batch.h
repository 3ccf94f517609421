/* A debounce batch: the events of one observer since its last action, each
 * path at most once (later events merge into the first), bounded in size. */
#ifndef PM_CORE_BATCH_H
#define PM_CORE_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pymon_observer;

struct pm_batch_entry {
	unsigned kind;   /* 0: merged away (a temp name renamed into place) */
	int is_dir;
	char *path;
	char *from;
	uint32_t hash;
};

struct pm_batch {
	struct pm_batch_entry *entries;
	size_t count, cap;
	uint32_t *slots; /* open addressing: index+1 into entries, 0 = empty */
	size_t nslots;
	size_t dropped;
	size_t limit;
};

/* 0 when added or merged, 1 when left out past the bound (counted in
 * `dropped`; a RESCAN is never left out), -ENOMEM. A file's MOVE from a
 * path created, written or moved in this batch replaces that entry: the
 * batch names the final path only (directories keep their moves). */
int pm_batch_add(struct pm_batch *b, unsigned kind, const char *path, const char *from, int is_dir);
void pm_batch_clear(struct pm_batch *b);
void pm_batch_free(struct pm_batch *b);

/* Adds an event of the observer of directory node `dir` for `name` in it
 * (the directory itself for RESCAN) if the filter says it counts. */
struct pm_node;
void pm_observer_event(struct pm_node *dir, const char *name, unsigned kind, bool is_dir,
                       const char *from_display);

/* Adds an event of root r that counts to its observer's batch (with a
 * RESCAN of r when the batch is full) and restarts the quiet period: the
 * one place that computes a batch's deadline. */
struct pm_root;
void pm_observer_push(const struct pm_root *r, unsigned kind, const char *path, const char *from,
                      int is_dir);

#endif
