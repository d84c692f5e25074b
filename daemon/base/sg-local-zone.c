/* SPDX-License-Identifier: MIT */
/* The local time zone, cached; an inotify watch on the directory of its file reads it again
 * when the file is replaced (timedatectl set-timezone renames a new link over it). */
#include "config.h"

#include "base/sg-local-zone.h"

#include <errno.h>
#include <glib-unix.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define LOCALTIME_FILE "/etc/localtime"
#define ZONEINFO_DIR   "/usr/share/zoneinfo"

struct _SgLocalZone {
	GTimeZone *zone;
	char *tz;        /* TZ when the zone was first read (NULL: unset) */
	char *file;      /* the file the zone comes from */
	char *file_name; /* its last component, as inotify names it */
	int inotify_fd;
	guint source_id;
	SgLocalZoneFunc changed;
	gpointer user_data;
};

/* The file GLib reads the local zone from: TZ's file or zone name, else /etc/localtime. */
static char *
zone_file(const char *tz)
{
	if (tz != NULL && *tz == ':')
		tz++;
	if (tz == NULL || *tz == '\0')
		return g_strdup(LOCALTIME_FILE);
	if (g_path_is_absolute(tz))
		return g_strdup(tz);
	return g_build_filename(g_getenv("TZDIR") != NULL ? g_getenv("TZDIR") : ZONEINFO_DIR, tz,
	                        NULL);
}

void
sg_local_zone_refresh(SgLocalZone *zone)
{
	/*
	 * As g_time_zone_new_local(), which keeps a zone named by TZ. GLib also shares the zones
	 * alive by identifier: the old one goes first, or a file rewritten under the same name
	 * would give it back.
	 */
	g_clear_pointer(&zone->zone, g_time_zone_unref);
	zone->zone = g_time_zone_new_identifier(zone->tz);
	if (zone->zone == NULL)
		zone->zone = g_time_zone_new_utc();
}

/* Whether a batch of events names the zone's file. */
static gboolean
names_zone_file(SgLocalZone *zone, const char *buffer, ssize_t length)
{
	gboolean found = FALSE;

	for (ssize_t offset = 0; offset + (ssize_t)sizeof(struct inotify_event) <= length;) {
		const struct inotify_event *event = (const struct inotify_event *)(buffer + offset);

		if ((event->mask & IN_Q_OVERFLOW) != 0 ||
		    (event->len > 0 && g_str_equal(event->name, zone->file_name)))
			found = TRUE;
		offset += (ssize_t)sizeof(struct inotify_event) + event->len;
	}
	return found;
}

static gboolean
inotify_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgLocalZone *zone = user_data;
	char buffer[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	gboolean changed = FALSE;

	for (;;) {
		ssize_t length = read(fd, buffer, sizeof(buffer));

		if (length <= 0)
			break;
		changed = names_zone_file(zone, buffer, length) || changed;
	}
	if (changed) {
		sg_local_zone_refresh(zone);
		if (zone->changed != NULL)
			zone->changed(zone->user_data);
	}
	return G_SOURCE_CONTINUE;
}

static void
watch(SgLocalZone *zone)
{
	g_autofree char *dir = g_path_get_dirname(zone->file);

	zone->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (zone->inotify_fd < 0)
		return;
	/* Not the file itself: a link renamed over it would end a watch on the old one. */
	if (inotify_add_watch(zone->inotify_fd, dir,
	                      IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
		close(zone->inotify_fd);
		zone->inotify_fd = -1;
		return;
	}
	zone->source_id = g_unix_fd_add(zone->inotify_fd, G_IO_IN, inotify_cb, zone);
}

SgLocalZone *
sg_local_zone_new(SgLocalZoneFunc changed, gpointer user_data)
{
	SgLocalZone *zone = g_new0(SgLocalZone, 1);

	zone->changed = changed;
	zone->user_data = user_data;
	zone->inotify_fd = -1;
	zone->tz = g_strdup(g_getenv("TZ"));
	zone->file = zone_file(zone->tz);
	zone->file_name = g_path_get_basename(zone->file);
	watch(zone);
	sg_local_zone_refresh(zone);
	return zone;
}

void
sg_local_zone_free(SgLocalZone *zone)
{
	if (zone == NULL)
		return;
	g_clear_handle_id(&zone->source_id, g_source_remove);
	if (zone->inotify_fd >= 0)
		close(zone->inotify_fd);
	g_clear_pointer(&zone->zone, g_time_zone_unref);
	g_free(zone->tz);
	g_free(zone->file);
	g_free(zone->file_name);
	g_free(zone);
}

GTimeZone *
sg_local_zone_get(SgLocalZone *zone)
{
	return zone->zone;
}

const char *
sg_local_zone_get_watched_file(SgLocalZone *zone)
{
	return zone->inotify_fd >= 0 ? zone->file : NULL;
}
