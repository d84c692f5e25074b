/* SPDX-License-Identifier: MIT */
/* Reads the end of a file backwards until it holds enough lines. */
#include "config.h"

#include "sg-tail.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sg-error.h"
#include "sg-fileio.h"

#define BLOCK    8192
#define MAX_LINE 65536

char **
sg_tail_lines(const char *path, guint n, GError **error)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GByteArray) buffer = g_byte_array_new();
	struct stat st;
	off_t offset;
	guint newlines = 0;
	int fd;

	/* A file of the state directory: never read through a link, never a FIFO. */
	fd = sg_fileio_open_path(path, O_RDONLY, 0, error);
	if (fd < 0) {
		if (fd == -ENOENT) {
			g_clear_error(error);
			return g_new0(char *, 1);
		}
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		sg_error_set_errno(error, -errno, "cannot read %s", path);
		close(fd);
		return NULL;
	}
	/* Read blocks from the end until n + 1 newlines are in (the last may end the file). */
	offset = st.st_size;
	while (offset > 0 && newlines <= n && buffer->len < (guint)(n + 1) * MAX_LINE) {
		guint8 block[BLOCK];
		off_t start = offset > BLOCK ? offset - BLOCK : 0;
		ssize_t got = pread(fd, block, (size_t)(offset - start), start);

		if (got <= 0)
			break;
		g_byte_array_prepend(buffer, block, (guint)got);
		for (ssize_t i = 0; i < got; i++)
			newlines += block[i] == '\n';
		offset = start;
	}
	close(fd);

	{
		gsize len = buffer->len;
		const char *data = (const char *)buffer->data;
		gsize end = len;

		if (end > 0 && data[end - 1] == '\n')
			end--;
		while (lines->len < n && end > 0) {
			gsize start = end;
			while (start > 0 && data[start - 1] != '\n')
				start--;
			if (start == 0 && offset > 0)
				break; /* the first line in the buffer may be cut */
			g_ptr_array_insert(lines, 0,
			                   g_strndup(data + start, MIN(end - start, MAX_LINE)));
			if (start == 0)
				break;
			end = start - 1;
		}
	}
	g_ptr_array_add(lines, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&lines), FALSE);
}

void
sg_tail_append_indented(GString *out, const char *path, guint n)
{
	g_auto(GStrv) lines = sg_tail_lines(path, n, NULL);

	if (lines == NULL || lines[0] == NULL)
		return;
	g_string_append_printf(out, _("  last lines of %s:\n"), path);
	for (guint i = 0; lines[i] != NULL; i++)
		g_string_append_printf(out, "    %s\n", lines[i]);
}
