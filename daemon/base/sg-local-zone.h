/* SPDX-License-Identifier: MIT */
/* The local time zone, read once and again when the file it comes from is replaced. */
#pragma once

#include <glib.h>

typedef struct _SgLocalZone SgLocalZone;
typedef void (*SgLocalZoneFunc)(gpointer user_data);

/*
 * Reads the local time zone as GLib does (TZ as it is now, else /etc/localtime) and watches
 * the file it comes from (/etc/localtime, the file TZ names, or the zone file of TZ's name)
 * with inotify on its directory: when that file is created, renamed over or rewritten, the
 * zone is read again and changed (if not NULL) runs. Nothing polls; when the directory
 * cannot be watched the zone is read again only by sg_local_zone_refresh().
 */
SgLocalZone *sg_local_zone_new(SgLocalZoneFunc changed, gpointer user_data);
void sg_local_zone_free(SgLocalZone *zone);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgLocalZone, sg_local_zone_free)

/* The zone (borrowed: valid until it is read again). */
GTimeZone *sg_local_zone_get(SgLocalZone *zone);
/* Reads the zone again now (e.g. after the wall clock was set); changed does not run. */
void sg_local_zone_refresh(SgLocalZone *zone);
/* The file watched, or NULL when none is. */
const char *sg_local_zone_get_watched_file(SgLocalZone *zone);
