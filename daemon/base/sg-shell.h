/* SPDX-License-Identifier: MIT */
/* What systemg needs to know about a shell command line without running a shell. */
#pragma once

#include <glib.h>

/*
 * Whether command is one simple command: words, quotes and $VAR or ${VAR} only; no pipes,
 * lists, redirections, substitutions, assignments, comments that hide syntax, or compound
 * syntax. Such a command is run as `exec COMMAND` so that no shell stays behind.
 */
gboolean sg_shell_is_simple_command(const char *command);

/* The argv that runs command: {"/bin/sh", "-c", "exec COMMAND" or "COMMAND", NULL}. */
char **sg_shell_argv(const char *command);

/* Quotes one word for a POSIX shell when it needs quoting (for display of exec argv). */
char *sg_shell_quote_word(const char *word);
/* argv joined into one shell-quoted string. */
char *sg_shell_join(char **argv);
