/* SPDX-License-Identifier: MIT */
/* Stopping a service's processes: SIGTERM, SIGKILL after the timeout, watched to the last. */
#include "config.h"

#define G_LOG_DOMAIN "sg-contain"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "process/sg-contain-private.h"
#include "process/sg-cgroup.h"

/* cgroup.procs may grow while we signal it; this bounds the passes of one round. */
#define SIGNAL_PASSES_MAX 16

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

void
sg_contain_stop_free(SgContainStop *stop)
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
	sg_contain_stop_free(stop);
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
	sg_contain_drop_scan(contain);
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
		found = sg_contain_marker_find(stop->contain, stop->service, stop->sid);
		add_fresh_main(stop, found);
		return found;
	}
	found = g_ptr_array_new_with_free_func((GDestroyNotify)sg_proc_info_free);
	add_fresh_main(stop, found);
	pids = sg_cgroup_read_procs(stop->cgroup_fd);
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
	return sg_cgroup_read_keyed_at(stop->cgroup_fd, "cgroup.events", "populated") > 0;
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
			sg_contain_drop_scan(stop->contain);
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
	r = sg_cgroup_write_file_at(stop->cgroup_fd, "cgroup.kill", "1");
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
	int fd = sg_contain_open_service_cgroup(stop->contain, stop->service);

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
		sg_contain_stop_free(stop);
}
