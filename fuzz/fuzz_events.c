/* libFuzzer target: arbitrary bytes as an inotify read buffer. The
 * iterator must never read outside the buffer, never loop forever, and
 * every record it yields must lie inside what was read. */
#include "core/inotify.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly `size` bytes, so ASan sees any overread. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	size_t off = 0, prev = 0;
	struct pm_raw_event ev;
	int r;
	while ((r = pm_event_next(buf, size, &off, &ev)) > 0) {
		if (off <= prev || off > size)
			abort();
		if (ev.namelen && (ev.name < buf || ev.name + ev.namelen >= buf + size + 1 ||
		                   strlen(ev.name) != ev.namelen))
			abort();
		prev = off;
	}
	if (r != 0 && r != -EINVAL)
		abort();
	free(buf);
	return 0;
}
