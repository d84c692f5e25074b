/* SPDX-License-Identifier: MIT */
/* Containment: a service's processes by cgroup v2 or by markers, stopped and watched to the end. */
#include "config.h"

#define G_LOG_DOMAIN "sg-contain"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "process/sg-contain-private.h"
#include "base/sg-error.h"
#include "process/sg-cgroup.h"

static gboolean
service_name_is_valid(const char *service)
{
	return service != NULL && *service != '\0' && strchr(service, '/') == NULL &&
	       strlen(service) + strlen(SG_CGROUP_SERVICE_PREFIX) < NAME_MAX;
}

int
sg_contain_open_service_cgroup(SgContain *contain, const char *service)
{
	g_autofree char *name = NULL;
	int fd;

	if (!service_name_is_valid(service))
		return -EINVAL;
	name = g_strconcat(SG_CGROUP_SERVICE_PREFIX, service, NULL);
	fd = openat(contain->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static gboolean
setup_cgroup(SgContain *contain, const char *root, GError **error)
{
	int root_fd;
	int r;

	root_fd = sg_cgroup_open_root(root, error);
	if (root_fd < 0)
		return FALSE;
	/* cgroup v2 keeps processes in leaves only once controllers are on: we live in one. */
	if (mkdirat(root_fd, SG_CGROUP_SUPERVISOR, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		close(root_fd);
		return sg_error_set_errno(error, r, _("Cannot create cgroup %s/%s"), root,
		                          SG_CGROUP_SUPERVISOR);
	}
	r = sg_cgroup_write_file_at(root_fd, SG_CGROUP_SUPERVISOR "/cgroup.procs", "0");
	if (r < 0) {
		close(root_fd);
		return sg_error_set_errno(error, r, _("Cannot move the supervisor into %s/%s"),
		                          root, SG_CGROUP_SUPERVISOR);
	}
	sg_cgroup_enable_controllers(root_fd);
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
		g_autofree char *detected = sg_cgroup_detect_root();
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
		contain->root_fd = sg_cgroup_open_root(cgroup_root, error);
		if (contain->root_fd < 0)
			return NULL;
		contain->cgroup_root = g_strdup(cgroup_root);
	}
	return g_steal_pointer(&contain);
}

void
sg_contain_free(SgContain *contain)
{
	if (contain == NULL)
		return;
	/* Services may outlive the supervisor: their cgroups stay. */
	while (contain->stops != NULL)
		sg_contain_stop_free(contain->stops->data);
	g_clear_handle_id(&contain->settle_idle, g_source_remove);
	sg_contain_drop_scan(contain);
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
	name = g_strconcat(SG_CGROUP_SERVICE_PREFIX, service, NULL);
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
	name = g_strconcat(SG_CGROUP_SERVICE_PREFIX, service, NULL);
	if (unlinkat(contain->root_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		g_debug("cannot remove cgroup %s: %s", name, g_strerror(errno));
}

/* ---- marker mode: finding processes ---- */

void
sg_contain_drop_scan(SgContain *contain)
{
	g_clear_handle_id(&contain->scan_idle, g_source_remove);
	g_clear_pointer(&contain->scan, sg_proc_index_free);
}

static gboolean
drop_scan_cb(gpointer user_data)
{
	SgContain *contain = user_data;

	contain->scan_idle = 0;
	sg_contain_drop_scan(contain);
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
GPtrArray *
sg_contain_marker_find(SgContain *contain, const char *service, pid_t sid)
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
		int fd = sg_contain_open_service_cgroup(contain, service);
		if (fd >= 0) {
			pids = sg_cgroup_read_procs(fd);
			close(fd);
			if (pids != NULL)
				return pids;
		}
	}
	/* Marker mode, or a service started before its supervisor had a cgroup. */
	{
		g_autoptr(GPtrArray) found = sg_contain_marker_find(contain, service, sid);

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

	if (contain->root_fd >= 0 && (fd = sg_contain_open_service_cgroup(contain, service)) >= 0) {
		pids = sg_cgroup_read_procs(fd);
		usage.memory_bytes = sg_cgroup_read_number_at(fd, "memory.current");
		usage.tasks = sg_cgroup_read_number_at(fd, "pids.current");
		usage.cpu_usec = sg_cgroup_read_keyed_at(fd, "cpu.stat", "usage_usec");
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
