/* SPDX-License-Identifier: MIT */
/* One service's status: one table of fields drives its JSON, its D-Bus properties and the diff. */
#include "config.h"

#include "state/sg-service-status.h"

#include <errno.h>
#include <string.h>

#include "base/sg-json.h"

/* How a field is held, written and read. */
typedef enum {
	TYPE_STRING,  /* char *; null / "" when NULL */
	TYPE_ID,      /* gint64; null / 0 when <= 0 (pids, tasks) */
	TYPE_COUNT,   /* gint64; always a number */
	TYPE_CODE,    /* gint64; null when < 0 (an exit code) */
	TYPE_SIGNAL,  /* gint64; null / 0 when <= 0 */
	TYPE_TIME,    /* gint64 realtime usec; null / 0 when <= 0 */
	TYPE_BYTES,   /* gint64; null when < 0, 0 on the bus */
	TYPE_SECONDS, /* gint64 usec, written as seconds; null when < 0, 0 on the bus */
	TYPE_STRV,    /* char **; [] when NULL */
	TYPE_BOOL,    /* gboolean */
	TYPE_HISTORY, /* GArray of SgServiceStatusRun */
} Type;

enum {
	IN_CRON = 1 << 0,        /* a member of "cron", there for kind "cron" only */
	OMIT_WHEN_NULL = 1 << 1, /* no member at all when NULL */
};

typedef struct {
	SgServiceStatusProperty bus;
	const char *json;       /* the member of the service object; NULL: not there */
	const char *state_json; /* the member of state.json's entry; NULL: not there */
	Type type;
	gsize offset;
	guint flags;
} Field;

#define AT(member) G_STRUCT_OFFSET(SgServiceStatus, member)
#define ANNOUNCED  SG_SERVICE_STATUS_EMITS_CHANGE
#define LIVE       SG_SERVICE_STATUS_LIVE

/* In the order of the service object of `status --json`. */
static const Field fields[] = {
	{ { "Name", "s", SG_SERVICE_STATUS_CONST }, "name", NULL, TYPE_STRING, AT(name), 0 },
	{ { "Kind", "s", ANNOUNCED }, "kind", NULL, TYPE_STRING, AT(kind), 0 },
	{ { "State", "s", ANNOUNCED }, "state", "status", TYPE_STRING, AT(state), 0 },
	{ { "Pid", "u", ANNOUNCED }, "pid", "pid", TYPE_ID, AT(pid), 0 },
	{ { "Pgid", "u", ANNOUNCED }, "pgid", NULL, TYPE_ID, AT(pgid), 0 },
	{ { "StartedAt", "t", ANNOUNCED },
	  "started_at",
	  "started_at",
	  TYPE_TIME,
	  AT(started_at),
	  0 },
	{ { "RestartCount", "u", ANNOUNCED },
	  "restart_count",
	  "restart_count",
	  TYPE_COUNT,
	  AT(restart_count),
	  0 },
	{ { "ExitCode", "i", ANNOUNCED }, "exit_code", "exit_code", TYPE_CODE, AT(exit_code), 0 },
	{ { "ExitSignal", "i", ANNOUNCED },
	  "exit_signal",
	  "exit_signal",
	  TYPE_SIGNAL,
	  AT(exit_signal),
	  0 },
	{ { "RestartPolicy", "s", ANNOUNCED },
	  "restart_policy",
	  NULL,
	  TYPE_STRING,
	  AT(restart_policy),
	  0 },
	{ { "DependsOn", "as", ANNOUNCED }, "depends_on", NULL, TYPE_STRV, AT(depends_on), 0 },
	{ { "Health", "s", ANNOUNCED }, "health", NULL, TYPE_STRING, AT(health), 0 },
	{ { "MemoryBytes", "t", LIVE }, "memory_bytes", NULL, TYPE_BYTES, AT(memory_bytes), 0 },
	{ { "CpuUsec", "t", LIVE }, "cpu_seconds", NULL, TYPE_SECONDS, AT(cpu_usec), 0 },
	{ { "Tasks", "u", LIVE }, "tasks", NULL, TYPE_ID, AT(tasks), 0 },
	{ { "Command", "s", ANNOUNCED }, "command", NULL, TYPE_STRING, AT(command), 0 },
	{ { "Argv", "as", ANNOUNCED }, "argv", NULL, TYPE_STRV, AT(argv), OMIT_WHEN_NULL },
	{ { "Orphaned", "b", ANNOUNCED }, "orphaned", NULL, TYPE_BOOL, AT(orphaned), 0 },
	{ { "CronExpression", "s", ANNOUNCED },
	  "expression",
	  NULL,
	  TYPE_STRING,
	  AT(cron_expression),
	  IN_CRON },
	{ { "Timezone", "s", ANNOUNCED },
	  "timezone",
	  NULL,
	  TYPE_STRING,
	  AT(cron_timezone),
	  IN_CRON },
	{ { "NextRun", "t", ANNOUNCED }, "next_run", NULL, TYPE_TIME, AT(next_run), IN_CRON },
	{ { "CronHistory", "a(ttsi)", ANNOUNCED },
	  "history",
	  NULL,
	  TYPE_HISTORY,
	  AT(cron_history),
	  IN_CRON },
	{ { "LastResult", "s", ANNOUNCED }, NULL, NULL, TYPE_STRING, AT(last_result), 0 },
	{ { "Cause", "s", ANNOUNCED }, "cause", "cause", TYPE_STRING, AT(cause), 0 },
};

#define FIELD(status, field, ctype) G_STRUCT_MEMBER(ctype, (gpointer)(status), (field)->offset)

/* ---- the value ---- */

static void
run_clear(gpointer data)
{
	g_free(((SgServiceStatusRun *)data)->result);
}

SgServiceStatus *
sg_service_status_new(void)
{
	SgServiceStatus *status = g_new0(SgServiceStatus, 1);

	status->exit_code = -1;
	status->memory_bytes = -1;
	status->cpu_usec = -1;
	return status;
}

void
sg_service_status_free(SgServiceStatus *status)
{
	if (status == NULL)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		const Field *field = &fields[i];

		if (field->type == TYPE_STRING)
			g_free(FIELD(status, field, char *));
		else if (field->type == TYPE_STRV)
			g_strfreev(FIELD(status, field, char **));
		else if (field->type == TYPE_HISTORY && FIELD(status, field, GArray *) != NULL)
			g_array_unref(FIELD(status, field, GArray *));
	}
	g_free(status);
}

void
sg_service_status_add_run(SgServiceStatus *status, gint64 started_at, gint64 finished_at,
                          const char *result, int exit_code)
{
	SgServiceStatusRun run = { started_at, finished_at, g_strdup(result), exit_code };

	if (status->cron_history == NULL) {
		status->cron_history = g_array_new(FALSE, FALSE, sizeof(SgServiceStatusRun));
		g_array_set_clear_func(status->cron_history, run_clear);
	}
	g_array_append_val(status->cron_history, run);
}

/* ---- JSON ---- */

static void
add_history(JsonBuilder *builder, const GArray *history)
{
	json_builder_begin_array(builder);
	for (guint i = 0; history != NULL && i < history->len; i++) {
		const SgServiceStatusRun *run = &g_array_index(history, SgServiceStatusRun, i);

		json_builder_begin_object(builder);
		sg_json_builder_add_time(builder, "started_at", run->started_at);
		sg_json_builder_add_time(builder, "finished_at", run->finished_at);
		sg_json_builder_add_string_or_null(builder, "result", run->result);
		sg_json_builder_add_int_or_null(builder, "exit_code", run->exit_code,
		                                run->exit_code >= 0);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
}

static void
add_member(JsonBuilder *builder, const char *name, const SgServiceStatus *status,
           const Field *field)
{
	gint64 number = 0;

	switch (field->type) {
	case TYPE_STRING:
		sg_json_builder_add_string_or_null(builder, name, FIELD(status, field, char *));
		return;
	case TYPE_STRV: {
		char **strv = FIELD(status, field, char **);

		if (strv == NULL && (field->flags & OMIT_WHEN_NULL))
			return;
		json_builder_set_member_name(builder, name);
		json_builder_begin_array(builder);
		for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
			json_builder_add_string_value(builder, strv[i]);
		json_builder_end_array(builder);
		return;
	}
	case TYPE_BOOL:
		json_builder_set_member_name(builder, name);
		json_builder_add_boolean_value(builder, FIELD(status, field, gboolean));
		return;
	case TYPE_HISTORY:
		json_builder_set_member_name(builder, name);
		add_history(builder, FIELD(status, field, GArray *));
		return;
	default:
		break;
	}
	number = FIELD(status, field, gint64);
	switch (field->type) {
	case TYPE_TIME:
		sg_json_builder_add_time(builder, name, number);
		break;
	case TYPE_ID:
	case TYPE_SIGNAL:
		sg_json_builder_add_int_or_null(builder, name, number, number > 0);
		break;
	case TYPE_COUNT:
		sg_json_builder_add_int_or_null(builder, name, number, TRUE);
		break;
	case TYPE_CODE:
	case TYPE_BYTES:
		sg_json_builder_add_int_or_null(builder, name, number, number >= 0);
		break;
	case TYPE_SECONDS:
		json_builder_set_member_name(builder, name);
		if (number >= 0)
			json_builder_add_double_value(builder, (double)number / G_USEC_PER_SEC);
		else
			json_builder_add_null_value(builder);
		break;
	default:
		g_assert_not_reached();
	}
}

void
sg_service_status_build_json(const SgServiceStatus *status, JsonBuilder *builder)
{
	gboolean cron = g_strcmp0(status->kind, "cron") == 0;
	gboolean in_cron = FALSE;

	json_builder_begin_object(builder);
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
		const Field *field = &fields[i];

		if (field->json == NULL)
			continue;
		/* The cron fields are consecutive: one "cron" object holds them. */
		if (in_cron && !(field->flags & IN_CRON)) {
			json_builder_end_object(builder);
			in_cron = FALSE;
		}
		if (field->flags & IN_CRON) {
			if (!cron)
				continue;
			if (!in_cron) {
				json_builder_set_member_name(builder, "cron");
				json_builder_begin_object(builder);
				in_cron = TRUE;
			}
		}
		add_member(builder, field->json, status, field);
	}
	if (in_cron)
		json_builder_end_object(builder);
	json_builder_end_object(builder);
}

JsonNode *
sg_service_status_to_json(const SgServiceStatus *status)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();

	sg_service_status_build_json(status, builder);
	return json_builder_get_root(builder);
}

void
sg_service_status_build_state_json(const SgServiceStatus *status, JsonBuilder *builder)
{
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++)
		if (fields[i].state_json != NULL)
			add_member(builder, fields[i].state_json, status, &fields[i]);
}

/* ---- D-Bus ---- */

const SgServiceStatusProperty *
sg_service_status_property(guint index)
{
	return index < G_N_ELEMENTS(fields) ? &fields[index].bus : NULL;
}

static const Field *
field_of_property(const char *property)
{
	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++)
		if (strcmp(fields[i].bus.name, property) == 0)
			return &fields[i];
	return NULL;
}

static int
append_history(sd_bus_message *reply, const GArray *history)
{
	int r = sd_bus_message_open_container(reply, 'a', "(ttsi)");

	for (guint i = 0; r >= 0 && history != NULL && i < history->len; i++) {
		const SgServiceStatusRun *run = &g_array_index(history, SgServiceStatusRun, i);

		r = sd_bus_message_append(reply, "(ttsi)", (uint64_t)MAX(run->started_at, 0),
		                          (uint64_t)MAX(run->finished_at, 0),
		                          run->result != NULL ? run->result : "",
		                          (int32_t)run->exit_code);
	}
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

int
sg_service_status_append_property(const SgServiceStatus *status, const char *property,
                                  sd_bus_message *reply)
{
	const Field *field = field_of_property(property);
	gint64 number;

	if (field == NULL)
		return -ENOENT;
	switch (field->type) {
	case TYPE_STRING: {
		const char *value = FIELD(status, field, char *);
		return sd_bus_message_append(reply, "s", value != NULL ? value : "");
	}
	case TYPE_STRV: {
		char **strv = FIELD(status, field, char **);
		char *none[] = { NULL };
		return sd_bus_message_append_strv(reply, strv != NULL ? strv : none);
	}
	case TYPE_BOOL:
		return sd_bus_message_append(reply, "b", FIELD(status, field, gboolean) ? 1 : 0);
	case TYPE_HISTORY:
		return append_history(reply, FIELD(status, field, GArray *));
	default:
		break;
	}
	number = FIELD(status, field, gint64);
	switch (field->bus.signature[0]) {
	case 'u':
		return sd_bus_message_append(reply, "u", (uint32_t)CLAMP(number, 0, G_MAXUINT32));
	case 'i':
		return sd_bus_message_append(reply, "i",
		                             (int32_t)CLAMP(number, G_MININT32, G_MAXINT32));
	case 't':
		return sd_bus_message_append(reply, "t", (uint64_t)MAX(number, 0));
	default:
		g_assert_not_reached();
	}
}

static int
read_history(sd_bus_message *message, SgServiceStatus *status)
{
	uint64_t started, finished;
	const char *result;
	int32_t exit_code;
	int r = sd_bus_message_enter_container(message, 'a', "(ttsi)");

	g_clear_pointer(&status->cron_history, g_array_unref);
	while (r >= 0 && (r = sd_bus_message_read(message, "(ttsi)", &started, &finished, &result,
	                                          &exit_code)) > 0)
		sg_service_status_add_run(status, (gint64)MIN(started, (uint64_t)G_MAXINT64),
		                          (gint64)MIN(finished, (uint64_t)G_MAXINT64),
		                          result[0] != '\0' ? result : NULL, exit_code);
	return r < 0 ? r : sd_bus_message_exit_container(message);
}

/* Reads the variant the message is at into field. */
static int
read_value(sd_bus_message *message, SgServiceStatus *status, const Field *field)
{
	const char *value;
	uint32_t u;
	int32_t i;
	uint64_t t;
	int b, r;

	switch (field->type) {
	case TYPE_STRING:
		r = sd_bus_message_read_basic(message, 's', &value);
		if (r >= 0) {
			g_free(FIELD(status, field, char *));
			FIELD(status, field, char *) = value[0] != '\0' ? g_strdup(value) : NULL;
		}
		return r;
	case TYPE_STRV: {
		char **strv = NULL;

		r = sd_bus_message_read_strv(message, &strv);
		if (r < 0)
			return r;
		g_strfreev(FIELD(status, field, char **));
		/* sd-bus allocates with malloc, as GLib does. */
		FIELD(status, field, char **) = strv != NULL && strv[0] != NULL ? strv : NULL;
		if (strv != NULL && strv[0] == NULL)
			g_strfreev(strv);
		return r;
	}
	case TYPE_BOOL:
		r = sd_bus_message_read_basic(message, 'b', &b);
		if (r >= 0)
			FIELD(status, field, gboolean) = b != 0;
		return r;
	case TYPE_HISTORY:
		return read_history(message, status);
	default:
		break;
	}
	switch (field->bus.signature[0]) {
	case 'u':
		r = sd_bus_message_read_basic(message, 'u', &u);
		if (r >= 0)
			FIELD(status, field, gint64) = u;
		return r;
	case 'i':
		r = sd_bus_message_read_basic(message, 'i', &i);
		if (r >= 0)
			FIELD(status, field, gint64) = i;
		return r;
	case 't':
		r = sd_bus_message_read_basic(message, 't', &t);
		if (r >= 0)
			FIELD(status, field, gint64) = (gint64)MIN(t, (uint64_t)G_MAXINT64);
		return r;
	default:
		g_assert_not_reached();
	}
}

int
sg_service_status_read_properties(SgServiceStatus *status, sd_bus_message *message)
{
	int r = sd_bus_message_enter_container(message, 'a', "{sv}");

	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(message, 'e', "sv")) > 0) {
		const char *name, *contents = NULL;
		const Field *field;

		r = sd_bus_message_read_basic(message, 's', &name);
		if (r >= 0)
			r = sd_bus_message_peek_type(message, NULL, &contents);
		if (r < 0)
			return r;
		field = field_of_property(name);
		if (field == NULL || g_strcmp0(contents, field->bus.signature) != 0) {
			r = sd_bus_message_skip(message, "v");
		} else {
			r = sd_bus_message_enter_container(message, 'v', contents);
			if (r >= 0)
				r = read_value(message, status, field);
			if (r >= 0)
				r = sd_bus_message_exit_container(message);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(message);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	/* The bus carries 0 for no reading: a service with no process has none. */
	if (status->pid <= 0) {
		status->memory_bytes = -1;
		status->cpu_usec = -1;
	}
	return sd_bus_message_exit_container(message);
}

/* ---- the diff ---- */

static gboolean
history_equal(const GArray *a, const GArray *b)
{
	guint n = a != NULL ? a->len : 0;

	if (n != (b != NULL ? b->len : 0))
		return FALSE;
	for (guint i = 0; i < n; i++) {
		const SgServiceStatusRun *x = &g_array_index(a, SgServiceStatusRun, i);
		const SgServiceStatusRun *y = &g_array_index(b, SgServiceStatusRun, i);

		if (x->started_at != y->started_at || x->finished_at != y->finished_at ||
		    x->exit_code != y->exit_code || g_strcmp0(x->result, y->result) != 0)
			return FALSE;
	}
	return TRUE;
}

static gboolean
strv_equal(char **a, char **b)
{
	char *none[] = { NULL };

	return g_strv_equal((const char *const *)(a != NULL ? a : none),
	                    (const char *const *)(b != NULL ? b : none));
}

static gboolean
field_equal(const SgServiceStatus *a, const SgServiceStatus *b, const Field *field)
{
	switch (field->type) {
	case TYPE_STRING:
		return g_strcmp0(FIELD(a, field, char *), FIELD(b, field, char *)) == 0;
	case TYPE_STRV:
		return strv_equal(FIELD(a, field, char **), FIELD(b, field, char **));
	case TYPE_BOOL:
		return !FIELD(a, field, gboolean) == !FIELD(b, field, gboolean);
	case TYPE_HISTORY:
		return history_equal(FIELD(a, field, GArray *), FIELD(b, field, GArray *));
	default:
		return FIELD(a, field, gint64) == FIELD(b, field, gint64);
	}
}

const char **
sg_service_status_diff(const SgServiceStatus *old, const SgServiceStatus *new)
{
	GPtrArray *changed = g_ptr_array_new();

	for (gsize i = 0; i < G_N_ELEMENTS(fields); i++)
		if (fields[i].bus.change == SG_SERVICE_STATUS_EMITS_CHANGE &&
		    !field_equal(old, new, &fields[i]))
			g_ptr_array_add(changed, (gpointer)fields[i].bus.name);
	g_ptr_array_add(changed, NULL);
	return (const char **)g_ptr_array_free(changed, FALSE);
}
