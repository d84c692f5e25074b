/* SPDX-License-Identifier: MIT */
/* What sg-contain and its stops share: the containment's state and its marker-mode scans. */
#pragma once

#include "process/sg-contain.h"
#include "process/sg-ownership.h"
#include "process/sg-proctree.h"

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

/* The service's cgroup directory as an fd, or a negative errno. */
int sg_contain_open_service_cgroup(SgContain *contain, const char *service);
/* Drops the scan shared by this main-loop turn, so the next look reads /proc again. */
void sg_contain_drop_scan(SgContain *contain);
/*
 * Every live process of the service, as SgProcInfo* with its proof (sg-ownership): its
 * markers, the session of its proven main process sid, and their descendants.
 */
GPtrArray *sg_contain_marker_find(SgContain *contain, const char *service, pid_t sid);
/* Frees a stop in progress without calling its done function (sg-contain-stop.c). */
void sg_contain_stop_free(SgContainStop *stop);
