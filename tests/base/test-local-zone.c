/* SPDX-License-Identifier: MIT */
/* Tests of the cached local time zone: read once, read again when its file is replaced. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "base/sg-local-zone.h"

#define ZONEINFO "/usr/share/zoneinfo/"

typedef struct {
	char *dir;
	char *file;
	guint changes;
	GMainLoop *loop;
} Fixture;

static void
changed_cb(gpointer user_data)
{
	Fixture *f = user_data;

	f->changes++;
	g_main_loop_quit(f->loop);
}

static gboolean
deadline_cb(gpointer user_data)
{
	g_error("timed out waiting for the local time zone to be read again");
	return G_SOURCE_REMOVE;
}

/* Runs the loop until changed_cb has run `changes` times in all. */
static void
wait_for_changes(Fixture *f, guint changes)
{
	guint deadline = g_timeout_add_seconds(15, deadline_cb, NULL);

	while (f->changes < changes)
		g_main_loop_run(f->loop);
	g_source_remove(deadline);
}

/* The UTC offset in seconds on 15 January 2024 at noon UTC. */
static gint32
january_offset(GTimeZone *tz)
{
	gint interval = g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, 1705320000);

	return g_time_zone_get_offset(tz, interval);
}

/* Points path at a zone as timedatectl does: a new link renamed over the old one. */
static void
link_zone(const char *path, const char *zone)
{
	g_autofree char *target = g_strconcat(ZONEINFO, zone, NULL);
	g_autofree char *temporary = g_strconcat(path, ".new", NULL);

	g_assert_cmpint(symlink(target, temporary), ==, 0);
	g_assert_cmpint(g_rename(temporary, path), ==, 0);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	if (!g_file_test(ZONEINFO "Asia/Tokyo", G_FILE_TEST_EXISTS))
		g_error("tzdata is not installed");
	f->dir = g_dir_make_tmp("sg-local-zone-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->file = g_build_filename(f->dir, "localtime", NULL);
	f->loop = g_main_loop_new(NULL, FALSE);
	link_zone(f->file, "UTC");
	g_setenv("TZ", f->file, TRUE);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(f->dir, name, NULL);
		g_unlink(path);
	}
	g_rmdir(f->dir);
	g_unsetenv("TZ");
	g_main_loop_unref(f->loop);
	g_free(f->file);
	g_free(f->dir);
}

static void
test_replaced(Fixture *f, gconstpointer data)
{
	g_autoptr(SgLocalZone) zone = sg_local_zone_new(changed_cb, f);
	g_autofree char *other = g_build_filename(f->dir, "other", NULL);

	g_assert_cmpstr(sg_local_zone_get_watched_file(zone), ==, f->file);
	g_assert_cmpint(january_offset(sg_local_zone_get(zone)), ==, 0);

	/* Another file of the directory changes nothing; events come in order, so the count
	 * after the zone's own change proves it. */
	g_assert_true(g_file_set_contents(other, "x", -1, NULL));
	link_zone(f->file, "Asia/Tokyo");
	wait_for_changes(f, 1);
	g_assert_cmpint(january_offset(sg_local_zone_get(zone)), ==, 9 * 3600);
	g_assert_cmpuint(f->changes, ==, 1);

	/* Rewritten in place (a copy rather than a link). */
	{
		g_autofree char *paris = NULL;
		gsize length;

		g_assert_true(g_file_get_contents(ZONEINFO "Europe/Paris", &paris, &length, NULL));
		g_unlink(f->file);
		g_assert_true(g_file_set_contents(other, "y", -1, NULL));
		g_assert_true(g_file_set_contents_full(f->file, paris, (gssize)length,
		                                       G_FILE_SET_CONTENTS_NONE, 0644, NULL));
	}
	wait_for_changes(f, 2);
	g_assert_cmpint(january_offset(sg_local_zone_get(zone)), ==, 3600);
}

/* A refresh (after the wall clock was set) reads the zone again without announcing it. */
static void
test_refresh(Fixture *f, gconstpointer data)
{
	g_autoptr(SgLocalZone) zone = sg_local_zone_new(changed_cb, f);

	g_assert_cmpint(january_offset(sg_local_zone_get(zone)), ==, 0);
	/* The loop does not run: the watch has not told yet. */
	link_zone(f->file, "Asia/Tokyo");
	g_assert_cmpint(january_offset(sg_local_zone_get(zone)), ==, 0);
	sg_local_zone_refresh(zone);
	g_assert_cmpint(january_offset(sg_local_zone_get(zone)), ==, 9 * 3600);
	g_assert_cmpuint(f->changes, ==, 0);
}

/* Without TZ the zone is the system's, watched at /etc/localtime. */
static void
test_system(void)
{
	g_autoptr(SgLocalZone) zone = NULL;

	g_unsetenv("TZ");
	zone = sg_local_zone_new(NULL, NULL);
	g_assert_nonnull(sg_local_zone_get(zone));
	if (g_file_test("/etc", G_FILE_TEST_IS_DIR))
		g_assert_cmpstr(sg_local_zone_get_watched_file(zone), ==, "/etc/localtime");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add("/sg/local-zone/replaced", Fixture, NULL, fixture_set_up, test_replaced,
	           fixture_tear_down);
	g_test_add("/sg/local-zone/refresh", Fixture, NULL, fixture_set_up, test_refresh,
	           fixture_tear_down);
	g_test_add_func("/sg/local-zone/system", test_system);
	return g_test_run();
}
