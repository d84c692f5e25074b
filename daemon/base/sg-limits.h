/* SPDX-License-Identifier: MIT */
/* Every limit on user-controlled sizes and counts, in one place (docs/limits.md lists them). */
#pragma once

#include <glib.h>

/* The configuration file (SPEC section 3): bytes, nesting, and nodes once every alias is
 * counted as a copy of its anchor (against "billion laughs"). */
#define SG_YAML_MAX_FILE_BYTES     (8 * 1024 * 1024)
#define SG_YAML_MAX_DEPTH          64
#define SG_YAML_MAX_EXPANDED_NODES 100000

/* What one configuration may declare. */
#define SG_CONFIG_MAX_SERVICES 10000
#define SG_CONFIG_MAX_ITEMS    4096 /* exec arguments, dependencies, env vars per block */
#define SG_SERVICE_NAME_MAX    64
#define SG_DURATION_MAX_MS     ((guint64)30 * 24 * 3600 * 1000)
#define SG_LOG_FILES_MAX       100

/* One env file, and one line of it. */
#define SG_ENVFILE_MAX_BYTES (1024 * 1024)

/* Every JSON text systemg reads (socket lines, answers, state files): arrays and objects
 * nested deeper than this are refused before json-glib, which recurses, sees them. */
#define SG_JSON_MAX_DEPTH 64

/* A state file larger than this is not read: it is reported as corrupt. */
#define SG_STATE_MAX_FILE_SIZE (64 * 1024 * 1024)

/* supervisor.log rotation (SPEC section 2): past 10 MiB, keeping .1 ... .5. */
#define SG_LOG_MAX_BYTES ((guint64)10 * 1024 * 1024)
#define SG_LOG_MAX_FILES 5

/* What one control-socket client may make the daemon hold. */
#define SG_CONTROL_LINE_MAX      (1024 * 1024)     /* one request line */
#define SG_CONTROL_OUTPUT_MAX    (4 * 1024 * 1024) /* unread output before a disconnect */
#define SG_CONTROL_CLIENTS_MAX   1024              /* past it the one quiet longest is dropped */
#define SG_CONTROL_LOG_LINES_MAX 10000
/* A client with nothing in progress (no call, no subscription, no answer pending) that
 * sends nothing for this long is disconnected; so is one that leaves its answers unread. */
#define SG_CONTROL_IDLE_TIMEOUT_S  30
#define SG_CONTROL_STALL_TIMEOUT_S 30
/* How long sysg waits to connect and for the answer of a request that answers at once
 * (status, list_services, get_service, logs, reload, shutdown). */
#define SG_CLIENT_ANSWER_TIMEOUT_S 10

/* One line of the supervisor's answers that sysg reads (a status of many services). */
#define SG_CLIENT_ANSWER_MAX (256 * 1024 * 1024)

/* One answer of `logs` (socket and GetLogs, an equal share per file), and one file of
 * `sysg logs`. */
#define SG_LOGS_LINES_DEFAULT 50
#define SG_LOGS_BYTES_MAX     (4 * 1024 * 1024)
/* The last stderr lines quoted in a failure report or a cause. */
#define SG_TAIL_REPORT_BYTES_MAX (64 * 1024)

/* How long sysg start and sysgd wait for a supervisor that is starting to answer. */
#define SG_STARTUP_WAIT_SEC 30

/* Lines of one kind (refused callers, dropped clients) logged at most once per interval;
 * the others are counted in one line after it. */
#define SG_LOG_LIMIT_INTERVAL_MS 1000

/* Hook runs queued per service while one runs. */
#define SG_HOOK_QUEUE_MAX 16

/* An sd_notify datagram (systemd refuses bigger ones), the descriptors one may carry (the
 * kernel's SCM_MAX_FD), and datagrams taken per wake-up, so a flooding service cannot
 * starve the loop. */
#define SG_NOTIFY_MESSAGE_MAX 4096
#define SG_NOTIFY_FDS_MAX     253
#define SG_NOTIFY_BATCH_MAX   64

/* Health checks: the HTTP status line must come within this much of the response; of a
 * command's stderr only the tail is kept, and one line of it goes into the cause. */
#define SG_HEALTH_HTTP_HEAD_MAX   8192
#define SG_HEALTH_STDERR_TAIL_MAX 4096
#define SG_HEALTH_CAUSE_LINE_MAX  200

/* What is read of another process: the markers are looked for in the first 256 KiB of its
 * environment (a scan's cost is bounded), its command line, and /proc/locks (every lock of
 * the machine). */
#define SG_PROC_ENVIRON_MAX (256 * 1024)
#define SG_PROC_CMDLINE_MAX 4096
#define SG_PROC_LOCKS_MAX   (16 * 1024 * 1024)

/* One line of a helper command's output (hooks, skip) before it goes to supervisor.log. */
#define SG_COMMAND_LINE_MAX 4096
