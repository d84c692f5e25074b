/* SPDX-License-Identifier: MIT */
/* Readers of /proc: one stat parser, start times, usage, and the session and marker scan. */
#include "config.h"

#define G_LOG_DOMAIN "sg-proctree"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process/sg-proctree.h"
#include "base/sg-limits.h"

/* A stat line is about 300 bytes; comm is at most 64 bytes even for kernel workers. */
#define STAT_BUFFER_SIZE 4096
#define ENVIRON_INITIAL (16 * 1024)
#define PF_KTHREAD      0x00200000UL

#define MARKER_STATE_ID   "SYSTEMG_STATE_ID="
#define MARKER_SERVICE    "SYSTEMG_SERVICE="
#define MARKER_INVOCATION "SYSTEMG_INVOCATION_ID="

typedef struct {
	char state;
	pid_t ppid;
	pid_t pgid;
	pid_t sid;
	unsigned long flags;
	guint64 utime;
	guint64 stime;
	guint64 start_time;
	gint64 rss_pages;
} ProcStat;

void
sg_proc_info_free(SgProcInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->service);
	g_free(info->invocation_id);
	g_free(info);
}

/* Reads a whole small file into buf (NUL-terminated); returns its length or a negative errno. */
static ssize_t
read_small_file_at(int dir_fd, const char *path, char *buf, size_t size)
{
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			int saved = errno;
			if (saved == EINTR)
				continue;
			close(fd);
			return -saved;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

static gboolean
parse_signed(const char **p, gint64 *ret_value)
{
	char *end;
	gint64 value;

	errno = 0;
	value = g_ascii_strtoll(*p, &end, 10);
	if (end == *p || errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return FALSE;
	*ret_value = value;
	*p = end;
	return TRUE;
}

/*
 * Parses a /proc/PID/stat line. comm (field 2) may hold any byte, spaces and parentheses
 * included, so the fields are counted from the last ')'.
 */
static gboolean
parse_stat(const char *line, ProcStat *ret_stat)
{
	const char *close_paren = strrchr(line, ')');
	const char *p;
	ProcStat stat = { 0 };

	if (close_paren == NULL || close_paren[1] != ' ' || close_paren[2] == '\0')
		return FALSE;
	stat.state = close_paren[2];
	p = close_paren + 3;
	/* Fields 4 (ppid) to 24 (rss). */
	for (int field = 4; field <= 24; field++) {
		gint64 value;

		if (*p != ' ')
			return FALSE;
		p++;
		if (!parse_signed(&p, &value))
			return FALSE;
		switch (field) {
		case 4:
			stat.ppid = (pid_t)value;
			break;
		case 5:
			stat.pgid = (pid_t)value;
			break;
		case 6:
			stat.sid = (pid_t)value;
			break;
		case 9:
			stat.flags = (unsigned long)value;
			break;
		case 14:
			stat.utime = (guint64)value;
			break;
		case 15:
			stat.stime = (guint64)value;
			break;
		case 22:
			stat.start_time = (guint64)value;
			break;
		case 24:
			stat.rss_pages = value;
			break;
		default:
			break;
		}
	}
	*ret_stat = stat;
	return TRUE;
}

static gboolean
read_stat_at(int dir_fd, pid_t pid, ProcStat *ret_stat)
{
	char path[32];
	char buf[STAT_BUFFER_SIZE];

	/* dir_fd is an open /proc during a scan; single reads go by absolute path. */
	g_snprintf(path, sizeof(path), dir_fd == AT_FDCWD ? "/proc/%d/stat" : "%d/stat", (int)pid);
	if (read_small_file_at(dir_fd, path, buf, sizeof(buf)) <= 0)
		return FALSE;
	return parse_stat(buf, ret_stat);
}

static gint64
stat_cpu_usec(const ProcStat *stat)
{
	static long ticks;

	if (ticks <= 0)
		ticks = sysconf(_SC_CLK_TCK);
	return (gint64)((stat->utime + stat->stime) * G_USEC_PER_SEC /
	                (guint64)(ticks > 0 ? ticks : 100));
}

static gint64
stat_rss_bytes(const ProcStat *stat)
{
	static long page_size;

	if (page_size <= 0)
		page_size = sysconf(_SC_PAGESIZE);
	return MAX(stat->rss_pages, 0) * (gint64)page_size;
}

static void
info_from_stat(pid_t pid, const ProcStat *stat, SgProcInfo *ret_info)
{
	*ret_info = (SgProcInfo){
		.pid = pid,
		.ppid = stat->ppid,
		.pgid = stat->pgid,
		.sid = stat->sid,
		.start_time = stat->start_time,
		.cpu_usec = stat_cpu_usec(stat),
		.rss_bytes = stat_rss_bytes(stat),
		.markers = SG_MARKERS_UNREAD,
	};
}

gboolean
sg_proctree_read_stat(pid_t pid, SgProcInfo *ret_info)
{
	ProcStat stat;

	/* A zombie has exited: for every caller it is gone, whoever reaps it later. */
	if (pid <= 0 || !read_stat_at(AT_FDCWD, pid, &stat) || stat.state == 'Z' ||
	    stat.state == 'X')
		return FALSE;
	info_from_stat(pid, &stat, ret_info);
	return TRUE;
}

guint64
sg_proctree_start_time(pid_t pid)
{
	SgProcInfo info;

	if (!sg_proctree_read_stat(pid, &info))
		return 0;
	return info.start_time;
}

gboolean
sg_proctree_read_usage(pid_t pid, gint64 *ret_cpu_usec, gint64 *ret_rss_bytes)
{
	ProcStat stat;

	/* One read of stat, whose figures are also what a scan records. */
	if (pid <= 0 || !read_stat_at(AT_FDCWD, pid, &stat) || stat.state == 'Z' ||
	    stat.state == 'X')
		return FALSE;
	*ret_cpu_usec = stat_cpu_usec(&stat);
	*ret_rss_bytes = stat_rss_bytes(&stat);
	return TRUE;
}

/* Reads /proc/PID/environ into *buf (grown up to SG_PROC_ENVIRON_MAX); returns its length or -errno. */
static ssize_t
read_environ_at(int dir_fd, pid_t pid, char **buf, size_t *size)
{
	char path[32];
	size_t len = 0;
	int fd;

	g_snprintf(path, sizeof(path), "%d/environ", (int)pid);
	fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len == *size) {
			if (*size >= SG_PROC_ENVIRON_MAX)
				break;
			*size = MIN(*size * 2, (size_t)SG_PROC_ENVIRON_MAX);
			*buf = g_realloc(*buf, *size);
		}
		n = read(fd, *buf + len, *size - len);
		if (n < 0) {
			int saved = errno;
			if (saved == EINTR)
				continue;
			close(fd);
			return -saved;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

typedef struct {
	gboolean has_state_id;
	gboolean has_other_state_id;
	const char *service;
	size_t service_len;
	const char *invocation_id;
	size_t invocation_id_len;
} Markers;

static void
find_markers(const char *env, size_t len, const char *state_id, Markers *ret_markers)
{
	size_t state_id_len = strlen(state_id);
	const char *end = env + len;
	Markers markers = { 0 };

	for (const char *p = env; p < end;) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t entry_len = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);

		if (entry_len == strlen(MARKER_STATE_ID) + state_id_len &&
		    memcmp(p, MARKER_STATE_ID, strlen(MARKER_STATE_ID)) == 0 &&
		    memcmp(p + strlen(MARKER_STATE_ID), state_id, state_id_len) == 0) {
			markers.has_state_id = TRUE;
		} else if (entry_len >= strlen(MARKER_STATE_ID) &&
		           memcmp(p, MARKER_STATE_ID, strlen(MARKER_STATE_ID)) == 0) {
			markers.has_other_state_id = TRUE;
		} else if (entry_len >= strlen(MARKER_SERVICE) &&
		           memcmp(p, MARKER_SERVICE, strlen(MARKER_SERVICE)) == 0) {
			markers.service = p + strlen(MARKER_SERVICE);
			markers.service_len = entry_len - strlen(MARKER_SERVICE);
		} else if (entry_len >= strlen(MARKER_INVOCATION) &&
		           memcmp(p, MARKER_INVOCATION, strlen(MARKER_INVOCATION)) == 0) {
			markers.invocation_id = p + strlen(MARKER_INVOCATION);
			markers.invocation_id_len = entry_len - strlen(MARKER_INVOCATION);
		}
		p += entry_len + 1;
	}
	*ret_markers = markers;
}

static gboolean
parse_pid(const char *name, pid_t *ret_pid)
{
	guint64 value;

	if (!g_ascii_isdigit(name[0]) ||
	    !g_ascii_string_to_unsigned(name, 10, 1, G_MAXINT, &value, NULL))
		return FALSE;
	*ret_pid = (pid_t)value;
	return TRUE;
}

static GPtrArray *
scan(const char *state_id, GHashTable *sessions, gboolean everyone)
{
	GPtrArray *found = g_ptr_array_new_with_free_func((GDestroyNotify)sg_proc_info_free);
	g_autofree char *env = NULL;
	size_t env_size = ENVIRON_INITIAL;
	pid_t self = getpid();
	struct dirent *entry;
	DIR *proc;

	if (state_id != NULL && *state_id == '\0')
		state_id = NULL;
	if (!everyone && state_id == NULL && (sessions == NULL || g_hash_table_size(sessions) == 0))
		return found;
	proc = opendir("/proc");
	if (proc == NULL) {
		g_debug("cannot open /proc: %s", g_strerror(errno));
		return found;
	}
	env = g_malloc(env_size);
	while ((entry = readdir(proc)) != NULL) {
		ProcStat stat;
		Markers markers = { 0 };
		SgMarkers verdict = SG_MARKERS_UNREAD;
		gboolean in_session;
		pid_t pid;

		if (!parse_pid(entry->d_name, &pid) || pid == self)
			continue;
		if (!read_stat_at(dirfd(proc), pid, &stat) || stat.state == 'Z' ||
		    stat.state == 'X')
			continue;
		in_session = sessions != NULL &&
		             (g_hash_table_contains(sessions, GINT_TO_POINTER(stat.sid)) ||
		              g_hash_table_contains(sessions, GINT_TO_POINTER(stat.pgid)));
		if (state_id != NULL && (stat.flags & PF_KTHREAD) == 0) {
			/* EACCES (another user, non-dumpable) and ESRCH (gone) just mean "no
			 * markers". */
			ssize_t len = read_environ_at(dirfd(proc), pid, &env, &env_size);
			if (len >= 0)
				verdict = SG_MARKERS_NONE;
			if (len > 0)
				find_markers(env, (size_t)len, state_id, &markers);
			if (markers.has_state_id)
				verdict = SG_MARKERS_OURS;
			else if (markers.has_other_state_id)
				verdict = SG_MARKERS_OTHER;
		}
		if (everyone || in_session || markers.has_state_id) {
			SgProcInfo *info = g_new0(SgProcInfo, 1);

			info_from_stat(pid, &stat, info);
			info->markers = verdict;
			if (markers.has_state_id && markers.service != NULL)
				info->service = g_strndup(markers.service, markers.service_len);
			if (markers.has_state_id && markers.invocation_id != NULL)
				info->invocation_id =
				        g_strndup(markers.invocation_id, markers.invocation_id_len);
			g_ptr_array_add(found, info);
		}
	}
	closedir(proc);
	return found;
}

GPtrArray *
sg_proctree_scan(const char *state_id, GHashTable *sessions)
{
	return scan(state_id, sessions, FALSE);
}

GPtrArray *
sg_proctree_scan_all(const char *state_id)
{
	return scan(state_id, NULL, TRUE);
}

SgProcInfo *
sg_proc_info_copy(const SgProcInfo *info)
{
	SgProcInfo *copy = g_memdup2(info, sizeof(*info));

	copy->service = g_strdup(info->service);
	copy->invocation_id = g_strdup(info->invocation_id);
	return copy;
}
