/* SPDX-License-Identifier: MIT */
/* Test helper: writes, updates or locks state files in a loop until killed (see usage()). */
#include "config.h"

#include "state/sg-state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Must match test-state.c: generation N has a payload of WRITER_PAYLOAD_SIZE(N) of one char. */
#define WRITER_PAYLOAD_SIZE(generation) ((gsize)(1024 * 1024 + ((generation) == 2 ? 4096 : 0)))
#define WRITER_PAYLOAD_CHAR(generation) ((generation) == 2 ? 'b' : 'a')
#define NAIVE_CHUNK_SIZE                4096

static int
usage(void)
{
	fprintf(stderr, "usage: state-writer DIR NAME atomic|naive\n"
	                "       state-writer DIR NAME counter COUNT\n"
	                "       state-writer DIR - hold-pid|query\n"
	                "Prints \"ready\" once the first write, lock or query is done.\n");
	return 2;
}

static void
say_ready(void)
{
	static const char line[] = "ready\n";

	if (write(STDOUT_FILENO, line, sizeof(line) - 1) < 0)
		exit(1);
}

static G_NORETURN void
die(const char *what, const char *detail)
{
	fprintf(stderr, "state-writer: %s: %s\n", what, detail);
	exit(1);
}

static JsonNode *
generation_new(int generation)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();
	g_autofree char *payload = NULL;

	payload = g_malloc(WRITER_PAYLOAD_SIZE(generation) + 1);
	memset(payload, WRITER_PAYLOAD_CHAR(generation), WRITER_PAYLOAD_SIZE(generation));
	payload[WRITER_PAYLOAD_SIZE(generation)] = '\0';

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "generation");
	json_builder_add_int_value(builder, generation);
	json_builder_set_member_name(builder, "payload");
	json_builder_add_string_value(builder, payload);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

static G_NORETURN void
run_atomic(const char *dir, const char *name)
{
	JsonNode *generations[2] = { generation_new(1), generation_new(2) };

	for (guint i = 0;; i++) {
		g_autoptr(GError) error = NULL;

		if (!sg_state_write_json(dir, name, generations[i % 2], &error))
			die("write", error->message);
		if (i == 0)
			say_ready();
	}
}

/* Deliberately wrong: truncates in place and writes in pieces, as the atomic write avoids. */
static G_NORETURN void
run_naive(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *texts[2];

	for (int g = 0; g < 2; g++) {
		g_autoptr(JsonNode) root = generation_new(g + 1);
		texts[g] = json_to_string(root, TRUE);
	}

	for (guint i = 0;; i++) {
		const char *text = texts[i % 2];
		gsize length = strlen(text);
		int fd;

		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			die(path, g_strerror(errno));
		for (gsize done = 0; done < length;) {
			ssize_t n = write(fd, text + done, MIN(length - done, NAIVE_CHUNK_SIZE));
			if (n < 0)
				die(path, g_strerror(errno));
			done += (gsize)n;
		}
		close(fd);
		if (i == 0)
			say_ready();
	}
}

static gboolean
increment_cb(JsonObject *root, gpointer user_data, GError **error)
{
	gint64 value = json_object_get_int_member_with_default(root, "counter", 0);

	json_object_set_int_member(root, "counter", value + 1);
	return TRUE;
}

static int
run_counter(const char *dir, const char *name, const char *count_text)
{
	guint64 count;

	if (!g_ascii_string_to_unsigned(count_text, 10, 0, G_MAXUINT, &count, NULL))
		return usage();
	say_ready();
	for (guint64 i = 0; i < count; i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *quarantined = NULL;

		if (!sg_state_update_json(dir, name, increment_cb, NULL, &quarantined, &error))
			die("update", error->message);
		if (quarantined != NULL)
			die("unexpected quarantine", quarantined);
	}
	return 0;
}

static G_NORETURN void
run_hold_pid(const char *dir)
{
	g_autoptr(GError) error = NULL;
	SgPidFile *pid_file;

	pid_file = sg_pid_file_acquire(dir, NULL, &error);
	if (pid_file == NULL)
		die("acquire", error->message);
	say_ready();
	for (;;)
		pause();
}

static G_NORETURN void
run_query(const char *dir)
{
	say_ready();
	for (;;)
		(void)sg_pid_file_query(dir, NULL);
}

int
main(int argc, char **argv)
{
	const char *dir;
	const char *name;
	const char *mode;

	if (argc < 4)
		return usage();
	dir = argv[1];
	name = argv[2];
	mode = argv[3];

	if (strcmp(mode, "atomic") == 0 && argc == 4)
		run_atomic(dir, name);
	if (strcmp(mode, "naive") == 0 && argc == 4)
		run_naive(dir, name);
	if (strcmp(mode, "counter") == 0 && argc == 5)
		return run_counter(dir, name, argv[4]);
	if (strcmp(mode, "hold-pid") == 0 && argc == 4)
		run_hold_pid(dir);
	if (strcmp(mode, "query") == 0 && argc == 4)
		run_query(dir);
	return usage();
}
