/*
 * Does an event count for an observer, and if not, why: the stack of
 * ignore sets (defaults < .git/info/exclude < .gitignore files from the top
 * of the work tree down < .ignore < the observer's own patterns), the
 * extension filter, the event-kind filter and file roots. Also loading
 * ignore files and finding the git work tree a root lives in.
 */
#ifndef PM_FILTER_RULES_H
#define PM_FILTER_RULES_H

#include "core/tree.h"

#include <stdbool.h>
#include <stddef.h>

struct pymon_observer;

/* Whether `name` (a directory when is_dir) in directory node `dir` is
 * ignored by the ignore sets; `why` (may be NULL) gets the rule. */
bool pm_ignored(struct pm_node *dir, const char *name, bool is_dir, char *why, size_t whylen);
bool pm_ext_ok(const struct pymon_observer *o, const char *name);

/* The part of the decision that depends only on the kind: the observer's
 * kinds, and no CREATE/MODIFY of a directory under an extension filter. */
bool pm_kind_counts(const struct pymon_observer *o, unsigned kind, bool is_dir);
/* The rest, file roots, extensions and ignores: whether the entry is
 * reported at all. An event counts when both say so (pm_observer_event
 * asks the cheap kind test first, and asks this only for a path not yet
 * in the batch). */
bool pm_visible(struct pm_node *dir, const char *name, bool is_dir);

/* Tells the observer's pymon_skip_fn about an event that does not count,
 * and why (the explain wording). */
void pm_report_skip(struct pm_node *dir, const char *name, unsigned kind, bool is_dir);

/* (Re)reads .gitignore and .ignore of the node's directory; dirfd < 0 opens it. */
void pm_rules_load(pymon_watcher *w, struct pm_node *n, int dirfd);
int pm_root_git_setup(pymon_watcher *w, struct pm_root *root);
void pm_root_git_free(struct pm_root *root);
bool pm_git_locked(const struct pm_root *root);
bool pm_is_ignore_file(const char *name);

#endif
