/* SPDX-License-Identifier: MIT */
/* sysg logs: the last lines of the log files, read directly, and --follow through inotify. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sg-cli.h"
#include "sg-client.h"
#include "sg-config.h"
#include "sg-paths.h"
#include "sg-problem.h"
#include "sg-tail.h"

#define EXIT_USAGE    2
#define DEFAULT_LINES 50
/* How far back the supervisor log is searched for lines about one service. */
#define FILTER_SCAN_LINES 50000
/* Bytes before the read offset remembered to notice a file rewritten in place. */
#define SIGNATURE_BYTES 64

typedef struct {
	char *path;
	char *label;  /* prefix when several files are shown, or NULL */
	char *filter; /* only lines mentioning this service (the supervisor log), or NULL */
	int fd;
	int wd;
	dev_t dev;
	ino_t ino;
	guint64 offset;
	GString *partial; /* a line not finished yet */
	char signature[SIGNATURE_BYTES];
	gsize signature_len;
} LogFile;

static void
log_file_free(LogFile *file)
{
	if (file->fd >= 0)
		close(file->fd);
	g_string_free(file->partial, TRUE);
	g_free(file->path);
	g_free(file->label);
	g_free(file->filter);
	g_free(file);
}

static LogFile *
log_file_new(const char *path, const char *label, const char *filter)
{
	LogFile *file = g_new0(LogFile, 1);

	file->path = g_strdup(path);
	file->label = g_strdup(label);
	file->filter = g_strdup(filter);
	file->fd = -1;
	file->wd = -1;
	file->partial = g_string_new(NULL);
	return file;
}

static gboolean
is_name_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-';
}

/* Whether line names the service as a whole word. */
static gboolean
mentions(const char *line, const char *name)
{
	gsize length = strlen(name);

	for (const char *p = strstr(line, name); p != NULL; p = strstr(p + 1, name)) {
		char before = p == line ? ' ' : p[-1];

		if (!is_name_char(before) && before != '.' && !is_name_char(p[length]))
			return TRUE;
	}
	return FALSE;
}

static void
print_line(const LogFile *file, const char *line)
{
	if (file->filter != NULL && !mentions(line, file->filter))
		return;
	if (file->label != NULL)
		printf("%s: %s\n", file->label, line);
	else
		printf("%s\n", line);
}

typedef struct {
	GPtrArray *files; /* LogFile* */
	GMainLoop *loop;
	int inotify_fd;
	int dir_wd;
	int state_wd;
	int status;
} Follow;

static void
remember_signature(LogFile *file)
{
	gsize want = file->offset < SIGNATURE_BYTES ? (gsize)file->offset : SIGNATURE_BYTES;
	ssize_t n =
	        want > 0 ? pread(file->fd, file->signature, want, (off_t)(file->offset - want)) : 0;

	file->signature_len = n > 0 ? (gsize)n : 0;
}

/* Whether the bytes before our offset are still those we read: a rotation shifts them. */
static gboolean
signature_matches(LogFile *file)
{
	char now[SIGNATURE_BYTES];
	ssize_t n;

	if (file->signature_len == 0)
		return TRUE;
	n = pread(file->fd, now, file->signature_len, (off_t)(file->offset - file->signature_len));
	return n == (ssize_t)file->signature_len && memcmp(now, file->signature, (gsize)n) == 0;
}

/* Prints the complete lines of [from, to) of fd. */
static void
print_range(LogFile *file, int fd, guint64 from, guint64 to)
{
	char buffer[65536];

	while (from < to) {
		gsize want = MIN(sizeof(buffer), (gsize)(to - from));
		ssize_t n = pread(fd, buffer, want, (off_t)from);
		char *start, *newline;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		from += (guint64)n;
		g_string_append_len(file->partial, buffer, n);
		start = file->partial->str;
		while ((newline = memchr(start, '\n',
		                         file->partial->len -
		                                 (gsize)(start - file->partial->str))) != NULL) {
			*newline = '\0';
			print_line(file, start);
			start = newline + 1;
		}
		g_string_erase(file->partial, 0, start - file->partial->str);
	}
	fflush(stdout);
}

/*
 * The file was rotated in place: its first S bytes were copied to PATH.1 and removed (by
 * collapse-range or truncation), S being the size of PATH.1. What we had not read of them
 * is in .1; the rest is at our offset minus S.
 */
static void
handle_rotation(LogFile *file)
{
	g_autofree char *first = g_strconcat(file->path, ".1", NULL);
	struct stat st;
	int fd = open(first, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &st) == 0) {
		guint64 copied = (guint64)st.st_size;

		if (file->offset < copied)
			print_range(file, fd, file->offset, copied);
		file->offset = file->offset > copied ? file->offset - copied : 0;
	} else {
		file->offset = 0;
	}
	if (fd >= 0)
		close(fd);
}

static void add_file_watch(Follow *follow, LogFile *file);

static void
read_new(Follow *follow, LogFile *file)
{
	struct stat st, path_st;

	if (file->fd < 0) {
		add_file_watch(follow, file);
		if (file->fd < 0)
			return;
	}
	if (fstat(file->fd, &st) < 0)
		return;
	if ((guint64)st.st_size < file->offset || !signature_matches(file)) {
		handle_rotation(file);
		if (fstat(file->fd, &st) < 0)
			return;
		if (file->offset > (guint64)st.st_size)
			file->offset = 0;
	}
	if ((guint64)st.st_size > file->offset) {
		print_range(file, file->fd, file->offset, (guint64)st.st_size);
		file->offset = (guint64)st.st_size;
	}
	remember_signature(file);
	/* Replaced by another file (renamed away, deleted and recreated): go on with that one. */
	if (stat(file->path, &path_st) == 0 &&
	    (path_st.st_dev != file->dev || path_st.st_ino != file->ino)) {
		close(file->fd);
		file->fd = -1;
		file->offset = 0;
		file->signature_len = 0;
		add_file_watch(follow, file);
		if (file->fd >= 0)
			read_new(follow, file);
	}
}

/* Opens the file (when it exists) and watches it; the offset is kept. */
static void
add_file_watch(Follow *follow, LogFile *file)
{
	struct stat st;

	file->fd = open(file->path, O_RDONLY | O_CLOEXEC);
	if (file->fd < 0)
		return;
	if (fstat(file->fd, &st) < 0) {
		close(file->fd);
		file->fd = -1;
		return;
	}
	file->dev = st.st_dev;
	file->ino = st.st_ino;
	file->wd = inotify_add_watch(follow->inotify_fd, file->path, IN_MODIFY | IN_ATTRIB);
}

static gboolean
inotify_cb(int fd, GIOCondition condition, gpointer user_data)
{
	Follow *follow = user_data;
	char buffer[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n = read(fd, buffer, sizeof(buffer));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		sg_cli_error(_("cannot watch the log files: %s"),
		             n < 0 ? g_strerror(errno) : _("end of events"));
		follow->status = 1;
		g_main_loop_quit(follow->loop);
		return G_SOURCE_REMOVE;
	}
	for (char *p = buffer; p < buffer + n;) {
		struct inotify_event *event = (struct inotify_event *)p;

		p += sizeof(struct inotify_event) + event->len;
		for (guint i = 0; i < follow->files->len; i++) {
			LogFile *file = g_ptr_array_index(follow->files, i);
			g_autofree char *base = g_path_get_basename(file->path);

			if (event->wd == file->wd ||
			    (event->len > 0 && g_str_has_prefix(event->name, base)) ||
			    (event->mask & IN_Q_OVERFLOW))
				read_new(follow, file);
		}
	}
	return G_SOURCE_CONTINUE;
}

static gboolean
quit_cb(gpointer user_data)
{
	Follow *follow = user_data;

	g_main_loop_quit(follow->loop);
	return G_SOURCE_CONTINUE;
}

static int
follow_files(GPtrArray *files, const char *state_dir)
{
	g_autofree char *log_dir = sg_paths_state_file(state_dir, SG_STATE_LOG_DIR);
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	Follow follow = { files, loop, -1, -1, -1, 0 };
	guint watch, sigint, sigterm;
	const guint32 dir_events = IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_MODIFY;

	follow.inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (follow.inotify_fd < 0) {
		sg_cli_error(_("cannot watch the log files: %s"), g_strerror(errno));
		return 1;
	}
	/* The directories tell us about files created, rotated or replaced. */
	follow.dir_wd = inotify_add_watch(follow.inotify_fd, log_dir, dir_events);
	follow.state_wd = inotify_add_watch(follow.inotify_fd, state_dir, IN_CREATE | IN_MOVED_TO);
	if (follow.dir_wd < 0 && follow.state_wd < 0) {
		sg_cli_error(_("cannot watch %s: %s"), state_dir, g_strerror(errno));
		close(follow.inotify_fd);
		return 1;
	}
	for (guint i = 0; i < files->len; i++) {
		LogFile *file = g_ptr_array_index(files, i);
		if (file->fd >= 0)
			file->wd = inotify_add_watch(follow.inotify_fd, file->path,
			                             IN_MODIFY | IN_ATTRIB);
		read_new(&follow, file);
	}
	watch = g_unix_fd_add(follow.inotify_fd, G_IO_IN, inotify_cb, &follow);
	sigint = g_unix_signal_add(SIGINT, quit_cb, &follow);
	sigterm = g_unix_signal_add(SIGTERM, quit_cb, &follow);
	g_main_loop_run(loop);
	g_source_remove(watch);
	g_source_remove(sigint);
	g_source_remove(sigterm);
	close(follow.inotify_fd);
	return follow.status;
}

/* Services with log files in logs/, from their names (NAME_stdout.log, NAME_stderr.log). */
static void
add_logged_names(const char *log_dir, GPtrArray *names)
{
	g_autoptr(GDir) dir = g_dir_open(log_dir, 0, NULL);
	const char *entry;

	while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
		const char *suffixes[] = { "_stdout.log", "_stderr.log" };

		for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
			if (g_str_has_suffix(entry, suffixes[i])) {
				g_autofree char *name =
				        g_strndup(entry, strlen(entry) - strlen(suffixes[i]));
				if (sg_config_name_is_valid(name) &&
				    !g_ptr_array_find_with_equal_func(names, name, g_str_equal,
				                                      NULL))
					g_ptr_array_add(names, g_steal_pointer(&name));
			}
		}
	}
}

static gboolean
has_logs(const char *log_dir, const char *name)
{
	const char *streams[] = { "stdout", "stderr" };

	for (guint i = 0; i < G_N_ELEMENTS(streams); i++) {
		g_autofree char *base = g_strdup_printf("%s_%s.log", name, streams[i]);
		g_autofree char *path = g_build_filename(log_dir, base, NULL);
		g_autofree char *rotated = g_strconcat(path, ".1", NULL);

		if (g_file_test(path, G_FILE_TEST_EXISTS) ||
		    g_file_test(rotated, G_FILE_TEST_EXISTS))
			return TRUE;
	}
	return FALSE;
}

static void
add_service_files(GPtrArray *files, const char *log_dir, const char *name, const char *kind,
                  gboolean several)
{
	const char *streams[] = { "stdout", "stderr" };

	for (guint i = 0; i < G_N_ELEMENTS(streams); i++) {
		g_autofree char *base = NULL;
		g_autofree char *path = NULL;
		g_autofree char *label = NULL;

		if (kind != NULL && !g_str_equal(kind, streams[i]))
			continue;
		base = g_strdup_printf("%s_%s.log", name, streams[i]);
		path = g_build_filename(log_dir, base, NULL);
		if (several)
			label = g_strdup_printf("%s %s", name, streams[i]);
		g_ptr_array_add(files, log_file_new(path, label, NULL));
	}
}

int
sg_cmd_logs(int argc, char **argv, SgCliGlobals *globals)
{
	int lines = DEFAULT_LINES;
	g_autofree char *kind = NULL;
	gboolean follow = FALSE;
	GOptionEntry entries[] = {
		{ "lines", 'n', 0, G_OPTION_ARG_INT, &lines,
		  N_("Show the last N lines of each log (default 50)"), N_("N") },
		{ "kind", 0, 0, G_OPTION_ARG_STRING, &kind,
		  N_("Only this log: stdout, stderr or supervisor"), N_("KIND") },
		{ "follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
		  N_("Keep printing new lines until interrupted"), NULL },
		{ NULL },
	};
	g_autofree char *state_dir = sg_paths_state_dir();
	g_autofree char *log_dir = NULL;
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func((GDestroyNotify)log_file_free);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(SgConfig) config = NULL;
	g_autofree char *config_path = NULL;
	const char *name = NULL;
	gboolean several;

	if (!sg_cli_parse("logs", _("[NAME]"),
	                  _("Show the logs of the services and the supervisor."), entries, &argc,
	                  &argv, globals))
		return EXIT_USAGE;
	if (argc > 2) {
		sg_cli_error(_("unexpected argument \"%s\""), argv[2]);
		fprintf(stderr, "%s\n", _("Try 'sysg logs --help'."));
		return EXIT_USAGE;
	}
	if (lines < 0) {
		sg_cli_error(_("--lines must be 0 or more, not %d"), lines);
		fprintf(stderr, "%s\n", _("Try 'sysg logs --help'."));
		return EXIT_USAGE;
	}
	if (kind != NULL && !g_str_equal(kind, "stdout") && !g_str_equal(kind, "stderr") &&
	    !g_str_equal(kind, "supervisor")) {
		sg_cli_error(_("unknown log kind \"%s\": use stdout, stderr or supervisor"), kind);
		fprintf(stderr, "%s\n", _("Try 'sysg logs --help'."));
		return EXIT_USAGE;
	}
	if (argc == 2)
		name = argv[1];
	log_dir = sg_paths_state_file(state_dir, SG_STATE_LOG_DIR);

	/* The configuration only tells which services exist; the files are read directly. */
	config_path = sg_client_discover_config(globals->config, NULL, state_dir, &error);
	if (config_path != NULL) {
		g_autoptr(GPtrArray) problems = sg_problem_list_new();
		config = sg_config_load(config_path, config_path, NULL, problems, &error);
	}
	if (config == NULL && globals->config != NULL) {
		sg_cli_error("%s", error->message);
		return 3;
	}
	g_clear_error(&error);

	if (name != NULL) {
		if ((config == NULL || sg_config_lookup(config, name) == NULL) &&
		    !has_logs(log_dir, name)) {
			sg_cli_error(_("no such service \"%s\": it is not in the configuration and "
			               "has no log files in %s"),
			             name, log_dir);
			return 4;
		}
		g_ptr_array_add(names, g_strdup(name));
	} else {
		for (guint i = 0; config != NULL && i < config->services->len; i++) {
			const SgServiceConfig *service = g_ptr_array_index(config->services, i);
			g_ptr_array_add(names, g_strdup(service->name));
		}
		add_logged_names(log_dir, names);
	}

	several = (kind == NULL && (name == NULL || names->len > 0)) || names->len > 1;
	if (kind == NULL || g_str_equal(kind, "supervisor")) {
		if (kind != NULL || name == NULL) {
			g_autofree char *path =
			        sg_paths_state_file(state_dir, SG_STATE_SUPERVISOR_LOG);
			g_ptr_array_add(files,
			                log_file_new(path, several ? "supervisor" : NULL, name));
		}
	}
	if (kind == NULL || !g_str_equal(kind, "supervisor"))
		for (guint i = 0; i < names->len; i++)
			add_service_files(files, log_dir, names->pdata[i], kind, several);

	for (guint i = 0; i < files->len; i++) {
		LogFile *file = g_ptr_array_index(files, i);
		g_auto(GStrv) tail = NULL;
		struct stat st;

		/* Open first: following goes on from what was there when the tail was taken. */
		file->fd = open(file->path, O_RDONLY | O_CLOEXEC);
		if (file->fd >= 0 && fstat(file->fd, &st) == 0) {
			file->offset = (guint64)st.st_size;
			file->dev = st.st_dev;
			file->ino = st.st_ino;
			remember_signature(file);
		}
		tail = sg_tail_lines(file->path,
		                     file->filter != NULL ? FILTER_SCAN_LINES : (guint)lines,
		                     &error);
		if (tail == NULL) {
			sg_cli_error("%s", error->message);
			g_clear_error(&error);
			continue;
		}
		if (file->filter != NULL) {
			g_autoptr(GPtrArray) kept = g_ptr_array_new();
			for (guint j = 0; tail[j] != NULL; j++)
				if (mentions(tail[j], file->filter))
					g_ptr_array_add(kept, tail[j]);
			for (guint j = kept->len > (guint)lines ? kept->len - (guint)lines : 0;
			     j < kept->len; j++)
				print_line(file, kept->pdata[j]);
		} else {
			for (guint j = 0; tail[j] != NULL; j++)
				print_line(file, tail[j]);
		}
	}
	fflush(stdout);
	if (!follow)
		return 0;
	return follow_files(files, state_dir);
}
