/* SPDX-License-Identifier: MIT */
/* Simple-command detection and quoting for POSIX sh command lines. */
#include "config.h"

#include "base/sg-shell.h"

#include <string.h>

/* Words that start compound commands or change how the line is read. */
static const char *const reserved_words[] = {
	"if",  "then", "else", "elif", "fi", "do", "done", "case",     "esac",   "while", "until",
	"for", "in",   "{",    "}",    "!",  "[[", "]]",   "function", "select", "time",  NULL,
};

/* POSIX special builtins and the other builtins of dash that exist only in the shell. */
static const char *const shell_builtins[] = {
	".",     ":",      "alias",    "bg",      "break", "cd",      "command", "continue",
	"eval",  "exec",   "exit",     "export",  "fg",    "getopts", "hash",    "jobs",
	"local", "read",   "readonly", "return",  "set",   "shift",   "times",   "trap",
	"type",  "ulimit", "umask",    "unalias", "unset", "wait",    NULL,
};

gboolean
sg_shell_is_simple_command(const char *command)
{
	gboolean in_single = FALSE, in_double = FALSE, word_start = TRUE, first_word = TRUE;
	const char *word = command;
	gsize first_len = 0;

	for (const char *p = command; *p != '\0'; p++) {
		char c = *p;

		if (in_single) {
			if (c == '\'')
				in_single = FALSE;
			continue;
		}
		if (c == '\\') {
			if (p[1] == '\0' || p[1] == '\n')
				return FALSE;
			p++;
			word_start = FALSE;
			continue;
		}
		if (c == '`')
			return FALSE;
		if (c == '$' && (p[1] == '(' || p[1] == '['))
			return FALSE;
		if (in_double) {
			if (c == '"')
				in_double = FALSE;
			continue;
		}
		switch (c) {
		case '\'':
			in_single = TRUE;
			break;
		case '"':
			in_double = TRUE;
			break;
		case '|':
		case '&':
		case ';':
		case '<':
		case '>':
		case '(':
		case ')':
		case '\n':
			return FALSE;
		case '#':
			if (word_start)
				return FALSE;
			break;
		case '=':
			/* NAME=value before the command is an assignment. */
			if (first_word)
				return FALSE;
			break;
		default:
			break;
		}
		if (c == ' ' || c == '\t') {
			if (!word_start && first_word) {
				first_len = (gsize)(p - word);
				first_word = FALSE;
			}
			word_start = TRUE;
		} else {
			if (word_start && first_word)
				word = p;
			word_start = FALSE;
		}
	}
	if (in_single || in_double)
		return FALSE;
	if (first_word)
		first_len = strlen(word);
	while (*command == ' ' || *command == '\t')
		command++;
	if (*command == '\0')
		return FALSE;
	for (guint i = 0; reserved_words[i] != NULL; i++) {
		if (strlen(reserved_words[i]) == first_len &&
		    strncmp(word, reserved_words[i], first_len) == 0)
			return FALSE;
	}
	/* Builtins have no program to exec. */
	for (guint i = 0; shell_builtins[i] != NULL; i++) {
		if (strlen(shell_builtins[i]) == first_len &&
		    strncmp(word, shell_builtins[i], first_len) == 0)
			return FALSE;
	}
	return TRUE;
}

char **
sg_shell_argv(const char *command)
{
	char **argv = g_new0(char *, 4);

	argv[0] = g_strdup("/bin/sh");
	argv[1] = g_strdup("-c");
	argv[2] = sg_shell_is_simple_command(command) ? g_strconcat("exec ", command, NULL)
	                                              : g_strdup(command);
	return argv;
}

char *
sg_shell_quote_word(const char *word)
{
	gboolean plain = word[0] != '\0';

	for (const char *p = word; *p != '\0' && plain; p++)
		plain = g_ascii_isalnum(*p) || strchr("_-./:=,+@%", *p) != NULL;
	return plain ? g_strdup(word) : g_shell_quote(word);
}

char *
sg_shell_join(char **argv)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; argv != NULL && argv[i] != NULL; i++) {
		g_autofree char *quoted = sg_shell_quote_word(argv[i]);
		if (i > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, quoted);
	}
	return g_string_free(out, FALSE);
}
