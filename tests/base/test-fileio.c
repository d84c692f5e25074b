/* SPDX-License-Identifier: MIT */
/* Tests of sg-fileio: user files must be regular, state files are never reached through links. */
#include "config.h"

#include "base/sg-error.h"
#include "base/sg-fileio.h"
#include "lib/sg-test.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

typedef struct {
	char *dir;
	int dir_fd;
} Fixture;

static void
fixture_init(Fixture *f)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("sg-fileio-XXXXXX", &error);
	g_assert_no_error(error);
	f->dir_fd = sg_fileio_open_dir(f->dir, &error);
	g_assert_no_error(error);
	g_assert_cmpint(f->dir_fd, >=, 0);
}

static void
fixture_clear(Fixture *f)
{
	close(f->dir_fd);
	sg_test_remove_tree(f->dir);
	g_free(f->dir);
}

static char *
in_dir(Fixture *f, const char *name)
{
	return g_build_filename(f->dir, name, NULL);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	g_assert_no_errno(chmod(path, mode));
}

static void
test_user_file_regular_only(void)
{
	Fixture f;
	g_autofree char *fifo = NULL, *file = NULL, *link = NULL;
	g_autoptr(GError) error = NULL;
	int fd;

	fixture_init(&f);
	fifo = in_dir(&f, "fifo.yaml");
	file = in_dir(&f, "ok.yaml");
	link = in_dir(&f, "link.yaml");
	g_assert_no_errno(mkfifo(fifo, 0600));
	write_file(file, "a: 1\n", 0644);
	g_assert_no_errno(symlink("ok.yaml", link));

	/* Nobody ever opens the other end: this must not block. */
	fd = sg_fileio_open_user_file(fifo, "fifo.yaml", &error);
	g_assert_cmpint(fd, ==, -ENXIO);
	g_assert_error(error, SG_ERROR, SG_ERROR_INVALID_CONFIG);
	g_assert_cmpstr(error->message, ==, "fifo.yaml: not a regular file (a FIFO)");
	g_clear_error(&error);

	fd = sg_fileio_open_user_file(f.dir, NULL, &error);
	g_assert_cmpint(fd, ==, -ENXIO);
	g_assert_nonnull(strstr(error->message, "not a regular file (a directory)"));
	g_clear_error(&error);

	/* A user's own file may be a link; what it names is checked. */
	fd = sg_fileio_open_user_file(link, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_NONBLOCK, ==, 0);
	close(fd);
	fixture_clear(&f);
}

static void
test_openat_refuses_links(void)
{
	Fixture f;
	g_autofree char *target = NULL, *link = NULL, *dangling = NULL, *contents = NULL;
	g_autofree char *nowhere = NULL;
	g_autoptr(GError) error = NULL;
	struct stat st;
	int fd;

	fixture_init(&f);
	target = in_dir(&f, "target");
	link = in_dir(&f, "service_stdout.log");
	dangling = in_dir(&f, "dangling.log");
	write_file(target, "precious\n", 0644);
	g_assert_no_errno(symlink(target, link));
	g_assert_no_errno(symlink("nowhere", dangling));

	fd = sg_fileio_openat(f.dir_fd, f.dir, "service_stdout.log", O_WRONLY | O_APPEND | O_CREAT,
	                      0600, &error);
	g_assert_cmpint(fd, ==, -ELOOP);
	g_assert_error(error, SG_ERROR, SG_ERROR_STATE_DIR);
	g_assert_nonnull(strstr(error->message, link));
	g_assert_nonnull(strstr(error->message, "symbolic link"));
	g_clear_error(&error);

	/* O_CREAT through a dangling link would create its target. */
	fd = sg_fileio_openat(f.dir_fd, f.dir, "dangling.log", O_WRONLY | O_CREAT, 0600, &error);
	g_assert_cmpint(fd, ==, -ELOOP);
	g_clear_error(&error);
	nowhere = in_dir(&f, "nowhere");
	g_assert_false(g_file_test(nowhere, G_FILE_TEST_EXISTS));

	g_assert_true(g_file_get_contents(target, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "precious\n");
	g_assert_no_errno(stat(target, &st));
	g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
	fixture_clear(&f);
}

static void
test_openat_refuses_other_types(void)
{
	Fixture f;
	g_autofree char *fifo = NULL, *sock_path = NULL, *sub = NULL;
	g_autoptr(GError) error = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int sock, fd;

	fixture_init(&f);
	fifo = in_dir(&f, "pid.json");
	g_assert_no_errno(mkfifo(fifo, 0600));
	fd = sg_fileio_openat(f.dir_fd, f.dir, "pid.json", O_RDONLY, 0, &error);
	g_assert_cmpint(fd, ==, -ENXIO);
	g_assert_nonnull(strstr(error->message, "not a regular file (a FIFO)"));
	g_clear_error(&error);
	fd = sg_fileio_openat(f.dir_fd, f.dir, "pid.json", O_WRONLY | O_CREAT, 0600, &error);
	g_assert_cmpint(fd, ==, -ENXIO);
	g_clear_error(&error);

	sock_path = in_dir(&f, "s.log");
	g_assert_cmpuint(strlen(sock_path), <, sizeof(addr.sun_path));
	strcpy(addr.sun_path, sock_path);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	g_assert_no_errno(bind(sock, (struct sockaddr *)&addr, sizeof(addr)));
	fd = sg_fileio_openat(f.dir_fd, f.dir, "s.log", O_WRONLY | O_APPEND | O_CREAT, 0600,
	                      &error);
	g_assert_cmpint(fd, ==, -ENXIO);
	g_assert_nonnull(strstr(error->message, "(a socket)"));
	g_clear_error(&error);
	close(sock);

	sub = in_dir(&f, "sub");
	g_assert_no_errno(mkdir(sub, 0700));
	fd = sg_fileio_openat(f.dir_fd, f.dir, "sub", O_RDONLY, 0, &error);
	g_assert_cmpint(fd, ==, -ENXIO);
	g_assert_nonnull(strstr(error->message, "(a directory)"));
	g_clear_error(&error);
	fd = sg_fileio_openat(f.dir_fd, f.dir, "sub", O_WRONLY | O_CREAT, 0600, &error);
	g_assert_cmpint(fd, ==, -ENXIO);
	g_clear_error(&error);

	fd = sg_fileio_openat(f.dir_fd, f.dir, "missing", O_RDONLY, 0, &error);
	g_assert_cmpint(fd, ==, -ENOENT);
	g_clear_error(&error);
	fixture_clear(&f);
}

static void
test_openat_creates_private(void)
{
	Fixture f;
	g_autofree char *loose = NULL;
	g_autoptr(GError) error = NULL;
	struct stat st;
	mode_t old_mask = umask(0);
	int fd;

	fixture_init(&f);
	fd = sg_fileio_openat(f.dir_fd, f.dir, "new.log", O_WRONLY | O_APPEND | O_CREAT, 0600,
	                      &error);
	g_assert_no_error(error);
	g_assert_no_errno(fstat(fd, &st));
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	close(fd);

	/* An existing file of ours is tightened on the fd. */
	loose = in_dir(&f, "loose.log");
	write_file(loose, "x", 0666);
	fd = sg_fileio_openat(f.dir_fd, f.dir, "loose.log", O_WRONLY | O_APPEND | O_CREAT, 0600,
	                      &error);
	g_assert_no_error(error);
	g_assert_no_errno(fstat(fd, &st));
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(sg_fileio_is_at(fd, f.dir_fd, "loose.log"), ==, 1);
	g_assert_no_errno(unlink(loose));
	g_assert_cmpint(sg_fileio_is_at(fd, f.dir_fd, "loose.log"), ==, 0);
	close(fd);
	umask(old_mask);
	fixture_clear(&f);
}

static void
test_open_dir_and_path(void)
{
	Fixture f;
	g_autofree char *file = NULL, *through = NULL, *real = NULL, *link = NULL;
	g_autofree char *created = NULL;
	g_autoptr(GError) error = NULL;
	int fd;

	fixture_init(&f);
	file = in_dir(&f, "f");
	write_file(file, "x", 0600);
	fd = sg_fileio_open_dir(file, &error);
	g_assert_cmpint(fd, ==, -ENOTDIR);
	g_assert_nonnull(strstr(error->message, "not a directory"));
	g_clear_error(&error);

	/* The state directory itself may be reached through a link; its files may not. */
	real = in_dir(&f, "real");
	link = in_dir(&f, "link");
	g_assert_no_errno(mkdir(real, 0700));
	g_assert_no_errno(symlink("real", link));
	through = g_build_filename(link, "state.json", NULL);
	fd = sg_fileio_open_path(through, O_WRONLY | O_CREAT, 0600, &error);
	g_assert_no_error(error);
	close(fd);
	created = g_build_filename(real, "state.json", NULL);
	g_assert_true(g_file_test(created, G_FILE_TEST_IS_REGULAR));
	fixture_clear(&f);
}

static void
test_mkstemp_at(void)
{
	Fixture f;
	g_autofree char *name = NULL;
	struct stat st;
	mode_t old_mask;
	int fd;

	fixture_init(&f);
	old_mask = umask(0077 | 0200);
	fd = sg_fileio_mkstemp_at(f.dir_fd, ".state.json.tmp-", &name);
	umask(old_mask);
	g_assert_cmpint(fd, >=, 0);
	g_assert_true(g_str_has_prefix(name, ".state.json.tmp-"));
	g_assert_cmpuint(strlen(name), ==, strlen(".state.json.tmp-XXXXXX"));
	g_assert_no_errno(fstat(fd, &st));
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	close(fd);
	fixture_clear(&f);
}

static void
test_read_all_bounded(void)
{
	int fds[2];
	g_autoptr(GByteArray) data = NULL;

	g_assert_no_errno(pipe(fds));
	g_assert_cmpint(sg_fileio_write_all(fds[1], "0123456789", 10), ==, 0);
	close(fds[1]);
	g_assert_cmpint(sg_fileio_read_all(fds[0], 9, &data), ==, -EFBIG);
	g_assert_null(data);
	close(fds[0]);

	g_assert_no_errno(pipe(fds));
	g_assert_cmpint(sg_fileio_write_all(fds[1], "0123456789", 10), ==, 0);
	close(fds[1]);
	g_assert_cmpint(sg_fileio_read_all(fds[0], 10, &data), ==, 0);
	g_assert_cmpuint(data->len, ==, 10);
	g_assert_cmpint(data->data[10], ==, '\0');
	close(fds[0]);
}

static gpointer
write_in_pieces(gpointer data)
{
	int fd = GPOINTER_TO_INT(data);

	for (const char *piece = "abc"; *piece != '\0'; piece++) {
		g_assert_cmpint(sg_fileio_write_all(fd, piece, 1), ==, 0);
		g_thread_yield();
	}
	g_assert_cmpint(sg_fileio_write_all(fd, "defgh", 5), ==, 0);
	close(fd);
	return NULL;
}

/* Reads on after short reads until the buffer is full, and stops at the end of the file. */
static void
test_read_up_to(void)
{
	char buffer[16];
	GThread *writer;
	int fds[2];

	g_assert_no_errno(pipe(fds));
	writer = g_thread_new("writer", write_in_pieces, GINT_TO_POINTER(fds[1]));
	g_assert_cmpint(sg_fileio_read_up_to(fds[0], buffer, 6), ==, 6);
	g_assert_cmpmem(buffer, 6, "abcdef", 6);
	g_assert_cmpint(sg_fileio_read_up_to(fds[0], buffer, sizeof(buffer)), ==, 2);
	g_assert_cmpmem(buffer, 2, "gh", 2);
	g_assert_cmpint(sg_fileio_read_up_to(fds[0], buffer, sizeof(buffer)), ==, 0);
	g_thread_join(writer);
	close(fds[0]);
	g_assert_cmpint(sg_fileio_read_up_to(fds[0], buffer, sizeof(buffer)), ==, -EBADF);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/sg/fileio/user-file-regular-only", test_user_file_regular_only);
	g_test_add_func("/sg/fileio/openat-refuses-links", test_openat_refuses_links);
	g_test_add_func("/sg/fileio/openat-refuses-other-types", test_openat_refuses_other_types);
	g_test_add_func("/sg/fileio/openat-creates-private", test_openat_creates_private);
	g_test_add_func("/sg/fileio/open-dir-and-path", test_open_dir_and_path);
	g_test_add_func("/sg/fileio/mkstemp-at", test_mkstemp_at);
	g_test_add_func("/sg/fileio/read-all-bounded", test_read_all_bounded);
	g_test_add_func("/sg/fileio/read-up-to", test_read_up_to);
	return g_test_run();
}
