/* SPDX-License-Identifier: MIT */
/* Tests of sg-state: atomic writes under SIGKILL, quarantine, the state lock and sysg.pid. */
#include "config.h"

#include "base/sg-error.h"
#include "base/sg-paths.h"
#include "state/sg-state-id.h"
#include "state/sg-state.h"
#include "lib/sg-test.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Must match state-writer.c. */
#define WRITER_PAYLOAD_SIZE(generation) ((gsize)(1024 * 1024 + ((generation) == 2 ? 4096 : 0)))
#define WRITER_PAYLOAD_CHAR(generation) ((generation) == 2 ? 'b' : 'a')

#define KILL_ROUNDS       200
#define KILL_MAX_DELAY_US 30000
#define READY_TIMEOUT_US  (10 * G_USEC_PER_SEC)
#define EXIT_TIMEOUT_US   (60 * G_USEC_PER_SEC)

typedef struct {
	GPid pid;
	int stdout_fd;
} Writer;

static char *
make_state_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("sg-state-XXXXXX", &error);

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

static char *
read_text(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	g_assert_no_error(error);
	return text;
}

static void
write_text(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
}

static gboolean
exists(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* Names in dir that start with prefix. */
static guint
count_entries(const char *dir, const char *prefix)
{
	g_autoptr(GDir) handle = g_dir_open(dir, 0, NULL);
	const char *entry;
	guint count = 0;

	g_assert_nonnull(handle);
	while ((entry = g_dir_read_name(handle)) != NULL) {
		if (g_str_has_prefix(entry, prefix))
			count++;
	}
	return count;
}

static JsonNode *
parse(const char *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = json_from_string(text, &error);

	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

static Writer
writer_spawn(const char *dir, const char *name, const char *mode, const char *arg)
{
	const char *helper = g_getenv("SG_TEST_STATE_WRITER");
	const char *argv[] = { helper, dir, name, mode, arg, NULL };
	g_autoptr(GError) error = NULL;
	Writer writer = { 0, -1 };

	g_assert_nonnull(helper);
	g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
	                         &writer.pid, NULL, &writer.stdout_fd, NULL, &error);
	g_assert_no_error(error);
	return writer;
}

/* Waits, with a deadline, for the "ready" line the helper prints. */
static void
writer_wait_ready(Writer *writer)
{
	gint64 deadline = g_get_monotonic_time() + READY_TIMEOUT_US;
	char line[16];
	gsize got = 0;

	while (got < 6) {
		struct pollfd pfd = { writer->stdout_fd, POLLIN, 0 };
		gint64 left = deadline - g_get_monotonic_time();
		ssize_t n;
		int r;

		g_assert_cmpint(left, >, 0);
		r = poll(&pfd, 1, (int)(left / 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		g_assert_cmpint(r, >=, 0);
		if (r == 0)
			continue;
		n = read(writer->stdout_fd, line + got, sizeof(line) - got);
		g_assert_cmpint(n, >, 0);
		got += (gsize)n;
	}
	g_assert_cmpmem(line, 6, "ready\n", 6);
}

/* Waits, with a deadline, for the helper to end; its wait status. */
static int
writer_wait(Writer *writer)
{
	gint64 deadline = g_get_monotonic_time() + EXIT_TIMEOUT_US;
	int status = 0;

	for (;;) {
		pid_t r = waitpid(writer->pid, &status, WNOHANG);
		if (r == writer->pid)
			break;
		g_assert_true(r == 0 || (r < 0 && errno == EINTR));
		g_assert_cmpint(g_get_monotonic_time(), <, deadline);
		g_usleep(2000);
	}
	if (writer->stdout_fd >= 0)
		close(writer->stdout_fd);
	writer->stdout_fd = -1;
	writer->pid = 0;
	return status;
}

static void
writer_kill(Writer *writer)
{
	int status;

	g_assert_no_errno(kill(writer->pid, SIGKILL));
	status = writer_wait(writer);
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
}

/* Whether dir/name holds exactly one of the two complete generations of the helper. */
static gboolean
is_complete_generation(const char *dir, const char *name)
{
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *object;
	const char *payload;
	gint64 generation;
	gsize length;

	root = sg_state_read_json(dir, name, SG_STATE_READ_NONE, NULL, &error);
	if (root == NULL)
		return FALSE;
	object = json_node_get_object(root);
	if (json_object_get_size(object) != 2)
		return FALSE;
	generation = json_object_get_int_member_with_default(object, "generation", 0);
	payload = json_object_get_string_member_with_default(object, "payload", "");
	if (generation != 1 && generation != 2)
		return FALSE;
	length = strlen(payload);
	if (length != WRITER_PAYLOAD_SIZE(generation))
		return FALSE;
	for (gsize i = 0; i < length; i++) {
		if (payload[i] != WRITER_PAYLOAD_CHAR(generation))
			return FALSE;
	}
	return TRUE;
}

/*
 * Kills a writer in mode at a random instant, rounds times; how many files were torn. In
 * ret_mid_write, how many kills left a temporary file: the atomic writer was cut mid-write.
 */
static guint
run_kill_rounds(const char *mode, guint rounds, guint *ret_mid_write)
{
	g_autofree char *dir = make_state_dir();
	guint mid_write = 0;
	guint torn = 0;

	for (guint i = 0; i < rounds; i++) {
		Writer writer = writer_spawn(dir, SG_STATE_STATE_JSON, mode, NULL);
		gulong delay = (gulong)g_test_rand_int_range(0, KILL_MAX_DELAY_US + 1);

		/* Each round waits for a first complete write, so the kill lands on a later one. */
		writer_wait_ready(&writer);
		g_usleep(delay);
		writer_kill(&writer);
		if (!is_complete_generation(dir, SG_STATE_STATE_JSON)) {
			if (torn == 0)
				g_test_message("%s writer: first torn file in round %u, killed "
				               "after %lu us",
				               mode, i, delay);
			torn++;
		}
		/* A killed atomic writer leaves its temporary file: clear it between rounds. */
		mid_write += sg_state_remove_stale_temp_files(dir, 0);
	}
	g_assert_cmpuint(count_entries(dir, ".state.json.tmp-"), ==, 0);
	sg_test_remove_tree(dir);
	*ret_mid_write = mid_write;
	return torn;
}

static void
test_atomic_under_sigkill(void)
{
	guint mid_write;
	guint torn = run_kill_rounds("atomic", KILL_ROUNDS, &mid_write);

	g_test_message("atomic writer: %u torn files in %u rounds, %u killed mid-write", torn,
	               KILL_ROUNDS, mid_write);
	g_assert_cmpuint(torn, ==, 0);
	/* The kills must have hit writes in progress, or the rounds proved nothing. */
	g_assert_cmpuint(mid_write, >=, 1);
}

static void
test_naive_is_detected(void)
{
	guint mid_write;
	guint torn = run_kill_rounds("naive", KILL_ROUNDS, &mid_write);

	/* The same check must catch a writer that is not atomic, or it proves nothing. */
	g_test_message("naive writer: %u torn files in %u rounds", torn, KILL_ROUNDS);
	g_assert_cmpuint(torn, >=, 1);
}

static void
test_write_json(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_PID_JSON, NULL);
	g_autoptr(JsonNode) root = parse("{\"services\": {\"web\": 4242, \"db\": 17}}");
	g_autoptr(JsonNode) back = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	mode_t old_umask;

	/* The mode is 0600 whatever the umask. */
	old_umask = umask(0);
	g_assert_true(sg_state_write_json(dir, SG_STATE_PID_JSON, root, &error));
	umask(old_umask);
	g_assert_no_error(error);
	g_assert_cmpuint(mode_of(path), ==, 0600);

	text = read_text(dir, SG_STATE_PID_JSON);
	g_assert_true(g_str_has_suffix(text, "}\n"));
	/* Indented for a person to read. */
	g_assert_nonnull(strstr(text, "\n  \"services\""));
	back = parse(text);
	g_assert_true(json_node_equal(root, back));
	g_clear_pointer(&back, json_node_unref);

	back = sg_state_read_json(dir, SG_STATE_PID_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(json_node_equal(root, back));

	/* No temporary file is left behind. */
	g_assert_cmpuint(count_entries(dir, "."), ==, 0);
	sg_test_remove_tree(dir);
}

static void
test_write_failure_removes_temp(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *blocker = g_build_filename(dir, SG_STATE_STATE_JSON, NULL);
	g_autoptr(JsonNode) root = parse("{}");
	g_autoptr(GError) error = NULL;

	/* A directory in the way makes the final rename fail. */
	g_assert_no_errno(mkdir(blocker, 0700));
	g_assert_false(sg_state_write_json(dir, SG_STATE_STATE_JSON, root, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, blocker));
	g_assert_cmpuint(count_entries(dir, "."), ==, 0);
	g_clear_error(&error);

	/* A missing directory. */
	g_assert_no_errno(rmdir(blocker));
	g_assert_false(sg_state_write_json(blocker, SG_STATE_STATE_JSON, root, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, blocker));
	g_assert_cmpuint(count_entries(dir, "."), ==, 0);
	sg_test_remove_tree(dir);
}

static void
test_read_missing(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(GError) error = NULL;
	char *quarantined = (char *)"unset";
	JsonNode *root;

	root = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_QUARANTINE, &quarantined,
	                          &error);
	g_assert_null(root);
	g_assert_no_error(error);
	g_assert_null(quarantined);
	sg_test_remove_tree(dir);
}

static void
test_read_extra_fields(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	JsonObject *service;

	write_text(dir, SG_STATE_STATE_JSON,
	           "{\"services\": {\"web\": {\"status\": \"running\", \"restart_count\": 2, "
	           "\"invocation_id\": \"abc\"}}, \"future\": [1, 2]}");
	root = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(root);
	service = json_object_get_object_member(
	        json_object_get_object_member(json_node_get_object(root), "services"), "web");
	g_assert_cmpstr(json_object_get_string_member(service, "invocation_id"), ==, "abc");
	g_assert_true(json_object_has_member(json_node_get_object(root), "future"));
	sg_test_remove_tree(dir);
}

static char *
corrupt_name_at(const char *name, GDateTime *when)
{
	g_autofree char *stamp = g_date_time_format(when, "%Y%m%dT%H%M%SZ");

	return g_strdup_printf("%s.corrupt-%s", name, stamp);
}

static void
test_corrupt_reported_offline(void)
{
	static const char bad[] = "{\"services\": {\"web\": 42,,}}";
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_STATE_JSON, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	JsonNode *root;

	write_text(dir, SG_STATE_STATE_JSON, bad);
	root = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_null(root);
	g_assert_error(error, SG_ERROR, SG_ERROR_CORRUPT);
	g_test_message("%s", error->message);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_nonnull(strstr(error->message, "line 1, column"));

	/* Nothing changed. */
	text = read_text(dir, SG_STATE_STATE_JSON);
	g_assert_cmpstr(text, ==, bad);
	g_assert_cmpuint(count_entries(dir, "state.json.corrupt-"), ==, 0);
	sg_test_remove_tree(dir);
}

static void
assert_corrupt(const char *dir, const char *text, const char *reason)
{
	g_autoptr(GError) error = NULL;
	JsonNode *root;

	write_text(dir, SG_STATE_CRON_JSON, text);
	root = sg_state_read_json(dir, SG_STATE_CRON_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_null(root);
	g_assert_error(error, SG_ERROR, SG_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, reason));
}

static void
test_corrupt_kinds(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_CRON_JSON, NULL);
	g_autofree char *brackets = g_strnfill(100000, '[');
	g_autofree char *deep = g_strconcat("{\"jobs\": {\"a\": ", brackets, NULL);
	g_autoptr(GError) error = NULL;
	JsonNode *root;
	int fd;

	assert_corrupt(dir, "", "empty");
	assert_corrupt(dir, " \n", "empty");
	assert_corrupt(dir, "[1, 2]", "not an object");
	assert_corrupt(dir, "42", "not an object");
	assert_corrupt(dir, "{\"a\": 1} trailing", "line 1");
	assert_corrupt(dir, "{\"a\": \"\xff\"}", "UTF-8");
	/* What json-glib recursed on until the stack ran out, and what it read as inf. */
	assert_corrupt(dir, deep, "line 1, column 78: nested deeper than 64 levels");
	assert_corrupt(dir, "{\"jobs\": {\"a\": 1e999}}", "number out of range");

	/* Larger than the cap: refused without being read (a sparse file costs nothing). */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	g_assert_no_errno(fd);
	g_assert_no_errno(ftruncate(fd, (off_t)SG_STATE_MAX_FILE_SIZE + 1));
	close(fd);
	root = sg_state_read_json(dir, SG_STATE_CRON_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_null(root);
	g_assert_error(error, SG_ERROR, SG_ERROR_CORRUPT);
	g_assert_nonnull(strstr(error->message, "larger than"));
	sg_test_remove_tree(dir);
}

static void
test_corrupt_quarantined(void)
{
	static const char bad1[] = "{\"services\": {\"web\": 4";
	static const char bad2[] = "not json at all";
	g_autofree char *dir = make_state_dir();
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GPtrArray) decoys = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autofree char *text = NULL;
	g_autofree char *base = NULL;
	JsonNode *root;

	write_text(dir, SG_STATE_PID_JSON, bad1);
	root = sg_state_read_json(dir, SG_STATE_PID_JSON, SG_STATE_READ_QUARANTINE, &first, &error);
	g_assert_null(root);
	g_assert_no_error(error);
	g_assert_nonnull(first);
	g_test_message("quarantined as %s", first);
	base = g_path_get_basename(first);
	g_assert_true(g_regex_match_simple("^pid\\.json\\.corrupt-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$",
	                                   base, 0, 0));
	g_assert_false(exists(dir, SG_STATE_PID_JSON));
	g_assert_true(g_file_get_contents(first, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, bad1);
	g_clear_pointer(&text, g_free);

	/* Decoys on every name the next quarantine could pick now: none may be overwritten. */
	for (int s = -1; s <= 3; s++) {
		g_autoptr(GDateTime) when = g_date_time_add_seconds(now, s);
		char *name = corrupt_name_at(SG_STATE_PID_JSON, when);
		g_autofree char *decoy_path = g_build_filename(dir, name, NULL);

		if (g_file_test(decoy_path, G_FILE_TEST_EXISTS)) {
			g_free(name);
			continue;
		}
		write_text(dir, name, "decoy");
		g_ptr_array_add(decoys, name);
	}

	write_text(dir, SG_STATE_PID_JSON, bad2);
	root = sg_state_read_json(dir, SG_STATE_PID_JSON, SG_STATE_READ_QUARANTINE, &second,
	                          &error);
	g_assert_null(root);
	g_assert_no_error(error);
	g_assert_nonnull(second);
	g_test_message("quarantined as %s", second);
	g_assert_cmpstr(first, !=, second);
	g_assert_true(g_file_get_contents(second, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, bad2);
	g_clear_pointer(&text, g_free);

	g_assert_true(g_file_get_contents(first, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, bad1);
	g_clear_pointer(&text, g_free);
	for (guint i = 0; i < decoys->len; i++) {
		text = read_text(dir, g_ptr_array_index(decoys, i));
		g_assert_cmpstr(text, ==, "decoy");
		g_clear_pointer(&text, g_free);
	}
	sg_test_remove_tree(dir);
}

static gboolean
set_web_pid_cb(JsonObject *root, gpointer user_data, GError **error)
{
	JsonObject *services = json_object_new();

	json_object_set_int_member(services, "web", GPOINTER_TO_INT(user_data));
	json_object_set_object_member(root, "services", services);
	return TRUE;
}

static gboolean
fail_cb(JsonObject *root, gpointer user_data, GError **error)
{
	json_object_set_int_member(root, "never", 1);
	g_set_error_literal(error, SG_ERROR, SG_ERROR_FAILED, "refused by the callback");
	return FALSE;
}

static void
test_update(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *lock = g_build_filename(dir, SG_STATE_LOCK, NULL);
	g_autofree char *path = g_build_filename(dir, SG_STATE_PID_JSON, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *quarantined = NULL;
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) root = NULL;

	/* Missing: starts from {}. */
	g_assert_true(sg_state_update_json(dir, SG_STATE_PID_JSON, set_web_pid_cb,
	                                   GINT_TO_POINTER(10), &quarantined, &error));
	g_assert_no_error(error);
	g_assert_null(quarantined);
	g_assert_cmpuint(mode_of(path), ==, 0600);
	g_assert_cmpuint(mode_of(lock), ==, 0600);
	text = read_text(dir, SG_STATE_PID_JSON);
	root = parse(text);
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(
	                                                   json_node_get_object(root), "services"),
	                                           "web"),
	                ==, 10);
	g_clear_pointer(&text, g_free);

	/* A failing callback writes nothing. */
	g_assert_false(sg_state_update_json(dir, SG_STATE_PID_JSON, fail_cb, NULL, NULL, &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_clear_error(&error);
	text = read_text(dir, SG_STATE_PID_JSON);
	g_assert_null(strstr(text, "never"));
	g_clear_pointer(&text, g_free);

	/* Corrupt: set aside, reported, and the update goes on from {}. */
	write_text(dir, SG_STATE_PID_JSON, "{\"services\": ");
	g_assert_true(sg_state_update_json(dir, SG_STATE_PID_JSON, set_web_pid_cb,
	                                   GINT_TO_POINTER(11), &quarantined, &error));
	g_assert_no_error(error);
	g_assert_nonnull(quarantined);
	g_assert_true(g_file_get_contents(quarantined, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "{\"services\": ");
	g_clear_pointer(&text, g_free);
	text = read_text(dir, SG_STATE_PID_JSON);
	g_assert_nonnull(strstr(text, "11"));
	sg_test_remove_tree(dir);
}

static void
test_update_two_processes(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) error = NULL;
	Writer writers[2];

	for (guint i = 0; i < G_N_ELEMENTS(writers); i++)
		writers[i] = writer_spawn(dir, SG_STATE_STATE_JSON, "counter", "500");
	for (guint i = 0; i < G_N_ELEMENTS(writers); i++) {
		int status = writer_wait(&writers[i]);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	}

	root = sg_state_read_json(dir, SG_STATE_STATE_JSON, SG_STATE_READ_NONE, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(root);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(root), "counter"), ==,
	                1000);
	g_assert_cmpuint(count_entries(dir, "."), ==, 0);
	sg_test_remove_tree(dir);
}

static void
test_lock_excludes(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_LOCK, NULL);
	g_autoptr(GError) error = NULL;
	int fd;
	int other;

	fd = sg_state_lock(dir, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, !=, 0);

	/* Another open file (as another process would have) cannot take it meanwhile. */
	other = open(path, O_RDWR | O_CLOEXEC);
	g_assert_no_errno(other);
	g_assert_cmpint(flock(other, LOCK_EX | LOCK_NB), ==, -1);
	g_assert_cmpint(errno, ==, EWOULDBLOCK);
	sg_state_unlock(fd);
	g_assert_no_errno(flock(other, LOCK_EX | LOCK_NB));
	close(other);

	/* A missing directory. */
	g_clear_pointer(&path, g_free);
	path = g_build_filename(dir, "missing", NULL);
	fd = sg_state_lock(path, &error);
	g_assert_cmpint(fd, ==, -1);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	sg_test_remove_tree(dir);
}

static void
test_stale_temp_files(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *old_path = g_build_filename(dir, ".state.json.tmp-AbC123", NULL);
	struct timespec old_times[2] = { { 0, UTIME_OMIT }, { 1000000000, 0 } };

	write_text(dir, ".state.json.tmp-AbC123", "old");
	write_text(dir, ".pid.json.tmp-xyz789", "fresh");
	write_text(dir, ".hidden.tmp-toolong1", "other");
	write_text(dir, "state.json.tmp-AbC123", "not hidden");
	g_assert_no_errno(utimensat(AT_FDCWD, old_path, old_times, 0));

	g_assert_cmpuint(sg_state_remove_stale_temp_files(dir, 60), ==, 1);
	g_assert_false(exists(dir, ".state.json.tmp-AbC123"));
	g_assert_true(exists(dir, ".pid.json.tmp-xyz789"));
	g_assert_cmpuint(sg_state_remove_stale_temp_files(dir, 0), ==, 1);
	g_assert_true(exists(dir, ".hidden.tmp-toolong1"));
	g_assert_true(exists(dir, "state.json.tmp-AbC123"));
	sg_test_remove_tree(dir);
}

static void
test_config_hint(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_CONFIG_HINT, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *hint = NULL;
	g_autofree char *text = NULL;

	g_assert_null(sg_state_read_config_hint(dir));

	g_assert_true(sg_state_write_config_hint(dir, "/srv/app/systemg.yaml", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(mode_of(path), ==, 0600);
	text = read_text(dir, SG_STATE_CONFIG_HINT);
	g_assert_cmpstr(text, ==, "/srv/app/systemg.yaml\n");
	hint = sg_state_read_config_hint(dir);
	g_assert_cmpstr(hint, ==, "/srv/app/systemg.yaml");
	g_clear_pointer(&hint, g_free);

	g_assert_true(sg_state_write_config_hint(dir, "/srv/with space/sg.yaml", &error));
	hint = sg_state_read_config_hint(dir);
	g_assert_cmpstr(hint, ==, "/srv/with space/sg.yaml");
	g_clear_pointer(&hint, g_free);

	g_assert_false(sg_state_write_config_hint(dir, "relative/sg.yaml", &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_clear_error(&error);
	g_assert_false(sg_state_write_config_hint(dir, "/a\nb", &error));
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_clear_error(&error);
	hint = sg_state_read_config_hint(dir);
	g_assert_cmpstr(hint, ==, "/srv/with space/sg.yaml");
	g_clear_pointer(&hint, g_free);

	/* Hand-edited without a newline; and emptied. */
	write_text(dir, SG_STATE_CONFIG_HINT, "/etc/sg.yaml");
	hint = sg_state_read_config_hint(dir);
	g_assert_cmpstr(hint, ==, "/etc/sg.yaml");
	write_text(dir, SG_STATE_CONFIG_HINT, "");
	g_assert_null(sg_state_read_config_hint(dir));
	write_text(dir, SG_STATE_CONFIG_HINT, "\n");
	g_assert_null(sg_state_read_config_hint(dir));
	sg_test_remove_tree(dir);
}

static gboolean
state_id_is_valid(const char *id)
{
	return id != NULL && g_regex_match_simple("^[0-9a-f]{32}$", id, 0, 0);
}

static void
test_state_id(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_STATE_JSON, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;
	g_autofree char *again = NULL;
	g_autofree char *quarantined = NULL;
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(JsonNode) expected = NULL;
	JsonObject *object;

	id = sg_state_ensure_state_id(dir, &quarantined, &error);
	g_assert_no_error(error);
	g_assert_null(quarantined);
	g_assert_true(state_id_is_valid(id));
	g_assert_cmpuint(mode_of(path), ==, 0600);
	again = sg_state_ensure_state_id(dir, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(again, ==, id);
	g_clear_pointer(&again, g_free);
	g_clear_pointer(&id, g_free);

	/* Every other field is kept, and a valid id stays as it is. */
	write_text(dir, SG_STATE_STATE_JSON,
	           "{\"services\": {\"web\": {\"status\": \"running\", \"restart_count\": 3, "
	           "\"exit_code\": null, \"custom\": [1, \"x\"]}}, \"other\": true}");
	id = sg_state_ensure_state_id(dir, &quarantined, &error);
	g_assert_no_error(error);
	g_assert_null(quarantined);
	g_assert_true(state_id_is_valid(id));
	text = read_text(dir, SG_STATE_STATE_JSON);
	root = parse(text);
	object = json_node_get_object(root);
	g_assert_cmpstr(json_object_get_string_member(object, "state_id"), ==, id);
	json_object_remove_member(object, "state_id");
	expected = parse("{\"services\": {\"web\": {\"status\": \"running\", \"restart_count\": "
	                 "3, \"exit_code\": null, \"custom\": [1, \"x\"]}}, \"other\": true}");
	g_assert_true(json_node_equal(root, expected));
	again = sg_state_ensure_state_id(dir, NULL, &error);
	g_assert_cmpstr(again, ==, id);
	g_clear_pointer(&again, g_free);
	g_clear_pointer(&text, g_free);

	/* Updates by others keep it. */
	g_assert_true(sg_state_update_json(dir, SG_STATE_STATE_JSON, set_web_pid_cb,
	                                   GINT_TO_POINTER(5), NULL, &error));
	g_assert_no_error(error);
	again = sg_state_ensure_state_id(dir, NULL, &error);
	g_assert_cmpstr(again, ==, id);
	g_clear_pointer(&again, g_free);

	/* A malformed id is replaced. */
	write_text(dir, SG_STATE_STATE_JSON, "{\"state_id\": \"NOT-HEX\", \"keep\": 1}");
	again = sg_state_ensure_state_id(dir, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(state_id_is_valid(again));
	text = read_text(dir, SG_STATE_STATE_JSON);
	g_assert_nonnull(strstr(text, "\"keep\" : 1"));
	g_clear_pointer(&text, g_free);
	g_clear_pointer(&again, g_free);

	/* Corrupt: quarantined and reported, then a fresh id. */
	write_text(dir, SG_STATE_STATE_JSON, "{\"state_id\": ");
	again = sg_state_ensure_state_id(dir, &quarantined, &error);
	g_assert_no_error(error);
	g_assert_true(state_id_is_valid(again));
	g_assert_cmpstr(again, !=, id);
	g_assert_nonnull(quarantined);
	g_assert_true(g_file_get_contents(quarantined, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "{\"state_id\": ");
	sg_test_remove_tree(dir);
}

static void
test_pid_file_in_process(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_PID_FILE, NULL);
	g_autofree char *expected = g_strdup_printf("%d\n", (int)getpid());
	g_autofree char *named = g_strdup_printf("(PID %d)", (int)getpid());
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	SgPidFile *pid_file;
	SgPidFile *second;
	pid_t stale = -1;
	pid_t pid = 0;

	g_assert_false(sg_pid_file_query(dir, &pid));

	pid_file = sg_pid_file_acquire(dir, &stale, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pid_file);
	g_assert_cmpint(stale, ==, 0);
	g_assert_cmpuint(mode_of(path), ==, 0600);
	text = read_text(dir, SG_STATE_PID_FILE);
	g_assert_cmpstr(text, ==, expected);

	g_assert_true(sg_pid_file_query(dir, &pid));
	g_assert_cmpint(pid, ==, getpid());
	g_assert_true(sg_pid_file_query(dir, NULL));

	/* Locks belong to open files: a second open in this process is refused too. */
	second = sg_pid_file_acquire(dir, NULL, &error);
	g_assert_null(second);
	g_assert_error(error, SG_ERROR, SG_ERROR_ALREADY_RUNNING);
	g_assert_nonnull(strstr(error->message, named));
	g_assert_nonnull(strstr(error->message, dir));
	g_clear_error(&error);

	sg_pid_file_release(pid_file);
	g_assert_false(exists(dir, SG_STATE_PID_FILE));
	g_assert_false(sg_pid_file_query(dir, &pid));

	/* Freed without release (a forked child's way): the file stays, unlocked. */
	pid_file = sg_pid_file_acquire(dir, &stale, &error);
	g_assert_no_error(error);
	g_assert_cmpint(stale, ==, 0);
	sg_pid_file_free(pid_file);
	g_assert_true(exists(dir, SG_STATE_PID_FILE));
	g_assert_false(sg_pid_file_query(dir, NULL));

	/* A hand-written file without a newline still counts as a stale PID. */
	write_text(dir, SG_STATE_PID_FILE, "123456");
	g_assert_no_errno(chmod(path, 0644));
	pid_file = sg_pid_file_acquire(dir, &stale, &error);
	g_assert_no_error(error);
	g_assert_cmpint(stale, ==, 123456);
	g_assert_cmpuint(mode_of(path), ==, 0600);
	g_clear_pointer(&text, g_free);
	text = read_text(dir, SG_STATE_PID_FILE);
	g_assert_cmpstr(text, ==, expected);
	sg_pid_file_release(pid_file);
	sg_test_remove_tree(dir);
}

static void
test_pid_file_other_process(void)
{
	g_autofree char *dir = make_state_dir();
	g_autoptr(GError) error = NULL;
	g_autofree char *named = NULL;
	SgPidFile *pid_file;
	Writer holder;
	pid_t holder_pid;
	pid_t stale = 0;
	pid_t pid = 0;

	holder = writer_spawn(dir, "-", "hold-pid", NULL);
	holder_pid = holder.pid;
	writer_wait_ready(&holder);

	pid_file = sg_pid_file_acquire(dir, &stale, &error);
	g_assert_null(pid_file);
	g_assert_error(error, SG_ERROR, SG_ERROR_ALREADY_RUNNING);
	g_test_message("%s", error->message);
	named = g_strdup_printf("a supervisor (PID %d) already runs on state directory %s",
	                        (int)holder_pid, dir);
	g_assert_cmpstr(error->message, ==, named);
	g_clear_error(&error);
	g_assert_true(sg_pid_file_query(dir, &pid));
	g_assert_cmpint(pid, ==, holder_pid);

	/* A crash: the file stays, the lock goes with the process. */
	writer_kill(&holder);
	g_assert_true(exists(dir, SG_STATE_PID_FILE));
	g_assert_false(sg_pid_file_query(dir, &pid));

	pid_file = sg_pid_file_acquire(dir, &stale, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pid_file);
	g_assert_cmpint(stale, ==, holder_pid);
	g_assert_true(sg_pid_file_query(dir, &pid));
	g_assert_cmpint(pid, ==, getpid());
	sg_pid_file_release(pid_file);
	sg_test_remove_tree(dir);
}

static void
test_pid_file_concurrent_query(void)
{
	g_autofree char *dir = make_state_dir();
	Writer queriers[2];

	for (guint i = 0; i < G_N_ELEMENTS(queriers); i++) {
		queriers[i] = writer_spawn(dir, "-", "query", NULL);
		writer_wait_ready(&queriers[i]);
	}

	/* Clients probing all the time must never pass for a running supervisor. */
	for (guint round = 0; round < 300; round++) {
		g_autoptr(GError) error = NULL;
		SgPidFile *pid_file = sg_pid_file_acquire(dir, NULL, &error);

		g_assert_no_error(error);
		g_assert_nonnull(pid_file);
		if (round % 2 == 0)
			sg_pid_file_release(pid_file);
		else
			sg_pid_file_free(pid_file);
	}

	for (guint i = 0; i < G_N_ELEMENTS(queriers); i++)
		writer_kill(&queriers[i]);
	sg_test_remove_tree(dir);
}

typedef struct {
	int fd;
	gulong hold_us;
} SharedHold;

static gpointer
release_shared_later(gpointer user_data)
{
	SharedHold *hold = user_data;

	g_usleep(hold->hold_us);
	close(hold->fd);
	return NULL;
}

static void
test_pid_file_shared_lock(void)
{
	g_autofree char *dir = make_state_dir();
	g_autofree char *path = g_build_filename(dir, SG_STATE_PID_FILE, NULL);
	g_autoptr(GError) error = NULL;
	SharedHold hold = { -1, 100000 };
	SgPidFile *pid_file;
	GThread *thread;
	gint64 start;
	int fd;

	/* A probe lasting longer than usual (100 ms) is waited out. */
	hold.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	g_assert_no_errno(hold.fd);
	g_assert_no_errno(flock(hold.fd, LOCK_SH));
	thread = g_thread_new("shared-hold", release_shared_later, &hold);
	start = g_get_monotonic_time();
	pid_file = sg_pid_file_acquire(dir, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pid_file);
	g_assert_cmpint(g_get_monotonic_time() - start, >=, 50000);
	g_thread_join(thread);
	sg_pid_file_release(pid_file);

	/* A shared lock that never goes: a failure, but not "already running". */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	g_assert_no_errno(fd);
	g_assert_no_errno(flock(fd, LOCK_SH));
	pid_file = sg_pid_file_acquire(dir, NULL, &error);
	g_assert_null(pid_file);
	g_assert_error(error, SG_ERROR, SG_ERROR_FAILED);
	g_test_message("%s", error->message);
	g_assert_false(sg_pid_file_query(dir, NULL));
	close(fd);
	sg_test_remove_tree(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/sg/state/write-json", test_write_json);
	g_test_add_func("/sg/state/write-failure-removes-temp", test_write_failure_removes_temp);
	g_test_add_func("/sg/state/read-missing", test_read_missing);
	g_test_add_func("/sg/state/read-extra-fields", test_read_extra_fields);
	g_test_add_func("/sg/state/corrupt-reported-offline", test_corrupt_reported_offline);
	g_test_add_func("/sg/state/corrupt-kinds", test_corrupt_kinds);
	g_test_add_func("/sg/state/corrupt-quarantined", test_corrupt_quarantined);
	g_test_add_func("/sg/state/update", test_update);
	g_test_add_func("/sg/state/update-two-processes", test_update_two_processes);
	g_test_add_func("/sg/state/lock-excludes", test_lock_excludes);
	g_test_add_func("/sg/state/stale-temp-files", test_stale_temp_files);
	g_test_add_func("/sg/state/config-hint", test_config_hint);
	g_test_add_func("/sg/state/state-id", test_state_id);
	g_test_add_func("/sg/state/pid-file-in-process", test_pid_file_in_process);
	g_test_add_func("/sg/state/pid-file-other-process", test_pid_file_other_process);
	g_test_add_func("/sg/state/pid-file-concurrent-query", test_pid_file_concurrent_query);
	g_test_add_func("/sg/state/pid-file-shared-lock", test_pid_file_shared_lock);
	g_test_add_func("/sg/state/atomic-under-sigkill", test_atomic_under_sigkill);
	g_test_add_func("/sg/state/naive-is-detected", test_naive_is_detected);
	return g_test_run();
}
