/* SPDX-License-Identifier: MIT */
/* bare-launcher: the benchmarks' floor, starting COUNT copies of a program with no supervisor. */
/*
 * Usage: bare-launcher COUNT PROGRAM [ARG...]
 *
 * Each copy is forked, put in its own session with stdin, stdout and stderr on /dev/null,
 * and exec'd; the launcher exits at once without waiting, so its children are re-parented
 * (to the benchmark, a child subreaper). fork() rather than vfork(): the children exec in
 * parallel with the next fork, as they do under a supervisor that forks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char *end = NULL;
	long count;

	if (argc < 3) {
		fprintf(stderr, "usage: bare-launcher COUNT PROGRAM [ARG...]\n");
		return 2;
	}
	count = strtol(argv[1], &end, 10);
	if (end == argv[1] || *end != '\0' || count < 0) {
		fprintf(stderr, "bare-launcher: bad count '%s'\n", argv[1]);
		return 2;
	}
	for (long i = 0; i < count; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "bare-launcher: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

			if (setsid() < 0 || fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 ||
			    dup2(fd, 2) < 0)
				_exit(126);
			execv(argv[2], argv + 2);
			_exit(127);
		}
	}
	return 0;
}
