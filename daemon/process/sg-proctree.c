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
#include "base/sg-fileio.h"
#include "base/sg-limits.h"
#include "base/sg-proc-stat.h"

#define ENVIRON_INITIAL (16 * 1024)
#define PF_KTHREAD      0x00200000UL

#define MARKER_STATE_ID   "SYSTEMG_STATE_ID="
#define MARKER_SERVICE    "SYSTEMG_SERVICE="
#define MARKER_INVOCATION "SYSTEMG_INVOCATION_ID="

void
sg_proc_info_free(SgProcInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->service);
	g_free(info->invocation_id);
	g_free(info);
}

static gint64
stat_cpu_usec(const SgProcStat *stat)
{
	static long ticks;

	if (ticks <= 0)
		ticks = sysconf(_SC_CLK_TCK);
	return (gint64)((stat->utime + stat->stime) * G_USEC_PER_SEC /
	                (guint64)(ticks > 0 ? ticks : 100));
}

static gint64
stat_rss_bytes(const SgProcStat *stat)
{
	static long page_size;

	if (page_size <= 0)
		page_size = sysconf(_SC_PAGESIZE);
	return MAX(stat->rss_pages, 0) * (gint64)page_size;
}

static void
info_from_stat(pid_t pid, const SgProcStat *stat, SgProcInfo *ret_info)
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
	SgProcStat stat;

	/* A zombie has exited: for every caller it is gone, whoever reaps it later. */
	if (pid <= 0 || !sg_proc_stat_read_at(AT_FDCWD, pid, &stat) || stat.state == 'Z' ||
	    stat.state == 'X')
		return FALSE;
	info_from_stat(pid, &stat, ret_info);
	return TRUE;
}

guint64
sg_proctree_start_time(pid_t pid)
{
	return sg_proc_stat_start_time(pid);
}

gboolean
sg_proctree_read_usage(pid_t pid, gint64 *ret_cpu_usec, gint64 *ret_rss_bytes)
{
	SgProcStat stat;

	/* One read of stat, whose figures are also what a scan records. */
	if (pid <= 0 || !sg_proc_stat_read_at(AT_FDCWD, pid, &stat) || stat.state == 'Z' ||
	    stat.state == 'X')
		return FALSE;
	*ret_cpu_usec = stat_cpu_usec(&stat);
	*ret_rss_bytes = stat_rss_bytes(&stat);
	return TRUE;
}

/* Reads /proc/PID/environ into *buf (grown up to SG_PROC_ENVIRON_MAX); its length or -errno. */
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
		n = sg_fileio_read_up_to(fd, *buf + len, *size - len);
		if (n < 0) {
			close(fd);
			return n;
		}
		len += (size_t)n;
		if (len < *size)
			break; /* the end of the environment */
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
		SgProcStat stat;
		Markers markers = { 0 };
		SgMarkers verdict = SG_MARKERS_UNREAD;
		gboolean in_session;
		pid_t pid;

		if (!parse_pid(entry->d_name, &pid) || pid == self)
			continue;
		if (!sg_proc_stat_read_at(dirfd(proc), pid, &stat) || stat.state == 'Z' ||
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
