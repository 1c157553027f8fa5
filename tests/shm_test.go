package tests

import (
	"os/exec"
	"testing"
)

// memfd_create and file seals. Linux: mm/memfd.c, mm/shmem.c
const memfdC = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x8U
#define MFD_EXEC 0x10U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x10
#endif

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-34s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); } while (0)

int main(void) {
	char name[300];
	memset(name, 'a', sizeof name);
	name[249] = 0;
	int fd = memfd_create(name, 0);
	printf("249-char name ok: %d\n", fd >= 0);
	close(fd);
	name[249] = 'a'; name[250] = 0;
	R("250-char name", memfd_create(name, 0));
	R("bad flags", memfd_create("x", 0x100));
	R("EXEC|NOEXEC_SEAL", memfd_create("x", MFD_EXEC | MFD_NOEXEC_SEAL));
	R("bad name pointer", memfd_create((char *)1, 0));

	fd = memfd_create("plain", MFD_CLOEXEC);
	char link[256] = {0}, path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	readlink(path, link, sizeof link - 1);
	printf("link: %s\n", link);
	struct stat st;
	fstat(fd, &st);
	printf("mode %o nlink %ld size %ld\n", st.st_mode, (long)st.st_nlink, (long)st.st_size);
	printf("F_GETFD cloexec %d access mode %o\n", fcntl(fd, F_GETFD), fcntl(fd, F_GETFL) & O_ACCMODE);
	R("plain F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	R("plain F_ADD_SEALS", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	close(fd);

	fd = memfd_create("noexec", MFD_NOEXEC_SEAL);
	fstat(fd, &st);
	printf("noexec mode %o\n", st.st_mode);
	R("noexec F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	R("noexec chmod +x", fchmod(fd, 0777));
	close(fd);

	fd = memfd_create("sealed", MFD_ALLOW_SEALING);
	R("F_GET_SEALS fresh", fcntl(fd, F_GET_SEALS));
	R("write", write(fd, "hello world", 11));
	R("ftruncate 8192", ftruncate(fd, 8192));
	R("unknown seal", fcntl(fd, F_ADD_SEALS, 0x40));
	R("F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	R("shrink", ftruncate(fd, 4096));
	R("grow", ftruncate(fd, 12288));
	R("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
	R("grow sealed", ftruncate(fd, 16384));
	R("same size", ftruncate(fd, 12288));
	R("fallocate past end", fallocate(fd, 0, 12000, 4096));
	R("fallocate keep size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 12000, 4096));
	R("pwrite at end", pwrite(fd, "x", 1, 12288));
	R("pwrite straddling end", pwrite(fd, "abcdefgh", 8, 12284));
	R("pwrite straddling page", pwrite(fd, "0123456789", 10, 8190));
	char *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("writable shared map: %d\n", w != MAP_FAILED);
	R("F_SEAL_WRITE while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	memcpy(w, "HELLO", 5);
	munmap(w, 4096);
	R("F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE));
	R("F_GET_SEALS", fcntl(fd, F_GET_SEALS));
	R("write sealed", pwrite(fd, "x", 1, 0));
	R("punch hole sealed", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	R("mmap shared writable", m == MAP_FAILED ? -1 : 0);
	char *r = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	printf("read-only shared map: %.11s\n", r == MAP_FAILED ? "failed" : r);
	R("mprotect it writable", mprotect(r, 4096, PROT_READ | PROT_WRITE));
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("private writable map: %d\n", p != MAP_FAILED);
	if (p != MAP_FAILED) { p[0] = 'J'; printf("private copy %.5s, file %.5s\n", p, r); }
	char buf[16] = {0};
	pread(fd, buf, 11, 0);
	printf("contents: %s\n", buf);
	R("F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL));
	R("after F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK));
	R("F_GET_SEALS final", fcntl(fd, F_GET_SEALS));
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	R("reopened F_GET_SEALS", fcntl(ro, F_GET_SEALS));
	R("reopened read-only F_ADD_SEALS", fcntl(ro, F_ADD_SEALS, F_SEAL_SHRINK));

	fd = memfd_create("future", MFD_ALLOW_SEALING);
	ftruncate(fd, 4096);
	char *before = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	R("F_SEAL_FUTURE_WRITE while mapped", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	R("write after future seal", write(fd, "x", 1));
	strcpy(before, "old mapping still writes");
	pread(fd, buf, 15, 0);
	printf("via old mapping: %.15s\n", buf);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	R("new shared writable map", m == MAP_FAILED ? -1 : 0);
	R("F_GET_SEALS future", fcntl(fd, F_GET_SEALS));

	/* Not shmem: no seals. A tmpfs file has F_SEAL_SEAL. */
	int pfd[2];
	pipe(pfd);
	R("pipe F_GET_SEALS", fcntl(pfd[1], F_GET_SEALS));
	R("pipe F_ADD_SEALS", fcntl(pfd[1], F_ADD_SEALS, F_SEAL_WRITE));
	int exe = open("/proc/self/exe", O_RDONLY);
	R("read-only file F_ADD_SEALS", fcntl(exe, F_ADD_SEALS, F_SEAL_WRITE));
	R("read-only file F_GET_SEALS", fcntl(exe, F_GET_SEALS));
	int shm = open("/dev/shm/gb-seal-test", O_RDWR | O_CREAT | O_TRUNC, 0600);
	unlink("/dev/shm/gb-seal-test");
	R("/dev/shm file F_GET_SEALS", fcntl(shm, F_GET_SEALS));
	R("/dev/shm file F_ADD_SEALS", fcntl(shm, F_ADD_SEALS, F_SEAL_WRITE));
	return 0;
}
`

func TestMemfdSeals(t *testing.T) {
	bin := compileC(t, "memfd", memfdC)
	diff(t, []string{bin})
}

// System V shared memory between a parent and its children: nattch, pids
// and the segment's life across fork, exec, exit and IPC_RMID.
// Linux: ipc/shm.c
const sysvShmC = `
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-30s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); } while (0)

static pid_t me;
static void st(const char *when, int id) {
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) < 0) { printf("%-30s: IPC_STAT %s\n", when, strerror(errno)); return; }
	printf("%-30s: nattch %lu size %zu mode %o cpid-is-me %d lpid %s key-zero %d uid %d times %d%d%d\n", when,
		(unsigned long)ds.shm_nattch, ds.shm_segsz, ds.shm_perm.mode, ds.shm_cpid == me,
		ds.shm_lpid == 0 ? "0" : ds.shm_lpid == me ? "me" : "other", ds.shm_perm.__key == 0,
		ds.shm_perm.uid, ds.shm_atime != 0, ds.shm_dtime != 0, ds.shm_ctime != 0);
	fflush(stdout);
}

int main(int argc, char **argv) {
	if (argc > 1) { /* exec'd child: the attachment is gone */
		st("after exec", atoi(argv[1]));
		return 0;
	}
	me = getpid();
	key_t key = 0x6762 << 16 | (getpid() & 0xffff);
	R("shmget no IPC_CREAT", shmget(key, 4096, 0600));
	R("shmget size 0", shmget(key, 0, IPC_CREAT | 0600));
	int id = shmget(key, 10000, IPC_CREAT | 0640);
	printf("created: %d\n", id >= 0);
	R("same key again", shmget(key, 10000, 0) == id);
	R("IPC_CREAT|IPC_EXCL", shmget(key, 100, IPC_CREAT | IPC_EXCL | 0600));
	R("bigger than segment", shmget(key, 20000, 0));
	R("smaller", shmget(key, 100, 0) == id);
	R("IPC_STAT bad id", shmctl(id + 1, IPC_STAT, NULL));
	R("IPC_STAT bad buffer", shmctl(id, IPC_STAT, (void *)8));
	st("created", id);

	char *p = shmat(id, NULL, 0);
	printf("attached: %d aligned %d\n", p != (void *)-1, ((unsigned long)p & 4095) == 0);
	st("attached", id);
	strcpy(p, "from parent");
	R("shmat misaligned", (long)shmat(id, p + 1, 0));
	char *q = shmat(id, p + 0x100000 + 1, SHM_RND | SHM_RDONLY);
	printf("SHM_RND at %s\n", q == p + 0x100000 ? "rounded address" : "elsewhere");
	printf("second view reads: %s\n", q);
	st("two attachments", id);
	R("shmat over a mapping", (long)shmat(id, q, 0));
	R("SHM_REMAP over it", shmat(id, q, SHM_REMAP) == q);
	st("after remap", id);
	R("shmdt inside", shmdt(q + 4096));
	R("shmdt unaligned", shmdt(q + 1));
	R("shmdt second", shmdt(q));
	R("shmdt again", shmdt(q));
	st("one attachment", id);

	int pfd[2], cfd[2];
	pipe(pfd); pipe(cfd);
	pid_t c = fork();
	if (c == 0) {
		char b;
		read(pfd[0], &b, 1);
		printf("child sees: %s\n", p);
		fflush(stdout);
		strcpy(p, "from child");
		shmdt(p);
		write(cfd[1], "x", 1);
		read(pfd[0], &b, 1);
		_exit(0);
	}
	st("after fork", id);
	write(pfd[1], "x", 1);
	char b;
	read(cfd[0], &b, 1);
	st("child detached", id);
	printf("parent sees: %s\n", p);
	write(pfd[1], "x", 1);
	waitpid(c, NULL, 0);

	c = fork();
	if (c == 0) {
		char a[16];
		snprintf(a, sizeof a, "%d", id);
		execl("/proc/self/exe", argv[0], a, (char *)NULL);
		_exit(127);
	}
	waitpid(c, NULL, 0);
	st("exec child gone", id);

	c = fork();
	if (c == 0) _exit(0);
	waitpid(c, NULL, 0);
	st("exit child gone", id);

	R("IPC_RMID", shmctl(id, IPC_RMID, NULL));
	st("removed while attached", id);
	R("key gone", shmget(key, 100, 0));
	int id2 = shmget(key, 100, IPC_CREAT | 0600);
	printf("same key, new segment: %d\n", id2 >= 0 && id2 != id);
	shmctl(id2, IPC_RMID, NULL);
	printf("still readable: %s\n", p);
	R("shmat removed segment", shmdt(shmat(id, NULL, 0)));
	R("shmdt last", shmdt(p));
	R("IPC_STAT destroyed", shmctl(id, IPC_STAT, &(struct shmid_ds){0}));

	id = shmget(IPC_PRIVATE, 4096, 0400);
	struct shmid_ds ds;
	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0604;
	R("IPC_SET", shmctl(id, IPC_SET, &ds));
	st("after IPC_SET", id);
	R("IPC_RMID unattached", shmctl(id, IPC_RMID, NULL));
	R("gone at once", shmctl(id, IPC_STAT, &ds));
	R("bad cmd", shmctl(0, 99, &ds));
	return 0;
}
`

func TestSysVShm(t *testing.T) {
	bin := compileC(t, "sysvshm", sysvShmC)
	diff(t, []string{bin})
}

// ipcs -m (util-linux, reading /proc/sysvipc/shm) lists a segment made in
// the sandbox. Keys, ids and owners differ between runs; the permissions,
// size, attach count and status must not. The order of the segments is
// sorted away: natively they share the host's IPC namespace with other
// tests, whose segments move the cyclic index allocation.
const ipcsC = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>

int main(void) {
	int a = shmget(IPC_PRIVATE, 12345, IPC_CREAT | 0640);
	int b = shmget(0x47420000 | (getpid() & 0xffff), 8192, IPC_CREAT | 0600);
	char *p = shmat(a, NULL, 0), *q = shmat(a, NULL, SHM_RDONLY);
	p[0] = 1;
	shmat(b, NULL, 0);
	shmctl(b, IPC_RMID, NULL);
	(void)q;
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "ipcs -m | awk '$2==%d||$2==%d {print $4, $5, $6, $7}' | sort; "
			"awk '$2==%d||$2==%d {print $3, $4, $7}' /proc/sysvipc/shm | sort; ipcs -m | head -3", a, b, a, b);
		execlp("sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(c, NULL, 0);
	shmctl(a, IPC_RMID, NULL);
	return 0;
}
`

func TestIpcsShm(t *testing.T) {
	if _, err := exec.LookPath("ipcs"); err != nil {
		t.Fatalf("ipcs missing (%v): apt-get install util-linux", err)
	}
	bin := compileC(t, "ipcs", ipcsC)
	diff(t, []string{bin})
}

// POSIX shared memory: shm_open is a file in /dev/shm; a parent and a
// fork+exec'd child share data through it.
const posixShmC = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
	if (argc > 1) {
		int fd = shm_open(argv[1], O_RDWR, 0);
		if (fd < 0) { perror("child shm_open"); return 1; }
		char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		printf("child reads: %s\n", p);
		strcpy(p + 4096, "reply from the exec'd child");
		return 0;
	}
	char name[64];
	snprintf(name, sizeof name, "/gb-posix-shm-%d", getpid());
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) { perror("shm_open"); return 1; }
	printf("again with O_EXCL: %d %s\n", shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600), strerror(errno));
	ftruncate(fd, 8192);
	struct stat st;
	fstat(fd, &st);
	printf("size %ld mode %o\n", (long)st.st_size, st.st_mode & 0777);
	char path[128];
	snprintf(path, sizeof path, "/dev/shm%s", name);
	printf("visible in /dev/shm: %d\n", access(path, F_OK) == 0);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	strcpy(p, "hello from the parent");
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		execl("/proc/self/exe", argv[0], name, (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(c, &status, 0);
	printf("child exit %d, parent reads: %s\n", WEXITSTATUS(status), p + 4096);
	printf("shm_unlink: %d\n", shm_unlink(name));
	printf("reopen: %d %s\n", shm_open(name, O_RDWR, 0), strerror(errno));
	printf("still mapped: %.5s\n", p);
	return 0;
}
`

func TestPosixShm(t *testing.T) {
	bin := compileC(t, "posixshm", posixShmC)
	diff(t, []string{bin})
}

// process_vm_readv/writev between a parent and its child.
// Linux: mm/process_vm_access.c
const processVMC = `
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-34s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); } while (0)

static char buf[8192] = "child's original data";

int main(void) {
	int up[2], down[2];
	pipe(up); pipe(down);
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(two, 'z', 4096);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char b;
		munmap(two + 4096, 4096);
		strcpy(buf + 100, "more child data");
		printf("child before: %s\n", buf); /* maps the shared page */
		fflush(stdout);
		write(up[1], "r", 1);
		read(down[0], &b, 1);
		printf("child after: %s | %s\n", buf, buf + 100);
		fflush(stdout);
		write(up[1], "r", 1);
		read(down[0], &b, 1);
		_exit(0);
	}
	char b, got[64] = {0}, got2[64] = {0};
	read(up[0], &b, 1);
	struct iovec l[2] = {{got, 10}, {got2, 30}}, r[2] = {{buf, 21}, {buf + 100, 15}};
	R("readv", process_vm_readv(c, l, 2, r, 2, 0));
	printf("got: [%s] [%s]\n", got, got2);
	char msg[] = "written by the parent";
	struct iovec lw = {msg, sizeof msg}, rw = {buf, sizeof msg};
	R("writev", process_vm_writev(c, &lw, 1, &rw, 1, 0));
	printf("parent's own copy: %s\n", buf);

	/* Partial transfers: the remote range runs into an unmapped page. */
	char big[200];
	struct iovec lb = {big, 200}, rb = {two + 4096 - 100, 200};
	R("readv into unmapped remote", process_vm_readv(c, &lb, 1, &rb, 1, 0));
	R("writev into unmapped remote", process_vm_writev(c, &lb, 1, &rb, 1, 0));
	struct iovec rbad = {two + 4096, 10};
	R("readv all unmapped", process_vm_readv(c, &lb, 1, &rbad, 1, 0));
	struct iovec lbad[2] = {{got, 5}, {(void *)8, 10}};
	R("readv local fault", process_vm_readv(c, lbad, 2, r, 1, 0));
	R("readv bad local iovec array", process_vm_readv(c, (void *)8, 1, r, 1, 0));
	R("readv bad remote iovec array", process_vm_readv(c, l, 1, (void *)8, 1, 0));
	R("flags", process_vm_readv(c, l, 1, r, 1, 1));
	R("too many iovecs", process_vm_readv(c, l, 1025, r, 1, 0));
	struct iovec lz = {got, 0};
	R("nothing to do, bad pid", process_vm_readv(999999, &lz, 1, r, 1, 0));
	R("no such pid", process_vm_readv(999999, l, 1, r, 1, 0));
	R("negative length", process_vm_readv(c, &(struct iovec){got, (size_t)-1}, 1, r, 1, 0));
	R("write to read-only remote", process_vm_writev(c, &lw, 1, &(struct iovec){(void *)main, 4}, 1, 0));
	fflush(stdout);
	write(down[1], "w", 1);
	read(up[0], &b, 1);

	/* An unprivileged process may not read root's memory. */
	pid_t me = getpid(), g = fork();
	if (g == 0) {
		if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000)) { perror("setresuid"); _exit(1); }
		R("unprivileged readv of root", process_vm_readv(me, l, 1, r, 1, 0));
		R("unprivileged readv of itself", process_vm_readv(getpid(), l, 1, r, 1, 0));
		fflush(stdout);
		_exit(0);
	}
	waitpid(g, NULL, 0);
	write(down[1], "w", 1);
	waitpid(c, NULL, 0);
	return 0;
}
`

func TestProcessVM(t *testing.T) {
	bin := compileC(t, "processvm", processVMC)
	diff(t, []string{bin})
}
