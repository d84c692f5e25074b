/* SPDX-License-Identifier: MIT */
/* Env files: KEY=VALUE lines with comments, export, quotes and no expansion (SPEC section 3). */
#include "config.h"

#include "config/sg-envfile.h"
#include "base/sg-error.h"
#include "base/sg-fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Grammar decisions beyond the SPEC:
 * - A line is one physical line: quotes never span lines; a quote still open at the end of
 *   the line is an error.
 * - After a closing quote only blanks may follow, optionally then a comment that starts
 *   with '#' after at least one blank ('A="x" # note'); anything else is an error.
 * - In double quotes \n, \" and \\ are escapes; any other backslash stays literal with the
 *   character after it ("a\tb" keeps the backslash and the t).
 * - Single quotes are fully literal; a single quote cannot appear inside them.
 * - A bare value keeps everything up to the end of the line, quotes and '#' included,
 *   minus trailing blanks; an empty value is allowed.
 * - "export" is a prefix only when followed by a blank, so "export=1" sets a key named
 *   export.
 * - A '\r' ending a line (CRLF) is dropped; NUL bytes and invalid UTF-8 are refused.
 */

typedef struct {
	const char *display_name;
	GPtrArray *vars;     /* key, value, key, value ... */
	GHashTable *indices; /* key (borrowed from vars) -> index of its value in vars */
	int line;
} Parser;

static gboolean
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static gboolean
fail(Parser *parser, GError **error, const char *message)
{
	g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, "%s:%d: %s", parser->display_name,
	            parser->line, message);
	return FALSE;
}

gboolean
sg_envfile_key_is_valid(const char *key)
{
	if (key == NULL || !(g_ascii_isalpha(key[0]) || key[0] == '_'))
		return FALSE;
	for (const char *p = key + 1; *p != '\0'; p++) {
		if (!(g_ascii_isalnum(*p) || *p == '_'))
			return FALSE;
	}
	return TRUE;
}

static void
add_var(Parser *parser, char *key, char *value)
{
	gpointer index;

	/* A duplicate keeps the position of the first occurrence and takes the new value. */
	if (g_hash_table_lookup_extended(parser->indices, key, NULL, &index)) {
		guint i = GPOINTER_TO_UINT(index);

		g_free(parser->vars->pdata[i]);
		parser->vars->pdata[i] = value;
		g_free(key);
		return;
	}
	g_ptr_array_add(parser->vars, key);
	g_ptr_array_add(parser->vars, value);
	g_hash_table_insert(parser->indices, key, GUINT_TO_POINTER(parser->vars->len - 1));
}

/* What may follow a closing quote: blanks, then nothing or a " #comment". */
static gboolean
check_after_quote(Parser *parser, const char *p, const char *end, GError **error)
{
	const char *q = p;

	while (q < end && is_blank(*q))
		q++;
	if (q == end || (*q == '#' && q > p))
		return TRUE;
	return fail(parser, error, _("unexpected text after the closing quote"));
}

static gboolean
parse_value(Parser *parser, const char *p, const char *end, char **ret_value, GError **error)
{
	g_autoptr(GString) value = g_string_new(NULL);

	if (p < end && *p == '\'') {
		const char *close = memchr(p + 1, '\'', end - (p + 1));

		if (close == NULL)
			return fail(parser, error, _("unterminated single quote"));
		g_string_append_len(value, p + 1, close - (p + 1));
		if (!check_after_quote(parser, close + 1, end, error))
			return FALSE;
	} else if (p < end && *p == '"') {
		const char *q = p + 1;

		for (;;) {
			if (q >= end)
				return fail(parser, error, _("unterminated double quote"));
			if (*q == '"')
				break;
			if (*q == '\\' && q + 1 < end &&
			    (q[1] == 'n' || q[1] == '"' || q[1] == '\\')) {
				g_string_append_c(value, q[1] == 'n' ? '\n' : q[1]);
				q += 2;
				continue;
			}
			g_string_append_c(value, *q);
			q++;
		}
		if (!check_after_quote(parser, q + 1, end, error))
			return FALSE;
	} else {
		while (end > p && is_blank(end[-1]))
			end--;
		g_string_append_len(value, p, end - p);
	}
	*ret_value = g_string_free(g_steal_pointer(&value), FALSE);
	return TRUE;
}

static gboolean
parse_line(Parser *parser, const char *p, const char *end, GError **error)
{
	const char *equals;
	const char *key_end;
	g_autofree char *key = NULL;
	char *value = NULL;

	if (memchr(p, '\0', end - p) != NULL)
		return fail(parser, error, _("NUL byte"));
	if (!g_utf8_validate_len(p, end - p, NULL))
		return fail(parser, error, _("invalid UTF-8"));

	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return TRUE;
	if (end - p > 6 && strncmp(p, "export", 6) == 0 && is_blank(p[6])) {
		p += 6;
		while (p < end && is_blank(*p))
			p++;
	}

	equals = memchr(p, '=', end - p);
	if (equals == NULL)
		return fail(parser, error, _("expected KEY=VALUE"));
	key_end = equals;
	while (key_end > p && is_blank(key_end[-1]))
		key_end--;
	if (key_end == p)
		return fail(parser, error, _("empty key"));
	key = g_strndup(p, key_end - p);
	if (!sg_envfile_key_is_valid(key)) {
		g_autofree char *message = g_strdup_printf(_("invalid key \"%s\""), key);
		return fail(parser, error, message);
	}

	p = equals + 1;
	while (p < end && is_blank(*p))
		p++;
	if (!parse_value(parser, p, end, &value, error))
		return FALSE;
	add_var(parser, g_steal_pointer(&key), value);
	return TRUE;
}

gboolean
sg_envfile_parse_data(const char *data, gsize length, const char *display_name,
                      GPtrArray **ret_vars, int *ret_line, GError **error)
{
	g_autoptr(GPtrArray) vars = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) indices = g_hash_table_new(g_str_hash, g_str_equal);
	Parser parser = { display_name != NULL ? display_name : "-", vars, indices, 0 };
	const char *p = data;
	const char *end = data + length;

	g_return_val_if_fail(data != NULL || length == 0, FALSE);

	if (length > SG_ENVFILE_MAX_BYTES) {
		if (ret_line != NULL)
			*ret_line = 0;
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, _("%s: larger than %d bytes"),
		            parser.display_name, SG_ENVFILE_MAX_BYTES);
		return FALSE;
	}
	if (length >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;

	while (p < end) {
		const char *newline = memchr(p, '\n', end - p);
		const char *line_end = newline != NULL ? newline : end;

		parser.line++;
		if (line_end > p && line_end[-1] == '\r')
			line_end--;
		if (!parse_line(&parser, p, line_end, error)) {
			if (ret_line != NULL)
				*ret_line = parser.line;
			return FALSE;
		}
		p = newline != NULL ? newline + 1 : end;
	}

	if (ret_line != NULL)
		*ret_line = 0;
	if (ret_vars != NULL)
		*ret_vars = g_steal_pointer(&vars);
	return TRUE;
}

/* Reads at most SG_ENVFILE_MAX_BYTES + 1 bytes of a regular file, so an oversized file is
 * noticed without trusting its size from stat (it may grow while we read). */
static gboolean
read_bounded(const char *path, const char *display_name, GByteArray **ret_data, GError **error)
{
	int fd = sg_fileio_open_user_file(path, display_name, error);
	int r;

	if (fd < 0)
		return FALSE;
	r = sg_fileio_read_all(fd, SG_ENVFILE_MAX_BYTES, ret_data);
	close(fd);
	if (r == -EFBIG) {
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, _("%s: larger than %d bytes"),
		            display_name, SG_ENVFILE_MAX_BYTES);
		return FALSE;
	}
	if (r < 0) {
		g_set_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG, "%s: %s", display_name,
		            g_strerror(-r));
		return FALSE;
	}
	return TRUE;
}

gboolean
sg_envfile_parse_file(const char *path, const char *display_name, GPtrArray **ret_vars,
                      int *ret_line, GError **error)
{
	g_autoptr(GByteArray) data = NULL;

	g_return_val_if_fail(path != NULL, FALSE);

	if (display_name == NULL)
		display_name = path;
	if (!read_bounded(path, display_name, &data, error)) {
		if (ret_line != NULL)
			*ret_line = 0;
		return FALSE;
	}
	return sg_envfile_parse_data((const char *)data->data, data->len, display_name, ret_vars,
	                             ret_line, error);
}
