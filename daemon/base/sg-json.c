/* SPDX-License-Identifier: MIT */
/* JSON shared by sysgd and sysg: the one reader with limits, nullable members, RFC 3339 times. */
#include "config.h"

#include "base/sg-json.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/sg-error.h"

/* ---- the reader ---- */

/*
 * Numbers with a fraction or an exponent: json-glib writes them with "%.17g" and appends
 * ".0" when there is no '.', so 1e-300 comes back as "1e-300.0" and 1e17 as "1e+17.0",
 * which are not JSON. Between these bounds "%.17g" never uses an exponent; 2^53 is also
 * where doubles stop holding every integer (I-JSON's range, RFC 7493).
 */
#define MIN_FRACTIONAL_MAGNITUDE 0.0001
#define MAX_FRACTIONAL_MAGNITUDE 9007199254740992.0 /* 2^53 */

typedef struct {
	const char *text;
	gsize length;
	gsize pos;
	GError **error;
} Scan;

/* Sets the error at byte offset of the text ("line L, column C: ..."); returns FALSE. */
static gboolean scan_fail(Scan *scan, gsize offset, SgErrorCode code, const char *format, ...)
        G_GNUC_PRINTF(4, 5);

static gboolean
scan_fail(Scan *scan, gsize offset, SgErrorCode code, const char *format, ...)
{
	g_autofree char *message = NULL;
	const char *line_start = scan->text;
	guint line = 1;
	va_list args;

	for (gsize i = 0; i < offset; i++) {
		if (scan->text[i] == '\n') {
			line++;
			line_start = scan->text + i + 1;
		}
	}
	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	/* The text before offset is valid UTF-8: columns count characters. */
	g_set_error(scan->error, SG_ERROR, code, _("line %u, column %ld: %s"), line,
	            g_utf8_strlen(line_start, scan->text + offset - line_start) + 1, message);
	return FALSE;
}

static int
hex_value(char c)
{
	return g_ascii_xdigit_value(c);
}

/* The 4 hex digits at offset as a code unit, or -1. */
static int
scan_hex4(Scan *scan, gsize offset)
{
	int value = 0;

	if (offset + 4 > scan->length)
		return -1;
	for (gsize i = offset; i < offset + 4; i++) {
		int digit = hex_value(scan->text[i]);
		if (digit < 0)
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

/* A \uXXXX escape (a surrogate pair counts as one) at pos; advances past it. */
static gboolean
scan_unicode_escape(Scan *scan, gsize *pos)
{
	gsize at = *pos;
	int unit = scan_hex4(scan, at + 2);

	if (unit < 0)
		return scan_fail(scan, at, SG_ERROR_CORRUPT, _("invalid \\u escape"));
	if (unit == 0)
		return scan_fail(scan, at, SG_ERROR_CORRUPT, _("\\u0000 in a string"));
	if (unit >= 0xdc00 && unit <= 0xdfff)
		return scan_fail(scan, at, SG_ERROR_CORRUPT, _("unpaired surrogate in a string"));
	*pos = at + 6;
	if (unit >= 0xd800 && unit <= 0xdbff) {
		int low = *pos + 1 < scan->length && scan->text[*pos] == '\\' &&
		                          scan->text[*pos + 1] == 'u'
		                  ? scan_hex4(scan, *pos + 2)
		                  : -1;
		if (low < 0xdc00 || low > 0xdfff)
			return scan_fail(scan, at, SG_ERROR_CORRUPT,
			                 _("unpaired surrogate in a string"));
		*pos += 6;
	}
	return TRUE;
}

/* The string whose opening quote is at scan->pos; advances past its closing quote. */
static gboolean
scan_string(Scan *scan)
{
	gsize i = scan->pos + 1;

	while (i < scan->length) {
		guchar c = (guchar)scan->text[i];

		if (c == '"') {
			scan->pos = i + 1;
			return TRUE;
		}
		if (c < 0x20)
			return scan_fail(scan, i, SG_ERROR_CORRUPT,
			                 _("control character in a string"));
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= scan->length)
			break;
		switch (scan->text[i + 1]) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			i += 2;
			break;
		case 'u':
			if (!scan_unicode_escape(scan, &i))
				return FALSE;
			break;
		default:
			return scan_fail(scan, i, SG_ERROR_CORRUPT,
			                 _("invalid escape in a string"));
		}
	}
	return scan_fail(scan, scan->pos, SG_ERROR_CORRUPT, _("unterminated string"));
}

static gsize
skip_digits(Scan *scan, gsize i)
{
	while (i < scan->length && g_ascii_isdigit(scan->text[i]))
		i++;
	return i;
}

/* The number at scan->pos, in strict RFC 8259 form and in range; advances past it. */
static gboolean
scan_number(Scan *scan)
{
	gsize start = scan->pos;
	gsize i = start;
	gboolean integral = TRUE;
	g_autofree char *token = NULL;

	if (scan->text[i] == '-')
		i++;
	if (i < scan->length && scan->text[i] == '0')
		i++;
	else if (i < scan->length && g_ascii_isdigit(scan->text[i]))
		i = skip_digits(scan, i);
	else
		return scan_fail(scan, start, SG_ERROR_CORRUPT, _("invalid number"));
	if (i < scan->length && scan->text[i] == '.') {
		integral = FALSE;
		if (skip_digits(scan, i + 1) == i + 1)
			return scan_fail(scan, start, SG_ERROR_CORRUPT, _("invalid number"));
		i = skip_digits(scan, i + 1);
	}
	if (i < scan->length && (scan->text[i] == 'e' || scan->text[i] == 'E')) {
		integral = FALSE;
		i++;
		if (i < scan->length && (scan->text[i] == '+' || scan->text[i] == '-'))
			i++;
		if (skip_digits(scan, i) == i)
			return scan_fail(scan, start, SG_ERROR_CORRUPT, _("invalid number"));
		i = skip_digits(scan, i);
	}
	/* "01", "1.2.3", "1e5e5": json-glib would read what strict JSON refuses. */
	if (i < scan->length && strchr("0123456789.eE+-", scan->text[i]) != NULL &&
	    scan->text[i] != '\0')
		return scan_fail(scan, start, SG_ERROR_CORRUPT, _("invalid number"));

	token = g_strndup(scan->text + start, i - start);
	if (integral) {
		gint64 value;

		if (!g_ascii_string_to_signed(token, 10, G_MININT64, G_MAXINT64, &value, NULL))
			return scan_fail(scan, start, SG_ERROR_CORRUPT,
			                 _("integer out of range (64 bits)"));
	} else {
		double value = g_ascii_strtod(token, NULL);

		if (!isfinite(value) || fabs(value) > MAX_FRACTIONAL_MAGNITUDE ||
		    (value != 0 && fabs(value) < MIN_FRACTIONAL_MAGNITUDE))
			return scan_fail(scan, start, SG_ERROR_CORRUPT, _("number out of range"));
	}
	scan->pos = i;
	return TRUE;
}

static gboolean
scan_literal(Scan *scan)
{
	static const char *const literals[] = { "true", "false", "null" };

	for (guint i = 0; i < G_N_ELEMENTS(literals); i++) {
		gsize len = strlen(literals[i]);

		if (scan->length - scan->pos >= len &&
		    memcmp(scan->text + scan->pos, literals[i], len) == 0) {
			scan->pos += len;
			return TRUE;
		}
	}
	return scan_fail(scan, scan->pos, SG_ERROR_CORRUPT, _("unexpected word"));
}

static gboolean
scan_unexpected(Scan *scan)
{
	guchar c = (guchar)scan->text[scan->pos];

	if (c < 0x80 && g_ascii_isprint(c))
		return scan_fail(scan, scan->pos, SG_ERROR_CORRUPT, _("unexpected character '%c'"),
		                 c);
	return scan_fail(scan, scan->pos, SG_ERROR_CORRUPT, _("unexpected character U+%04X"),
	                 (unsigned)g_utf8_get_char(scan->text + scan->pos));
}

/*
 * The linear pre-scan: tokens as RFC 8259 has them, their nesting depth, number ranges.
 * The grammar (what may follow what) is left to json-glib, which recurses only as deep as
 * the brackets counted here, since both agree where every string starts and ends.
 */
static gboolean
scan_text(Scan *scan)
{
	guint depth = 0;
	gboolean done = FALSE; /* one whole value was seen */

	if (scan->length >= 3 && memcmp(scan->text, "\xef\xbb\xbf", 3) == 0)
		scan->pos = 3;
	while (scan->pos < scan->length) {
		char c = scan->text[scan->pos];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			scan->pos++;
			continue;
		}
		/* json-glib would ignore what follows "[1]": one line, one request. */
		if (done)
			return scan_fail(scan, scan->pos, SG_ERROR_CORRUPT,
			                 _("text after the JSON value"));
		switch (c) {
		case ',':
		case ':':
			scan->pos++;
			break;
		case '[':
		case '{':
			if (++depth > SG_JSON_MAX_DEPTH)
				return scan_fail(scan, scan->pos, SG_ERROR_LIMIT,
				                 _("nested deeper than %d levels"),
				                 SG_JSON_MAX_DEPTH);
			scan->pos++;
			break;
		case ']':
		case '}':
			/* A closer too many is json-glib's to report. */
			if (depth > 0)
				depth--;
			scan->pos++;
			break;
		case '"':
			if (!scan_string(scan))
				return FALSE;
			break;
		case '-':
		case '0' ... '9':
			if (!scan_number(scan))
				return FALSE;
			break;
		case 't':
		case 'f':
		case 'n':
			if (!scan_literal(scan))
				return FALSE;
			break;
		default:
			return scan_unexpected(scan);
		}
		done = depth == 0;
	}
	return TRUE;
}

/* json-glib's "<data>:L:C: Parse error: message" as "line L, column C: message". */
static void
set_parse_error(GError **error, const GError *parse_error)
{
	/* It quotes the token cut at a byte count, maybe inside a character: answers must be
	 * UTF-8. */
	g_autofree char *text = g_utf8_make_valid(parse_error->message, -1);
	unsigned line = 0;
	unsigned column = 0;
	int consumed = 0;
	const char *message;

	if (sscanf(text, "<data>:%u:%u: %n", &line, &column, &consumed) < 2 || consumed == 0) {
		g_set_error_literal(error, SG_ERROR, SG_ERROR_CORRUPT, text);
		return;
	}
	message = text + consumed;
	if (g_str_has_prefix(message, "Parse error: "))
		message += strlen("Parse error: ");
	g_set_error(error, SG_ERROR, SG_ERROR_CORRUPT, _("line %u, column %u: %s"), line, column,
	            message);
}

JsonNode *
sg_json_parse(const char *text, gsize length, gsize max_bytes, SgJsonParseFlags flags,
              GError **error)
{
	Scan scan = { text, length, 0, error };
	g_autoptr(JsonParser) parser = NULL;
	g_autoptr(GError) parse_error = NULL;
	const char *valid_end;
	JsonNode *root;

	g_return_val_if_fail(text != NULL || length == 0, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (length > max_bytes) {
		g_set_error(error, SG_ERROR, SG_ERROR_LIMIT,
		            _("larger than %" G_GSIZE_FORMAT " bytes"), max_bytes);
		return NULL;
	}
	if (!g_utf8_validate_len(text, length, &valid_end)) {
		scan_fail(&scan, (gsize)(valid_end - text), SG_ERROR_CORRUPT, "%s",
		          *valid_end == '\0' ? _("NUL byte") : _("not valid UTF-8"));
		return NULL;
	}
	if (!scan_text(&scan))
		return NULL;

	parser = (flags & SG_JSON_PARSE_IMMUTABLE) != 0 ? json_parser_new_immutable()
	                                                : json_parser_new();
	if (!json_parser_load_from_data(parser, text, (gssize)length, &parse_error)) {
		set_parse_error(error, parse_error);
		return NULL;
	}
	root = json_parser_steal_root(parser);
	if (root == NULL)
		g_set_error_literal(error, SG_ERROR, SG_ERROR_CORRUPT, _("empty: no JSON value"));
	return root;
}

char *
sg_json_format_time(gint64 usec)
{
	g_autoptr(GDateTime) time = NULL;
	g_autoptr(GDateTime) exact = NULL;

	if (usec <= 0)
		return NULL;
	time = g_date_time_new_from_unix_utc(usec / G_USEC_PER_SEC);
	if (time == NULL)
		return NULL;
	exact = g_date_time_add(time, usec % G_USEC_PER_SEC);
	return g_date_time_format(exact, "%Y-%m-%dT%H:%M:%S.%fZ");
}

void
sg_json_builder_add_string_or_null(JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name(builder, name);
	if (value != NULL)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

void
sg_json_builder_add_int_or_null(JsonBuilder *builder, const char *name, gint64 value,
                                gboolean present)
{
	json_builder_set_member_name(builder, name);
	if (present)
		json_builder_add_int_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

void
sg_json_builder_add_time(JsonBuilder *builder, const char *name, gint64 usec)
{
	g_autofree char *text = sg_json_format_time(usec);

	sg_json_builder_add_string_or_null(builder, name, text);
}

void
sg_json_object_set_string_or_null(JsonObject *object, const char *name, const char *value)
{
	if (value != NULL)
		json_object_set_string_member(object, name, value);
	else
		json_object_set_null_member(object, name);
}

void
sg_json_object_copy_member(JsonObject *to, JsonObject *from, const char *name)
{
	JsonNode *node = from != NULL ? json_object_get_member(from, name) : NULL;

	if (node != NULL)
		json_object_set_member(to, name, json_node_copy(node));
	else
		json_object_set_null_member(to, name);
}

JsonObject *
sg_json_object_get_object(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

JsonObject *
sg_json_root_get_object(JsonNode *root, const char *name)
{
	return root != NULL && JSON_NODE_HOLDS_OBJECT(root)
	               ? sg_json_object_get_object(json_node_get_object(root), name)
	               : NULL;
}

const char *
sg_json_object_get_string(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}
