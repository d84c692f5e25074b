/* SPDX-License-Identifier: MIT */
/* YAML to SgYamlNode trees with positions, on libyaml's event API: anchors, merge keys, limits. */
#include "config.h"

#include "config/sg-yaml.h"

#include "base/sg-error.h"
#include "base/sg-fileio.h"
#include "config/sg-problem.h"
#include "config/sg-yaml-tag.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <yaml.h>

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(yaml_event_t, yaml_event_delete)

typedef struct {
	SgYamlNode *node; /* NULL while the anchored collection is being read */
	guint64 size;     /* its node count once aliases inside it are expanded */
} Anchor;

typedef struct {
	yaml_parser_t parser;
	const char *data; /* the raw input, to place reader errors that only give an offset */
	gsize length;
	const char *display_name;
	GPtrArray *problems;
	GHashTable *anchors; /* name -> Anchor */
	GString *path;       /* key path of the node being read */
	guint64 total;       /* nodes so far, every alias counted as a copy of its anchor */
	gboolean failed;
} Loader;

static void
anchor_free(Anchor *anchor)
{
	sg_yaml_node_unref(anchor->node);
	g_free(anchor);
}

static void
pair_free(SgYamlPair *pair)
{
	sg_yaml_node_unref(pair->key);
	sg_yaml_node_unref(pair->value);
	g_free(pair);
}

static SgYamlPair *
pair_new(SgYamlNode *key, SgYamlNode *value)
{
	SgYamlPair *pair = g_new0(SgYamlPair, 1);

	pair->key = key;
	pair->value = value;
	return pair;
}

static int
mark_to_int(size_t value)
{
	return value >= (size_t)G_MAXINT ? G_MAXINT : (int)value + 1;
}

static SgYamlNode *
node_new(SgYamlKind kind, const yaml_mark_t *mark, const yaml_char_t *tag)
{
	SgYamlNode *node = g_new0(SgYamlNode, 1);

	node->kind = kind;
	node->line = mark_to_int(mark->line);
	node->column = mark_to_int(mark->column);
	node->tag = g_strdup((const char *)tag);
	node->refcount = 1;
	if (kind == SG_YAML_MAPPING)
		node->items = g_ptr_array_new_with_free_func((GDestroyNotify)pair_free);
	else if (kind == SG_YAML_SEQUENCE)
		node->items = g_ptr_array_new_with_free_func((GDestroyNotify)sg_yaml_node_unref);
	return node;
}

static SgYamlNode *
empty_mapping_new(void)
{
	const yaml_mark_t start = { 0 };

	return node_new(SG_YAML_MAPPING, &start, NULL);
}

static void add_problem_at(Loader *l, int line, int column, const char *format, ...)
        G_GNUC_PRINTF(4, 5);

static void
add_problem_at(Loader *l, int line, int column, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	sg_problem_list_add(l->problems, SG_PROBLEM_ERROR, l->display_name, line, column,
	                    l->path->str, "%s", message);
	l->failed = TRUE;
}

#define add_problem(l, mark, ...)                                                                  \
	add_problem_at((l), mark_to_int((mark)->line), mark_to_int((mark)->column), __VA_ARGS__)

/* Pushes a path component; returns the length to truncate back to. */
static gsize
path_push_key(Loader *l, const char *key)
{
	gsize old = l->path->len;

	if (key == NULL)
		return old;
	if (old > 0)
		g_string_append_c(l->path, '.');
	g_string_append(l->path, key);
	return old;
}

static gsize
path_push_index(Loader *l, guint index)
{
	gsize old = l->path->len;

	g_string_append_printf(l->path, "[%u]", index);
	return old;
}

static void
path_pop(Loader *l, gsize old)
{
	g_string_truncate(l->path, old);
}

/* Reader errors carry a byte offset only: count lines and characters up to it. */
static void
offset_to_position(const char *data, gsize length, gsize offset, int *ret_line, int *ret_column)
{
	gsize i = 0;
	int line = 1;
	int column = 1;

	if (length >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	for (offset = MIN(offset, length); i < offset; i++) {
		guchar c = (guchar)data[i];

		if (c == '\n' || (c == '\r' && (i + 1 >= length || data[i + 1] != '\n'))) {
			line++;
			column = 1;
		} else if (c != '\r' && (c & 0xC0) != 0x80) {
			column++;
		}
	}
	*ret_line = line;
	*ret_column = column;
}

static void
report_parser_error(Loader *l)
{
	const yaml_parser_t *p = &l->parser;
	const char *problem = p->problem != NULL ? p->problem : "unknown error";
	int line, column;

	/* Syntax errors are about the text, not a key. */
	g_string_truncate(l->path, 0);
	switch (p->error) {
	case YAML_READER_ERROR:
		offset_to_position(l->data, l->length, p->problem_offset, &line, &column);
		if (p->problem_value >= 0)
			add_problem_at(l, line, column, _("%s (0x%X)"), problem,
			               (unsigned)p->problem_value);
		else
			add_problem_at(l, line, column, "%s", problem);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context != NULL)
			add_problem(l, &p->problem_mark, _("%s (%s at line %d, column %d)"),
			            problem, p->context, mark_to_int(p->context_mark.line),
			            mark_to_int(p->context_mark.column));
		else
			add_problem(l, &p->problem_mark, "%s", problem);
		break;
	case YAML_MEMORY_ERROR:
	default:
		add_problem_at(l, 0, 0, "%s", problem);
		break;
	}
}

/* Any failure stops the parse: libyaml keeps returning empty events after an error. */
static gboolean
next_event(Loader *l, yaml_event_t *event)
{
	if (!yaml_parser_parse(&l->parser, event)) {
		report_parser_error(l);
		return FALSE;
	}
	/* libyaml only gives empty events past the end, which the callers never ask for. */
	if (event->type == YAML_NO_EVENT) {
		add_problem(l, &event->start_mark, _("unexpected end of the YAML stream"));
		return FALSE;
	}
	return TRUE;
}

static gboolean
count_nodes(Loader *l, guint64 count, const yaml_mark_t *mark, gboolean alias)
{
	l->total += count;
	if (l->total <= SG_YAML_MAX_EXPANDED_NODES)
		return TRUE;
	if (alias)
		add_problem(l, mark, _("alias expansion exceeds %d nodes"),
		            SG_YAML_MAX_EXPANDED_NODES);
	else
		add_problem(l, mark, _("the document has more than %d nodes"),
		            SG_YAML_MAX_EXPANDED_NODES);
	return FALSE;
}

static void
anchor_define(Loader *l, const yaml_char_t *name, SgYamlNode *node, guint64 size)
{
	Anchor *anchor = g_new0(Anchor, 1);

	anchor->node = node != NULL ? sg_yaml_node_ref(node) : NULL;
	anchor->size = size;
	g_hash_table_replace(l->anchors, g_strdup((const char *)name), anchor);
}

/* A collection's anchor is set when it starts (so an alias inside it is caught as recursive)
 * and filled in when it ends, unless a nested node took the name over in between. */
static void
anchor_complete(Loader *l, const yaml_char_t *name, SgYamlNode *node, guint64 size)
{
	Anchor *anchor;

	if (name == NULL)
		return;
	anchor = g_hash_table_lookup(l->anchors, name);
	if (anchor != NULL && anchor->node == NULL) {
		anchor->node = sg_yaml_node_ref(node);
		anchor->size = size;
	}
}

static gboolean
is_merge_key(const SgYamlNode *key)
{
	return key->kind == SG_YAML_SCALAR && !key->quoted && strcmp(key->value, "<<") == 0 &&
	       (key->tag == NULL || strcmp(key->tag, "tag:yaml.org,2002:merge") == 0);
}

static SgYamlNode *load_node(Loader *l, yaml_event_t *event, int depth, guint64 *ret_size);

/* An unknown tag (`!include FILE`) is refused where it is, never taken as a string. */
static void
check_tag(Loader *l, SgYamlNode *node, const yaml_mark_t *mark)
{
	g_autofree char *problem = sg_yaml_tag_check(node->tag, node->kind, node->value);

	if (problem != NULL) {
		add_problem(l, mark, "%s", problem);
	} else if (sg_yaml_tag_is_type(node->tag)) {
		/* `!!bool "true"` means the plain true. */
		g_clear_pointer(&node->tag, g_free);
		node->quoted = FALSE;
	}
}

static SgYamlNode *
load_scalar(Loader *l, yaml_event_t *event, guint64 *ret_size)
{
	const char *value = (const char *)event->data.scalar.value;
	gsize length = event->data.scalar.length;
	SgYamlNode *node;

	if (!count_nodes(l, 1, &event->start_mark, FALSE))
		return NULL;
	node = node_new(SG_YAML_SCALAR, &event->start_mark, event->data.scalar.tag);
	node->value = g_strndup(value, length);
	node->quoted = event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	check_tag(l, node, &event->start_mark);
	/* "\0" escapes would silently cut the string short everywhere it goes. */
	if (memchr(value, '\0', length) != NULL)
		add_problem(l, &event->start_mark, _("NUL characters are not allowed in strings"));
	if (event->data.scalar.anchor != NULL)
		anchor_define(l, event->data.scalar.anchor, node, 1);
	*ret_size = 1;
	return node;
}

static SgYamlNode *
load_alias(Loader *l, yaml_event_t *event, guint64 *ret_size)
{
	const char *name = (const char *)event->data.alias.anchor;
	Anchor *anchor = g_hash_table_lookup(l->anchors, name);

	if (anchor == NULL || anchor->node == NULL) {
		if (anchor == NULL)
			add_problem(l, &event->start_mark, _("undefined alias \"%s\""), name);
		else
			add_problem(l, &event->start_mark,
			            _("alias \"%s\" refers to a node that contains it"), name);
		/* A stand-in so the rest of the document is still checked. */
		if (!count_nodes(l, 1, &event->start_mark, FALSE))
			return NULL;
		*ret_size = 1;
		return node_new(SG_YAML_MAPPING, &event->start_mark, NULL);
	}
	if (!count_nodes(l, anchor->size, &event->start_mark, TRUE))
		return NULL;
	*ret_size = anchor->size;
	return sg_yaml_node_ref(anchor->node);
}

static gboolean
check_depth(Loader *l, int level, const yaml_mark_t *mark)
{
	if (level <= SG_YAML_MAX_DEPTH)
		return TRUE;
	add_problem(l, mark, _("nesting deeper than %d levels"), SG_YAML_MAX_DEPTH);
	return FALSE;
}

static SgYamlNode *
load_sequence(Loader *l, yaml_event_t *event, int depth, guint64 *ret_size)
{
	const yaml_char_t *anchor = event->data.sequence_start.anchor;
	g_autoptr(SgYamlNode) node = NULL;
	guint64 size = 1;
	int level = depth + 1;

	if (!check_depth(l, level, &event->start_mark) ||
	    !count_nodes(l, 1, &event->start_mark, FALSE))
		return NULL;
	node = node_new(SG_YAML_SEQUENCE, &event->start_mark, event->data.sequence_start.tag);
	check_tag(l, node, &event->start_mark);
	if (anchor != NULL)
		anchor_define(l, anchor, NULL, 0);

	for (;;) {
		g_auto(yaml_event_t) item_event = { 0 };
		SgYamlNode *item;
		guint64 item_size = 0;
		gsize old;

		if (!next_event(l, &item_event))
			return NULL;
		if (item_event.type == YAML_SEQUENCE_END_EVENT)
			break;
		old = path_push_index(l, node->items->len);
		item = load_node(l, &item_event, level, &item_size);
		path_pop(l, old);
		if (item == NULL)
			return NULL;
		g_ptr_array_add(node->items, item);
		size += item_size;
	}

	anchor_complete(l, anchor, node, size);
	*ret_size = size;
	return g_steal_pointer(&node);
}

/* Collects the mappings a "<<" value names, in precedence order. */
static void
add_merge_sources(Loader *l, SgYamlNode *value, GPtrArray *sources)
{
	if (value->kind == SG_YAML_MAPPING) {
		g_ptr_array_add(sources, sg_yaml_node_ref(value));
		return;
	}
	if (value->kind != SG_YAML_SEQUENCE) {
		add_problem_at(l, value->line, value->column,
		               _("a merge key (<<) takes a mapping or a list of mappings"));
		return;
	}
	for (guint i = 0; i < value->items->len; i++) {
		SgYamlNode *item = g_ptr_array_index(value->items, i);

		if (item->kind == SG_YAML_MAPPING) {
			g_ptr_array_add(sources, sg_yaml_node_ref(item));
		} else {
			gsize old = path_push_index(l, i);

			add_problem_at(l, item->line, item->column,
			               _("a merge key (<<) takes a mapping or a list of mappings"));
			path_pop(l, old);
		}
	}
}

/* Inserts the merged pairs where "<<" was written; written keys and earlier sources win. */
static void
resolve_merge(SgYamlNode *node, GHashTable *written, GPtrArray *sources, guint merge_at)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) merged = g_ptr_array_new();
	gpointer *old_items;
	gsize n_old = 0;

	for (guint s = 0; s < sources->len; s++) {
		const SgYamlNode *source = g_ptr_array_index(sources, s);

		for (guint i = 0; i < source->items->len; i++) {
			const SgYamlPair *pair = g_ptr_array_index(source->items, i);
			const char *key = pair->key->value;

			if (g_hash_table_contains(written, key) || g_hash_table_contains(seen, key))
				continue;
			g_hash_table_add(seen, (gpointer)key);
			g_ptr_array_add(merged, pair_new(sg_yaml_node_ref(pair->key),
			                                 sg_yaml_node_ref(pair->value)));
		}
	}

	old_items = g_ptr_array_steal(node->items, &n_old);
	for (gsize i = 0; i < merge_at; i++)
		g_ptr_array_add(node->items, old_items[i]);
	for (guint i = 0; i < merged->len; i++)
		g_ptr_array_add(node->items, g_ptr_array_index(merged, i));
	for (gsize i = merge_at; i < n_old; i++)
		g_ptr_array_add(node->items, old_items[i]);
	g_free(old_items);
}

static SgYamlNode *
load_mapping(Loader *l, yaml_event_t *event, int depth, guint64 *ret_size)
{
	const yaml_char_t *anchor = event->data.mapping_start.anchor;
	g_autoptr(SgYamlNode) node = NULL;
	g_autoptr(SgYamlNode) merge_key = NULL;
	/* Written keys by value, pointing at the key node that first used them. */
	g_autoptr(GHashTable) written = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) sources =
	        g_ptr_array_new_with_free_func((GDestroyNotify)sg_yaml_node_unref);
	guint merge_at = 0;
	guint64 size = 1;
	int level = depth + 1;

	if (!check_depth(l, level, &event->start_mark) ||
	    !count_nodes(l, 1, &event->start_mark, FALSE))
		return NULL;
	node = node_new(SG_YAML_MAPPING, &event->start_mark, event->data.mapping_start.tag);
	check_tag(l, node, &event->start_mark);
	if (anchor != NULL)
		anchor_define(l, anchor, NULL, 0);

	for (;;) {
		g_auto(yaml_event_t) key_event = { 0 };
		g_auto(yaml_event_t) value_event = { 0 };
		g_autoptr(SgYamlNode) key = NULL;
		g_autoptr(SgYamlNode) value = NULL;
		const SgYamlNode *first;
		guint64 key_size = 0, value_size = 0;
		gsize old;

		if (!next_event(l, &key_event))
			return NULL;
		if (key_event.type == YAML_MAPPING_END_EVENT)
			break;
		key = load_node(l, &key_event, level, &key_size);
		if (key == NULL || !next_event(l, &value_event))
			return NULL;
		old = path_push_key(l, key->kind == SG_YAML_SCALAR ? key->value : NULL);
		value = load_node(l, &value_event, level, &value_size);
		path_pop(l, old);
		if (value == NULL)
			return NULL;
		size += key_size + value_size;

		if (key->kind != SG_YAML_SCALAR) {
			add_problem_at(l, key->line, key->column, _("keys must be scalars"));
			continue;
		}
		old = path_push_key(l, key->value);
		if (is_merge_key(key)) {
			if (merge_key != NULL) {
				add_problem_at(
				        l, key->line, key->column,
				        _("duplicate key \"%s\" (first at line %d, column %d)"),
				        key->value, merge_key->line, merge_key->column);
			} else {
				merge_key = sg_yaml_node_ref(key);
				merge_at = node->items->len;
				add_merge_sources(l, value, sources);
			}
		} else if ((first = g_hash_table_lookup(written, key->value)) != NULL) {
			add_problem_at(l, key->line, key->column,
			               _("duplicate key \"%s\" (first at line %d, column %d)"),
			               key->value, first->line, first->column);
		} else {
			g_hash_table_insert(written, key->value, key);
			g_ptr_array_add(node->items,
			                pair_new(g_steal_pointer(&key), g_steal_pointer(&value)));
		}
		path_pop(l, old);
	}

	if (sources->len > 0)
		resolve_merge(node, written, sources, merge_at);
	anchor_complete(l, anchor, node, size);
	*ret_size = size;
	return g_steal_pointer(&node);
}

/* Reads the node that event starts; NULL only when the parse stops. depth counts the
 * collections around it. */
static SgYamlNode *
load_node(Loader *l, yaml_event_t *event, int depth, guint64 *ret_size)
{
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		return load_scalar(l, event, ret_size);
	case YAML_ALIAS_EVENT:
		return load_alias(l, event, ret_size);
	case YAML_SEQUENCE_START_EVENT:
		return load_sequence(l, event, depth, ret_size);
	case YAML_MAPPING_START_EVENT:
		return load_mapping(l, event, depth, ret_size);
	default:
		/* libyaml only produces well-formed event streams. */
		add_problem(l, &event->start_mark, _("unexpected YAML event %d"), (int)event->type);
		return NULL;
	}
}

static SgYamlNode *
load_stream(Loader *l)
{
	g_auto(yaml_event_t) stream_start = { 0 };
	g_auto(yaml_event_t) document_start = { 0 };
	g_auto(yaml_event_t) root_event = { 0 };
	g_auto(yaml_event_t) document_end = { 0 };
	g_auto(yaml_event_t) after = { 0 };
	g_autoptr(SgYamlNode) root = NULL;
	guint64 size = 0;

	if (!next_event(l, &stream_start) || !next_event(l, &document_start))
		return NULL;
	if (document_start.type == YAML_STREAM_END_EVENT)
		return empty_mapping_new();

	if (!next_event(l, &root_event))
		return NULL;
	root = load_node(l, &root_event, 0, &size);
	if (root == NULL || !next_event(l, &document_end) || !next_event(l, &after))
		return NULL;
	if (after.type == YAML_DOCUMENT_START_EVENT) {
		g_string_truncate(l->path, 0);
		add_problem(l, &after.start_mark, _("only one YAML document is allowed"));
		return NULL;
	}

	/* "---" alone: libyaml gives an empty plain scalar where we promise an empty mapping. */
	if (root->kind == SG_YAML_SCALAR && !root->quoted && root->tag == NULL &&
	    root->value[0] == '\0')
		return empty_mapping_new();
	return g_steal_pointer(&root);
}

static void
add_size_problem(const char *display_name, GPtrArray *problems, guint64 size)
{
	if (size > 0)
		sg_problem_list_add(problems, SG_PROBLEM_ERROR, display_name, 0, 0, "",
		                    _("the file is %llu bytes, more than the limit of %d bytes"),
		                    (unsigned long long)size, SG_YAML_MAX_FILE_BYTES);
	else
		sg_problem_list_add(problems, SG_PROBLEM_ERROR, display_name, 0, 0, "",
		                    _("the file is larger than the limit of %d bytes"),
		                    SG_YAML_MAX_FILE_BYTES);
}

SgYamlNode *
sg_yaml_load_data(const char *data, gsize length, const char *display_name, GPtrArray *problems)
{
	Loader l = { 0 };
	g_autoptr(SgYamlNode) root = NULL;

	g_return_val_if_fail(data != NULL || length == 0, NULL);
	g_return_val_if_fail(problems != NULL, NULL);

	if (length > SG_YAML_MAX_FILE_BYTES) {
		add_size_problem(display_name, problems, length);
		return NULL;
	}
	if (!yaml_parser_initialize(&l.parser))
		g_error("libyaml: cannot allocate a parser");
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)(data != NULL ? data : ""),
	                             length);
	l.data = data;
	l.length = length;
	l.display_name = display_name;
	l.problems = problems;
	l.anchors =
	        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)anchor_free);
	l.path = g_string_new(NULL);

	root = load_stream(&l);

	g_string_free(l.path, TRUE);
	g_hash_table_unref(l.anchors);
	yaml_parser_delete(&l.parser);
	if (l.failed || root == NULL)
		return NULL;
	return g_steal_pointer(&root);
}

/* Reads at most SG_YAML_MAX_FILE_BYTES + 1 bytes of a regular file, so a growing file cannot
 * make us allocate without bound. Returns 0, -EFBIG (ret_size set when known), -ENXIO for
 * anything but a regular file (error set) or -errno. */
static int
read_capped(const char *path, const char *display_name, GByteArray **ret_data, guint64 *ret_size,
            GError **error)
{
	struct stat st;
	int fd, r;

	*ret_size = 0;
	fd = sg_fileio_open_user_file(path, display_name, error);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) == 0 && st.st_size > SG_YAML_MAX_FILE_BYTES) {
		close(fd);
		*ret_size = (guint64)st.st_size;
		return -EFBIG;
	}
	r = sg_fileio_read_all(fd, SG_YAML_MAX_FILE_BYTES, ret_data);
	close(fd);
	return r;
}

SgYamlNode *
sg_yaml_load_file(const char *path, const char *display_name, GPtrArray *problems, GError **error)
{
	g_autoptr(GByteArray) data = NULL;
	g_autoptr(GError) open_error = NULL;
	guint64 size = 0;
	int r;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(problems != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (display_name == NULL)
		display_name = path;
	r = read_capped(path, display_name, &data, &size, &open_error);
	if (r == -EFBIG) {
		add_size_problem(display_name, problems, size);
		return NULL;
	}
	/* A FIFO or a directory: "FILE: not a regular file (a FIFO)". */
	if (r == -ENXIO) {
		g_propagate_error(error, g_steal_pointer(&open_error));
		return NULL;
	}
	if (r < 0) {
		sg_error_set_errno(error, r, _("cannot read %s"), display_name);
		return NULL;
	}
	return sg_yaml_load_data((const char *)data->data, data->len, display_name, problems);
}

SgYamlNode *
sg_yaml_node_ref(SgYamlNode *node)
{
	g_return_val_if_fail(node != NULL, NULL);
	g_return_val_if_fail(node->refcount > 0, NULL);

	node->refcount++;
	return node;
}

void
sg_yaml_node_unref(SgYamlNode *node)
{
	if (node == NULL)
		return;
	g_return_if_fail(node->refcount > 0);
	if (--node->refcount > 0)
		return;
	g_free(node->tag);
	g_free(node->value);
	if (node->items != NULL)
		g_ptr_array_unref(node->items);
	g_free(node);
}

gboolean
sg_yaml_node_is_null(const SgYamlNode *node)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (node == NULL || node->kind != SG_YAML_SCALAR || node->quoted || node->tag != NULL)
		return FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS(nulls); i++) {
		if (strcmp(node->value, nulls[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

SgYamlPair *
sg_yaml_mapping_lookup(const SgYamlNode *mapping, const char *key)
{
	g_return_val_if_fail(key != NULL, NULL);

	if (mapping == NULL || mapping->kind != SG_YAML_MAPPING)
		return NULL;
	for (guint i = 0; i < mapping->items->len; i++) {
		SgYamlPair *pair = g_ptr_array_index(mapping->items, i);

		if (strcmp(pair->key->value, key) == 0)
			return pair;
	}
	return NULL;
}

const char *
sg_yaml_kind_to_string(SgYamlKind kind)
{
	switch (kind) {
	case SG_YAML_SCALAR:
		return "scalar";
	case SG_YAML_MAPPING:
		return "mapping";
	case SG_YAML_SEQUENCE:
		return "sequence";
	default:
		return "unknown";
	}
}
