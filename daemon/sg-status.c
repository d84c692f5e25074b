/* SPDX-License-Identifier: MIT */
/* The objects of `sysg status --json`: read from the engine and the cheapest /proc files. */
#include "config.h"

#include "sg-status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sg-json.h"
#include "sg-shell.h"

#define ENVIRON_MAX     (256 * 1024)
#define MARKER_STATE_ID "SYSTEMG_STATE_ID="
#define MARKER_SERVICE  "SYSTEMG_SERVICE="

/*
 * In marker mode, one /proc scan per status call serves every service: each process is
 * counted for the service whose session or process group it is in, else for the service
 * its markers name. Its environment is read only in the second case, and its stat once.
 */
typedef struct {
	GHashTable *by_sid;  /* main pid -> slot + 1 */
	GHashTable *by_name; /* name -> slot + 1 */
	GHashTable *pgids;   /* main pid -> pgid */
	SgContainUsage *usage;
} Batch;

typedef struct {
	char state;
	pid_t pgid, sid;
	unsigned long long utime, stime;
	long long rss;
} StatFields;

static gboolean
parse_stat(const char *buf, StatFields *ret)
{
	/* The command name may hold anything, ')' included: fields follow the last one. */
	const char *p = strrchr(buf, ')');
	int pgid, sid;

	if (p == NULL ||
	    sscanf(p + 1,
	           " %c %*d %d %d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
	           "%*u %*u %lld",
	           &ret->state, &pgid, &sid, &ret->utime, &ret->stime, &ret->rss) != 6)
		return FALSE;
	ret->pgid = pgid;
	ret->sid = sid;
	return TRUE;
}

static ssize_t
read_at(int dir_fd, const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

/* The SYSTEMG_SERVICE of a process carrying our SYSTEMG_STATE_ID, or NULL. */
static char *
read_marker(int proc_fd, const char *pid_text, const char *state_id)
{
	g_autofree char *path = g_strconcat(pid_text, "/environ", NULL);
	g_autofree char *buf = NULL;
	gboolean ours = FALSE;
	const char *service = NULL;
	size_t size = 16384, len = 0;
	int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return NULL;
	buf = g_malloc(size);
	for (;;) {
		ssize_t n;

		if (len + 1 >= size) {
			if (size >= ENVIRON_MAX)
				break;
			size *= 2;
			buf = g_realloc(buf, size);
		}
		n = read(fd, buf + len, size - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
		const char *entry = buf + i;

		if (g_str_has_prefix(entry, MARKER_STATE_ID))
			ours = strcmp(entry + strlen(MARKER_STATE_ID), state_id) == 0;
		else if (g_str_has_prefix(entry, MARKER_SERVICE))
			service = entry + strlen(MARKER_SERVICE);
	}
	return ours && service != NULL ? g_strdup(service) : NULL;
}

static void
batch_count(Batch *batch, guint slot, const StatFields *fields, long ticks, long page_size)
{
	SgContainUsage *usage = &batch->usage[slot];

	usage->cpu_usec += (gint64)((fields->utime + fields->stime) * G_USEC_PER_SEC / ticks);
	usage->memory_bytes += fields->rss > 0 ? (gint64)fields->rss * page_size : 0;
	usage->tasks++;
}

static Batch *
batch_new(SgEngine *engine, GPtrArray *services)
{
	Batch *batch = g_new0(Batch, 1);
	long ticks = sysconf(_SC_CLK_TCK);
	long page_size = sysconf(_SC_PAGESIZE);
	pid_t self = getpid();
	struct dirent *entry;
	DIR *proc;
	int proc_fd;

	if (ticks <= 0)
		ticks = 100;
	batch->by_sid = g_hash_table_new(NULL, NULL);
	batch->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	batch->pgids = g_hash_table_new(NULL, NULL);
	batch->usage = g_new0(SgContainUsage, services->len);
	for (guint i = 0; i < services->len; i++) {
		SgService *service = services->pdata[i];
		pid_t pid = sg_service_get_pid(service);

		if (pid > 0)
			g_hash_table_insert(batch->by_sid, GINT_TO_POINTER(pid),
			                    GUINT_TO_POINTER(i + 1));
		g_hash_table_insert(batch->by_name, (gpointer)sg_service_get_name(service),
		                    GUINT_TO_POINTER(i + 1));
	}
	proc = opendir("/proc");
	if (proc == NULL)
		return batch;
	proc_fd = dirfd(proc);
	while ((entry = readdir(proc)) != NULL) {
		char path[64];
		char buf[1024];
		StatFields fields;
		guint slot;
		pid_t pid;
		ssize_t n;

		if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
			continue;
		pid = (pid_t)g_ascii_strtoll(entry->d_name, NULL, 10);
		if (pid == self)
			continue;
		g_snprintf(path, sizeof(path), "%s/stat", entry->d_name);
		n = read_at(proc_fd, path, buf, sizeof(buf) - 1);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (!parse_stat(buf, &fields) || fields.state == 'Z' || fields.state == 'X')
			continue;
		if (g_hash_table_contains(batch->by_sid, GINT_TO_POINTER(pid)))
			g_hash_table_insert(batch->pgids, GINT_TO_POINTER(pid),
			                    GINT_TO_POINTER(fields.pgid));
		slot = GPOINTER_TO_UINT(
		        g_hash_table_lookup(batch->by_sid, GINT_TO_POINTER(fields.sid)));
		if (slot == 0)
			slot = GPOINTER_TO_UINT(
			        g_hash_table_lookup(batch->by_sid, GINT_TO_POINTER(fields.pgid)));
		if (slot == 0) {
			g_autofree char *name =
			        read_marker(proc_fd, entry->d_name, engine->state_id);
			if (name != NULL)
				slot = GPOINTER_TO_UINT(g_hash_table_lookup(batch->by_name, name));
		}
		if (slot > 0)
			batch_count(batch, slot - 1, &fields, ticks, page_size);
	}
	closedir(proc);
	return batch;
}

static void
batch_free(Batch *batch)
{
	if (batch == NULL)
		return;
	g_hash_table_unref(batch->by_sid);
	g_hash_table_unref(batch->by_name);
	g_hash_table_unref(batch->pgids);
	g_free(batch->usage);
	g_free(batch);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Batch, batch_free)

static const char *
kind_of(SgService *service)
{
	return sg_service_get_config(service)->cron != NULL ? "cron" : "service";
}

static void
add_cron(JsonBuilder *builder, SgService *service)
{
	const SgServiceConfig *cfg = sg_service_get_config(service);
	SgCronJob *job = sg_service_get_cron_job(service);

	json_builder_set_member_name(builder, "cron");
	if (job != NULL) {
		sg_cron_job_build_json(job, builder);
		return;
	}
	json_builder_begin_object(builder);
	sg_json_builder_add_string_or_null(builder, "expression", cfg->cron_expression);
	sg_json_builder_add_string_or_null(builder, "timezone", cfg->cron_timezone);
	sg_json_builder_add_time(builder, "next_run", 0);
	json_builder_set_member_name(builder, "history");
	json_builder_begin_array(builder);
	json_builder_end_array(builder);
	json_builder_end_object(builder);
}

static void
add_usage(JsonBuilder *builder, SgEngine *engine, SgService *service, const Batch *batch,
          guint slot)
{
	SgContainUsage usage = { -1, -1, -1 };
	pid_t pid = sg_service_get_pid(service);

	if (sg_service_is_active(service)) {
		if (batch != NULL)
			usage = batch->usage[slot];
		else
			sg_contain_usage(engine->contain, sg_service_get_name(service), pid,
			                 &usage);
	}
	sg_json_builder_add_int_or_null(builder, "memory_bytes", usage.memory_bytes,
	                                usage.memory_bytes >= 0);
	json_builder_set_member_name(builder, "cpu_seconds");
	if (usage.cpu_usec >= 0)
		json_builder_add_double_value(builder, (double)usage.cpu_usec / G_USEC_PER_SEC);
	else
		json_builder_add_null_value(builder);
	/* No process counted means none is known: tasks 0 would claim a live empty group. */
	sg_json_builder_add_int_or_null(builder, "tasks", usage.tasks, usage.tasks > 0);
}

static void
build_service(JsonBuilder *builder, SgSupervisor *supervisor, SgService *service,
              const Batch *batch, guint slot)
{
	SgEngine *engine = sg_supervisor_get_engine(supervisor);
	const SgServiceConfig *cfg = sg_service_get_config(service);
	pid_t pid = sg_service_get_pid(service);
	pid_t pgid = pid;
	int exit_code = sg_service_get_exit_code(service);
	int exit_signal = sg_service_get_exit_signal(service);

	if (pid > 0 && batch != NULL && g_hash_table_contains(batch->pgids, GINT_TO_POINTER(pid)))
		pgid = GPOINTER_TO_INT(g_hash_table_lookup(batch->pgids, GINT_TO_POINTER(pid)));

	json_builder_begin_object(builder);
	sg_json_builder_add_string_or_null(builder, "name", cfg->name);
	sg_json_builder_add_string_or_null(builder, "kind", kind_of(service));
	sg_json_builder_add_string_or_null(
	        builder, "state", sg_service_state_to_string(sg_service_get_state(service)));
	/* Every service leads its own session and process group (sg-spawn). */
	sg_json_builder_add_int_or_null(builder, "pid", pid, pid > 0);
	sg_json_builder_add_int_or_null(builder, "pgid", pgid, pid > 0);
	sg_json_builder_add_time(builder, "started_at", sg_service_get_started_at(service));
	sg_json_builder_add_int_or_null(builder, "restart_count",
	                                sg_service_get_restart_count(service), TRUE);
	sg_json_builder_add_int_or_null(builder, "exit_code", exit_code, exit_code >= 0);
	sg_json_builder_add_int_or_null(builder, "exit_signal", exit_signal, exit_signal > 0);
	sg_json_builder_add_string_or_null(builder, "restart_policy",
	                                   sg_restart_policy_to_string(cfg->restart_policy));
	json_builder_set_member_name(builder, "depends_on");
	json_builder_begin_array(builder);
	for (guint i = 0; i < cfg->n_depends_on; i++)
		json_builder_add_string_value(builder, cfg->depends_on[i].service);
	json_builder_end_array(builder);
	sg_json_builder_add_string_or_null(
	        builder, "health", sg_health_status_to_string(sg_service_get_health(service)));
	add_usage(builder, engine, service, batch, slot);
	if (cfg->command != NULL) {
		sg_json_builder_add_string_or_null(builder, "command", cfg->command);
	} else {
		g_autofree char *joined = sg_shell_join(cfg->argv);
		sg_json_builder_add_string_or_null(builder, "command", joined);
		json_builder_set_member_name(builder, "argv");
		json_builder_begin_array(builder);
		for (guint i = 0; cfg->argv != NULL && cfg->argv[i] != NULL; i++)
			json_builder_add_string_value(builder, cfg->argv[i]);
		json_builder_end_array(builder);
	}
	json_builder_set_member_name(builder, "orphaned");
	json_builder_add_boolean_value(builder, sg_service_is_orphaned(service));
	if (cfg->cron != NULL)
		add_cron(builder, service);
	sg_json_builder_add_string_or_null(builder, "cause", sg_service_get_cause(service));
	json_builder_end_object(builder);
}

JsonNode *
sg_status_service(SgSupervisor *supervisor, SgService *service)
{
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();

	build_service(builder, supervisor, service, NULL, 0);
	return json_builder_get_root(builder);
}

JsonNode *
sg_status_all(SgSupervisor *supervisor, const char *config_path, gint64 started_at_usec)
{
	SgEngine *engine = sg_supervisor_get_engine(supervisor);
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();
	g_autoptr(Batch) batch = NULL;

	if (!sg_contain_uses_cgroups(engine->contain) && services->len > 0)
		batch = batch_new(engine, services);
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "supervisor");
	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "running");
	json_builder_add_boolean_value(builder, TRUE);
	sg_json_builder_add_int_or_null(builder, "pid", getpid(), TRUE);
	sg_json_builder_add_string_or_null(builder, "config", config_path);
	sg_json_builder_add_string_or_null(builder, "state_dir", engine->state_dir);
	sg_json_builder_add_string_or_null(builder, "version", PACKAGE_VERSION);
	sg_json_builder_add_time(builder, "started_at", started_at_usec);
	json_builder_end_object(builder);
	json_builder_set_member_name(builder, "services");
	json_builder_begin_array(builder);
	for (guint i = 0; i < services->len; i++)
		build_service(builder, supervisor, g_ptr_array_index(services, i), batch, i);
	json_builder_end_array(builder);
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}

JsonNode *
sg_status_list(SgSupervisor *supervisor)
{
	GPtrArray *services = sg_supervisor_get_services(supervisor);
	g_autoptr(JsonBuilder) builder = json_builder_new_immutable();

	json_builder_begin_array(builder);
	for (guint i = 0; i < services->len; i++) {
		SgService *service = g_ptr_array_index(services, i);
		pid_t pid = sg_service_get_pid(service);

		json_builder_begin_object(builder);
		sg_json_builder_add_string_or_null(builder, "name", sg_service_get_name(service));
		sg_json_builder_add_string_or_null(builder, "kind", kind_of(service));
		sg_json_builder_add_string_or_null(
		        builder, "state",
		        sg_service_state_to_string(sg_service_get_state(service)));
		sg_json_builder_add_int_or_null(builder, "pid", pid, pid > 0);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}
