/* SPDX-License-Identifier: MIT */
/* Containment: a service's processes by cgroup v2 or by markers, stopped and watched to the end. */
#include "config.h"

#define G_LOG_DOMAIN "sg-contain"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "process/sg-contain.h"
#include "base/sg-error.h"
#include "process/sg-ownership.h"
#include "process/sg-proctree.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define SUPERVISOR_CGROUP "supervisor"
#define SERVICE_PREFIX    "svc-"
/* cgroup.procs may grow while we signal it; this bounds the passes of one round. */
#define SIGNAL_PASSES_MAX 16
#define CGROUP_FILE_MAX   (1024 * 1024)

struct _SgContain {
	char *state_id;
	SgClock *clock;
	char *cgroup_root; /* NULL in marker mode */
	int root_fd;       /* -1 in marker mode */
	GList *stops;      /* SgContainStop*, in progress */
	/* One /proc scan, indexed, serves every stop of the same main-loop turn (stopping
	 * 200 services costs one scan, not 200); dropped before the next turn. */
	SgProcIndex *scan;
	guint scan_idle;
	/* Marker-mode stops whose watched processes have all exited wait here for one shared
	 * confirming scan, run when the loop has nothing more urgent: 200 services dying
	 * together cost a few scans, not 200. */
	GList *settling;
	guint settle_idle;
	SgContainStrayFunc stray_func;
	gpointer stray_data;
	GHashTable *foreign;  /* names of services whose processes are not our descendants */
	GHashTable *recorded; /* name -> guint64*: the recorded start time of its main process */
};

struct _SgContainStop {
	SgContain *contain;
	char *service;
	pid_t sid;
	SgContainDoneFunc done;
	gpointer user_data;
	guint timeout_id;
	gboolean past_timeout;
	gboolean killed;
	gboolean foreign;
	guint n_processes;
	GHashTable *signalled; /* pid -> start time: distinct processes */

	GHashTable *watches; /* pid -> Watch*, each owned by its source */
	guint n_unwatchable; /* signalled but no pidfd could be opened (last pass) */

	/* cgroup mode; -1 when the service is stopped by markers. */
	int cgroup_fd;
	int inotify_fd;
	GSource *events_source;
};

typedef struct {
	SgContainStop *stop;
	SgProcInfo proc; /* pid, start time and proof; no strings */
	int pidfd;
	GSource *source;
} Watch;

static int
pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static gboolean
service_name_is_valid(const char *service)
{
	return service != NULL && *service != '\0' && strchr(service, '/') == NULL &&
	       strlen(service) + strlen(SERVICE_PREFIX) < NAME_MAX;
}

/* ---- small file helpers (negative errno) ---- */

static int
read_file_at(int dir_fd, const char *path, char **ret_contents, size_t *ret_len)
{
	g_autoptr(GByteArray) data = g_byte_array_new();
	char chunk[4096];
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			int saved = errno;
			if (saved == EINTR)
				continue;
			close(fd);
			return -saved;
		}
		if (n == 0)
			break;
		if (data->len + (size_t)n > CGROUP_FILE_MAX) {
			close(fd);
			return -EFBIG;
		}
		g_byte_array_append(data, (const guint8 *)chunk, (guint)n);
	}
	close(fd);
	if (ret_len != NULL)
		*ret_len = data->len;
	g_byte_array_append(data, (const guint8 *)"", 1);
	*ret_contents = (char *)g_byte_array_free(g_steal_pointer(&data), FALSE);
	return 0;
}

static int
write_file_at(int dir_fd, const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = openat(dir_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int saved = errno;
		close(fd);
		return -saved;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

/* The value of "key VALUE" in a flat-keyed cgroup file, or -1. */
static gint64
read_keyed_at(int dir_fd, const char *path, const char *key)
{
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	size_t key_len = strlen(key);

	if (read_file_at(dir_fd, path, &contents, NULL) < 0)
		return -1;
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (strncmp(*line, key, key_len) == 0 && (*line)[key_len] == ' ')
			return g_ascii_strtoll(*line + key_len + 1, NULL, 10);
	}
	return -1;
}

static gint64
read_number_at(int dir_fd, const char *path)
{
	g_autofree char *contents = NULL;
	char *end;
	gint64 value;

	if (read_file_at(dir_fd, path, &contents, NULL) < 0)
		return -1;
	value = g_ascii_strtoll(contents, &end, 10);
	if (end == contents)
		return -1;
	return value;
}

/* The pids of cgroup.procs, or NULL when the file cannot be read. */
static GArray *
read_cgroup_procs(int cgroup_fd)
{
	g_autofree char *contents = NULL;
	g_autoptr(GArray) pids = NULL;
	char *p;

	if (read_file_at(cgroup_fd, "cgroup.procs", &contents, NULL) < 0)
		return NULL;
	pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	p = contents;
	while (*p != '\0') {
		char *end;
		gint64 value = g_ascii_strtoll(p, &end, 10);

		if (end == p)
			break;
		if (value > 0 && value <= G_MAXINT) {
			pid_t pid = (pid_t)value;
			g_array_append_val(pids, pid);
		}
		p = end;
		while (*p == '\n' || *p == ' ')
			p++;
	}
	return g_steal_pointer(&pids);
}

static int
open_service_cgroup(SgContain *contain, const char *service)
{
	g_autofree char *name = NULL;
	int fd;

	if (!service_name_is_valid(service))
		return -EINVAL;
	name = g_strconcat(SERVICE_PREFIX, service, NULL);
	fd = openat(contain->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ---- cgroup set-up and detection ---- */

/* Turns "\040" and friends of /proc/self/mountinfo back into bytes. */
static char *
unescape_mountinfo(const char *field)
{
	GString *out = g_string_new(NULL);

	for (const char *p = field; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			g_string_append_c(out, (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) |
			                              (p[3] - '0')));
			p += 3;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

/* The directory of cgroup path (as /proc/self/cgroup names it) under a cgroup2 mount. */
static char *
find_cgroup2_directory(const char *cgroup_path)
{
	g_autofree char *mountinfo = NULL;
	g_auto(GStrv) lines = NULL;

	if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo, NULL) < 0)
		return NULL;
	lines = g_strsplit(mountinfo, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		const char *separator = strstr(*line, " - ");
		g_auto(GStrv) fields = NULL;
		g_autofree char *root = NULL;
		g_autofree char *mount_point = NULL;
		size_t root_len;

		if (separator == NULL || !g_str_has_prefix(separator + 3, "cgroup2 "))
			continue;
		fields = g_strsplit(*line, " ", 6);
		if (g_strv_length(fields) < 6)
			continue;
		root = unescape_mountinfo(fields[3]);
		mount_point = unescape_mountinfo(fields[4]);
		/* The mount shows the subtree below root; our cgroup must lie inside it. */
		root_len = strcmp(root, "/") == 0 ? 0 : strlen(root);
		if (strncmp(cgroup_path, root, root_len) != 0 ||
		    (cgroup_path[root_len] != '/' && cgroup_path[root_len] != '\0'))
			continue;
		return g_build_filename(mount_point, cgroup_path + root_len, NULL);
	}
	return NULL;
}

static gboolean
cgroup_has_only_us(const char *directory)
{
	g_autofree char *path = g_build_filename(directory, "cgroup.procs", NULL);
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	pid_t self = getpid();

	if (read_file_at(AT_FDCWD, path, &contents, NULL) < 0)
		return FALSE;
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (**line != '\0' && g_ascii_strtoll(*line, NULL, 10) != self)
			return FALSE;
	}
	return TRUE;
}

static gboolean
cgroup_is_writable(const char *directory)
{
	g_autofree char *procs = g_build_filename(directory, "cgroup.procs", NULL);
	g_autofree char *subtree = g_build_filename(directory, "cgroup.subtree_control", NULL);

	return access(directory, W_OK) == 0 && access(procs, W_OK) == 0 &&
	       access(subtree, W_OK) == 0;
}

/*
 * A delegated subtree we may use: our own cgroup v2, writable by us, not the root cgroup,
 * and holding no process but us (a terminal's or a session's cgroup is shared, and not
 * ours to rearrange). A supervisor restarted from ROOT/supervisor takes ROOT back.
 */
static char *
detect_cgroup_root(void)
{
	g_autofree char *self_cgroup = NULL;
	g_autofree char *directory = NULL;
	g_auto(GStrv) lines = NULL;
	const char *path = NULL;

	if (read_file_at(AT_FDCWD, "/proc/self/cgroup", &self_cgroup, NULL) < 0)
		return NULL;
	lines = g_strsplit(self_cgroup, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		if (g_str_has_prefix(*line, "0::"))
			path = *line + 3;
	}
	if (path == NULL || *path != '/' || strcmp(path, "/") == 0 ||
	    g_str_has_suffix(path, " (deleted)"))
		return NULL;
	directory = find_cgroup2_directory(path);
	if (directory == NULL)
		return NULL;
	if (g_str_has_suffix(path, "/" SUPERVISOR_CGROUP) &&
	    strlen(path) > strlen("/" SUPERVISOR_CGROUP)) {
		g_autofree char *parent = g_path_get_dirname(directory);
		if (cgroup_is_writable(parent) && cgroup_has_only_us(parent) &&
		    cgroup_has_only_us(directory))
			return g_steal_pointer(&parent);
	}
	if (!cgroup_is_writable(directory) || !cgroup_has_only_us(directory)) {
		g_debug("cgroup %s is not delegated to us: using markers", directory);
		return NULL;
	}
	return g_steal_pointer(&directory);
}

/* Enables what the parent offers, so memory and task counts come from the cgroups. */
static void
enable_controllers(int root_fd)
{
	static const char *const wanted[] = { "memory", "pids", "cpu" };
	g_autofree char *available = NULL;
	g_auto(GStrv) names = NULL;

	if (read_file_at(root_fd, "cgroup.controllers", &available, NULL) < 0)
		return;
	names = g_strsplit_set(g_strstrip(available), " ", -1);
	for (guint i = 0; i < G_N_ELEMENTS(wanted); i++) {
		g_autofree char *request = NULL;
		int r;

		if (!g_strv_contains((const char *const *)names, wanted[i]))
			continue;
		request = g_strconcat("+", wanted[i], NULL);
		r = write_file_at(root_fd, "cgroup.subtree_control", request);
		if (r < 0)
			g_debug("cannot enable %s controller: %s", wanted[i], g_strerror(-r));
	}
}

static int
open_cgroup_root(const char *root, GError **error)
{
	struct statfs fs;
	int root_fd;

	root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		sg_error_set_errno(error, -errno, _("Cannot open cgroup %s"), root);
		return -1;
	}
	if (fstatfs(root_fd, &fs) < 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		close(root_fd);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED, _("%s is not a cgroup v2 directory"),
		            root);
		return -1;
	}
	return root_fd;
}

static gboolean
setup_cgroup(SgContain *contain, const char *root, GError **error)
{
	int root_fd;
	int r;

	root_fd = open_cgroup_root(root, error);
	if (root_fd < 0)
		return FALSE;
	/* cgroup v2 keeps processes in leaves only once controllers are on: we live in one. */
	if (mkdirat(root_fd, SUPERVISOR_CGROUP, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		close(root_fd);
		return sg_error_set_errno(error, r, _("Cannot create cgroup %s/%s"), root,
		                          SUPERVISOR_CGROUP);
	}
	r = write_file_at(root_fd, SUPERVISOR_CGROUP "/cgroup.procs", "0");
	if (r < 0) {
		close(root_fd);
		return sg_error_set_errno(error, r, _("Cannot move the supervisor into %s/%s"),
		                          root, SUPERVISOR_CGROUP);
	}
	enable_controllers(root_fd);
	contain->root_fd = root_fd;
	contain->cgroup_root = g_strdup(root);
	return TRUE;
}

static SgContain *
contain_alloc(const char *state_id, SgClock *clock)
{
	SgContain *contain = g_new0(SgContain, 1);

	contain->state_id = g_strdup(state_id);
	contain->clock = sg_clock_ref(clock);
	contain->root_fd = -1;
	contain->foreign = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	contain->recorded = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return contain;
}

SgContain *
sg_contain_new(const char *cgroup_root, const char *state_id, SgClock *clock, GError **error)
{
	g_autoptr(SgContain) contain = contain_alloc(state_id, clock);

	if (cgroup_root != NULL) {
		if (!setup_cgroup(contain, cgroup_root, error))
			return NULL;
	} else {
		g_autofree char *detected = detect_cgroup_root();
		g_autoptr(GError) local_error = NULL;

		if (detected != NULL && !setup_cgroup(contain, detected, &local_error))
			g_debug("not using cgroup %s: %s", detected, local_error->message);
	}
	return g_steal_pointer(&contain);
}

SgContain *
sg_contain_open(const char *cgroup_root, const char *state_id, SgClock *clock, GError **error)
{
	g_autoptr(SgContain) contain = contain_alloc(state_id, clock);

	if (cgroup_root != NULL) {
		contain->root_fd = open_cgroup_root(cgroup_root, error);
		if (contain->root_fd < 0)
			return NULL;
		contain->cgroup_root = g_strdup(cgroup_root);
	}
	return g_steal_pointer(&contain);
}

static void stop_free(SgContainStop *stop);
static void drop_scan(SgContain *contain);
static gboolean nothing_strayed(SgContainStop *stop);

void
sg_contain_free(SgContain *contain)
{
	if (contain == NULL)
		return;
	/* Services may outlive the supervisor: their cgroups stay. */
	while (contain->stops != NULL)
		stop_free(contain->stops->data);
	g_clear_handle_id(&contain->settle_idle, g_source_remove);
	drop_scan(contain);
	if (contain->root_fd >= 0)
		close(contain->root_fd);
	sg_clock_unref(contain->clock);
	g_free(contain->cgroup_root);
	g_free(contain->state_id);
	g_hash_table_unref(contain->foreign);
	g_hash_table_unref(contain->recorded);
	g_free(contain);
}

gboolean
sg_contain_uses_cgroups(SgContain *contain)
{
	return contain->root_fd >= 0;
}

const char *
sg_contain_cgroup_root(SgContain *contain)
{
	return contain->cgroup_root;
}

int
sg_contain_prepare(SgContain *contain, const char *service, GError **error)
{
	g_autofree char *name = NULL;
	int fd;

	if (contain->root_fd < 0)
		return -1;
	if (!service_name_is_valid(service)) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("Service name %s cannot name a cgroup"), service);
		return -1;
	}
	name = g_strconcat(SERVICE_PREFIX, service, NULL);
	if (mkdirat(contain->root_fd, name, 0755) < 0 && errno != EEXIST) {
		sg_error_set_errno(error, -errno, _("Cannot create cgroup %s/%s"),
		                   contain->cgroup_root, name);
		return -1;
	}
	fd = openat(contain->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		sg_error_set_errno(error, -errno, _("Cannot open cgroup %s/%s"),
		                   contain->cgroup_root, name);
		return -1;
	}
	return fd;
}

void
sg_contain_release(SgContain *contain, const char *service)
{
	g_autofree char *name = NULL;

	if (contain->root_fd < 0 || !service_name_is_valid(service))
		return;
	name = g_strconcat(SERVICE_PREFIX, service, NULL);
	if (unlinkat(contain->root_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		g_debug("cannot remove cgroup %s: %s", name, g_strerror(errno));
}

/* ---- marker mode: finding processes ---- */

static void
drop_scan(SgContain *contain)
{
	g_clear_handle_id(&contain->scan_idle, g_source_remove);
	g_clear_pointer(&contain->scan, sg_proc_index_free);
}

static gboolean
drop_scan_cb(gpointer user_data)
{
	SgContain *contain = user_data;

	contain->scan_idle = 0;
	drop_scan(contain);
	return G_SOURCE_REMOVE;
}

static SgProcIndex *
scan_this_turn(SgContain *contain)
{
	if (contain->scan == NULL) {
		g_autoptr(GPtrArray) scan = sg_proctree_scan_all(contain->state_id);

		contain->scan = sg_proc_index_new(scan);
		contain->scan_idle = g_idle_add_full(G_PRIORITY_HIGH, drop_scan_cb, contain, NULL);
	}
	return contain->scan;
}

/*
 * Every live process of the service, as SgProcInfo* with its proof (sg-ownership): its
 * markers, the session of its proven main process sid, and their descendants.
 */
static GPtrArray *
marker_find(SgContain *contain, const char *service, pid_t sid)
{
	const guint64 *recorded = g_hash_table_lookup(contain->recorded, service);
	SgOwnedService owned = { service, sid, recorded != NULL ? *recorded : 0, FALSE };
	/* Our children are ours: whoever uses containment is the supervisor that spawned the
	 * services, or `sysg stop`, which has no children. */
	g_autoptr(GPtrArray) members =
	        sg_proc_index_members(scan_this_turn(contain), &owned, SG_OWNERSHIP_CHILDREN);
	GPtrArray *mine = g_ptr_array_new_with_free_func((GDestroyNotify)sg_proc_info_free);

	for (guint i = 0; i < members->len; i++)
		g_ptr_array_add(mine, sg_proc_info_copy(members->pdata[i]));
	return mine;
}

GArray *
sg_contain_list(SgContain *contain, const char *service, pid_t sid)
{
	GArray *pids = NULL;

	if (contain->root_fd >= 0) {
		int fd = open_service_cgroup(contain, service);
		if (fd >= 0) {
			pids = read_cgroup_procs(fd);
			close(fd);
			if (pids != NULL)
				return pids;
		}
	}
	/* Marker mode, or a service started before its supervisor had a cgroup. */
	{
		g_autoptr(GPtrArray) found = marker_find(contain, service, sid);

		pids = g_array_sized_new(FALSE, FALSE, sizeof(pid_t), found->len);
		for (guint i = 0; i < found->len; i++) {
			const SgProcInfo *info = found->pdata[i];
			g_array_append_val(pids, info->pid);
		}
	}
	return pids;
}

static void
usage_sum(GArray *pids, SgContainUsage *usage, gboolean want_memory, gboolean want_cpu)
{
	gint64 memory = 0, cpu = 0;

	for (guint i = 0; i < pids->len; i++) {
		gint64 process_cpu, process_rss;

		if (sg_proctree_read_usage(g_array_index(pids, pid_t, i), &process_cpu,
		                           &process_rss)) {
			memory += process_rss;
			cpu += process_cpu;
		}
	}
	if (want_memory)
		usage->memory_bytes = memory;
	if (want_cpu)
		usage->cpu_usec = cpu;
}

void
sg_contain_usage(SgContain *contain, const char *service, pid_t sid, SgContainUsage *ret_usage)
{
	SgContainUsage usage = { -1, -1, -1 };
	g_autoptr(GArray) pids = NULL;
	int fd;

	if (contain->root_fd >= 0 && (fd = open_service_cgroup(contain, service)) >= 0) {
		pids = read_cgroup_procs(fd);
		usage.memory_bytes = read_number_at(fd, "memory.current");
		usage.tasks = read_number_at(fd, "pids.current");
		usage.cpu_usec = read_keyed_at(fd, "cpu.stat", "usage_usec");
		close(fd);
		if (pids != NULL) {
			/* Without controllers, what the members use now. */
			usage_sum(pids, &usage, usage.memory_bytes < 0, usage.cpu_usec < 0);
			if (usage.tasks < 0)
				usage.tasks = pids->len;
		}
		*ret_usage = usage;
		return;
	}
	pids = sg_contain_list(contain, service, sid);
	usage_sum(pids, &usage, TRUE, TRUE);
	usage.tasks = pids->len;
	*ret_usage = usage;
}

/* ---- stopping ---- */

/*
 * Both modes watch every signalled process through a pidfd. When all watched processes
 * are gone, one more pass looks for processes that appeared meanwhile (forked, or marked,
 * after the last pass) and signals them too. Marker mode is done when a pass finds
 * nothing; cgroup mode when cgroup.events says "populated 0".
 */

/* Counts a process once, however often it is signalled. */
static void
stop_count(SgContainStop *stop, pid_t pid, guint64 start_time)
{
	gpointer known;

	if (g_hash_table_lookup_extended(stop->signalled, GINT_TO_POINTER(pid), NULL, &known) &&
	    *(guint64 *)known == start_time)
		return;
	g_hash_table_insert(stop->signalled, GINT_TO_POINTER(pid),
	                    g_memdup2(&start_time, sizeof(start_time)));
	stop->n_processes++;
}

static void
watch_free(gpointer data)
{
	Watch *watch = data;

	close(watch->pidfd);
	g_source_unref(watch->source);
	g_free(watch);
}

static void
stop_free(SgContainStop *stop)
{
	g_autoptr(GList) watches = g_hash_table_get_values(stop->watches);

	stop->contain->stops = g_list_remove(stop->contain->stops, stop);
	stop->contain->settling = g_list_remove(stop->contain->settling, stop);
	sg_clock_clear(stop->contain->clock, &stop->timeout_id);
	g_hash_table_steal_all(stop->watches);
	/* Each watch is freed by its source: at once, or after the dispatch in progress. */
	for (GList *l = watches; l != NULL; l = l->next)
		g_source_destroy(((Watch *)l->data)->source);
	g_hash_table_unref(stop->watches);
	if (stop->events_source != NULL) {
		g_source_destroy(stop->events_source);
		g_source_unref(stop->events_source);
	}
	if (stop->inotify_fd >= 0)
		close(stop->inotify_fd);
	if (stop->cgroup_fd >= 0)
		close(stop->cgroup_fd);
	g_hash_table_unref(stop->signalled);
	g_free(stop->service);
	g_free(stop);
}

/* Frees the stop, then tells its owner: done may free the SgContain or start a new stop. */
static void
stop_finish(SgContainStop *stop)
{
	SgContainDoneFunc done = stop->done;
	gpointer user_data = stop->user_data;
	gboolean killed = stop->killed;
	guint n_processes = stop->n_processes;
	g_autofree char *service = g_steal_pointer(&stop->service);

	g_debug("%s: no process left (%u signalled%s)", service, n_processes,
	        killed ? ", killed" : "");
	stop_free(stop);
	done(service, killed, n_processes, user_data);
}

static void stop_settle(SgContainStop *stop);

/*
 * Every process found has exited. Anything they forked meanwhile was re-parented to us,
 * the subreaper: with no stray child of ours there is nothing left to look for.
 */
static gboolean
nothing_strayed(SgContainStop *stop)
{
	SgContain *contain = stop->contain;

	return !stop->foreign && contain->stray_func != NULL &&
	       !contain->stray_func(contain->stray_data);
}

static gboolean
settle_all_cb(gpointer user_data)
{
	SgContain *contain = user_data;
	GList *settling = g_steal_pointer(&contain->settling);

	contain->settle_idle = 0;
	drop_scan(contain);
	/* stop_settle may free the stop (done): walk a copy. */
	for (GList *l = settling; l != NULL; l = l->next) {
		SgContainStop *stop = l->data;
		if (g_list_find(contain->stops, stop) != NULL)
			stop_settle(stop);
	}
	g_list_free(settling);
	return G_SOURCE_REMOVE;
}

static gboolean
watch_fired_cb(int fd, GIOCondition condition, gpointer user_data)
{
	Watch *watch = user_data;
	SgContainStop *stop = watch->stop;
	SgContain *contain = stop->contain;

	g_hash_table_steal(stop->watches, GINT_TO_POINTER(watch->proc.pid));
	if (g_hash_table_size(stop->watches) > 0)
		return G_SOURCE_REMOVE;
	if (stop->cgroup_fd >= 0) {
		stop_settle(stop);
		return G_SOURCE_REMOVE;
	}
	if (nothing_strayed(stop)) {
		stop_finish(stop);
		return G_SOURCE_REMOVE;
	}
	if (g_list_find(contain->settling, stop) == NULL)
		contain->settling = g_list_prepend(contain->settling, stop);
	if (contain->settle_idle == 0)
		contain->settle_idle = g_idle_add(settle_all_cb, contain);
	return G_SOURCE_REMOVE;
}

static void
stop_signal_sent(SgContainStop *stop, pid_t pid, guint64 start_time, int sig)
{
	stop_count(stop, pid, start_time);
	if (sig == SIGKILL)
		stop->killed = TRUE;
}

/*
 * Signals one process proven ours (sig 0: only watches it) and watches it, through
 * sg-ownership: the pidfd pins the process, so once its start time is checked, the signal
 * cannot reach another that reused the PID.
 */
static void
stop_signal_process(SgContainStop *stop, const SgProcInfo *info, int sig)
{
	Watch *watch = g_hash_table_lookup(stop->watches, GINT_TO_POINTER(info->pid));
	SgProcInfo proc = { .pid = info->pid,
		            .start_time = info->start_time,
		            .proof = info->proof };
	gpointer known;
	int pidfd;

	/* Nobody gets a second SIGTERM: to many programs it means "quit at once". */
	if (sig == SIGTERM &&
	    g_hash_table_lookup_extended(stop->signalled, GINT_TO_POINTER(proc.pid), NULL,
	                                 &known) &&
	    *(guint64 *)known == proc.start_time)
		sig = 0;
	if (watch != NULL && watch->proc.start_time == proc.start_time) {
		if (sg_ownership_signal(&watch->proc, watch->pidfd, sig) == 0)
			stop_signal_sent(stop, proc.pid, proc.start_time, sig);
		return;
	}
	pidfd = pidfd_open(proc.pid);
	if (pidfd < 0) {
		if (errno == ESRCH)
			return;
		/* No pidfd (out of fds): signalled all the same; the deadline's SIGKILL ends it. */
		g_debug("cannot watch process %d: %s", (int)proc.pid, g_strerror(errno));
		if (sg_ownership_signal(&proc, -1, sig) < 0)
			return;
		stop_signal_sent(stop, proc.pid, proc.start_time, sig);
		stop->n_unwatchable++;
		return;
	}
	if (sg_ownership_signal(&proc, pidfd, sig) < 0) {
		close(pidfd);
		return;
	}
	stop_signal_sent(stop, proc.pid, proc.start_time, sig);
	if (watch != NULL) {
		/* The old process of a reused PID is still watched; it decides when to settle. */
		close(pidfd);
		return;
	}
	watch = g_new0(Watch, 1);
	watch->stop = stop;
	watch->proc = proc;
	watch->pidfd = pidfd;
	watch->source = g_unix_fd_source_new(pidfd, G_IO_IN);
	g_source_set_callback(watch->source, G_SOURCE_FUNC(watch_fired_cb), watch, watch_free);
	g_source_attach(watch->source, g_main_context_get_thread_default());
	g_hash_table_insert(stop->watches, GINT_TO_POINTER(proc.pid), watch);
}

/*
 * A main process spawned a moment ago may not have reached exec yet: no session of its
 * own, no markers, not in its cgroup. It is still ours when it is our child.
 */
static void
add_fresh_main(SgContainStop *stop, GPtrArray *found)
{
	SgProcInfo *info;

	if (stop->sid <= 0)
		return;
	for (guint i = 0; i < found->len; i++)
		if (((SgProcInfo *)found->pdata[i])->pid == stop->sid)
			return;
	info = g_new0(SgProcInfo, 1);
	if (sg_proctree_read_stat(stop->sid, info) && info->ppid == getpid()) {
		info->proof = SG_PROOF_CHILD;
		g_ptr_array_add(found, info);
	} else {
		sg_proc_info_free(info);
	}
}

/* The service's live processes now, as SgProcInfo*: its cgroup's members, or a scan. */
static GPtrArray *
stop_collect(SgContainStop *stop)
{
	GPtrArray *found;
	g_autoptr(GArray) pids = NULL;

	if (stop->cgroup_fd < 0) {
		found = marker_find(stop->contain, stop->service, stop->sid);
		add_fresh_main(stop, found);
		return found;
	}
	found = g_ptr_array_new_with_free_func((GDestroyNotify)sg_proc_info_free);
	add_fresh_main(stop, found);
	pids = read_cgroup_procs(stop->cgroup_fd);
	for (guint i = 0; pids != NULL && i < pids->len; i++) {
		SgProcInfo *info = g_new0(SgProcInfo, 1);

		if (g_array_index(pids, pid_t, i) != getpid() &&
		    sg_proctree_read_stat(g_array_index(pids, pid_t, i), info)) {
			info->proof = SG_PROOF_CGROUP;
			g_ptr_array_add(found, info);
		} else {
			sg_proc_info_free(info);
		}
	}
	return found;
}

/* The group of the service's main process, through its leader, when the look found it. */
static gboolean
signal_group(SgContainStop *stop, GPtrArray *found, int sig)
{
	for (guint i = 0; stop->sid > 0 && i < found->len; i++) {
		const SgProcInfo *info = found->pdata[i];

		if (info->pid == stop->sid)
			return sg_ownership_signal_group(info, -1, sig) == 0;
	}
	return FALSE;
}

/*
 * Signals the group (group_sig, 0 for none) and every process of the service (sig, 0 to
 * only watch). The group goes between the first look and the signals: kill(-pgid) cannot
 * be dodged by a fork in flight, and the members the look found have had their SIGTERM
 * from it (counted, even if it ended them at once, and not signalled twice). The group is
 * signalled only while its leader, the main process, lives and is proven ours. A cgroup is
 * read again until it shows no one new (members may fork meanwhile); a marker scan is
 * costly and done once, the next settle repeats it.
 */
static guint
stop_pass(SgContainStop *stop, int group_sig, int sig)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	gboolean group_termed = FALSE;

	stop->n_unwatchable = 0;
	for (int round = 0; round < SIGNAL_PASSES_MAX; round++) {
		g_autoptr(GPtrArray) found = stop_collect(stop);
		guint n_new = 0;

		if (round == 0 && group_sig != 0 && signal_group(stop, found, group_sig)) {
			if (group_sig == SIGKILL)
				stop->killed = TRUE;
			group_termed = group_sig == SIGTERM;
		}
		for (guint i = 0; i < found->len; i++) {
			const SgProcInfo *info = found->pdata[i];

			if (!g_hash_table_add(seen, GINT_TO_POINTER(info->pid)))
				continue;
			n_new++;
			if (round == 0 && group_termed && info->pgid == stop->sid)
				stop_count(stop, info->pid, info->start_time);
			stop_signal_process(stop, info, sig);
		}
		if (n_new == 0 || stop->cgroup_fd < 0)
			break;
	}
	return g_hash_table_size(seen);
}

/* FALSE once cgroup.events says "populated 0" (or the cgroup is gone). */
static gboolean
cgroup_populated(SgContainStop *stop)
{
	return read_keyed_at(stop->cgroup_fd, "cgroup.events", "populated") > 0;
}

/*
 * Signals what is there and decides what comes next: wait for the watched processes, for
 * cgroup.events, or for the deadline; or finish. Returns TRUE when the stop has finished
 * (and is freed). A marker pass whose finds all exited before they could be watched (a
 * shell that forks on SIGTERM and exits at once) proves nothing: another pass follows.
 */
static gboolean
stop_advance(SgContainStop *stop, int group_sig, int sig)
{
	for (int pass = 0; pass < SIGNAL_PASSES_MAX; pass++) {
		guint n_found;

		/* A later pass looks again: the turn's scan may show what has since exited. */
		if (pass > 0)
			drop_scan(stop->contain);
		n_found = stop_pass(stop, pass == 0 ? group_sig : 0, sig);

		if (g_hash_table_size(stop->watches) > 0)
			return FALSE;
		if (stop->cgroup_fd >= 0) {
			/* cgroup.events says when the last member is gone. */
			if (cgroup_populated(stop))
				return FALSE;
			stop_finish(stop);
			return TRUE;
		}
		if (stop->n_unwatchable > 0 && !stop->past_timeout)
			return FALSE;
		if (n_found == 0 || stop->n_unwatchable > 0 || nothing_strayed(stop)) {
			stop_finish(stop);
			return TRUE;
		}
	}
	/* Processes appear and exit faster than they can be watched: the deadline decides. */
	if (!stop->past_timeout)
		return FALSE;
	stop_finish(stop);
	return TRUE;
}

/* Nothing is watched any more: another pass catches what appeared meanwhile. */
static void
stop_settle(SgContainStop *stop)
{
	(void)stop_advance(stop, 0, stop->past_timeout ? SIGKILL : SIGTERM);
}

static void
stop_timeout_cb(gpointer user_data)
{
	SgContainStop *stop = user_data;
	guint n_before = stop->n_processes;
	int r;

	stop->timeout_id = 0;
	stop->past_timeout = TRUE;
	g_debug("%s: still running after the stop timeout, killing", stop->service);
	if (stop->cgroup_fd < 0) {
		(void)stop_advance(stop, SIGKILL, SIGKILL);
		return;
	}
	/* Watch and count what is left, then cgroup.kill (Linux 5.14), which also catches
	 * forks in flight; older kernels get SIGKILL passes. */
	stop_pass(stop, SIGKILL, 0);
	if (g_hash_table_size(stop->watches) > 0 || stop->n_processes > n_before)
		stop->killed = TRUE;
	r = write_file_at(stop->cgroup_fd, "cgroup.kill", "1");
	if (r < 0)
		g_debug("%s: cgroup.kill: %s", stop->service, g_strerror(-r));
	(void)stop_advance(stop, 0, r < 0 ? SIGKILL : 0);
}

static gboolean
cgroup_events_cb(int fd, GIOCondition condition, gpointer user_data)
{
	SgContainStop *stop = user_data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (!cgroup_populated(stop)) {
		stop_finish(stop);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

/* Watches the service's cgroup.events; FALSE when the service has no cgroup to watch. */
static gboolean
cgroup_stop_init(SgContainStop *stop)
{
	g_autofree char *events = NULL;
	int fd = open_service_cgroup(stop->contain, stop->service);

	if (fd < 0)
		return FALSE;
	/* Through the fd: the root may have been given as a relative path. */
	events = g_strdup_printf("/proc/self/fd/%d/cgroup.events", fd);
	stop->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (stop->inotify_fd < 0 || inotify_add_watch(stop->inotify_fd, events, IN_MODIFY) < 0) {
		g_debug("%s: cannot watch %s: %s", stop->service, events, g_strerror(errno));
		close(fd);
		if (stop->inotify_fd >= 0)
			close(stop->inotify_fd);
		stop->inotify_fd = -1;
		return FALSE;
	}
	stop->cgroup_fd = fd;
	stop->events_source = g_unix_fd_source_new(stop->inotify_fd, G_IO_IN);
	g_source_set_callback(stop->events_source, G_SOURCE_FUNC(cgroup_events_cb), stop, NULL);
	g_source_attach(stop->events_source, g_main_context_get_thread_default());
	return TRUE;
}

SgContainStop *
sg_contain_stop(SgContain *contain, const char *service, pid_t sid, guint64 timeout_ms,
                SgContainDoneFunc done, gpointer user_data)
{
	SgContainStop *stop = g_new0(SgContainStop, 1);

	stop->contain = contain;
	stop->service = g_strdup(service);
	stop->sid = sid;
	stop->done = done;
	stop->user_data = user_data;
	stop->signalled = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	stop->watches = g_hash_table_new(NULL, NULL);
	stop->cgroup_fd = -1;
	stop->inotify_fd = -1;
	stop->foreign = g_hash_table_contains(contain->foreign, service);
	contain->stops = g_list_prepend(contain->stops, stop);

	/* Without a cgroup (marker mode, or a service started before we had one): markers.
	 * In cgroup mode the watch is in place before the first read of cgroup.events. */
	if (contain->root_fd >= 0)
		(void)cgroup_stop_init(stop);
	if (stop_advance(stop, SIGTERM, SIGTERM))
		return NULL;
	stop->timeout_id = sg_clock_add_timeout(contain->clock, timeout_ms, stop_timeout_cb, stop);
	return stop;
}

void
sg_contain_stop_cancel(SgContainStop *stop)
{
	if (stop != NULL)
		stop_free(stop);
}

void
sg_contain_set_stray_func(SgContain *contain, SgContainStrayFunc func, gpointer user_data)
{
	contain->stray_func = func;
	contain->stray_data = user_data;
}

void
sg_contain_set_foreign(SgContain *contain, const char *service, gboolean foreign)
{
	if (foreign)
		g_hash_table_add(contain->foreign, g_strdup(service));
	else
		g_hash_table_remove(contain->foreign, service);
}

void
sg_contain_set_recorded(SgContain *contain, const char *service, guint64 start_time)
{
	if (start_time != 0)
		g_hash_table_insert(contain->recorded, g_strdup(service),
		                    g_memdup2(&start_time, sizeof(start_time)));
	else
		g_hash_table_remove(contain->recorded, service);
}
