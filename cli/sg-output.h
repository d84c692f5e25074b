/* SPDX-License-Identifier: MIT */
/* How sysg shows things to a person: colours, times, sizes, status blocks, JSON. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <sys/types.h>

/* Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
gboolean sg_output_use_color(FILE *stream);

/* A span of time as a person reads it: "45s", "3min 20s", "2h 5min", "3 days 4h". */
char *sg_output_format_span(gint64 seconds);
/* "12.3M", "512B": powers of 1024, as systemctl prints memory. */
char *sg_output_format_bytes(gint64 bytes);
/* "2026-11-27 15:30:00 UTC" from an RFC 3339 string; NULL when it does not parse. */
char *sg_output_format_time(const char *rfc3339);
/* "2026-11-27T15:30:00Z" for now. */
char *sg_output_now_rfc3339(void);

/* Prints node as indented JSON, members in the order they were received, and a newline. */
void sg_output_print_json(FILE *stream, JsonNode *node);

/* One scan of /proc for a status object: every process, the markers of state_id (may be
 * NULL) read. Returns SgProcInfo*. */
GPtrArray *sg_output_scan_processes(const char *state_id);
/*
 * The processes of each service of a status object (section 5) in a scan, decided in one
 * pass as stop decides them (docs/engine.md, "Which processes are ours"), the "pid" of each
 * service taken as its main process: per service, in the order of "services", a GPtrArray
 * of borrowed SgProcInfo*, main process first. scan may be NULL (every array empty).
 */
GPtrArray *sg_output_service_processes(GPtrArray *scan, JsonObject *status);

/*
 * Prints a status object as text: the supervisor, then one block per service in the
 * style of `systemctl status`, with the process tree of each from processes (as
 * sg_output_service_processes() gives them; may be NULL).
 */
void sg_output_print_status(FILE *stream, JsonObject *status, GPtrArray *processes, gboolean color);

/* Reads /proc/PID/cmdline as one line ("[comm]" for kernel threads); NULL when gone. */
char *sg_output_process_command(pid_t pid);
