/* SPDX-License-Identifier: MIT */
/* Reads the end of a file backwards, into one buffer, until it holds enough lines. */
#include "config.h"

#include "base/sg-tail.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/sg-error.h"
#include "base/sg-fileio.h"
#include "base/sg-limits.h"

#define BLOCK 65536

void
sg_tail_free(SgTail *tail)
{
	if (tail == NULL)
		return;
	g_ptr_array_unref(tail->lines);
	g_free(tail);
}

/*
 * Reads backwards from size towards low into the end of buffer (which maps low..size), block
 * by block, until it holds n + 1 newlines (n whole lines and the end of the one before) or
 * reaches low; each byte lands where it belongs, so nothing is moved as blocks come in.
 * Returns the lowest offset read, or -1 with error set.
 */
static off_t
read_backwards(int fd, guint8 *buffer, off_t low, off_t size, guint n, GError **error)
{
	off_t offset = size;
	guint newlines = 0;

	while (offset > low && newlines <= n) {
		off_t start = offset - low > BLOCK ? offset - BLOCK : low;
		guint8 *block = buffer + (start - low);
		gsize length = (gsize)(offset - start);
		ssize_t got = pread(fd, block, length, start);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			sg_error_set_errno(error, -errno, "read failed");
			return -1;
		}
		/* Shorter: the file shrank under us (rotation); what was read stays valid. */
		if ((gsize)got < length)
			break;
		for (const guint8 *p = block; (p = memchr(p, '\n', length - (gsize)(p - block)));
		     p++)
			newlines++;
		offset = start;
	}
	return offset;
}

/* A line too long for the budget: the mark, then its last bytes from a character start. */
static char *
cut_line(const char *line, gsize length, gsize budget)
{
	gsize mark = strlen(SG_TAIL_CUT_MARK);
	gsize keep = MIN(budget - mark - 1, length);
	const char *from = line + length - keep;
	char *cut;

	for (guint i = 0; i < 3 && keep > 0 && ((guchar)*from & 0xC0) == 0x80; i++, keep--)
		from++;
	cut = g_malloc(mark + keep + 1);
	memcpy(cut, SG_TAIL_CUT_MARK, mark);
	memcpy(cut + mark, from, keep);
	cut[mark + keep] = '\0';
	return cut;
}

/* Splits data (the file from its offset on) into its last n lines, newest first, within
 * max_bytes. */
static void
take_lines(SgTail *tail, const char *data, gsize length, gboolean at_file_start, guint n,
           gsize max_bytes)
{
	gsize end = length;
	gsize budget = max_bytes;
	gboolean more = length > 0;

	if (end > 0 && data[end - 1] == '\n')
		end--;
	while (more && tail->lines->len < n) {
		const char *newline = end > 0 ? memrchr(data, '\n', end) : NULL;
		gsize start = newline != NULL ? (gsize)(newline - data) + 1 : 0;
		gsize line_length = end - start;
		gboolean whole = newline != NULL || at_file_start;

		if (!whole || line_length + 1 > budget) {
			/* The limit or the window: older lines stay out; a newest line is cut. */
			if (tail->lines->len == 0) {
				char *cut = cut_line(data + start, line_length, budget);

				budget -= strlen(cut) + 1;
				g_ptr_array_add(tail->lines, cut);
			}
			tail->capped = TRUE;
			break;
		}
		g_ptr_array_add(tail->lines, g_strndup(data + start, line_length));
		budget -= line_length + 1;
		more = newline != NULL;
		end = start > 0 ? start - 1 : 0;
	}
	tail->bytes = max_bytes - budget;
}

SgTail *
sg_tail_read(const char *path, guint n, gsize max_bytes, GError **error)
{
	g_autoptr(SgTail) tail = g_new0(SgTail, 1);
	g_autofree guint8 *buffer = NULL;
	struct stat st;
	off_t low, offset;
	int fd;

	g_return_val_if_fail(max_bytes >= 64, NULL);
	tail->lines = g_ptr_array_new_with_free_func(g_free);
	/* A file of the state directory: never read through a link, never a FIFO. */
	fd = sg_fileio_open_path(path, O_RDONLY, 0, error);
	if (fd < 0) {
		if (fd == -ENOENT) {
			g_clear_error(error);
			return g_steal_pointer(&tail);
		}
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		sg_error_set_errno(error, -errno, "cannot read %s", path);
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED, "cannot read %s: not a regular file",
		            path);
		close(fd);
		return NULL;
	}
	if (n == 0 || st.st_size == 0) {
		close(fd);
		return g_steal_pointer(&tail);
	}
	/* What fits in max_bytes, and the byte before it (the newline that starts a line). */
	low = (guint64)st.st_size > max_bytes + 1 ? st.st_size - (off_t)max_bytes - 1 : 0;
	buffer = g_malloc((gsize)(st.st_size - low));
	offset = read_backwards(fd, buffer, low, st.st_size, n, error);
	close(fd);
	if (offset < 0) {
		g_prefix_error(error, "%s: ", path);
		return NULL;
	}
	take_lines(tail, (const char *)buffer + (offset - low), (gsize)(st.st_size - offset),
	           offset == 0, n, max_bytes);
	/* Collected newest first. */
	for (guint i = 0, j = tail->lines->len; j > 0 && i < j - 1; i++, j--) {
		gpointer swap = tail->lines->pdata[i];

		tail->lines->pdata[i] = tail->lines->pdata[j - 1];
		tail->lines->pdata[j - 1] = swap;
	}
	return g_steal_pointer(&tail);
}

char **
sg_tail_lines(const char *path, guint n, GError **error)
{
	g_autoptr(SgTail) tail = sg_tail_read(path, n, SG_TAIL_REPORT_BYTES_MAX, error);

	if (tail == NULL)
		return NULL;
	g_ptr_array_add(tail->lines, NULL);
	return (char **)g_ptr_array_steal(tail->lines, NULL);
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
