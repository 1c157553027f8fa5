package tests

import "testing"

// errorsExecInterpC runs its arguments, dynamic executables whose ELF
// interpreter is missing, not an ELF file or a directory, and reports
// execve's answer; then file handles and kcmp across users.
// Linux: fs/binfmt_elf.c (load_elf_binary), fs/fhandle.c, kernel/kcmp.c
const errorsExecInterpC = errorsHdr + `
struct fh { unsigned bytes; int type; unsigned char h[128]; };

int main(int argc, char **argv) {
	initbad();
	int root = geteuid() == 0;
	/* the interpreters named at link time */
	int fd = open("/tmp/errors-proc-interp-garbage", O_CREAT | O_WRONLY | O_TRUNC, 0755);
	write(fd, "not an ELF file, long enough to be read as a header....................", 72);
	close(fd);
	mkdir("/tmp/errors-proc-interp-dir", 0755);
	char *ev[] = {NULL};
	for (int i = 1; i < argc; i++) {
		char *av[] = {argv[i], NULL};
		errno = 0;
		syscall(SYS_execve, argv[i], av, ev);
		printf("execve, interpreter %d: %s\n", i, strerror(errno));
	}
	unlink("/tmp/errors-proc-interp-garbage");
	rmdir("/tmp/errors-proc-interp-dir");
	/* name_to_handle_at: the path's checks (procfs exports no handles) */
	struct fh h = {.bytes = 128};
	int mnt, ffd = open("/etc/passwd", O_RDONLY);
	R("name_to_handle_at bad path", syscall(SYS_name_to_handle_at, AT_FDCWD, BAD, &h, &mnt, 0));
	R("name_to_handle_at bad dirfd", syscall(SYS_name_to_handle_at, 999, "x", &h, &mnt, 0));
	R("name_to_handle_at file dirfd", syscall(SYS_name_to_handle_at, ffd, "x", &h, &mnt, 0));
	R("name_to_handle_at not a directory", syscall(SYS_name_to_handle_at, AT_FDCWD, "/etc/passwd/x", &h, &mnt, 0));
	R("name_to_handle_at empty path", syscall(SYS_name_to_handle_at, AT_FDCWD, "", &h, &mnt, 0));
	R("name_to_handle_at procfs bad handle", syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/status", BAD, &mnt, 0));
	/* open_by_handle_at: the handle, the mount fd, then the privilege */
	h.bytes = 0;
	R("open_by_handle_at bad handle", syscall(SYS_open_by_handle_at, AT_FDCWD, BAD, O_RDONLY));
	R("open_by_handle_at 0 bytes", syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY));
	h.bytes = 129;
	R("open_by_handle_at 129 bytes", syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY));
	h.bytes = 8;
	h.type = -1;
	R("open_by_handle_at negative type", syscall(SYS_open_by_handle_at, AT_FDCWD, &h, O_RDONLY));
	h.type = 1;
	R("open_by_handle_at bad mount fd", syscall(SYS_open_by_handle_at, 999, &h, O_RDONLY));
	/* kcmp of a root process as a user */
	if (root) {
		pid_t c = fork();
		if (c == 0) {
			setgid(1000); setuid(1000);
			R("as a user: kcmp with root's process", syscall(SYS_kcmp, getpid(), getppid(), 1, 0, 0));
			R("as a user: kcmp root's and no such process", syscall(SYS_kcmp, 999999, getppid(), 1, 0, 0));
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	return 0;
}
`

const errorsInterpTargetC = `int main(void) { return 0; }`

func TestErrorsExecInterp(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errorsexecinterp", errorsExecInterpC)
	var targets []string
	for _, interp := range []string{"/nonexistent/ld.so", "/tmp/errors-proc-interp-garbage", "/tmp/errors-proc-interp-dir"} {
		targets = append(targets, compileC(t, "errorsinterp", errorsInterpTargetC, "-dynamic", "-Wl,--dynamic-linker="+interp))
	}
	diff(t, append([]string{prog}, targets...))
	diffAsUser(t, prog)
}
