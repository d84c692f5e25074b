/* SPDX-License-Identifier: MIT */
/* The cgroup v2 filesystem: finding a delegated subtree, opening it, its files (negative errno). */
#include "config.h"

#define G_LOG_DOMAIN "sg-contain"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "process/sg-cgroup.h"
#include "base/sg-error.h"
#include "base/sg-fileio.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_FILE_MAX (1024 * 1024)

int
sg_cgroup_read_file_at(int dir_fd, const char *path, char **ret_contents, size_t *ret_len)
{
	g_autoptr(GByteArray) data = NULL;
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd < 0)
		return -errno;
	r = sg_fileio_read_all(fd, CGROUP_FILE_MAX, &data);
	close(fd);
	if (r < 0)
		return r;
	if (ret_len != NULL)
		*ret_len = data->len;
	*ret_contents = (char *)g_byte_array_free(g_steal_pointer(&data), FALSE);
	return 0;
}

int
sg_cgroup_write_file_at(int dir_fd, const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = openat(dir_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int saved = errno;
		close(fd);
		return -saved;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

/* The value of "key VALUE" in a flat-keyed cgroup file, or -1. */
gint64
sg_cgroup_read_keyed_at(int dir_fd, const char *path, const char *key)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	size_t key_len = strlen(key);

	if (sg_cgroup_read_file_at(dir_fd, path, &contents, NULL) < 0)
		return -1;
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (strncmp(*line, key, key_len) == 0 && (*line)[key_len] == ' ')
			return g_ascii_strtoll(*line + key_len + 1, NULL, 10);
	}
	return -1;
}

gint64
sg_cgroup_read_number_at(int dir_fd, const char *path)
{
	g_autofree char *contents = NULL;
	char *end;
	gint64 value;

	if (sg_cgroup_read_file_at(dir_fd, path, &contents, NULL) < 0)
		return -1;
	value = g_ascii_strtoll(contents, &end, 10);
	if (end == contents)
		return -1;
	return value;
}

/* The pids of cgroup.procs, or NULL when the file cannot be read. */
GArray *
sg_cgroup_read_procs(int cgroup_fd)
{
	g_autofree char *contents = NULL;
	g_autoptr(GArray) pids = NULL;
	char *p;

	if (sg_cgroup_read_file_at(cgroup_fd, "cgroup.procs", &contents, NULL) < 0)
		return NULL;
	pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	p = contents;
	while (*p != '\0') {
		char *end;
		gint64 value = g_ascii_strtoll(p, &end, 10);

		if (end == p)
			break;
		if (value > 0 && value <= G_MAXINT) {
			pid_t pid = (pid_t)value;
			g_array_append_val(pids, pid);
		}
		p = end;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return g_steal_pointer(&pids);
}

/* Turns "\040" and friends of /proc/self/mountinfo back into bytes. */
static char *
unescape_mountinfo(const char *field)
{
	GString *out = g_string_new(NULL);

	for (const char *p = field; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			g_string_append_c(out, (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) |
			                              (p[3] - '0')));
			p += 3;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

/* The directory of cgroup path (as /proc/self/cgroup names it) under a cgroup2 mount. */
static char *
find_cgroup2_directory(const char *cgroup_path)
{
	g_autofree char *mountinfo = NULL;
	g_auto(GStrv) lines = NULL;

	if (sg_cgroup_read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo, NULL) < 0)
		return NULL;
	lines = g_strsplit(mountinfo, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		const char *separator = strstr(*line, " - ");
		g_auto(GStrv) fields = NULL;
		g_autofree char *root = NULL;
		g_autofree char *mount_point = NULL;
		size_t root_len;

		if (separator == NULL || !g_str_has_prefix(separator + 3, "cgroup2 "))
			continue;
		fields = g_strsplit(*line, " ", 6);
		if (g_strv_length(fields) < 6)
			continue;
		root = unescape_mountinfo(fields[3]);
		mount_point = unescape_mountinfo(fields[4]);
		/* The mount shows the subtree below root; our cgroup must lie inside it. */
		root_len = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(cgroup_path, root, root_len) != 0 ||
		    (cgroup_path[root_len] != '/' && cgroup_path[root_len] != '\0'))
			continue;
		return g_build_filename(mount_point, cgroup_path + root_len, NULL);
	}
	return NULL;
}

static gboolean
cgroup_has_only_us(const char *directory)
{
	g_autofree char *path = g_build_filename(directory, "cgroup.procs", NULL);
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	pid_t self = getpid();

	if (sg_cgroup_read_file_at(AT_FDCWD, path, &contents, NULL) < 0)
		return FALSE;
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (**line != '\0' && g_ascii_strtoll(*line, NULL, 10) != self)
			return FALSE;
	}
	return TRUE;
}

static gboolean
cgroup_is_writable(const char *directory)
{
	g_autofree char *procs = g_build_filename(directory, "cgroup.procs", NULL);
	g_autofree char *subtree = g_build_filename(directory, "cgroup.subtree_control", NULL);

	return access(directory, W_OK) == 0 && access(procs, W_OK) == 0 &&
	       access(subtree, W_OK) == 0;
}

/*
 * A delegated subtree we may use: our own cgroup v2, writable by us, not the root cgroup,
 * and holding no process but us (a terminal's or a session's cgroup is shared, and not
 * ours to rearrange). A supervisor restarted from ROOT/supervisor takes ROOT back.
 */
char *
sg_cgroup_detect_root(void)
{
	g_autofree char *self_cgroup = NULL;
	g_autofree char *directory = NULL;
	g_auto(GStrv) lines = NULL;
	const char *path = NULL;

	if (sg_cgroup_read_file_at(AT_FDCWD, "/proc/self/cgroup", &self_cgroup, NULL) < 0)
		return NULL;
	lines = g_strsplit(self_cgroup, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (g_str_has_prefix(*line, "0::"))
			path = *line + 3;
	}
	if (path == NULL || *path != '/' || strcmp(path, "/") == 0 ||
	    g_str_has_suffix(path, " (deleted)"))
		return NULL;
	directory = find_cgroup2_directory(path);
	if (directory == NULL)
		return NULL;
	if (g_str_has_suffix(path, "/" SG_CGROUP_SUPERVISOR) &&
	    strlen(path) > strlen("/" SG_CGROUP_SUPERVISOR)) {
		g_autofree char *parent = g_path_get_dirname(directory);
		if (cgroup_is_writable(parent) && cgroup_has_only_us(parent) &&
		    cgroup_has_only_us(directory))
			return g_steal_pointer(&parent);
	}
	if (!cgroup_is_writable(directory) || !cgroup_has_only_us(directory)) {
		g_debug("cgroup %s is not delegated to us: using markers", directory);
		return NULL;
	}
	return g_steal_pointer(&directory);
}

/* Enables what the parent offers, so memory and task counts come from the cgroups. */
void
sg_cgroup_enable_controllers(int root_fd)
{
	static const char *const wanted[] = { "memory", "pids", "cpu" };
	g_autofree char *available = NULL;
	g_auto(GStrv) names = NULL;

	if (sg_cgroup_read_file_at(root_fd, "cgroup.controllers", &available, NULL) < 0)
		return;
	names = g_strsplit_set(g_strstrip(available), " ", -1);
	for (guint i = 0; i < G_N_ELEMENTS(wanted); i++) {
		g_autofree char *request = NULL;
		int r;

		if (!g_strv_contains((const char *const *)names, wanted[i]))
			continue;
		request = g_strconcat("+", wanted[i], NULL);
		r = sg_cgroup_write_file_at(root_fd, "cgroup.subtree_control", request);
		if (r < 0)
			g_debug("cannot enable %s controller: %s", wanted[i], g_strerror(-r));
	}
}

int
sg_cgroup_open_root(const char *root, GError **error)
{
	struct statfs fs;
	int root_fd;

	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		sg_error_set_errno(error, -errno, _("Cannot open cgroup %s"), root);
		return -1;
	}
	if (fstatfs(root_fd, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		close(root_fd);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED, _("%s is not a cgroup v2 directory"),
		            root);
		return -1;
	}
	return root_fd;
}
