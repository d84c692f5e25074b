/* SPDX-License-Identifier: MIT */
/* Text output of sysg: status blocks in the style of systemctl, colours, times and sizes. */
#include "config.h"

#include "sg-output.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "base/sg-escape.h"
#include "base/sg-json.h"
#include "process/sg-ownership.h"
#include "process/sg-proctree.h"
#include "state/sg-service-state.h"

#define COLOR_RESET  "\033[0m"
#define COLOR_BOLD   "\033[1m"
#define COLOR_RED    "\033[31m"
#define COLOR_GREEN  "\033[32m"
#define COLOR_YELLOW "\033[33m"
#define COLOR_CYAN   "\033[36m"
#define COLOR_GREY   "\033[90m"

/* Longest command line shown for one process of a tree. */
#define MAX_COMMAND_CHARS 200

gboolean
sg_output_use_color(FILE *stream)
{
	const char *no_color = g_getenv("NO_COLOR");

	if (no_color != NULL && no_color[0] != '\0')
		return FALSE;
	return isatty(fileno(stream));
}

char *
sg_output_format_span(gint64 seconds)
{
	gint64 days, hours, minutes;

	if (seconds < 0)
		seconds = 0;
	days = seconds / 86400;
	hours = seconds % 86400 / 3600;
	minutes = seconds % 3600 / 60;
	seconds %= 60;
	if (days > 0 && hours > 0)
		return g_strdup_printf(_("%d days %dh"), (int)days, (int)hours);
	if (days > 0)
		return g_strdup_printf(_("%d days"), (int)days);
	if (hours > 0)
		return g_strdup_printf("%" G_GINT64_FORMAT "h %" G_GINT64_FORMAT "min", hours,
		                       minutes);
	if (minutes > 0)
		return g_strdup_printf("%" G_GINT64_FORMAT "min %" G_GINT64_FORMAT "s", minutes,
		                       seconds);
	return g_strdup_printf("%" G_GINT64_FORMAT "s", seconds);
}

char *
sg_output_format_bytes(gint64 bytes)
{
	static const char units[] = "KMGTP";
	double value = (double)bytes;
	int unit = -1;

	if (bytes < 1024)
		return g_strdup_printf("%" G_GINT64_FORMAT "B", bytes);
	while (value >= 1024.0 && unit < (int)sizeof(units) - 2) {
		value /= 1024.0;
		unit++;
	}
	return g_strdup_printf("%.1f%c", value, units[unit]);
}

static GDateTime *
parse_time(const char *rfc3339)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();

	if (rfc3339 == NULL)
		return NULL;
	return g_date_time_new_from_iso8601(rfc3339, utc);
}

char *
sg_output_format_time(const char *rfc3339)
{
	g_autoptr(GDateTime) time = parse_time(rfc3339);
	g_autoptr(GDateTime) utc = NULL;

	if (time == NULL)
		return NULL;
	utc = g_date_time_to_utc(time);
	return g_date_time_format(utc, "%Y-%m-%d %H:%M:%S UTC");
}

char *
sg_output_now_rfc3339(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();

	return g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
}

void
sg_output_print_json(FILE *stream, JsonNode *node)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	g_autofree char *text = NULL;

	json_generator_set_root(generator, node);
	json_generator_set_pretty(generator, TRUE);
	json_generator_set_indent(generator, 2);
	text = json_generator_to_data(generator, NULL);
	fprintf(stream, "%s\n", text);
}

/* Members that may be absent or null. */
static gboolean
get_number(JsonObject *object, const char *name, double *ret_value)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;
	GType type;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return FALSE;
	type = json_node_get_value_type(node);
	if (type == G_TYPE_INT64)
		*ret_value = (double)json_node_get_int(node);
	else if (type == G_TYPE_DOUBLE)
		*ret_value = json_node_get_double(node);
	else
		return FALSE;
	return TRUE;
}

static gboolean
get_int(JsonObject *object, const char *name, gint64 *ret_value)
{
	double value;

	if (!get_number(object, name, &value))
		return FALSE;
	*ret_value = (gint64)value;
	return TRUE;
}

static JsonArray *
get_array(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

static JsonObject *
get_object(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static gboolean
get_bool(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_BOOLEAN && json_node_get_boolean(node);
}

GPtrArray *
sg_output_scan_processes(const char *state_id)
{
	return sg_proctree_scan_all(state_id);
}

GPtrArray *
sg_output_service_processes(GPtrArray *scan, JsonObject *status)
{
	JsonArray *services = get_array(status, "services");
	guint n = services != NULL ? json_array_get_length(services) : 0;
	g_autofree SgOwnedService *owned = g_new0(SgOwnedService, MAX(n, 1));
	g_autofree guint *owners = NULL;
	GPtrArray *result = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);

	for (guint k = 0; k < n; k++) {
		JsonObject *service = json_array_get_object_element(services, k);
		gint64 pid = 0;

		owned[k].name = sg_json_object_get_string(service, "name");
		if (owned[k].name == NULL)
			owned[k].name = "";
		/* The PID status shows is the supervisor's word, or was checked against the
		 * record (sysg status with no supervisor). */
		if (get_int(service, "pid", &pid) && pid > 0 && pid <= G_MAXINT)
			owned[k].leader = (pid_t)pid;
		owned[k].leader_vouched = TRUE;
		g_ptr_array_add(result, g_ptr_array_new());
	}
	if (scan == NULL)
		return result;
	owners = sg_ownership_assign(scan, owned, n, SG_OWNERSHIP_NONE);
	for (guint i = 0; i < scan->len; i++) {
		SgProcInfo *info = scan->pdata[i];
		GPtrArray *mine;

		if (owners[i] == 0)
			continue;
		mine = result->pdata[owners[i] - 1];
		if (info->pid == owned[owners[i] - 1].leader)
			g_ptr_array_insert(mine, 0, info);
		else
			g_ptr_array_add(mine, info);
	}
	return result;
}

char *
sg_output_process_command(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
	g_autofree char *contents = NULL;
	g_autofree char *escaped = NULL;
	gsize length = 0;

	if (!g_file_get_contents(path, &contents, &length, NULL))
		return NULL;
	if (length == 0) {
		g_autofree char *comm_path = g_strdup_printf("/proc/%d/comm", (int)pid);
		g_autofree char *comm = NULL;

		if (!g_file_get_contents(comm_path, &comm, NULL, NULL))
			return NULL;
		escaped = sg_escape(g_strstrip(comm));
		return g_strdup_printf("[%s]", escaped);
	}
	for (gsize i = 0; i + 1 < length; i++)
		if (contents[i] == '\0')
			contents[i] = ' ';
	/* A process title (PostgreSQL's) pads itself with blanks. */
	g_strchomp(contents);
	/* Any process may set its command line to anything: it is escaped, then cut. */
	escaped = sg_escape(contents);
	if (g_utf8_strlen(escaped, -1) > MAX_COMMAND_CHARS) {
		char *end = g_utf8_offset_to_pointer(escaped, MAX_COMMAND_CHARS);
		g_autofree char *cut = g_strndup(escaped, (gsize)(end - escaped));
		return g_strconcat(cut, "...", NULL);
	}
	return g_steal_pointer(&escaped);
}

static const char *
state_color(const char *name)
{
	SgServiceState state;

	/* A name this version does not know (an offline state.json) is shown plainly. */
	if (!sg_service_state_from_string(name, &state))
		return COLOR_GREY;
	switch (sg_service_state_tone(state)) {
	case SG_SERVICE_TONE_GOOD:
		return COLOR_GREEN;
	case SG_SERVICE_TONE_BAD:
		return COLOR_RED;
	case SG_SERVICE_TONE_TRANSIENT:
		return COLOR_YELLOW;
	case SG_SERVICE_TONE_SCHEDULED:
		return COLOR_CYAN;
	case SG_SERVICE_TONE_NEUTRAL:
	default:
		return COLOR_GREY;
	}
}

/* value is printed as it is: our own text, colours included, built from escaped parts. */
static void
print_field_raw(FILE *stream, const char *label, const char *value)
{
	/* Right-aligned labels, as systemctl does; width counted in characters. */
	int pad = 11 - (int)g_utf8_strlen(label, -1);

	fprintf(stream, "%*s%s: %s\n", pad > 0 ? pad : 0, "", label, value);
}

/* value comes from the supervisor or the state files: control characters are escaped. */
static void
print_field(FILE *stream, const char *label, const char *value)
{
	g_autofree char *escaped = sg_escape(value);

	print_field_raw(stream, label, escaped);
}

static void
print_tree_level(FILE *stream, GPtrArray *procs, pid_t parent, const char *prefix, guint depth)
{
	g_autoptr(GPtrArray) children = g_ptr_array_new();

	for (guint i = 0; i < procs->len; i++) {
		SgProcInfo *info = g_ptr_array_index(procs, i);
		if (info->ppid == parent)
			g_ptr_array_add(children, info);
	}
	for (guint i = 0; i < children->len && depth < 64; i++) {
		SgProcInfo *info = g_ptr_array_index(children, i);
		gboolean last = i + 1 == children->len;
		g_autofree char *command = sg_output_process_command(info->pid);
		g_autofree char *next = g_strconcat(prefix, last ? "  " : "│ ", NULL);

		fprintf(stream, "%s%s%d %s\n", prefix, last ? "└─" : "├─", (int)info->pid,
		        command != NULL ? command : "?");
		print_tree_level(stream, procs, info->pid, next, depth + 1);
	}
}

/* The processes whose parent is not among them are the roots of the tree. */
static void
print_tree(FILE *stream, GPtrArray *procs)
{
	const char *prefix = "             ";

	for (guint i = 0; i < procs->len; i++) {
		SgProcInfo *info = g_ptr_array_index(procs, i);
		gboolean has_parent = FALSE;
		g_autofree char *command = NULL;

		for (guint j = 0; j < procs->len && !has_parent; j++)
			has_parent = ((SgProcInfo *)g_ptr_array_index(procs, j))->pid == info->ppid;
		if (has_parent)
			continue;
		command = sg_output_process_command(info->pid);
		fprintf(stream, "%s%d %s\n", prefix, (int)info->pid,
		        command != NULL ? command : "?");
		print_tree_level(stream, procs, info->pid, prefix, 1);
	}
}

static char *
describe_exit(JsonObject *service)
{
	gint64 code, signal_number;

	if (get_int(service, "exit_signal", &signal_number) && signal_number > 0)
		return g_strdup_printf(_("killed by signal %d (%s)"), (int)signal_number,
		                       g_strsignal((int)signal_number));
	if (get_int(service, "exit_code", &code))
		return g_strdup_printf(_("exit status %d"), (int)code);
	return NULL;
}

static void
print_cron(FILE *stream, JsonObject *cron, GDateTime *now)
{
	const char *expression = sg_json_object_get_string(cron, "expression");
	const char *zone = sg_json_object_get_string(cron, "timezone");
	g_autofree char *next = sg_output_format_time(sg_json_object_get_string(cron, "next_run"));
	g_autoptr(GDateTime) next_time = parse_time(sg_json_object_get_string(cron, "next_run"));
	JsonArray *history = get_array(cron, "history");
	g_autofree char *schedule =
	        g_strdup_printf("%s (%s)", expression != NULL ? expression : "?",
	                        zone != NULL ? zone : _("local time"));

	print_field(stream, _("Schedule"), schedule);
	if (next != NULL && next_time != NULL) {
		g_autofree char *span = sg_output_format_span(
		        g_date_time_difference(next_time, now) / G_TIME_SPAN_SECOND);
		g_autofree char *text = g_strdup_printf(_("%s; in %s"), next, span);
		print_field(stream, _("Next run"), text);
	}
	/* Newest first; the JSON keeps them in the order they ran. */
	for (guint n = history != NULL ? json_array_get_length(history) : 0, i = n; i > 0; i--) {
		JsonObject *run = json_array_get_object_element(history, i - 1);
		g_autofree char *started =
		        sg_output_format_time(sg_json_object_get_string(run, "started_at"));
		g_autoptr(GDateTime) start_time =
		        parse_time(sg_json_object_get_string(run, "started_at"));
		g_autoptr(GDateTime) end_time =
		        parse_time(sg_json_object_get_string(run, "finished_at"));
		const char *result = sg_json_object_get_string(run, "result");
		g_autofree char *code = NULL;
		g_autofree char *took = NULL;
		g_autofree char *text = NULL;
		gint64 exit_code;

		if (get_int(run, "exit_code", &exit_code))
			code = g_strdup_printf(_(" (exit status %d)"), (int)exit_code);
		if (start_time != NULL && end_time != NULL && g_strcmp0(result, "overlap") != 0)
			took = g_strdup_printf(_(", took %.1f s"), (double)g_date_time_difference(
			                                                   end_time, start_time) /
			                                                   G_TIME_SPAN_SECOND);
		text = g_strdup_printf("%s %s%s%s", started != NULL ? started : "?",
		                       result != NULL ? result : "?", code != NULL ? code : "",
		                       took != NULL ? took : "");
		if (i == n) {
			print_field(stream, _("Last runs"), text);
		} else {
			g_autofree char *escaped = sg_escape(text);
			fprintf(stream, "%13s%s\n", "", escaped); /* under the first run */
		}
	}
}

static void
print_service(FILE *stream, JsonObject *service, GPtrArray *procs, gboolean color, GDateTime *now,
              gboolean supervised)
{
	const char *name = sg_json_object_get_string(service, "name");
	const char *state = sg_json_object_get_string(service, "state");
	const char *started_at = sg_json_object_get_string(service, "started_at");
	const char *command = sg_json_object_get_string(service, "command");
	const char *health = sg_json_object_get_string(service, "health");
	const char *cause = sg_json_object_get_string(service, "cause");
	JsonArray *depends = get_array(service, "depends_on");
	JsonObject *cron = get_object(service, "cron");
	g_autofree char *exit_text = describe_exit(service);
	g_autofree char *state_text = NULL;
	g_autofree char *name_shown = NULL;
	g_autofree char *state_shown = NULL;
	gint64 pid = 0, pgid = 0, tasks, memory, restarts = 0;
	double cpu;
	gboolean has_pid = get_int(service, "pid", &pid) && pid > 0;
	gboolean active, known;
	SgServiceState parsed;

	if (state == NULL)
		state = "unknown";
	known = sg_service_state_from_string(state, &parsed);
	active = known && sg_service_state_is_live(parsed);
	/* An offline status shows what state.json says, whatever wrote it. */
	name_shown = sg_escape(name != NULL ? name : "?");
	state_shown = sg_escape(state);
	if (color)
		fprintf(stream, "%s●%s %s%s%s", state_color(state), COLOR_RESET, COLOR_BOLD,
		        name_shown, COLOR_RESET);
	else
		fprintf(stream, "● %s", name_shown);
	if (get_bool(service, "orphaned"))
		fprintf(stream, " %s", _("(orphaned: no longer in the configuration)"));
	fputc('\n', stream);

	if (active && started_at != NULL) {
		g_autofree char *since = sg_output_format_time(started_at);
		g_autoptr(GDateTime) start = parse_time(started_at);
		g_autofree char *ago = sg_output_format_span(
		        start != NULL ? g_date_time_difference(now, start) / G_TIME_SPAN_SECOND
		                      : 0);
		state_text = g_strdup_printf(_("%s%s%s since %s; %s ago"),
		                             color ? state_color(state) : "", state_shown,
		                             color ? COLOR_RESET : "", since, ago);
	} else if (exit_text != NULL && !(known && parsed == SG_SERVICE_STOPPED)) {
		state_text = g_strdup_printf("%s%s%s (%s)", color ? state_color(state) : "",
		                             state_shown, color ? COLOR_RESET : "", exit_text);
	} else {
		state_text = g_strdup_printf("%s%s%s", color ? state_color(state) : "", state_shown,
		                             color ? COLOR_RESET : "");
	}
	/* With no supervisor the state is only what was recorded: say whether it still holds. */
	if (!supervised && active) {
		char *annotated = g_strconcat(state_text,
		                              has_pid ? _(" (recorded; its process still runs)")
		                                      : _(" (recorded; its process is gone)"),
		                              NULL);
		g_free(state_text);
		state_text = annotated;
	}
	print_field_raw(stream, _("State"), state_text);
	/* Also while starting or stopping: "waiting for db", "stopping processes left behind". */
	if (cause != NULL)
		print_field(stream, _("Cause"), cause);
	if (has_pid) {
		g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, pid);
		print_field(stream, _("Main PID"), text);
	}
	if (get_int(service, "pgid", &pgid) && pgid > 0) {
		g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, pgid);
		print_field(stream, _("Group"), text);
	}
	if (get_int(service, "tasks", &tasks)) {
		g_autofree char *text = g_strdup_printf("%" G_GINT64_FORMAT, tasks);
		print_field(stream, _("Tasks"), text);
	}
	if (get_int(service, "memory_bytes", &memory)) {
		g_autofree char *text = sg_output_format_bytes(memory);
		print_field(stream, _("Memory"), text);
	}
	if (get_number(service, "cpu_seconds", &cpu)) {
		g_autofree char *text = NULL;
		if (cpu < 60.0) {
			text = g_strdup_printf("%.3fs", cpu);
		} else {
			text = sg_output_format_span((gint64)cpu);
		}
		print_field(stream, _("CPU"), text);
	}
	if (command != NULL)
		print_field(stream, _("Command"), command);
	if (depends != NULL && json_array_get_length(depends) > 0) {
		g_autoptr(GString) text = g_string_new(NULL);
		for (guint i = 0; i < json_array_get_length(depends); i++) {
			JsonNode *item = json_array_get_element(depends, i);
			const char *dep = NULL;
			if (JSON_NODE_HOLDS_VALUE(item) &&
			    json_node_get_value_type(item) == G_TYPE_STRING)
				dep = json_node_get_string(item);
			else if (JSON_NODE_HOLDS_OBJECT(item))
				dep = sg_json_object_get_string(json_node_get_object(item),
				                                "service");
			g_string_append_printf(text, "%s%s", i > 0 ? ", " : "",
			                       dep != NULL ? dep : "?");
		}
		print_field(stream, _("Depends on"), text->str);
	}
	if (get_int(service, "restart_count", &restarts) && restarts > 0) {
		g_autofree char *text =
		        exit_text != NULL
		                ? g_strdup_printf(_("%d (last exit: %s)"), (int)restarts, exit_text)
		                : g_strdup_printf("%d", (int)restarts);
		print_field(stream, _("Restarts"), text);
	}
	if (health != NULL && !g_str_equal(health, "none"))
		print_field(stream, _("Health"), health);
	if (cron != NULL)
		print_cron(stream, cron, now);
	if (procs != NULL && procs->len > 0) {
		fprintf(stream, "%*s%s:\n", 11 - (int)g_utf8_strlen(_("Processes"), -1), "",
		        _("Processes"));
		print_tree(stream, procs);
	}
}

void
sg_output_print_status(FILE *stream, JsonObject *status, GPtrArray *processes, gboolean color)
{
	JsonObject *supervisor = get_object(status, "supervisor");
	JsonArray *services = get_array(status, "services");
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	const char *config = sg_json_object_get_string(supervisor, "config");
	const char *state_dir = sg_json_object_get_string(supervisor, "state_dir");
	gint64 pid = 0;

	if (get_bool(supervisor, "running")) {
		const char *started_at = sg_json_object_get_string(supervisor, "started_at");
		g_autoptr(GDateTime) start = parse_time(started_at);

		get_int(supervisor, "pid", &pid);
		fprintf(stream, _("systemg is running (PID %d)"), (int)pid);
		if (start != NULL) {
			g_autofree char *since = sg_output_format_time(started_at);
			g_autofree char *ago = sg_output_format_span(
			        g_date_time_difference(now, start) / G_TIME_SPAN_SECOND);
			fprintf(stream, _(" since %s; %s ago"), since, ago);
		}
		fputc('\n', stream);
	} else {
		fprintf(stream, "%s%s%s\n", color ? COLOR_YELLOW : "",
		        _("systemg is not running: last known state from the state files"),
		        color ? COLOR_RESET : "");
	}
	if (config != NULL)
		print_field(stream, _("Config"), config);
	if (state_dir != NULL)
		print_field(stream, _("State dir"), state_dir);
	for (guint i = 0; services != NULL && i < json_array_get_length(services); i++) {
		fputc('\n', stream);
		print_service(stream, json_array_get_object_element(services, i),
		              processes != NULL && i < processes->len ? processes->pdata[i] : NULL,
		              color, now, get_bool(supervisor, "running"));
	}
	if (services == NULL || json_array_get_length(services) == 0)
		fprintf(stream, "\n%s\n", _("No services."));
}
