package tests

import "testing"

// errorsFS4C: openat2's ERRORS: struct open_how's size and trailing
// bytes, its flags, mode and resolve checked before the path, and the
// RESOLVE_* restrictions of the walk (BENEATH, IN_ROOT, NO_SYMLINKS,
// NO_MAGICLINKS, NO_XDEV, CACHED).
// Linux: fs/open.c (SYSCALL openat2, build_open_flags), fs/namei.c
const errorsFS4C = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)
#define S(...) syscall(__VA_ARGS__)
#define BAD ((void *)8)
static long C(long fd) { if (fd >= 0) { close(fd); return 0; } return fd; }

static char d[64];
static char *P(const char *rel) { static char b[8][PATH_MAX + 64]; static int i; i = (i + 1) % 8; snprintf(b[i], sizeof b[i], "%s/%s", d, rel); return b[i]; }

int main(void) {
	strcpy(d, "/dev/shm/errfs4-XXXXXX");
	if (!mkdtemp(d)) { perror("mkdtemp"); return 1; }
	close(open(P("file"), O_CREAT | O_WRONLY, 0644));
	mkdir(P("dir"), 0755);
	symlink("file", P("sl"));
	symlink("nowhere", P("dangling"));
	int dirfd = open(d, O_RDONLY | O_DIRECTORY);
	printf("uid %d\n", getuid());
	{
		struct open_how how = {0};
		R("openat2 size 0", C(S(SYS_openat2, dirfd, "file", &how, 0)));
		R("openat2 size 23", C(S(SYS_openat2, dirfd, "file", &how, 23)));
		R("openat2 bad pointer", C(S(SYS_openat2, dirfd, "file", BAD, sizeof how)));
		R("openat2 ok", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		static char big[4200];
		R("openat2 size 4097 zero tail", C(S(SYS_openat2, dirfd, "file", big, 4097)));
		R("openat2 size 4096 zero tail", C(S(SYS_openat2, dirfd, "file", big, 4096)));
		big[30] = 1;
		R("openat2 nonzero tail", C(S(SYS_openat2, dirfd, "file", big, 32)));
		R("openat2 bad path", C(S(SYS_openat2, dirfd, BAD, &how, sizeof how)));
		how.flags = 1ULL << 40;
		R("openat2 bad flags", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.flags = O_RDONLY; how.mode = 0644;
		R("openat2 mode without O_CREAT", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.flags = O_RDWR | O_CREAT; how.mode = 010000;
		R("openat2 bad mode with O_CREAT", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.flags = O_PATH | O_RDWR; how.mode = 0;
		R("openat2 O_PATH|O_RDWR", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.flags = O_RDWR | O_CREAT | O_DIRECTORY; how.mode = 0;
		R("openat2 O_CREAT|O_DIRECTORY", C(S(SYS_openat2, dirfd, "x", &how, sizeof how)));
		how.flags = 0x8000; how.mode = 0;
		{
			int lf = S(SYS_openat2, dirfd, "file", &how, sizeof how);
			R("openat2 O_LARGEFILE", lf >= 0 ? fcntl(lf, F_GETFL) : lf);
			close(lf);
		}
		how.flags = 0x8000 | O_PATH;
		R("openat2 O_LARGEFILE|O_PATH", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.flags = 0; how.resolve = 0x100;
		R("openat2 bad resolve", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.resolve = RESOLVE_BENEATH;
		R("openat2 BENEATH file", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		R("openat2 BENEATH dir/../file", C(S(SYS_openat2, dirfd, "dir/../file", &how, sizeof how)));
		R("openat2 BENEATH ..", C(S(SYS_openat2, dirfd, "../x", &how, sizeof how)));
		R("openat2 BENEATH abs", C(S(SYS_openat2, dirfd, "/etc/passwd", &how, sizeof how)));
		symlink("/etc/passwd", P("abs"));
		symlink("../file", P("dir/up"));
		R("openat2 BENEATH abs symlink", C(S(SYS_openat2, dirfd, "abs", &how, sizeof how)));
		R("openat2 BENEATH dir/up", C(S(SYS_openat2, dirfd, "dir/up", &how, sizeof how)));
		R("openat2 BENEATH magic link", C(S(SYS_openat2, dirfd, "/proc/self/exe", &how, sizeof how)));
		how.resolve = RESOLVE_IN_ROOT;
		R("openat2 IN_ROOT ../file", C(S(SYS_openat2, dirfd, "../file", &how, sizeof how)));
		R("openat2 IN_ROOT /file", C(S(SYS_openat2, dirfd, "/file", &how, sizeof how)));
		R("openat2 IN_ROOT abs symlink", C(S(SYS_openat2, dirfd, "abs", &how, sizeof how)));
		how.resolve = RESOLVE_NO_SYMLINKS;
		R("openat2 NO_SYMLINKS", C(S(SYS_openat2, dirfd, "sl", &how, sizeof how)));
		R("openat2 NO_SYMLINKS dir/up", C(S(SYS_openat2, dirfd, "dir/up", &how, sizeof how)));
		how.flags = O_PATH | O_NOFOLLOW;
		R("openat2 NO_SYMLINKS O_PATH|O_NOFOLLOW", C(S(SYS_openat2, dirfd, "sl", &how, sizeof how)));
		how.flags = O_RDWR | O_CREAT; how.mode = 0644;
		R("openat2 NO_SYMLINKS O_CREAT dangling", C(S(SYS_openat2, dirfd, "dangling", &how, sizeof how)));
		how.flags = 0; how.mode = 0;
		how.resolve = RESOLVE_NO_MAGICLINKS;
		R("openat2 NO_MAGICLINKS", C(S(SYS_openat2, AT_FDCWD, "/proc/self/exe", &how, sizeof how)));
		R("openat2 NO_MAGICLINKS plain symlink", C(S(SYS_openat2, dirfd, "sl", &how, sizeof how)));
		how.resolve = RESOLVE_NO_XDEV;
		int rootfd = open("/", O_PATH);
		R("openat2 NO_XDEV into /proc", C(S(SYS_openat2, rootfd, "proc/version", &how, sizeof how)));
		R("openat2 NO_XDEV same mount", C(S(SYS_openat2, dirfd, "dir/../file", &how, sizeof how)));
		R("openat2 NO_XDEV abs from /proc", C(S(SYS_openat2, open("/proc", O_PATH), "/etc/passwd", &how, sizeof how)));
		close(rootfd);
		how.resolve = RESOLVE_CACHED; how.flags = O_RDWR | O_CREAT; how.mode = 0600;
		R("openat2 CACHED O_CREAT", C(S(SYS_openat2, dirfd, "c", &how, sizeof how)));
		how.flags = O_RDWR | O_TRUNC; how.mode = 0;
		R("openat2 CACHED O_TRUNC", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT; how.flags = 0; how.mode = 0;
		R("openat2 BENEATH|IN_ROOT", C(S(SYS_openat2, dirfd, "file", &how, sizeof how)));
		how.resolve = 0; how.flags = O_TMPFILE | O_RDONLY;
		R("openat2 O_TMPFILE O_RDONLY", C(S(SYS_openat2, dirfd, ".", &how, sizeof how)));
		how.flags = O_RDONLY;
		R("openat2 bad dirfd", C(S(SYS_openat2, 99, "file", &how, sizeof how)));
		R("openat2 empty path", C(S(SYS_openat2, dirfd, "", &how, sizeof how)));
		unlink(P("abs")); unlink(P("dir/up"));
	}
	const char *files[] = {"file", "sl", "dangling", "c", "x", NULL};
	for (int i = 0; files[i]; i++) unlink(P(files[i]));
	rmdir(P("dir"));
	R("rmdir tmpdir", rmdir(d));
	return 0;
}
`

func TestErrorsFS4(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorsfs4", errorsFS4C)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
