/* SPDX-License-Identifier: MIT */
/* The cgroup v2 filesystem: finding a delegated subtree, opening it, its files (negative errno). */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* The supervisor's own leaf under the root, and the prefix of each service's cgroup. */
#define SG_CGROUP_SUPERVISOR     "supervisor"
#define SG_CGROUP_SERVICE_PREFIX "svc-"

/* A whole cgroup file (at most 1 MiB) under dir_fd, NUL-terminated; 0 or a negative errno. */
int sg_cgroup_read_file_at(int dir_fd, const char *path, char **ret_contents, size_t *ret_len);
/* Writes text in one write(); 0 or a negative errno. */
int sg_cgroup_write_file_at(int dir_fd, const char *path, const char *text);
/* The value of "key VALUE" in a flat-keyed cgroup file, or -1. */
gint64 sg_cgroup_read_keyed_at(int dir_fd, const char *path, const char *key);
/* The number a cgroup file holds, or -1. */
gint64 sg_cgroup_read_number_at(int dir_fd, const char *path);
/* The pids of cgroup.procs (GArray of pid_t), or NULL when the file cannot be read. */
GArray *sg_cgroup_read_procs(int cgroup_fd);

/* A delegated cgroup v2 directory we may use (ours alone, writable), from /proc/self/cgroup,
 * or NULL. */
char *sg_cgroup_detect_root(void);
/* Enables what the parent offers, so memory and task counts come from the cgroups. */
void sg_cgroup_enable_controllers(int root_fd);
/* An fd of root, refused unless it is a cgroup2 directory; -1 with error. */
int sg_cgroup_open_root(const char *root, GError **error);
