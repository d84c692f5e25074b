/* SPDX-License-Identifier: MIT */
/* Following log files as they grow, through inotify, across rotation and replacement. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* How many bytes before the read offset are remembered to notice a file rewritten in place. */
#define SG_FOLLOW_SIGNATURE_BYTES 64

typedef struct {
	char *path;
	char *label;   /* the caller's name for the file, or NULL */
	gpointer data; /* the caller's, freed with data_free */
	GDestroyNotify data_free;
	/* What was read so far. */
	int fd;
	int wd;
	dev_t dev;
	ino_t ino;
	guint64 offset;
	GString *partial; /* a line not finished yet */
	char signature[SG_FOLLOW_SIGNATURE_BYTES];
	gsize signature_len;
} SgFollowFile;

SgFollowFile *sg_follow_file_new(const char *path, const char *label, gpointer data,
                                 GDestroyNotify data_free);
void sg_follow_file_free(SgFollowFile *file);
/* Opens the file when it exists, positioned at its end: only lines written later are read. */
void sg_follow_file_open_at_end(SgFollowFile *file);

typedef struct _SgFollow SgFollow;

/* A complete line of file, without its newline. */
typedef void (*SgFollowLineFunc)(SgFollowFile *file, const char *line, gpointer user_data);
/* name appeared in the log directory; NULL when events were lost (look again). */
typedef void (*SgFollowCreatedFunc)(SgFollow *follow, const char *name, gpointer user_data);
/* The events stopped coming; the error was printed. */
typedef void (*SgFollowFailedFunc)(gpointer user_data);

/*
 * Watches state_dir and its log directory on the default main context. created and failed
 * may be NULL. Returns NULL (and sets error) when neither directory can be watched.
 */
SgFollow *sg_follow_new(const char *state_dir, SgFollowLineFunc line, SgFollowCreatedFunc created,
                        SgFollowFailedFunc failed, gpointer user_data, GError **error);
void sg_follow_free(SgFollow *follow);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SgFollow, sg_follow_free)

/* Follows file from its offset (takes it); what it already holds past that is read now. */
void sg_follow_add(SgFollow *follow, SgFollowFile *file);
/* Whether a file of that path is followed. */
gboolean sg_follow_has(SgFollow *follow, const char *path);
/* Reads what every file holds now; with finish, unfinished last lines too. */
void sg_follow_read_all(SgFollow *follow, gboolean finish);
