/* SPDX-License-Identifier: MIT */
/* /proc/PID/stat read and parsed: the one parser, and whether a process is alive. */
#include "config.h"

#include "base/sg-proc-stat.h"
#include "base/sg-fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* A stat line is about 300 bytes; comm is at most 64 bytes even for kernel workers. */
#define STAT_BUFFER_SIZE 4096

/* Reads a whole small file into buf (NUL-terminated); returns its length or a negative errno. */
static ssize_t
read_small_file_at(int dir_fd, const char *path, char *buf, size_t size)
{
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t len;

	if (fd < 0)
		return -errno;
	len = sg_fileio_read_up_to(fd, buf, size - 1);
	close(fd);
	if (len < 0)
		return len;
	buf[len] = '\0';
	return len;
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
parse_stat(const char *line, SgProcStat *ret_stat)
{
	const char *close_paren = strrchr(line, ')');
	const char *p;
	SgProcStat stat = { 0 };

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

gboolean
sg_proc_stat_read_at(int dir_fd, pid_t pid, SgProcStat *ret_stat)
{
	char path[32];
	char buf[STAT_BUFFER_SIZE];

	/* dir_fd is an open /proc during a scan; single reads go by absolute path. */
	g_snprintf(path, sizeof(path), dir_fd == AT_FDCWD ? "/proc/%d/stat" : "%d/stat", (int)pid);
	if (read_small_file_at(dir_fd, path, buf, sizeof(buf)) <= 0)
		return FALSE;
	return parse_stat(buf, ret_stat);
}

guint64
sg_proc_stat_start_time(pid_t pid)
{
	SgProcStat stat;

	if (pid <= 0 || !sg_proc_stat_read_at(AT_FDCWD, pid, &stat) || stat.state == 'Z' ||
	    stat.state == 'X')
		return 0;
	return stat.start_time;
}
