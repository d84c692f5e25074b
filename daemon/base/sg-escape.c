/* SPDX-License-Identifier: MIT */
/* Text from outside (names, keys, paths, values) made safe to print: control bytes made visible. */
#include "config.h"

#include "base/sg-escape.h"

#include <string.h>

void
sg_escape_append(GString *out, const char *text, gssize length, SgEscapeFlags flags)
{
	const char *p = text;
	const char *end;

	g_return_if_fail(out != NULL);
	if (text == NULL)
		return;
	end = text + (length < 0 ? strlen(text) : (gsize)length);
	while (p < end) {
		guchar c = (guchar)*p;
		gunichar ch;

		if ((c >= 0x20 && c < 0x7f) || (c == '\t' && (flags & SG_ESCAPE_KEEP_TAB)) ||
		    (c == '\n' && (flags & SG_ESCAPE_KEEP_NEWLINE))) {
			g_string_append_c(out, (char)c);
			p++;
			continue;
		}
		if (c < 0x80) {
			if (c == '\n')
				g_string_append(out, "\\n");
			else if (c == '\r')
				g_string_append(out, "\\r");
			else if (c == '\t')
				g_string_append(out, "\\t");
			else
				g_string_append_printf(out, "\\x%02x", c);
			p++;
			continue;
		}
		ch = g_utf8_get_char_validated(p, end - p);
		if (ch == (gunichar)-1 || ch == (gunichar)-2) {
			g_string_append_printf(out, "\\x%02x", c);
			p++;
			continue;
		}
		if (ch <= 0x9f)
			g_string_append_printf(out, "\\u%04x", ch);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
}

static char *
escape_with(const char *text, SgEscapeFlags flags)
{
	GString *out;

	if (text == NULL)
		return NULL;
	out = g_string_sized_new(strlen(text));
	sg_escape_append(out, text, -1, flags);
	return g_string_free(out, FALSE);
}

char *
sg_escape(const char *text)
{
	return escape_with(text, SG_ESCAPE_DEFAULT);
}

char *
sg_escape_lines(const char *text)
{
	return escape_with(text, SG_ESCAPE_KEEP_NEWLINE);
}
