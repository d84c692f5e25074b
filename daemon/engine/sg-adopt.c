/* SPDX-License-Identifier: MIT */
/* Re-adoption: finds and verifies the processes of an earlier supervisor, one /proc scan. */
#include "config.h"

#include "engine/sg-adopt.h"

#include <errno.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "state/sg-boot.h"
#include "process/sg-ownership.h"
#include "base/sg-paths.h"
#include "process/sg-proctree.h"
#include "state/sg-state.h"
#include "base/sg-limits.h"

#define ORPHAN_STOP_TIMEOUT_MS 10000
#define ORPHAN_BACKOFF_MS      5000

void
sg_adopt_found_free(SgAdoptFound *found)
{
	if (found == NULL)
		return;
	g_free(found->name);
	g_free(found->invocation_id);
	g_free(found->config_hash);
	g_free(found->command);
	g_free(found->cause);
	g_ptr_array_unref(found->extras);
	g_free(found);
}

/* ---- what the earlier supervisor recorded ---- */

typedef struct {
	pid_t pid; /* 0: none recorded */
	guint64 start_time;
	const char *invocation_id;
	const char *status;
	const char *config_hash;
	const char *cause;
	gint64 started_at_usec;
	guint restart_count;
	int exit_code;
	int exit_signal;
} Record;

static JsonObject *
read_services(SgContext *context, const char *file, JsonNode **ret_root)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *quarantined = NULL;
	JsonNode *root = sg_state_read_json(context->state_dir, file, SG_STATE_READ_QUARANTINE,
	                                    &quarantined, &error);

	*ret_root = root;
	if (quarantined != NULL)
		sg_context_log(context, SG_LOG_WARN,
		               "%s was corrupt; set aside as %s: going on from the live processes",
		               file, quarantined);
	else if (error != NULL)
		sg_context_log(context, SG_LOG_WARN, "cannot read %s: %s", file, error->message);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
		return NULL;
	root = json_object_get_member(json_node_get_object(root), "services");
	return root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

static gboolean
member_is_int(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	return node != NULL && json_node_get_value_type(node) == G_TYPE_INT64;
}

static gint64
member_int(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	if (node == NULL || json_node_get_value_type(node) != G_TYPE_INT64)
		return 0;
	return json_node_get_int(node);
}

static const char *
member_string(JsonObject *object, const char *name)
{
	JsonNode *node = object != NULL ? json_object_get_member(object, name) : NULL;

	if (node == NULL || json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

static gint64
parse_time(const char *text)
{
	g_autoptr(GDateTime) time = text != NULL ? g_date_time_new_from_iso8601(text, NULL) : NULL;

	if (time == NULL)
		return 0;
	return g_date_time_to_unix(time) * G_USEC_PER_SEC + g_date_time_get_microsecond(time);
}

static Record
read_record(JsonObject *pids, JsonObject *states, gboolean other_boot, const char *name)
{
	JsonObject *state = NULL;
	Record record = { 0 };
	gint64 pid;

	if (states != NULL && json_object_has_member(states, name) &&
	    JSON_NODE_HOLDS_OBJECT(json_object_get_member(states, name)))
		state = json_object_get_object_member(states, name);
	/* pid.json is the record of live processes; state.json tells who they were. */
	pid = member_int(pids, name);
	if (pid <= 0 || pid > G_MAXINT)
		pid = member_int(state, "pid");
	if (pid > 0 && pid <= G_MAXINT) {
		record.pid = (pid_t)pid;
		/* A start time of another boot could match a stranger's: it proves nothing. */
		if (member_int(state, "pid") == pid && !other_boot) {
			record.start_time = (guint64)member_int(state, "process_start_time");
			record.invocation_id = member_string(state, "invocation_id");
		}
	}
	record.status = member_string(state, "status");
	record.cause = member_string(state, "cause");
	record.exit_code = member_is_int(state, "exit_code")
	                           ? (int)CLAMP(member_int(state, "exit_code"), 0, 255)
	                           : -1;
	record.exit_signal = (int)CLAMP(member_int(state, "exit_signal"), 0, 64);
	record.config_hash = member_string(state, "config_hash");
	record.started_at_usec = parse_time(member_string(state, "started_at"));
	record.restart_count = (guint)CLAMP(member_int(state, "restart_count"), 0, G_MAXINT);
	return record;
}

/* ---- what lives ---- */

static char *
read_cmdline(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
	g_autofree char *contents = NULL;
	gsize length;

	if (!g_file_get_contents(path, &contents, &length, NULL) || length == 0)
		return NULL;
	length = MIN(length, SG_PROC_CMDLINE_MAX);
	for (gsize i = 0; i + 1 < length; i++)
		if (contents[i] == '\0')
			contents[i] = ' ';
	return g_strndup(contents, length);
}

/*
 * Whether the recorded process is still the one the earlier supervisor started: the rule
 * of sg-ownership (recorded start time, markers not saying otherwise), or without a
 * recorded start time its markers alone.
 */
static gboolean
is_recorded_process(const Record *record, const char *name, const SgProcInfo *info)
{
	if (info == NULL)
		return FALSE;
	if (record->start_time != 0 &&
	    sg_ownership_check_recorded(info, name, record->start_time, NULL) == SG_PROOF_NONE)
		return FALSE;
	if (record->start_time == 0 && (info->service == NULL || strcmp(info->service, name) != 0))
		return FALSE;
	/* Where its environment is readable, its invocation id must match too. */
	if (info->invocation_id != NULL && record->invocation_id != NULL &&
	    strcmp(info->invocation_id, record->invocation_id) != 0)
		return FALSE;
	return TRUE;
}

/* The members of a service: its markers, its cgroup, and the recorded process's session. */
static GPtrArray *
members_of(SgContext *context, GHashTable *by_pid, GPtrArray *scan, const char *name, pid_t sid)
{
	GPtrArray *members = g_ptr_array_new();

	for (guint i = 0; i < scan->len; i++) {
		SgProcInfo *info = scan->pdata[i];

		if (info->service != NULL ? strcmp(info->service, name) == 0
		                          : sid > 0 && (info->sid == sid || info->pgid == sid))
			g_ptr_array_add(members, info);
	}
	if (sg_contain_uses_cgroups(context->contain)) {
		g_autoptr(GArray) pids = sg_contain_list(context->contain, name, sid);

		for (guint i = 0; i < pids->len; i++) {
			SgProcInfo *info = g_hash_table_lookup(
			        by_pid, GINT_TO_POINTER(g_array_index(pids, pid_t, i)));
			if (info != NULL &&
			    (info->service == NULL || strcmp(info->service, name) == 0) &&
			    !g_ptr_array_find(members, info, NULL))
				g_ptr_array_add(members, info);
		}
	}
	return members;
}

/* Start times count clock ticks (10 ms): within one tick, the higher PID came later. */
static gboolean
started_later(const SgProcInfo *a, const SgProcInfo *b)
{
	return a->start_time > b->start_time || (a->start_time == b->start_time && a->pid > b->pid);
}

/*
 * The main process when the recorded one is gone or unknown: the newest session leader
 * (every instance leads its own session, sg-spawn), a process started by the earlier
 * supervisor just before it died.
 */
static SgProcInfo *
newest_leader(GPtrArray *members)
{
	SgProcInfo *best = NULL;

	for (guint i = 0; i < members->len; i++) {
		SgProcInfo *info = members->pdata[i];

		if (info->pid != info->sid || info->service == NULL)
			continue;
		if (best == NULL || started_later(info, best))
			best = info;
	}
	return best;
}

static SgAdoptFound *
decide(SgContext *context, GHashTable *by_pid, GPtrArray *scan, const char *name,
       const Record *record)
{
	SgProcInfo *recorded =
	        record->pid > 0 ? g_hash_table_lookup(by_pid, GINT_TO_POINTER(record->pid)) : NULL;
	gboolean same = is_recorded_process(record, name, recorded);
	g_autoptr(GPtrArray) members =
	        members_of(context, by_pid, scan, name, same ? recorded->sid : 0);
	SgAdoptFound *found = g_new0(SgAdoptFound, 1);
	SgServiceState recorded_state;
	SgProcInfo *main_info = same ? recorded : newest_leader(members);

	found->name = g_strdup(name);
	found->extras = g_ptr_array_new_with_free_func((GDestroyNotify)sg_proc_info_free);
	found->config_hash = g_strdup(record->config_hash);
	found->started_at_usec = record->started_at_usec;
	found->restart_count = record->restart_count;
	if (main_info != NULL) {
		found->kind = SG_ADOPT_LIVE;
		found->pid = main_info->pid;
		found->start_time = main_info->start_time;
		found->invocation_id =
		        g_strdup(main_info->invocation_id != NULL ? main_info->invocation_id
		                                                  : record->invocation_id);
		found->ready = same &&
		               sg_service_state_from_string(record->status, &recorded_state) &&
		               sg_service_state_is_ready(recorded_state);
		found->command = read_cmdline(main_info->pid);
		if (!same)
			found->started_at_usec = 0;
		/* Processes of another instance (not the main's session, another invocation id)
		 * must not run beside it. */
		for (guint i = 0; i < members->len; i++) {
			SgProcInfo *info = members->pdata[i];

			if (info == main_info || info->sid == main_info->sid ||
			    info->invocation_id == NULL || found->invocation_id == NULL ||
			    strcmp(info->invocation_id, found->invocation_id) == 0)
				continue;
			g_ptr_array_add(found->extras, sg_proc_info_copy(info));
		}
		if (same)
			sg_context_log(context, SG_LOG_INFO,
			               "adopting %s (PID %d) from an earlier supervisor", name,
			               found->pid);
		else
			sg_context_log(context, SG_LOG_INFO,
			               "adopting %s (PID %d), found by its markers: it was started "
			               "just before the earlier supervisor went away",
			               name, found->pid);
		return found;
	}
	if (members->len > 0) {
		SgProcInfo *newest = members->pdata[0];

		for (guint i = 1; i < members->len; i++)
			if (started_later(members->pdata[i], newest))
				newest = members->pdata[i];
		found->kind = SG_ADOPT_LEFTOVERS;
		found->pid = newest->sid;
		sg_context_log(context, SG_LOG_WARN,
		               "%s: %u process%s left without their main process by an earlier "
		               "supervisor; stopping them",
		               name, members->len, members->len == 1 ? "" : "es");
		return found;
	}
	if (record->pid > 0) {
		found->kind = SG_ADOPT_GONE;
		found->pid = record->pid;
		return found;
	}
	if (record->status != NULL && sg_service_state_from_string(record->status, &found->state) &&
	    sg_service_state_is_restorable(found->state)) {
		found->kind =
		        found->state == SG_SERVICE_BACKOFF ? SG_ADOPT_BACKOFF : SG_ADOPT_FINAL;
		found->cause = g_strdup(record->cause);
		found->exit_code = record->exit_code;
		found->exit_signal = record->exit_signal;
		return found;
	}
	sg_adopt_found_free(found);
	return NULL;
}

/*
 * Whether the run that wrote state.json is over: it ended (every service stopped on
 * purpose), or it was another boot. A file with no boot id (an older writer): over when
 * nothing of it lives. Sets *ret_why for the log.
 */
static gboolean
earlier_run_is_over(JsonNode *state_root, guint n_live, const char **ret_why)
{
	JsonObject *root = state_root != NULL && JSON_NODE_HOLDS_OBJECT(state_root)
	                           ? json_node_get_object(state_root)
	                           : NULL;
	const char *recorded = member_string(root, "boot_id");
	JsonNode *ended = root != NULL ? json_object_get_member(root, "run_ended") : NULL;

	if (ended != NULL && json_node_get_value_type(ended) == G_TYPE_BOOLEAN &&
	    json_node_get_boolean(ended)) {
		*ret_why = "the earlier supervisor stopped every service";
		return TRUE;
	}
	if (sg_boot_id_is_other(recorded)) {
		*ret_why = "it was another boot";
		return TRUE;
	}
	if (sg_boot_id_is_valid(recorded) && sg_boot_id() != NULL) {
		*ret_why = "it is this boot's";
		return FALSE;
	}
	*ret_why = "none of its processes is alive";
	return n_live == 0;
}

static void
collect_names(JsonObject *services, GHashTable *names, GPtrArray *order)
{
	g_autoptr(GList) members = services != NULL ? json_object_get_members(services) : NULL;

	for (GList *l = members; l != NULL; l = l->next)
		if (sg_config_name_is_valid(l->data) && g_hash_table_add(names, l->data))
			g_ptr_array_add(order, l->data);
}

GPtrArray *
sg_adopt_find(SgContext *context)
{
	g_autoptr(JsonNode) pid_root = NULL;
	g_autoptr(JsonNode) state_root = NULL;
	JsonObject *pids = read_services(context, SG_STATE_PID_JSON, &pid_root);
	JsonObject *states = read_services(context, SG_STATE_STATE_JSON, &state_root);
	g_autoptr(GPtrArray) scan = sg_proctree_scan_all(context->state_id);
	g_autoptr(GHashTable) by_pid = g_hash_table_new(NULL, NULL);
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	GPtrArray *result = g_ptr_array_new_with_free_func((GDestroyNotify)sg_adopt_found_free);
	g_autoptr(GString) gone = g_string_new(NULL);
	guint n_live = 0, n_gone = 0;
	const char *why = NULL;
	gboolean other_boot =
	        state_root != NULL && JSON_NODE_HOLDS_OBJECT(state_root) &&
	        sg_boot_id_is_other(member_string(json_node_get_object(state_root), "boot_id"));

	for (guint i = 0; i < scan->len; i++) {
		SgProcInfo *info = scan->pdata[i];
		g_hash_table_insert(by_pid, GINT_TO_POINTER(info->pid), info);
	}
	/* Every name the state files or the markers know, in a stable order. */
	collect_names(states, names, order);
	collect_names(pids, names, order);
	for (guint i = 0; i < scan->len; i++) {
		SgProcInfo *info = scan->pdata[i];
		if (info->service != NULL && sg_config_name_is_valid(info->service) &&
		    g_hash_table_add(names, info->service))
			g_ptr_array_add(order, info->service);
	}

	for (guint i = 0; i < order->len; i++) {
		const char *name = order->pdata[i];
		Record record = read_record(pids, states, other_boot, name);
		SgAdoptFound *found = decide(context, by_pid, scan, name, &record);

		if (found == NULL)
			continue;
		if (found->kind == SG_ADOPT_LIVE || found->kind == SG_ADOPT_LEFTOVERS)
			n_live++;
		if (found->kind == SG_ADOPT_GONE) {
			n_gone++;
			g_string_append_printf(gone, "%s%s", gone->len > 0 ? ", " : "", name);
		}
		g_ptr_array_add(result, found);
	}
	if (result->len > n_live && earlier_run_is_over(state_root, n_live, &why)) {
		/* What is left of it is no crash: every service without a live process starts
		 * afresh (live ones are still adopted, never started twice). */
		sg_context_log(context, SG_LOG_INFO,
		               "state from an earlier run (%s): starting afresh", why);
		for (guint i = result->len; i > 0; i--) {
			SgAdoptFound *found = result->pdata[i - 1];
			if (found->kind != SG_ADOPT_LIVE && found->kind != SG_ADOPT_LEFTOVERS)
				g_ptr_array_remove_index(result, i - 1);
		}
	} else if (n_gone > 0) {
		sg_context_log(context, SG_LOG_WARN,
		               "exited while no supervisor was watching (exit status unknown), "
		               "handled as crashes: %s",
		               gone->str);
	}
	return result;
}

/* ---- other instances ---- */

typedef struct {
	SgContext *context;
	char *service;
	GArray *pidfds;     /* int, one per process signalled */
	GArray *procs;      /* SgProcInfo (pid, start time, proof; no strings), the same */
	GPtrArray *sources; /* GSource* watching them */
	guint n_left;
	guint timer;
} Extras;

static void
extras_free(Extras *extras)
{
	sg_clock_clear(extras->context->clock, &extras->timer);
	for (guint i = 0; i < extras->sources->len; i++)
		g_source_destroy(extras->sources->pdata[i]);
	g_ptr_array_unref(extras->sources);
	for (guint i = 0; i < extras->pidfds->len; i++)
		close(g_array_index(extras->pidfds, int, i));
	g_array_unref(extras->pidfds);
	g_array_unref(extras->procs);
	g_free(extras->service);
	g_free(extras);
}

static gboolean
extra_exited_cb(int fd, GIOCondition condition, gpointer user_data)
{
	Extras *extras = user_data;

	if (--extras->n_left == 0) {
		sg_context_log(extras->context, SG_LOG_INFO, "%s: the other instance is gone",
		               extras->service);
		/* Destroys this source too: it is not dispatched again. */
		extras_free(extras);
	}
	return G_SOURCE_REMOVE;
}

static void
extras_deadline_cb(gpointer user_data)
{
	Extras *extras = user_data;
	guint killed = 0;

	extras->timer = 0;
	for (guint i = 0; i < extras->pidfds->len; i++)
		if (sg_ownership_signal(&g_array_index(extras->procs, SgProcInfo, i),
		                        g_array_index(extras->pidfds, int, i), SIGKILL) == 0)
			killed++;
	sg_context_log(extras->context, SG_LOG_WARN,
	               "%s: killed %u process%s of another instance (SIGKILL was needed)",
	               extras->service, killed, killed == 1 ? "" : "es");
	extras_free(extras);
}

void
sg_adopt_stop_extras(SgContext *context, const char *service, GPtrArray *extras, guint64 timeout_ms)
{
	Extras *pending;

	if (extras == NULL || extras->len == 0)
		return;
	pending = g_new0(Extras, 1);
	pending->context = context;
	pending->service = g_strdup(service);
	pending->pidfds = g_array_new(FALSE, FALSE, sizeof(int));
	pending->procs = g_array_new(FALSE, FALSE, sizeof(SgProcInfo));
	pending->sources = g_ptr_array_new_with_free_func((GDestroyNotify)g_source_unref);
	for (guint i = 0; i < extras->len; i++) {
		const SgProcInfo *info = extras->pdata[i];
		/* Extras are found by their markers (another invocation id of this service). */
		SgProcInfo proc = { .pid = info->pid,
			            .start_time = info->start_time,
			            .proof = SG_PROOF_MARKERS };
		int fd = (int)syscall(SYS_pidfd_open, info->pid, 0);
		GSource *source;

		if (fd < 0)
			continue;
		/* The pidfd pins the process: once its start time matches, the signals reach it. */
		if (sg_ownership_signal(&proc, fd, SIGTERM) < 0) {
			close(fd);
			continue;
		}
		g_array_append_val(pending->pidfds, fd);
		g_array_append_val(pending->procs, proc);
		source = g_unix_fd_source_new(fd, G_IO_IN);
		g_source_set_callback(source, G_SOURCE_FUNC(extra_exited_cb), pending, NULL);
		g_source_attach(source, g_main_context_get_thread_default());
		g_ptr_array_add(pending->sources, source);
		pending->n_left++;
	}
	sg_context_log(context, SG_LOG_WARN,
	               "%s: stopping %u process%s of another instance an earlier supervisor left",
	               service, pending->n_left, pending->n_left == 1 ? "" : "es");
	if (pending->n_left == 0) {
		extras_free(pending);
		return;
	}
	pending->timer =
	        sg_clock_add_timeout(context->clock, timeout_ms, extras_deadline_cb, pending);
}

/* ---- orphans ---- */

SgConfig *
sg_adopt_orphan_config(const SgAdoptFound *found)
{
	SgConfig *config = sg_config_new_empty();
	SgServiceConfig *cfg = g_new0(SgServiceConfig, 1);

	cfg->name = g_strdup(found->name);
	cfg->command = g_strdup(found->command != NULL ? found->command : "");
	cfg->working_dir = g_strdup(config->dir);
	cfg->env = g_new0(char *, 1);
	cfg->restart_policy = SG_RESTART_NEVER;
	cfg->backoff_ms = ORPHAN_BACKOFF_MS;
	cfg->max_restarts = -1;
	cfg->stop_timeout_ms = ORPHAN_STOP_TIMEOUT_MS;
	cfg->logs = config->logs;
	for (guint i = 0; i < SG_HOOK_N; i++)
		cfg->hooks[i].timeout_ms = ORPHAN_STOP_TIMEOUT_MS;
	g_strlcpy(cfg->hash, found->config_hash != NULL ? found->config_hash : "",
	          sizeof(cfg->hash));
	g_ptr_array_add(config->services, cfg);
	g_hash_table_insert(config->by_name, cfg->name, cfg);
	return config;
}
