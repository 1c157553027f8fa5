package tests

import (
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
