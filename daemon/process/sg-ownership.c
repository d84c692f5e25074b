/* SPDX-License-Identifier: MIT */
/* Which processes are ours (one rule, one scan) and the one function that sends signals. */
#include "config.h"

#define G_LOG_DOMAIN "sg-ownership"

#include "process/sg-ownership.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sg-error.h"
#include "base/sg-paths.h"
#include "base/sg-sockaddr.h"
#include "base/sg-limits.h"

/* Internal: marked for a service that is not among those asked about. */
#define OWNER_OTHER G_MAXUINT

/* ---- the door ---- */

static int
pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int
pidfd_send_signal(int pidfd, int sig)
{
	return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

/* Whether pid is a child of ours not yet reaped (a zombie included): its PID stays its own. */
static gboolean
is_unreaped_child(pid_t pid)
{
	siginfo_t info = { 0 };

	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static int
send_one(gboolean group, int pidfd, pid_t pid, int sig)
{
	if (group)
		return kill(-pid, sig) < 0 ? -errno : 0;
	if (pidfd >= 0)
		return pidfd_send_signal(pidfd, sig);
	return kill(pid, sig) < 0 ? -errno : 0;
}

/*
 * Every signal of sysgd and sysg is sent here. proof says why the process is ours; the
 * process is pinned by pidfd and must still be the one proven (our unreaped child, or
 * alive with the start time the proof saw). A group is signalled only through its
 * leader, which must still lead it: while it does, the group id is the leader's own.
 */
static int
signal_pinned(SgProof proof, int pidfd, pid_t pid, guint64 start_time, gboolean group, int sig)
{
	int own_fd = -1;
	int r;

	if (proof == SG_PROOF_NONE || proof == SG_PROOF_VOUCHED || pid <= 1 || pid == getpid())
		return -EPERM;
	if (group && (pid == getpgrp() || pid == getsid(0)))
		return -EPERM;
	if (pidfd < 0) {
		own_fd = pidfd_open(pid);
		/* Out of descriptors: the checks below still hold, only for a shorter instant. */
		if (own_fd < 0 && errno != EMFILE && errno != ENFILE && errno != ENOMEM)
			return -errno;
		pidfd = own_fd;
	}
	if (proof == SG_PROOF_CHILD) {
		r = is_unreaped_child(pid) ? 0 : -EPERM;
	} else {
		/* Checked after the pidfd is open: a PID reused before that shows another start
		 * time, and one reused after is not what the pidfd refers to. */
		r = start_time != 0 && sg_proctree_start_time(pid) == start_time ? 0 : -ESRCH;
	}
	if (r == 0 && group && getpgid(pid) != pid)
		r = -ESRCH;
	if (r == 0 && sig != 0) {
		r = send_one(group, pidfd, pid, sig);
		/* A stopped process keeps SIGTERM pending until it runs again. */
		if (r == 0 && sig == SIGTERM)
			(void)send_one(group, pidfd, pid, SIGCONT);
	}
	if (own_fd >= 0)
		close(own_fd);
	if (r == -EPERM)
		g_debug("not signalling %s %d: not proven ours", group ? "group" : "process",
		        (int)pid);
	return r;
}

int
sg_ownership_signal(const SgProcInfo *info, int pidfd, int sig)
{
	return signal_pinned(info->proof, pidfd, info->pid, info->start_time, FALSE, sig);
}

int
sg_ownership_signal_group(const SgProcInfo *info, int pidfd, int sig)
{
	return signal_pinned(info->proof, pidfd, info->pid, info->start_time, TRUE, sig);
}

int
sg_ownership_signal_child(pid_t pid, gboolean group, int sig)
{
	return signal_pinned(SG_PROOF_CHILD, -1, pid, 0, group, sig);
}

/* ---- recorded main processes and leaders ---- */

/* The markers say the process is another's: another state directory or another service. */
static gboolean
markers_contradict(const SgProcInfo *info, const char *service)
{
	if (info->markers == SG_MARKERS_OTHER)
		return TRUE;
	return info->markers == SG_MARKERS_OURS && info->service != NULL &&
	       g_strcmp0(info->service, service) != 0;
}

SgProof
sg_ownership_check_recorded(const SgProcInfo *info, const char *service,
                            guint64 recorded_start_time, char **ret_why)
{
	const char *why = NULL;

	if (recorded_start_time == 0)
		why = _("no process start time was recorded for it, so it may be another program "
		        "that was given the same PID");
	else if (info->start_time != recorded_start_time)
		why = _("its start time is not the one recorded: the PID now belongs to another "
		        "process");
	else if (info->markers == SG_MARKERS_OTHER)
		why = _("it carries the markers of another state directory");
	else if (markers_contradict(info, service))
		why = _("it carries the markers of another service");
	if (why == NULL)
		return SG_PROOF_RECORDED;
	if (ret_why != NULL)
		*ret_why = g_strdup(why);
	return SG_PROOF_NONE;
}

static SgProof
leader_proof(const SgProcInfo *leader, const SgOwnedService *service, SgOwnershipFlags flags)
{
	if (leader->markers == SG_MARKERS_OURS && leader->service != NULL)
		return g_strcmp0(leader->service, service->name) == 0 ? SG_PROOF_MARKERS
		                                                      : SG_PROOF_NONE;
	/* Our child: even a main process caught before its exec, with our own environment. */
	if ((flags & SG_OWNERSHIP_CHILDREN) && leader->ppid == getpid())
		return SG_PROOF_CHILD;
	if (service->leader_start_time != 0 &&
	    sg_ownership_check_recorded(leader, service->name, service->leader_start_time, NULL) !=
	            SG_PROOF_NONE)
		return SG_PROOF_RECORDED;
	if (service->leader_vouched && !markers_contradict(leader, service->name))
		return SG_PROOF_VOUCHED;
	return SG_PROOF_NONE;
}

/* ---- one pass over a scan ---- */

typedef struct {
	guint service; /* index + 1, 0 none, OWNER_OTHER another service's */
	SgProof proof;
	gboolean resolved;
	gboolean visiting;
} Slot;

static guint
lookup_uint(GHashTable *table, gconstpointer key)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(table, key));
}

/* Who a process is by itself: markers, a proven leader's session or group, our child. */
static void
direct_owner(const SgProcInfo *info, GHashTable *by_name, GHashTable *leaders, GHashTable *sessions,
             SgOwnershipFlags flags, Slot *ret_slot)
{
	guint k;

	if (info->markers == SG_MARKERS_OURS && info->service != NULL) {
		k = lookup_uint(by_name, info->service);
		*ret_slot = (Slot){ k > 0 ? k : OWNER_OTHER, SG_PROOF_MARKERS, TRUE, FALSE };
		return;
	}
	if ((k = lookup_uint(leaders, GINT_TO_POINTER(info->sid))) > 0 ||
	    (k = lookup_uint(leaders, GINT_TO_POINTER(info->pgid))) > 0) {
		*ret_slot = (Slot){ k, SG_PROOF_SESSION, TRUE, FALSE };
		return;
	}
	/* An orphan of a service re-parented to us, the subreaper: ours, and its session says
	 * whose, even when that session's leader has exited. */
	if ((flags & SG_OWNERSHIP_CHILDREN) && info->ppid == getpid() &&
	    ((k = lookup_uint(sessions, GINT_TO_POINTER(info->sid))) > 0 ||
	     (k = lookup_uint(sessions, GINT_TO_POINTER(info->pgid))) > 0)) {
		*ret_slot = (Slot){ k, SG_PROOF_CHILD, TRUE, FALSE };
		return;
	}
	*ret_slot = (Slot){ 0, SG_PROOF_NONE, FALSE, FALSE };
}

/*
 * A process nobody claims is its parent's: walks up the parent chain to the first process
 * whose owner is known, then gives every process on the way that owner. A parent that
 * started after its child is a reused PID, not the parent: the chain stops there, and so
 * does a loop that a scan racing with exits and forks could show.
 */
static void
inherit_owner(GPtrArray *scan, GHashTable *by_pid, Slot *slots, guint start, GArray *chain)
{
	guint owner = 0;
	guint i = start;

	g_array_set_size(chain, 0);
	for (;;) {
		const SgProcInfo *info = scan->pdata[i];
		guint parent;

		if (slots[i].resolved) {
			owner = slots[i].service;
			break;
		}
		if (slots[i].visiting)
			break;
		slots[i].visiting = TRUE;
		g_array_append_val(chain, i);
		parent = lookup_uint(by_pid, GINT_TO_POINTER(info->ppid));
		if (parent == 0 ||
		    ((const SgProcInfo *)scan->pdata[parent - 1])->start_time > info->start_time)
			break;
		i = parent - 1;
	}
	for (guint j = 0; j < chain->len; j++) {
		Slot *slot = &slots[g_array_index(chain, guint, j)];

		slot->service = owner;
		slot->proof =
		        owner > 0 && owner != OWNER_OTHER ? SG_PROOF_DESCENDANT : SG_PROOF_NONE;
		slot->resolved = TRUE;
	}
}

static Slot *
assign_slots(GPtrArray *scan, const SgOwnedService *services, guint n_services,
             SgOwnershipFlags flags)
{
	g_autoptr(GHashTable) by_pid = g_hash_table_new(NULL, NULL);
	g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) leaders = g_hash_table_new(NULL, NULL);
	g_autoptr(GHashTable) sessions = g_hash_table_new(NULL, NULL);
	g_autoptr(GArray) chain = g_array_new(FALSE, FALSE, sizeof(guint));
	Slot *slots = g_new0(Slot, scan->len);

	for (guint i = 0; i < scan->len; i++)
		g_hash_table_insert(by_pid, GINT_TO_POINTER(((SgProcInfo *)scan->pdata[i])->pid),
		                    GUINT_TO_POINTER(i + 1));
	for (guint k = 0; k < n_services; k++) {
		const SgOwnedService *service = &services[k];
		guint index;

		g_hash_table_insert(by_name, (gpointer)service->name, GUINT_TO_POINTER(k + 1));
		if (service->leader <= 0)
			continue;
		g_hash_table_insert(sessions, GINT_TO_POINTER(service->leader),
		                    GUINT_TO_POINTER(k + 1));
		index = lookup_uint(by_pid, GINT_TO_POINTER(service->leader));
		if (index > 0) {
			SgProof proof = leader_proof(scan->pdata[index - 1], service, flags);

			if (proof != SG_PROOF_NONE) {
				g_hash_table_insert(leaders, GINT_TO_POINTER(service->leader),
				                    GUINT_TO_POINTER(k + 1));
				slots[index - 1] = (Slot){ k + 1, proof, TRUE, FALSE };
			}
		}
	}
	for (guint i = 0; i < scan->len; i++) {
		if (!slots[i].resolved)
			direct_owner(scan->pdata[i], by_name, leaders, sessions, flags, &slots[i]);
	}
	for (guint i = 0; i < scan->len; i++) {
		if (!slots[i].resolved)
			inherit_owner(scan, by_pid, slots, i, chain);
	}
	return slots;
}

guint *
sg_ownership_assign(GPtrArray *scan, const SgOwnedService *services, guint n_services,
                    SgOwnershipFlags flags)
{
	g_autofree Slot *slots = assign_slots(scan, services, n_services, flags);
	guint *owners = g_new0(guint, MAX(scan->len, 1));

	for (guint i = 0; i < scan->len; i++) {
		owners[i] = slots[i].service != OWNER_OTHER ? slots[i].service : 0;
		((SgProcInfo *)scan->pdata[i])->proof =
		        owners[i] > 0 ? slots[i].proof : SG_PROOF_NONE;
	}
	return owners;
}

/* ---- one service at a time ---- */

struct _SgProcIndex {
	GPtrArray *scan;
	GHashTable *by_pid;   /* pid -> SgProcInfo* */
	GHashTable *children; /* parent pid -> GPtrArray* of SgProcInfo* */
	GHashTable *sessions; /* sid, and pgid where it differs -> GPtrArray* of SgProcInfo* */
	GHashTable *marked;   /* SYSTEMG_SERVICE -> GPtrArray* of SgProcInfo* */
};

static void
index_add(GHashTable *table, gpointer key, SgProcInfo *info)
{
	GPtrArray *list = g_hash_table_lookup(table, key);

	if (list == NULL) {
		list = g_ptr_array_new();
		g_hash_table_insert(table, key, list);
	}
	g_ptr_array_add(list, info);
}

SgProcIndex *
sg_proc_index_new(GPtrArray *scan)
{
	SgProcIndex *index = g_new0(SgProcIndex, 1);
	GDestroyNotify unref = (GDestroyNotify)g_ptr_array_unref;

	index->scan = g_ptr_array_ref(scan);
	index->by_pid = g_hash_table_new(NULL, NULL);
	index->children = g_hash_table_new_full(NULL, NULL, NULL, unref);
	index->sessions = g_hash_table_new_full(NULL, NULL, NULL, unref);
	index->marked = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, unref);
	for (guint i = 0; i < scan->len; i++) {
		SgProcInfo *info = scan->pdata[i];

		g_hash_table_insert(index->by_pid, GINT_TO_POINTER(info->pid), info);
		index_add(index->children, GINT_TO_POINTER(info->ppid), info);
		index_add(index->sessions, GINT_TO_POINTER(info->sid), info);
		if (info->pgid != info->sid)
			index_add(index->sessions, GINT_TO_POINTER(info->pgid), info);
		if (info->markers == SG_MARKERS_OURS && info->service != NULL)
			index_add(index->marked, info->service, info);
	}
	return index;
}

void
sg_proc_index_free(SgProcIndex *index)
{
	if (index == NULL)
		return;
	g_hash_table_unref(index->by_pid);
	g_hash_table_unref(index->children);
	g_hash_table_unref(index->sessions);
	g_hash_table_unref(index->marked);
	g_ptr_array_unref(index->scan);
	g_free(index);
}

static void
member_add(GPtrArray *members, GHashTable *seen, SgProcInfo *info, SgProof proof)
{
	if (!g_hash_table_add(seen, GINT_TO_POINTER(info->pid)))
		return;
	info->proof = proof;
	g_ptr_array_add(members, info);
}

static gboolean
marked_for_another(const SgProcInfo *info, const char *service)
{
	return info->markers == SG_MARKERS_OURS && info->service != NULL &&
	       strcmp(info->service, service) != 0;
}

/*
 * The same rule as sg_ownership_assign() for one service, at the cost of its own
 * processes: its proven leader, the processes marked for it, its leader's session and
 * group, then their descendants down the parent links.
 */
GPtrArray *
sg_proc_index_members(SgProcIndex *index, const SgOwnedService *service, SgOwnershipFlags flags)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	GPtrArray *members = g_ptr_array_new();
	SgProcInfo *leader =
	        service->leader > 0
	                ? g_hash_table_lookup(index->by_pid, GINT_TO_POINTER(service->leader))
	                : NULL;
	SgProof leader_ok = leader != NULL ? leader_proof(leader, service, flags) : SG_PROOF_NONE;
	GPtrArray *list;

	if (leader_ok != SG_PROOF_NONE)
		member_add(members, seen, leader, leader_ok);
	list = g_hash_table_lookup(index->marked, service->name);
	for (guint i = 0; list != NULL && i < list->len; i++)
		member_add(members, seen, list->pdata[i], SG_PROOF_MARKERS);
	list = service->leader > 0
	               ? g_hash_table_lookup(index->sessions, GINT_TO_POINTER(service->leader))
	               : NULL;
	for (guint i = 0; list != NULL && i < list->len; i++) {
		SgProcInfo *info = list->pdata[i];

		if (marked_for_another(info, service->name))
			continue;
		if (leader_ok != SG_PROOF_NONE)
			member_add(members, seen, info, SG_PROOF_SESSION);
		else if ((flags & SG_OWNERSHIP_CHILDREN) && info->ppid == getpid())
			member_add(members, seen, info, SG_PROOF_CHILD);
	}
	/* members grows while it is walked: each process's children join the end. */
	for (guint i = 0; i < members->len; i++) {
		const SgProcInfo *parent = members->pdata[i];

		list = g_hash_table_lookup(index->children, GINT_TO_POINTER(parent->pid));
		for (guint j = 0; list != NULL && j < list->len; j++) {
			SgProcInfo *child = list->pdata[j];

			/* A "parent" that started after its child is a reused PID. */
			if (marked_for_another(child, service->name) ||
			    child->start_time < parent->start_time)
				continue;
			member_add(members, seen, child, SG_PROOF_DESCENDANT);
		}
	}
	return members;
}

GPtrArray *
sg_ownership_members(GPtrArray *scan, const SgOwnedService *service, SgOwnershipFlags flags)
{
	g_autoptr(SgProcIndex) index = sg_proc_index_new(scan);

	return sg_proc_index_members(index, service, flags);
}

/* ---- the supervisor ---- */

/*
 * Who holds an exclusive flock on the file st describes, from /proc/locks: expected when it
 * is among the holders shown for that inode, else the first of them, else 0; -1 when
 * /proc/locks cannot be read.
 */
static pid_t
flock_holder(const struct stat *st, pid_t expected)
{
	pid_t first = 0;
	g_autofree char *contents = NULL;
	g_auto(GStrv) lines = NULL;
	gsize length = 0;

	if (!g_file_get_contents("/proc/locks", &contents, &length, NULL) ||
	    length > SG_PROC_LOCKS_MAX)
		return -1;
	lines = g_strsplit(contents, "\n", -1);
	for (char **line = lines; *line != NULL; line++) {
		g_auto(GStrv) words = NULL;
		g_autoptr(GPtrArray) fields = g_ptr_array_new();
		g_auto(GStrv) id = NULL;

		/* "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF"; "->" marks a waiter. */
		if (strstr(*line, "->") != NULL)
			continue;
		words = g_strsplit(*line, " ", -1);
		for (guint i = 0; words[i] != NULL; i++)
			if (*words[i] != '\0')
				g_ptr_array_add(fields, words[i]);
		if (fields->len < 6 || strcmp(fields->pdata[1], "FLOCK") != 0 ||
		    strcmp(fields->pdata[3], "WRITE") != 0)
			continue;
		id = g_strsplit(fields->pdata[5], ":", 3);
		/* The inode, not the device: some file systems (btrfs subvolumes) show st_dev
		 * unlike the device this file gives; the holder's PID must match as well. */
		if (g_strv_length(id) == 3 &&
		    g_ascii_strtoull(id[2], NULL, 10) == (guint64)st->st_ino) {
			pid_t pid = (pid_t)g_ascii_strtoll(fields->pdata[4], NULL, 10);

			if (pid == expected)
				return pid;
			if (first == 0)
				first = pid;
		}
	}
	return first;
}

/* The PID listening on the state directory's control.sock (SO_PEERCRED), or 0. */
static pid_t
socket_listener(const char *state_dir)
{
	struct sockaddr_un addr;
	struct ucred cred = { 0 };
	socklen_t cred_len = sizeof(cred);
	socklen_t len;
	int dir_fd = -1;
	int fd, r;

	if (!sg_sockaddr_control(state_dir, &addr, &len, &dir_fd, NULL))
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		if (dir_fd >= 0)
			close(dir_fd);
		return 0;
	}
	do
		r = connect(fd, (struct sockaddr *)&addr, len);
	while (r < 0 && errno == EINTR);
	if (dir_fd >= 0)
		close(dir_fd);
	if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0)
		cred.pid = 0;
	close(fd);
	return cred.pid;
}

gboolean
sg_ownership_signal_supervisor(const char *state_dir, pid_t pid, int sig, GError **error)
{
	g_autofree char *path = sg_paths_state_file(state_dir, SG_STATE_PID_FILE);
	g_autofree char *socket_path = sg_paths_state_file(state_dir, SG_STATE_SOCKET);
	struct stat st;
	guint64 start_time;
	pid_t holder, listener;
	int pidfd, fd, r;

	if (pid <= 1) {
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("%s does not name a supervisor's PID"), path);
		return FALSE;
	}
	pidfd = pidfd_open(pid);
	start_time = sg_proctree_start_time(pid);
	if (pidfd < 0 || start_time == 0) {
		if (pidfd >= 0)
			close(pidfd);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("PID %d named in %s is not running"), (int)pid, path);
		return FALSE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	holder = fd >= 0 && fstat(fd, &st) == 0 ? flock_holder(&st, pid) : 0;
	if (fd >= 0)
		close(fd);
	/* Without /proc/locks (some sandboxes) the socket alone says who the supervisor is. */
	if (holder != pid && holder != -1) {
		close(pidfd);
		if (holder > 0)
			g_set_error(
			        error, SG_ERROR, SG_ERROR_FAILED,
			        _("refusing to signal PID %d named in %s: it does not hold the "
			          "lock on that file (PID %d does), so it is not the supervisor"),
			        (int)pid, path, (int)holder);
		else
			g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
			            _("refusing to signal PID %d named in %s: it does not hold the "
			              "lock on that file, so it is not the supervisor"),
			            (int)pid, path);
		return FALSE;
	}
	listener = socket_listener(state_dir);
	if (listener != pid) {
		close(pidfd);
		g_set_error(error, SG_ERROR, SG_ERROR_FAILED,
		            _("refusing to signal PID %d named in %s: it holds the lock but does "
		              "not serve %s, so it is not the supervisor of this state directory"),
		            (int)pid, path, socket_path);
		return FALSE;
	}
	r = signal_pinned(SG_PROOF_SUPERVISOR, pidfd, pid, start_time, FALSE, sig);
	close(pidfd);
	if (r < 0)
		return sg_error_set_errno(error, r, _("cannot signal the supervisor (PID %d)"),
		                          (int)pid);
	return TRUE;
}
