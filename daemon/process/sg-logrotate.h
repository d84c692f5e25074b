/* SPDX-License-Identifier: MIT */
/* Rotating a live log file in place, keeping the disk it takes bounded whatever comes in. */
#pragma once

#include <glib.h>

/* A live log file and its rotation limits. */
typedef struct {
	int dir_fd;       /* its directory: every open, rename and unlink is relative to it */
	const char *dir;  /* the directory's path, for messages */
	const char *name; /* the file's name in it; rotated copies are NAME.1 (newest) .. NAME.N */
	int fd;           /* the live file, as the writers have it */
	guint64 max_bytes;
	guint max_files;
	gboolean force_truncate; /* tests: act as if collapse-range were missing */
} SgLogRotation;

/* What a rotation did. */
typedef struct {
	gboolean collapsed;            /* collapse-range (else the copy-then-truncate fallback) */
	gboolean collapse_unsupported; /* the file system said so: use force_truncate next */
	guint n_copies;                /* rotated files written */
	guint64 dropped;               /* bytes left the live file and in no rotated one */
} SgLogRotationResult;

/*
 * Rotates when the live file is larger than max_bytes (0: never). Copies of the head of the
 * live file, each at most max_bytes plus one block, become NAME.1 (newest) .. NAME.k after
 * the older copies were shifted by k (those past max_files are dropped). Usually k is 1: the
 * head is everything before the last partial block. When the live file holds more than a
 * copy, only whole copies are taken and the rest stays live for the next check; when it
 * holds more than max_files copies (a burst), the newest max_files are kept, the oldest
 * starting at a line when one starts in its first 4 KiB, and the rest counts as dropped.
 * The head is then removed in place: fallocate(FALLOC_FL_COLLAPSE_RANGE) in whole blocks,
 * or, where the file system lacks it (or the file is under a block), the whole file is the
 * head, its copies are cut at lines, and a few catch-up copies into NAME.1 (never past
 * max_bytes plus a block, the excess dropped) come before a truncate, which loses what is
 * written between the last catch-up and the truncate. Writers keep their O_APPEND fds. So
 * once a burst is over no file holds more than max_bytes plus one block, and all of them
 * at most (max_files + 1) x max_bytes plus one block each. Copies are written to hidden
 * temporary files, synced and renamed: a crash duplicates lines, it never loses copied
 * ones. Returns 1 when it rotated (ret_result filled), 0 when not needed, or a negative
 * errno.
 */
int sg_log_rotate(const SgLogRotation *rotation, SgLogRotationResult *ret_result);
