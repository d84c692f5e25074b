/* SPDX-License-Identifier: MIT */
/* Tests of sg-paths: where the state directory is, and how it is created and checked. */
#include "config.h"

#include "base/sg-error.h"
#include "base/sg-paths.h"
#include "lib/sg-test.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
make_tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("sg-paths-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static guint
mode_of(const char *path)
{
	struct stat st;

	g_assert_no_errno(stat(path, &st));
	return st.st_mode & 07777;
}

static void
test_state_dir_precedence(void)
{
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *expected_home = NULL;
	g_autofree char *expected_rel = NULL;
	char *dir;

	g_setenv("SYSTEMG_STATE_DIR", "/srv/sg-state", TRUE);
	g_setenv("XDG_DATA_HOME", "/xdg/data", TRUE);
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, "/srv/sg-state");
	g_free(dir);

	/* A relative value is pinned to the current directory. */
	g_setenv("SYSTEMG_STATE_DIR", "rel/state", TRUE);
	expected_rel = g_build_filename(cwd, "rel/state", NULL);
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, expected_rel);
	g_free(dir);

	/* Empty counts as unset. */
	g_setenv("SYSTEMG_STATE_DIR", "", TRUE);
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, "/xdg/data/systemg");
	g_free(dir);

	g_unsetenv("SYSTEMG_STATE_DIR");
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, "/xdg/data/systemg");
	g_free(dir);

	/* The environment is read on every call, not cached. */
	g_setenv("XDG_DATA_HOME", "/other/data", TRUE);
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, "/other/data/systemg");
	g_free(dir);

	expected_home = g_build_filename(g_get_home_dir(), ".local/share/systemg", NULL);

	/* The XDG spec: a relative XDG_DATA_HOME is invalid and ignored. */
	g_setenv("XDG_DATA_HOME", "relative/data", TRUE);
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, expected_home);
	g_free(dir);

	g_setenv("XDG_DATA_HOME", "", TRUE);
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, expected_home);
	g_free(dir);

	g_unsetenv("XDG_DATA_HOME");
	dir = sg_paths_state_dir();
	g_assert_cmpstr(dir, ==, expected_home);
	g_assert_true(g_path_is_absolute(dir));
	g_free(dir);
}

static void
test_state_file(void)
{
	g_autofree char *path = sg_paths_state_file("/run/sg", SG_STATE_STATE_JSON);

	g_assert_cmpstr(path, ==, "/run/sg/state.json");
	g_assert_cmpstr(SG_STATE_PID_FILE, ==, "sysg.pid");
	g_assert_cmpstr(SG_STATE_SOCKET, ==, "control.sock");
	g_assert_cmpstr(SG_STATE_CONFIG_HINT, ==, "config_hint");
	g_assert_cmpstr(SG_STATE_PID_JSON, ==, "pid.json");
	g_assert_cmpstr(SG_STATE_LOCK, ==, "pid.json.lock");
	g_assert_cmpstr(SG_STATE_CRON_JSON, ==, "cron_state.json");
	g_assert_cmpstr(SG_STATE_SUPERVISOR_LOG, ==, "supervisor.log");
	g_assert_cmpstr(SG_STATE_LOG_DIR, ==, "logs");
}

static void
test_ensure_creates(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = g_build_filename(tmp, "a", "b", "systemg", NULL);
	g_autofree char *with_slash = g_strconcat(dir, "/", NULL);
	g_autofree char *logs = g_build_filename(dir, "logs", NULL);
	g_autofree char *parent = g_path_get_dirname(dir);
	g_autoptr(GError) error = NULL;
	char *warning = (char *)"unset";
	mode_t old_umask;

	/* A loose umask must not leak into the directory's mode. */
	old_umask = umask(0);
	g_assert_true(sg_paths_ensure_state_dir(with_slash, &warning, &error));
	umask(old_umask);
	g_assert_no_error(error);
	g_assert_null(warning);
	g_assert_cmpuint(mode_of(dir), ==, 0700);
	g_assert_cmpuint(mode_of(logs), ==, 0700);
	/* Parents get the default mode, not 0700: they are not ours to lock down. */
	g_assert_cmpuint(mode_of(parent), ==, 0777);

	/* Again: nothing to do, nothing to say. */
	warning = (char *)"unset";
	g_assert_true(sg_paths_ensure_state_dir(dir, &warning, &error));
	g_assert_no_error(error);
	g_assert_null(warning);
	g_assert_true(sg_paths_ensure_state_dir(dir, NULL, &error));
	g_assert_no_error(error);

	sg_test_remove_tree(tmp);
}

static void
test_ensure_tightens(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = g_build_filename(tmp, "state", NULL);
	g_autofree char *logs = g_build_filename(dir, "logs", NULL);
	g_autofree char *expected = NULL;
	g_autofree char *expected_logs = NULL;
	g_autofree char *warning = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_no_errno(mkdir(dir, 0700));
	g_assert_no_errno(chmod(dir, 0755));
	g_assert_true(sg_paths_ensure_state_dir(dir, &warning, &error));
	g_assert_no_error(error);
	expected = g_strdup_printf("tightened permissions of %s from 0755 to 0700", dir);
	g_assert_cmpstr(warning, ==, expected);
	g_assert_cmpuint(mode_of(dir), ==, 0700);
	g_clear_pointer(&warning, g_free);

	/* Both at once: one warning naming each. */
	g_assert_no_errno(chmod(dir, 0770));
	g_assert_no_errno(chmod(logs, 0705));
	g_assert_true(sg_paths_ensure_state_dir(dir, &warning, &error));
	g_assert_no_error(error);
	g_clear_pointer(&expected, g_free);
	expected = g_strdup_printf("tightened permissions of %s from 0770 to 0700", dir);
	expected_logs = g_strdup_printf("tightened permissions of %s from 0705 to 0700", logs);
	g_assert_nonnull(strstr(warning, expected));
	g_assert_nonnull(strstr(warning, expected_logs));
	g_assert_null(strchr(warning, '\n'));
	g_assert_cmpuint(mode_of(dir), ==, 0700);
	g_assert_cmpuint(mode_of(logs), ==, 0700);

	sg_test_remove_tree(tmp);
}

static void
test_ensure_refuses_sticky(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = g_build_filename(tmp, "shared", NULL);
	g_autoptr(GError) error = NULL;

	/* A /tmp-like directory given as the state directory must not be made private. */
	g_assert_no_errno(mkdir(dir, 0700));
	g_assert_no_errno(chmod(dir, 01777));
	g_assert_false(sg_paths_ensure_state_dir(dir, NULL, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, dir));
	g_assert_cmpuint(mode_of(dir), ==, 01777);

	sg_test_remove_tree(tmp);
}

static void
test_ensure_not_a_directory(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = g_build_filename(tmp, "state", NULL);
	g_autofree char *logs = g_build_filename(dir, "logs", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(dir, "x", 1, NULL));
	g_assert_false(sg_paths_ensure_state_dir(dir, NULL, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, dir));
	g_assert_nonnull(strstr(error->message, "not a directory"));
	g_clear_error(&error);

	g_assert_no_errno(unlink(dir));
	g_assert_no_errno(mkdir(dir, 0700));
	g_assert_true(g_file_set_contents(logs, "x", 1, NULL));
	g_assert_false(sg_paths_ensure_state_dir(dir, NULL, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, logs));

	sg_test_remove_tree(tmp);
}

static void
test_ensure_follows_symlink(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *real = g_build_filename(tmp, "real", NULL);
	g_autofree char *link = g_build_filename(tmp, "link", NULL);
	g_autofree char *logs = g_build_filename(real, "logs", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_no_errno(mkdir(real, 0700));
	g_assert_no_errno(symlink("real", link));
	g_assert_true(sg_paths_ensure_state_dir(link, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(mode_of(logs), ==, 0700);

	sg_test_remove_tree(tmp);
}

/* logs/ as a link would send every service's output elsewhere: refused, naming it. */
static void
test_ensure_refuses_symlinked_logs(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = g_build_filename(tmp, "state", NULL);
	g_autofree char *elsewhere = g_build_filename(tmp, "elsewhere", NULL);
	g_autofree char *logs = g_build_filename(dir, "logs", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_no_errno(mkdir(dir, 0700));
	g_assert_no_errno(mkdir(elsewhere, 0755));
	g_assert_no_errno(symlink(elsewhere, logs));
	g_assert_false(sg_paths_ensure_state_dir(dir, NULL, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, logs));
	g_assert_nonnull(strstr(error->message, "symbolic link"));
	g_assert_cmpuint(mode_of(elsewhere), ==, 0755);

	sg_test_remove_tree(tmp);
}

static void
assert_refused_foreign(const char *dir, const char *named, uid_t owner)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *owner_text = g_strdup_printf("uid %u", (unsigned)owner);
	g_autofree char *our_text = g_strdup_printf("uid %u", (unsigned)geteuid());
	char *warning = (char *)"unset";

	g_assert_false(sg_paths_ensure_state_dir(dir, &warning, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_test_message("refused: %s", error->message);
	g_assert_nonnull(strstr(error->message, named));
	g_assert_nonnull(strstr(error->message, owner_text));
	g_assert_nonnull(strstr(error->message, our_text));
	/* ret_warning is only set on success. */
	g_assert_cmpstr(warning, ==, "unset");
}

static void
test_ensure_refuses_foreign(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = g_build_filename(tmp, "state", NULL);
	g_autofree char *logs = g_build_filename(dir, "logs", NULL);
	const uid_t nobody = 65534;
	struct stat st;

	if (geteuid() != 0) {
		/* Unprivileged: "/" belongs to root and is checked without being changed. */
		g_assert_no_errno(stat("/", &st));
		if (st.st_uid == geteuid()) {
			g_test_skip("needs root, or a root directory owned by someone else");
			sg_test_remove_tree(tmp);
			return;
		}
		assert_refused_foreign("/", "/", st.st_uid);
		g_assert_no_errno(stat("/", &st));
		sg_test_remove_tree(tmp);
		return;
	}

	g_assert_no_errno(mkdir(dir, 0700));
	if (chown(dir, nobody, nobody) < 0) {
		g_autofree char *reason =
		        g_strdup_printf("cannot chown to uid %u: %s", nobody, g_strerror(errno));
		g_test_skip(reason);
		sg_test_remove_tree(tmp);
		return;
	}
	assert_refused_foreign(dir, dir, nobody);
	g_assert_no_errno(stat(dir, &st));
	g_assert_cmpuint(st.st_uid, ==, nobody);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0700);

	/* The same rule for logs/. */
	g_assert_no_errno(chown(dir, 0, 0));
	g_assert_no_errno(mkdir(logs, 0755));
	g_assert_no_errno(chown(logs, nobody, nobody));
	assert_refused_foreign(dir, logs, nobody);
	g_assert_cmpuint(mode_of(logs), ==, 0755);

	sg_test_remove_tree(tmp);
}

/* sysg's check: creates nothing, refuses what sysgd refuses, tightens what it tightens. */
static void
test_check(void)
{
	g_autofree char *tmp = make_tmp_dir();
	g_autofree char *dir = g_build_filename(tmp, "state", NULL);
	g_autofree char *logs = g_build_filename(dir, "logs", NULL);
	g_autofree char *file = g_build_filename(tmp, "file", NULL);
	g_autofree char *warning = NULL;
	g_autoptr(GError) error = NULL;
	const uid_t nobody = 65534;

	/* Missing: nothing to refuse, nothing created. */
	g_assert_true(sg_paths_check_state_dir(dir, &warning, &error));
	g_assert_no_error(error);
	g_assert_null(warning);
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));

	g_assert_no_errno(mkdir(dir, 0755));
	g_assert_no_errno(mkdir(logs, 0750));
	g_assert_no_errno(chmod(dir, 0755));
	g_assert_true(sg_paths_check_state_dir(dir, &warning, &error));
	g_assert_no_error(error);
	g_assert_nonnull(strstr(warning, "from 0755 to 0700"));
	g_assert_nonnull(strstr(warning, "from 0750 to 0700"));
	g_assert_cmpuint(mode_of(dir), ==, 0700);
	g_assert_cmpuint(mode_of(logs), ==, 0700);
	g_clear_pointer(&warning, g_free);
	g_assert_true(sg_paths_check_state_dir(dir, &warning, &error));
	g_assert_null(warning);

	g_assert_true(g_file_set_contents(file, "", 0, NULL));
	g_assert_false(sg_paths_check_state_dir(file, &warning, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, "not a directory"));
	g_clear_error(&error);

	if (geteuid() == 0) {
		/* Root is refused another user's directory too, and changes nothing in it. */
		g_assert_no_errno(chmod(dir, 0755));
		g_assert_no_errno(chown(dir, nobody, nobody));
		g_assert_false(sg_paths_check_state_dir(dir, &warning, &error));
		g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
		g_assert_nonnull(strstr(error->message, "owned by uid 65534"));
		g_assert_cmpuint(mode_of(dir), ==, 0755);
	}
	sg_test_remove_tree(tmp);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/paths/state-dir-precedence", test_state_dir_precedence);
	g_test_add_func("/sg/paths/state-file", test_state_file);
	g_test_add_func("/sg/paths/ensure-creates", test_ensure_creates);
	g_test_add_func("/sg/paths/ensure-tightens", test_ensure_tightens);
	g_test_add_func("/sg/paths/ensure-refuses-sticky", test_ensure_refuses_sticky);
	g_test_add_func("/sg/paths/ensure-not-a-directory", test_ensure_not_a_directory);
	g_test_add_func("/sg/paths/ensure-follows-symlink", test_ensure_follows_symlink);
	g_test_add_func("/sg/paths/ensure-refuses-symlinked-logs",
	                test_ensure_refuses_symlinked_logs);
	g_test_add_func("/sg/paths/ensure-refuses-foreign", test_ensure_refuses_foreign);
	g_test_add_func("/sg/paths/check", test_check);
	return g_test_run();
}
