/* The inotify record iterator on synthetic buffers: it must never read
 * past what the kernel gave, whatever the lengths claim. */
#include "harness.h"
#include "core/inotify.h"

#include <errno.h>
#include <sys/inotify.h>

static size_t put(char *buf, size_t off, int wd, uint32_t mask, uint32_t cookie, const char *name, uint32_t len)
{
	struct inotify_event h = {.wd = wd, .mask = mask, .cookie = cookie, .len = len};
	memcpy(buf + off, &h, sizeof h);
	memset(buf + off + sizeof h, 0, len);
	if (name)
		memcpy(buf + off + sizeof h, name, strlen(name));
	return off + sizeof h + len;
}

TEST(events_parse_several_records)
{
	char buf[512];
	size_t len = put(buf, 0, 1, IN_CREATE, 0, "a.py", 16);
	len = put(buf, len, 2, IN_MOVED_FROM, 77, "old", 4);
	len = put(buf, len, 2, IN_DELETE_SELF, 0, NULL, 0);
	size_t off = 0;
	struct pm_raw_event ev;
	CHECK_INT(pm_event_next(buf, len, &off, &ev), 1);
	CHECK_INT(ev.wd, 1);
	CHECK_STR(ev.name, "a.py");
	CHECK_INT(ev.namelen, 4);
	CHECK_INT(pm_event_next(buf, len, &off, &ev), 1);
	CHECK_INT(ev.cookie, 77);
	CHECK_STR(ev.name, "old");
	CHECK_INT(pm_event_next(buf, len, &off, &ev), 1);
	CHECK_INT(ev.namelen, 0);
	CHECK_STR(ev.name, "");
	CHECK(ev.mask & IN_DELETE_SELF);
	CHECK_INT(pm_event_next(buf, len, &off, &ev), 0);
	CHECK_INT(off, len);
}

TEST(events_truncated_header_is_rejected)
{
	char buf[64];
	size_t len = put(buf, 0, 1, IN_MODIFY, 0, "x", 8);
	size_t off = 0;
	struct pm_raw_event ev;
	/* Cut inside the second header. */
	len = put(buf, len, 1, IN_MODIFY, 0, "y", 8);
	CHECK_INT(pm_event_next(buf, len - 20, &off, &ev), 1);
	CHECK_INT(pm_event_next(buf, len - 20, &off, &ev), -EINVAL);
}

TEST(events_length_past_buffer_is_rejected)
{
	char buf[64];
	struct inotify_event h = {.wd = 1, .mask = IN_CREATE, .len = 4096};
	memcpy(buf, &h, sizeof h);
	size_t off = 0;
	struct pm_raw_event ev;
	CHECK_INT(pm_event_next(buf, sizeof buf, &off, &ev), -EINVAL);
	CHECK_INT(off, 0);
}

TEST(events_name_without_nul_is_rejected)
{
	char buf[64];
	size_t len = put(buf, 0, 1, IN_CREATE, 0, NULL, 8);
	memcpy(buf + sizeof(struct inotify_event), "abcdefgh", 8);
	size_t off = 0;
	struct pm_raw_event ev;
	CHECK_INT(pm_event_next(buf, len, &off, &ev), -EINVAL);
}

TEST(events_empty_name_with_length_is_rejected)
{
	char buf[64];
	size_t len = put(buf, 0, 1, IN_CREATE, 0, NULL, 16);
	size_t off = 0;
	struct pm_raw_event ev;
	CHECK_INT(pm_event_next(buf, len, &off, &ev), -EINVAL);
}

TEST(events_every_prefix_of_a_buffer_is_safe)
{
	char buf[256];
	size_t len = put(buf, 0, 3, IN_CREATE | IN_ISDIR, 0, "dir", 16);
	len = put(buf, len, 3, IN_MOVED_TO, 5, "longer-name.txt", 32);
	for (size_t cut = 0; cut <= len; cut++) {
		size_t off = 0;
		struct pm_raw_event ev;
		int r, n = 0;
		while ((r = pm_event_next(buf, cut, &off, &ev)) > 0) {
			CHECK(off <= cut);
			n++;
		}
		CHECK(r == 0 || r == -EINVAL);
		CHECK(n <= 2);
	}
}
