package tests

import "testing"

// errorsMmC provokes the ERRORS of the memory calls' man pages in the
// order Linux checks them: mmap, munmap, mprotect, mremap, msync, mincore,
// madvise, the mlock family, brk, the pkey calls (only what a CPU with or
// without protection keys answers alike) and process_vm_readv/writev.
// Linux: mm/mmap.c (do_mmap, ksys_mmap_pgoff), mm/mprotect.c, mm/mremap.c,
// mm/msync.c, mm/mincore.c, mm/madvise.c, mm/mlock.c, mm/process_vm_access.c
const errorsMmC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-44s = %ld %s\n", what, _r < 0 ? -1L : _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)
/* M reports a call that returns an address: ok or the error */
#define M(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-44s = %s %s\n", what, _r == -1 ? "-1" : "ok", _r == -1 ? strerror(errno) : ""); fflush(stdout); \
	if (_r != -1 && (unsigned long)_r > 4096) munmap((void *)_r, 4096); } while (0)

#define PG 4096L

static void vmlck(void) {
	char line[128];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmLck:", 6)) printf("  %s", line);
	if (f) fclose(f);
}

int main(void) {
	char dir[] = "/tmp/errors-mm-XXXXXX", path[64];
	if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
	snprintf(path, sizeof path, "%s/f", dir);
	int rw = open(path, O_CREAT | O_RDWR, 0644);
	ftruncate(rw, 4 * PG);
	int ro = open(path, O_RDONLY);
	int wo = open(path, O_WRONLY);
	int ap = open(path, O_RDWR | O_APPEND);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	int pp[2];
	pipe(pp);
	int op = open(path, O_PATH);

	/* mmap */
	M("mmap no MAP_PRIVATE/SHARED", mmap(0, PG, PROT_READ, MAP_ANONYMOUS, -1, 0));
	M("mmap length 0", mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	M("mmap length 0 bad fd", mmap(0, 0, PROT_READ, MAP_PRIVATE, 999, 0));
	M("mmap offset unaligned", mmap(0, PG, PROT_READ, MAP_PRIVATE, ro, 100));
	M("mmap offset unaligned bad fd", mmap(0, PG, PROT_READ, MAP_PRIVATE, 999, 100));
	M("mmap fixed addr unaligned", mmap((void *)0x10000100, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	M("mmap bad fd", mmap(0, PG, PROT_READ, MAP_PRIVATE, 999, 0));
	M("mmap fd -1 no MAP_ANONYMOUS", mmap(0, PG, PROT_READ, MAP_PRIVATE, -1, 0));
	M("mmap O_PATH fd", mmap(0, PG, PROT_READ, MAP_PRIVATE, op, 0));
	M("mmap O_WRONLY fd", mmap(0, PG, PROT_READ, MAP_PRIVATE, wo, 0));
	M("mmap O_WRONLY fd PROT_NONE", mmap(0, PG, PROT_NONE, MAP_PRIVATE, wo, 0));
	M("mmap shared write O_RDONLY", mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	M("mmap private write O_RDONLY", mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0));
	M("mmap shared write O_APPEND", mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ap, 0));
	M("mmap shared read O_APPEND", mmap(0, PG, PROT_READ, MAP_SHARED, ap, 0));
	M("mmap directory", mmap(0, PG, PROT_READ, MAP_PRIVATE, dfd, 0));
	M("mmap pipe", mmap(0, PG, PROT_READ, MAP_PRIVATE, pp[0], 0));
	M("mmap huge length", mmap(0, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	M("mmap length -1", mmap(0, (size_t)-1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	M("mmap offset overflow", mmap(0, 2 * PG, PROT_READ, MAP_PRIVATE, ro, (off_t)((~0UL) & ~(PG - 1)) >> 1));
	M("mmap negative offset", mmap(0, PG, PROT_READ, MAP_PRIVATE, ro, -PG));
	M("mmap bad prot", mmap(0, PG, 0x100, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	M("mmap SHARED_VALIDATE unknown flag", mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, rw, 0));
	M("mmap SHARED_VALIDATE ok", mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE, rw, 0));
	M("mmap MAP_SYNC private", mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_SYNC, rw, 0));
	M("mmap MAP_SYNC shared_validate", mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, rw, 0));
	M("mmap fixed above TASK_SIZE", mmap((void *)(1UL << 47), PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	M("mmap fixed wrapping", mmap((void *)(-PG), 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	char *a = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	M("mmap FIXED_NOREPLACE over mapping", mmap(a + PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	int mfd = memfd_create("sealed", MFD_ALLOW_SEALING);
	ftruncate(mfd, PG);
	fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE);
	M("mmap shared write on F_SEAL_WRITE", mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0));
	M("mmap private write on F_SEAL_WRITE", mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0));
	char *sr = mmap(0, PG, PROT_READ, MAP_SHARED, mfd, 0);
	R("mprotect write on sealed shared map", mprotect(sr, PG, PROT_READ | PROT_WRITE));
	munmap(sr, PG);

	/* munmap */
	R("munmap unaligned", munmap(a + 1, PG));
	R("munmap length 0", munmap(a, 0));
	R("munmap huge length", syscall(SYS_munmap, a, 1UL << 62));
	R("munmap above TASK_SIZE", munmap((void *)(1UL << 47), PG));
	R("munmap unmapped", munmap((void *)0x70000000, PG));

	/* mprotect */
	R("mprotect unaligned", mprotect(a + 1, PG, PROT_READ));
	R("mprotect bad prot", mprotect(a, PG, 0x100));
	R("mprotect GROWSUP|GROWSDOWN", mprotect(a, PG, PROT_READ | PROT_GROWSUP | PROT_GROWSDOWN));
	R("mprotect GROWSDOWN not growsdown", mprotect(a, PG, PROT_READ | PROT_GROWSDOWN));
	R("mprotect length 0", mprotect(a, 0, PROT_READ));
	R("mprotect length wraps", syscall(SYS_mprotect, a, -PG, PROT_READ));
	R("mprotect unmapped", mprotect((void *)0x70000000, PG, PROT_READ));
	munmap(a + 2 * PG, PG);
	R("mprotect over hole", mprotect(a, 4 * PG, PROT_READ));
	R("mprotect before hole", mprotect(a, 2 * PG, PROT_READ | PROT_WRITE));
	R("mprotect none over hole", mprotect(a, 4 * PG, PROT_NONE));
	R("mincore after partial mprotect", mincore(a, 2 * PG, (unsigned char[2]){0}));
	pid_t pc = fork();
	if (pc == 0) { volatile char x = a[PG]; (void)x; _exit(0); }
	int pst;
	waitpid(pc, &pst, 0);
	printf("reading after mprotect over hole: %s\n", WIFSIGNALED(pst) ? strsignal(WTERMSIG(pst)) : "ok");
	R("mprotect restore", mprotect(a, 2 * PG, PROT_READ | PROT_WRITE));
	char *s = mmap(0, PG, PROT_READ, MAP_SHARED, ro, 0);
	R("mprotect write shared O_RDONLY", mprotect(s, PG, PROT_READ | PROT_WRITE));
	R("mprotect exec shared O_RDONLY", mprotect(s, PG, PROT_READ | PROT_EXEC));
	munmap(s, PG);

	/* mremap */
	R("mremap unaligned", (long)mremap(a + 1, PG, 2 * PG, MREMAP_MAYMOVE));
	R("mremap bad flags", (long)mremap(a, PG, 2 * PG, 8));
	R("mremap FIXED without MAYMOVE", (long)mremap(a, PG, PG, MREMAP_FIXED, a + 3 * PG));
	R("mremap new size 0", (long)mremap(a, PG, 0, MREMAP_MAYMOVE));
	R("mremap unmapped", (long)mremap((void *)0x70000000, PG, 2 * PG, MREMAP_MAYMOVE));
	R("mremap grow in place blocked", (long)mremap(a, 2 * PG, 4 * PG, 0));
	R("mremap FIXED overlapping", (long)mremap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, a + PG));
	R("mremap FIXED unaligned new", (long)mremap(a, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, a + 3 * PG + 1));
	R("mremap old size 0 private", (long)mremap(a, 0, PG, MREMAP_MAYMOVE));
	R("mremap DONTUNMAP size differs", (long)mremap(a, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
	R("mremap DONTUNMAP without MAYMOVE", (long)mremap(a, PG, PG, MREMAP_DONTUNMAP));
	R("mremap across two mappings", (long)mremap(a, 4 * PG, 8 * PG, MREMAP_MAYMOVE));
	R("mremap huge new size", (long)mremap(a, PG, 1UL << 62, MREMAP_MAYMOVE));
	R("mremap shrink in place", (long)mremap(a, 2 * PG, PG, 0) == (long)a);

	/* msync */
	char *f = mmap(0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
	R("msync unaligned", msync(f + 1, PG, MS_SYNC));
	R("msync bad flags", msync(f, PG, 0x100));
	R("msync SYNC|ASYNC", msync(f, PG, MS_SYNC | MS_ASYNC));
	R("msync unmapped", msync((void *)0x70000000, PG, MS_SYNC));
	R("msync length 0", msync(f, 0, MS_SYNC));
	R("msync shared ok", msync(f, 2 * PG, MS_SYNC | MS_INVALIDATE));
	R("msync anonymous", msync(a, PG, MS_ASYNC));
	R("msync range with hole", msync(a, 4 * PG, MS_SYNC));
	mlock(f, PG);
	R("msync INVALIDATE locked", msync(f, PG, MS_INVALIDATE));
	munlock(f, PG);

	/* mincore */
	unsigned char vec[8];
	R("mincore unaligned", mincore(a + 1, PG, vec));
	R("mincore bad vec", mincore(a, PG, (void *)8));
	R("mincore unmapped", mincore((void *)0x70000000, PG, vec));
	R("mincore range with hole", mincore(a, 4 * PG, vec));
	R("mincore huge length", mincore(a, 1UL << 62, vec));
	R("mincore length 0", mincore(a, 0, vec));
	R("mincore ok", mincore(a, PG, vec));

	/* madvise */
	R("madvise unaligned", madvise(a + 1, PG, MADV_DONTNEED));
	R("madvise bad advice", madvise(a, PG, 1000));
	R("madvise bad advice unaligned", madvise(a + 1, PG, 1000));
	R("madvise length 0", madvise(a, 0, MADV_DONTNEED));
	R("madvise length wraps", syscall(SYS_madvise, a, -PG, MADV_NORMAL));
	R("madvise unmapped", madvise((void *)0x70000000, PG, MADV_NORMAL));
	R("madvise range with hole", madvise(a, 4 * PG, MADV_NORMAL));
	R("madvise REMOVE private", madvise(a, PG, MADV_REMOVE));
	R("madvise REMOVE shared", madvise(f, PG, MADV_REMOVE));
	R("madvise DONTNEED ok", madvise(a, PG, MADV_DONTNEED));
	mlock(a, PG);
	R("madvise DONTNEED locked", madvise(a, PG, MADV_DONTNEED));
	R("madvise FREE locked", madvise(a, PG, MADV_FREE));
	munlock(a, PG);
	R("madvise FREE shared", madvise(f, PG, MADV_FREE));
	R("madvise DONTFORK", madvise(a, PG, MADV_DONTFORK));
	R("madvise WIPEONFORK shared", madvise(f, PG, MADV_WIPEONFORK));
	R("madvise HWPOISON", madvise(a, PG, MADV_HWPOISON));
	R("madvise COLD unmapped", madvise((void *)0x70000000, PG, MADV_COLD));
	R("madvise WILLNEED", madvise(f, PG, MADV_WILLNEED));

	/* mlock family */
	R("mlock unmapped", mlock((void *)0x70000000, PG));
	R("mlock range with hole", mlock(a, 4 * PG));
	vmlck();
	char *h = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(h + 2 * PG, PG);
	R("mlock up to a hole", mlock(h, 4 * PG));
	vmlck();
	R("munlock up to a hole", munlock(h, 4 * PG));
	vmlck();
	R("mlock from a hole", mlock(h + 2 * PG, 2 * PG));
	vmlck();
	munmap(h, 4 * PG);
	R("mlock length wraps", syscall(SYS_mlock, a, -PG));
	R("mlock length 0", mlock(a, 0));
	R("mlock2 bad flags", syscall(SYS_mlock2, a, PG, 2));
	R("mlock2 unmapped", syscall(SYS_mlock2, (void *)0x70000000, PG, MLOCK_ONFAULT));
	R("munlock unmapped", munlock((void *)0x70000000, PG));
	R("munlock range with hole", munlock(a, 4 * PG));
	vmlck();
	R("mlockall 0", mlockall(0));
	R("mlockall bad flag", mlockall(8));
	R("mlockall ONFAULT alone", mlockall(MCL_ONFAULT));
	struct rlimit ml = {0, 0};
	getrlimit(RLIMIT_MEMLOCK, &ml);
	struct rlimit small = {PG, ml.rlim_max};
	setrlimit(RLIMIT_MEMLOCK, &small);
	R("mlock over RLIMIT_MEMLOCK", mlock(a, 2 * PG));
	R("mlock within RLIMIT_MEMLOCK", mlock(a, PG));
	R("mlock2 over RLIMIT_MEMLOCK", syscall(SYS_mlock2, a, 2 * PG, MLOCK_ONFAULT));
	char *lk = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munlock(a, PG);
	R("mlock a page", mlock(lk, PG));
	char *nl;
	R("mremap grow locked over limit", (nl = mremap(lk, PG, 2 * PG, MREMAP_MAYMOVE)) == MAP_FAILED ? -1 : 1);
	if (nl != MAP_FAILED) { munmap(nl, 2 * PG); lk = mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); mlock(lk, PG); }
	R("mremap grow locked FIXED over limit", (nl = mremap(lk, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, (char *)0x60000000)) == MAP_FAILED ? -1 : 1);
	if (nl != MAP_FAILED) { munmap(nl, 2 * PG); lk = mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); mlock(lk, PG); }
	R("mremap shrink locked", (long)mremap(lk, PG, PG, 0) == (long)lk);
	munlock(lk, PG);
	munmap(lk, PG);
	munlock(a, 2 * PG);
	M("mmap MAP_LOCKED over limit", mmap(0, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
	small.rlim_cur = 0;
	setrlimit(RLIMIT_MEMLOCK, &small);
	R("mlock RLIMIT_MEMLOCK 0", mlock(a, PG));
	R("mlockall RLIMIT_MEMLOCK 0", mlockall(MCL_FUTURE));
	munlockall();
	setrlimit(RLIMIT_MEMLOCK, &ml);

	/* brk never fails: it answers the current break */
	long b0 = syscall(SYS_brk, 0);
	R("brk huge", syscall(SYS_brk, 1UL << 46) == b0);
	R("brk below start", syscall(SYS_brk, 4096) == b0);
	R("brk -1", syscall(SYS_brk, -1L) == b0);
	char *wall = mmap((char *)b0 + 64 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	R("brk wall placed", wall == (char *)b0 + 64 * PG);
	R("brk into a mapping", syscall(SYS_brk, b0 + 128 * PG) == b0);
	R("brk to a page below a mapping", syscall(SYS_brk, b0 + 63 * PG + 1) == b0);
	R("brk leaving a page", syscall(SYS_brk, b0 + 63 * PG) == b0 + 63 * PG);
	R("brk back", syscall(SYS_brk, b0) == b0);
	munmap(wall, PG);

	/* RLIMIT_AS bounds all mappings, RLIMIT_DATA private writable ones */
	struct rlimit as0, data0;
	getrlimit(RLIMIT_AS, &as0);
	getrlimit(RLIMIT_DATA, &data0);
	const unsigned long MB = 1UL << 20;
	setrlimit(RLIMIT_AS, &(struct rlimit){1024 * MB, as0.rlim_max});
	M("mmap 2 GiB PROT_NONE past RLIMIT_AS", mmap(0, 2048 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
	char *g = mmap(0, 256 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	R("mmap 256 MiB within RLIMIT_AS", g == MAP_FAILED ? -1 : 1);
	R("mmap fixed over it within RLIMIT_AS", mmap(g, 256 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == g);
	R("mremap grow past RLIMIT_AS", (long)mremap(g, 256 * MB, 2048 * MB, MREMAP_MAYMOVE));
	munmap(g, 256 * MB);
	R("brk past RLIMIT_AS", syscall(SYS_brk, b0 + 2048 * MB) == b0);
	setrlimit(RLIMIT_AS, &as0);
	setrlimit(RLIMIT_DATA, &(struct rlimit){256 * MB, data0.rlim_max});
	M("mmap 512 MiB private writable past RLIMIT_DATA", mmap(0, 512 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	g = mmap(0, 512 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R("mmap 512 MiB private read-only", g == MAP_FAILED ? -1 : 1);
	munmap(g, 512 * MB);
	g = mmap(0, 512 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	R("mmap 512 MiB shared writable", g == MAP_FAILED ? -1 : 1);
	munmap(g, 512 * MB);
	g = mmap(0, MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	R("mremap grow data past RLIMIT_DATA", (long)mremap(g, MB, 512 * MB, MREMAP_MAYMOVE));
	munmap(g, MB);
	R("brk past RLIMIT_DATA", syscall(SYS_brk, b0 + 512 * MB) == b0);
	R("brk within RLIMIT_DATA", syscall(SYS_brk, b0 + MB) == b0 + (long)MB);
	syscall(SYS_brk, b0);
	setrlimit(RLIMIT_DATA, &data0);

	/* one mapping charged to the commit total may not exceed RAM + swap */
	char *big;
	M("mmap 1 TiB private writable", big = mmap(0, 1UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	M("mmap 1 TiB shared anonymous read-only", big = mmap(0, 1UL << 40, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
	M("mmap 1 TiB private PROT_NONE", big = mmap(0, 1UL << 40, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	if (big != MAP_FAILED) munmap(big, 1UL << 40);
	M("mmap 1 TiB MAP_NORESERVE", big = mmap(0, 1UL << 40, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
	if (big != MAP_FAILED) munmap(big, 1UL << 40);

	/* the mapping type and the flags MAP_SHARED_VALIDATE checks */
	M("mmap SHARED_VALIDATE anonymous", mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0));
	M("mmap SHARED_VALIDATE FIXED_NOREPLACE", mmap((void *)0x60000000, PG, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, rw, 0));
	M("mmap SHARED_VALIDATE 0x200", mmap(0, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x200, rw, 0));
	M("mmap SHARED unknown flag ignored", mmap(0, PG, PROT_READ, MAP_SHARED | 0x800000, rw, 0));
	M("mmap DROPPABLE anonymous", mmap(0, PG, PROT_READ | PROT_WRITE, 0x08 | MAP_ANONYMOUS, -1, 0));
	M("mmap DROPPABLE locked", mmap(0, PG, PROT_READ, 0x08 | MAP_ANONYMOUS | MAP_LOCKED, -1, 0));
	M("mmap DROPPABLE file", mmap(0, PG, PROT_READ, 0x08, rw, 0));
	M("mmap HUGETLB file", mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, rw, 0));
	M("mmap HUGETLB length 0", mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0));
	M("mmap GROWSDOWN shared anonymous", mmap(0, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0));
	M("mmap GROWSDOWN file", mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, rw, 0));
	M("mmap no type O_WRONLY", mmap(0, PG, PROT_READ, 0, wo, 0));
	M("mmap fixed unaligned O_WRONLY", mmap((void *)0x10000100, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, wo, 0));
	M("mmap fixed above TASK_SIZE O_WRONLY", mmap((void *)(1UL << 47), PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, wo, 0));
	M("mmap huge length O_WRONLY", mmap(0, 1UL << 62, PROT_READ, MAP_PRIVATE, wo, 0));
	M("mmap FIXED_NOREPLACE O_WRONLY", mmap(a, PG, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, wo, 0));
	M("mmap FIXED_NOREPLACE no type", mmap(a, PG, PROT_READ, MAP_FIXED_NOREPLACE | MAP_ANONYMOUS, -1, 0));
	M("mmap length 0 O_PATH", mmap(0, 0, PROT_READ, MAP_PRIVATE, op, 0));
	R("mprotect bad prot length 0", mprotect(a, 0, 0x100));
	R("mprotect PROT_SEM", mprotect(a, PG, PROT_READ | PROT_WRITE | 0x8));
	R("mprotect bad prot wrapping", syscall(SYS_mprotect, a, -PG, 0x100));
	R("mprotect GROWSUP", mprotect(a, PG, PROT_READ | PROT_GROWSUP));

	/* pkeys: the checks before a key is looked at */
	R("pkey_alloc bad flags", syscall(SYS_pkey_alloc, 1, 0));
	R("pkey_alloc bad rights", syscall(SYS_pkey_alloc, 0, 4));
	R("pkey_free 15", syscall(SYS_pkey_free, 15));
	R("pkey_free -2", syscall(SYS_pkey_free, -2));
	R("pkey_mprotect -1", syscall(SYS_pkey_mprotect, a, PG, PROT_READ, -1));
	R("pkey_mprotect -1 unaligned", syscall(SYS_pkey_mprotect, a + 1, PG, PROT_READ, -1));
	R("pkey_mprotect 15", syscall(SYS_pkey_mprotect, a, PG, PROT_READ, 15));
	R("pkey_mprotect 16", syscall(SYS_pkey_mprotect, a, PG, PROT_READ, 16));
	R("pkey_mprotect -1 unmapped", syscall(SYS_pkey_mprotect, (void *)0x70000000, PG, PROT_READ, -1));

	/* process_vm_readv/writev */
	char src[16] = "process-vm", dst[16];
	struct iovec li = {dst, sizeof dst}, ri = {src, sizeof src};
	pid_t me = getpid();
	R("process_vm_readv self", process_vm_readv(me, &li, 1, &ri, 1, 0));
	R("process_vm_readv flags", process_vm_readv(me, &li, 1, &ri, 1, 1));
	R("process_vm_readv no such pid", process_vm_readv(999999, &li, 1, &ri, 1, 0));
	R("process_vm_readv pid 0", process_vm_readv(0, &li, 1, &ri, 1, 0));
	R("process_vm_readv liovcnt > IOV_MAX", process_vm_readv(me, &li, IOV_MAX + 1, &ri, 1, 0));
	R("process_vm_readv riovcnt > IOV_MAX", process_vm_readv(me, &li, 1, &ri, IOV_MAX + 1, 0));
	R("process_vm_readv bad local iov array", process_vm_readv(me, (void *)8, 1, &ri, 1, 0));
	R("process_vm_readv bad remote iov array", process_vm_readv(me, &li, 1, (void *)8, 1, 0));
	struct iovec bad = {(void *)8, 16};
	R("process_vm_readv bad remote address", process_vm_readv(me, &li, 1, &bad, 1, 0));
	R("process_vm_readv bad local address", process_vm_readv(me, &bad, 1, &ri, 1, 0));
	struct iovec ri2[2] = {{src, 8}, {(void *)8, 8}};
	R("process_vm_readv partial", process_vm_readv(me, &li, 1, ri2, 2, 0));
	R("process_vm_writev bad remote address", process_vm_writev(me, &li, 1, &bad, 1, 0));
	R("process_vm_writev flags", process_vm_writev(me, &li, 1, &ri, 1, 2));
	R("process_vm_readv zero counts", process_vm_readv(me, &li, 0, &ri, 0, 0));
	struct iovec huge = {src, (size_t)-1};
	R("process_vm_readv length overflow", process_vm_readv(me, &li, 1, &huge, 1, 0));
	pid_t c = fork();
	if (c == 0) { pause(); _exit(0); }
	R("process_vm_readv child", process_vm_readv(c, &li, 1, &ri, 1, 0));
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	R("process_vm_readv zombie reaped", process_vm_readv(c, &li, 1, &ri, 1, 0));
	if (getuid() == 0) {
		/* another user may not read root's memory */
		pid_t parent = getpid();
		c = fork();
		if (c == 0) {
			setgid(2000);
			setuid(2000);
			R("process_vm_readv other user", process_vm_readv(parent, &li, 1, &ri, 1, 0));
			R("process_vm_writev other user", process_vm_writev(parent, &li, 1, &ri, 1, 0));
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}

	if (getuid() == 0) {
		/* a noexec mount: no PROT_EXEC mapping, now or by mprotect */
		c = fork();
		if (c == 0) {
			char nx[80];
			snprintf(nx, sizeof nx, "%s/nx", dir);
			mkdir(nx, 0755);
			if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			    mount("tmpfs", nx, "tmpfs", MS_NOEXEC, NULL)) { perror("noexec mount"); _exit(1); }
			snprintf(nx, sizeof nx, "%s/nx/f", dir);
			int xf = open(nx, O_CREAT | O_RDWR, 0755);
			ftruncate(xf, PG);
			M("mmap PROT_EXEC on noexec", mmap(0, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, xf, 0));
			M("mmap shared PROT_EXEC on noexec", mmap(0, PG, PROT_READ | PROT_EXEC, MAP_SHARED, xf, 0));
			char *xm = mmap(0, PG, PROT_READ, MAP_PRIVATE, xf, 0);
			R("mprotect PROT_EXEC on noexec", mprotect(xm, PG, PROT_READ | PROT_EXEC));
			R("mprotect PROT_WRITE on noexec private", mprotect(xm, PG, PROT_READ | PROT_WRITE));
			char *xargv[] = {nx, NULL};
			R("execve on noexec", execve(nx, xargv, NULL)); /* EACCES before the (empty) file is read */
			_exit(0);
		}
		waitpid(c, NULL, 0);
		snprintf(path, sizeof path, "%s/nx", dir);
		rmdir(path);
		snprintf(path, sizeof path, "%s/f", dir);
	}
	munmap(f, 2 * PG);
	munmap(a, 4 * PG);
	unlink(path);
	rmdir(dir);
	return 0;
}
`

func TestErrorsMm(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errors-mm", errorsMmC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}

// errorsShmFutexC: SysV shared memory (shmget, shmat, shmdt, shmctl) and
// futex argument checks. Linux: ipc/shm.c, ipc/util.c, kernel/futex/syscalls.c,
// kernel/futex/core.c (get_futex_key), kernel/futex/pi.c
const errorsShmFutexC = `#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* R prints an address (a result above 1 MiB) as "addr" */
#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	if (_r > (1L << 20)) { printf("%-44s = addr\n", what); } \
	else { printf("%-44s = %ld %s\n", what, _r < 0 ? -1L : _r, _r < 0 ? strerror(errno) : ""); } \
	fflush(stdout); } while (0)
#define PG 4096L

static long fx(void *u, int op, int val, void *t, void *u2, int v3) { return syscall(SYS_futex, u, op, val, t, u2, v3); }

int main(void) {
	/* shmget */
	key_t key = 0x5e770000 + (getuid() & 0xffff);
	int old = shmget(key, 0, 0);
	if (old >= 0) shmctl(old, IPC_RMID, NULL);
	R("shmget missing key", shmget(key, PG, 0600));
	R("shmget size 0 new", shmget(key, 0, IPC_CREAT | 0600));
	R("shmget size huge", shmget(key, 1UL << 62, IPC_CREAT | 0600));
	int id = shmget(key, 2 * PG, IPC_CREAT | 0600);
	R("shmget create", id >= 0);
	R("shmget IPC_EXCL existing", shmget(key, PG, IPC_CREAT | IPC_EXCL | 0600));
	R("shmget larger than existing", shmget(key, 4 * PG, 0600));
	R("shmget existing size 0", shmget(key, 0, 0600) == id);
	R("shmget SHM_HUGETLB", shmget(IPC_PRIVATE, PG, IPC_CREAT | SHM_HUGETLB | 0600));
	int ro = shmget(IPC_PRIVATE, PG, IPC_CREAT | 0400);
	R("shmget private", ro >= 0);

	/* shmat */
	R("shmat bad id", (long)shmat(-1, NULL, 0));
	R("shmat unused id", (long)shmat(id + 65536 * 7, NULL, 0));
	R("shmat unaligned no SHM_RND", (long)shmat(id, (void *)0x60000100, 0));
	char *at = shmat(id, (void *)0x60000100, SHM_RND);
	R("shmat SHM_RND", at == (void *)0x60000000);
	R("shmat SHM_REMAP NULL", (long)shmat(id, NULL, SHM_REMAP));
	R("shmat over mapping", (long)shmat(id, at, 0));
	R("shmat over mapping SHM_REMAP", shmat(id, at, SHM_REMAP) == at);
	R("shmat write on 0400", (long)shmat(ro, NULL, 0));
	char *rop = shmat(ro, NULL, SHM_RDONLY);
	R("shmat SHM_RDONLY on 0400", rop != (void *)-1);
	R("mprotect write on SHM_RDONLY", mprotect(rop, PG, PROT_READ | PROT_WRITE));
	R("shmat SHM_EXEC on 0400", (long)shmat(ro, NULL, SHM_RDONLY | SHM_EXEC));
	R("shmat above TASK_SIZE", (long)shmat(id, (void *)(1UL << 47), 0));

	/* shmdt */
	R("shmdt not attached", shmdt((void *)0x70000000));
	R("shmdt unaligned", shmdt(at + 1));
	R("shmdt mid segment", shmdt(at + PG));
	R("shmdt", shmdt(at));
	R("shmdt again", shmdt(at));
	shmdt(rop);

	/* shmctl */
	struct shmid_ds ds;
	R("shmctl bad cmd", shmctl(id, 100, &ds));
	R("shmctl IPC_STAT bad id", shmctl(-1, IPC_STAT, &ds));
	R("shmctl IPC_STAT unused id", shmctl(id + 65536 * 7, IPC_STAT, &ds));
	R("shmctl IPC_STAT bad buffer", shmctl(id, IPC_STAT, (void *)8));
	R("shmctl IPC_SET bad buffer", shmctl(id, IPC_SET, (void *)8));
	R("shmctl SHM_STAT negative index", shmctl(-1, SHM_STAT, &ds));
	R("shmctl SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
	R("shmctl SHM_UNLOCK", shmctl(id, SHM_UNLOCK, NULL));
	struct shminfo si;
	R("shmctl IPC_INFO", shmctl(0, IPC_INFO, (void *)&si) >= 0);
	R("shmctl IPC_INFO bad buffer", shmctl(0, IPC_INFO, (void *)8));
	pid_t c = getuid() == 0 ? fork() : -1;
	if (c == 0) {
		/* another user may not stat a 0600 segment nor remove it */
		setgid(2000);
		setuid(2000);
		R("other user shmat 0600", (long)shmat(id, NULL, 0));
		R("other user IPC_STAT 0600", shmctl(id, IPC_STAT, &ds));
		R("other user IPC_SET", shmctl(id, IPC_SET, &ds));
		R("other user IPC_RMID", shmctl(id, IPC_RMID, NULL));
		R("other user shmget 0600", shmget(key, PG, 0600));
		R("other user SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
		_exit(0);
	}
	if (c > 0) waitpid(c, NULL, 0);
	char *keep = shmat(id, NULL, 0);
	R("shmctl IPC_RMID", shmctl(id, IPC_RMID, NULL));
	R("shmat removed but attached", (long)shmat(id, NULL, 0) > 0 ? 1 : -1);
	R("shmctl IPC_STAT removed attached", shmctl(id, IPC_STAT, &ds));
	R("shmget removed key", shmget(key, PG, 0600));
	shmdt(keep);
	R("shmctl IPC_STAT gone", shmctl(id, IPC_STAT, &ds));
	R("shmctl IPC_RMID gone", shmctl(id, IPC_RMID, NULL));
	shmctl(ro, IPC_RMID, NULL);

	/* futex */
	uint32_t *w = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint32_t *ronly = mmap(0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct timespec ts0 = {0, 0}, tbad = {0, 1000000000}, tneg = {-1, 0};
	*w = 5;
	R("FUTEX_WAIT value differs", fx(w, FUTEX_WAIT, 4, NULL, NULL, 0));
	R("FUTEX_WAIT unaligned", fx((char *)w + 1, FUTEX_WAIT, 5, NULL, NULL, 0));
	R("FUTEX_WAIT NULL", fx(NULL, FUTEX_WAIT, 5, NULL, NULL, 0));
	R("FUTEX_WAIT unmapped", fx((void *)0x70000000, FUTEX_WAIT, 5, NULL, NULL, 0));
	R("FUTEX_WAIT timeout 0", fx(w, FUTEX_WAIT, 5, &ts0, NULL, 0));
	R("FUTEX_WAIT bad timeout nsec", fx(w, FUTEX_WAIT, 5, &tbad, NULL, 0));
	R("FUTEX_WAIT negative timeout", fx(w, FUTEX_WAIT, 5, &tneg, NULL, 0));
	R("FUTEX_WAIT timeout pointer bad", fx(w, FUTEX_WAIT, 5, (void *)8, NULL, 0));
	R("FUTEX_WAIT bad timeout unaligned uaddr", fx((char *)w + 1, FUTEX_WAIT, 5, &tbad, NULL, 0));
	R("FUTEX_WAIT read-only page", fx(ronly, FUTEX_WAIT, 0, &ts0, NULL, 0));
	R("FUTEX_WAIT_PRIVATE read-only page", fx(ronly, FUTEX_WAIT_PRIVATE, 0, &ts0, NULL, 0));
	R("FUTEX_WAKE read-only page", fx(ronly, FUTEX_WAKE, 1, NULL, NULL, 0));
	R("FUTEX_WAIT CLOCK_REALTIME", fx(w, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 5, &ts0, NULL, 0));
	R("FUTEX_WAKE", fx(w, FUTEX_WAKE, 1, NULL, NULL, 0));
	R("FUTEX_WAKE unaligned", fx((char *)w + 2, FUTEX_WAKE, 1, NULL, NULL, 0));
	R("FUTEX_WAKE unmapped", fx((void *)0x70000000, FUTEX_WAKE, 1, NULL, NULL, 0));
	R("FUTEX_WAKE_PRIVATE unmapped", fx((void *)0x70000000, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
	R("FUTEX_WAKE negative count", fx(w, FUTEX_WAKE, -1, NULL, NULL, 0));
	R("bad op", fx(w, 99, 0, NULL, NULL, 0));
	R("bad op private", fx(w, 99 | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0));
	R("FUTEX_CLOCK_REALTIME with WAKE", fx(w, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0));
	R("FUTEX_WAIT_BITSET bitset 0", fx(w, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0));
	R("FUTEX_WAKE_BITSET bitset 0", fx(w, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0));
	R("FUTEX_WAIT_BITSET abs timeout past", fx(w, FUTEX_WAIT_BITSET, 5, &ts0, NULL, -1));
	R("FUTEX_CMP_REQUEUE value differs", fx(w, FUTEX_CMP_REQUEUE, 1, (void *)1, w + 1, 4));
	R("FUTEX_CMP_REQUEUE negative nr_wake", fx(w, FUTEX_CMP_REQUEUE, -1, (void *)1, w + 1, 5));
	R("FUTEX_CMP_REQUEUE negative nr_requeue", fx(w, FUTEX_CMP_REQUEUE, 1, (void *)-1L, w + 1, 5));
	R("FUTEX_CMP_REQUEUE bad uaddr2", fx(w, FUTEX_CMP_REQUEUE, 1, (void *)1, (void *)0x70000000, 5));
	R("FUTEX_CMP_REQUEUE unaligned uaddr2", fx(w, FUTEX_CMP_REQUEUE, 1, (void *)1, (char *)w + 5, 5));
	R("FUTEX_CMP_REQUEUE ok", fx(w, FUTEX_CMP_REQUEUE, 1, (void *)1, w + 1, 5));
	R("FUTEX_REQUEUE", fx(w, FUTEX_REQUEUE, 1, (void *)1, w + 1, 0));
	w[2] = 0;
	R("FUTEX_WAKE_OP bad uaddr2", fx(w, FUTEX_WAKE_OP, 1, (void *)1, (void *)0x70000000, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	R("FUTEX_WAKE_OP bad op", fx(w, FUTEX_WAKE_OP, 1, (void *)1, w + 2, (9 << 28)));
	R("FUTEX_WAKE_OP bad cmp", fx(w, FUTEX_WAKE_OP, 1, (void *)1, w + 2, (9 << 24)));
	R("FUTEX_WAKE_OP ok", fx(w, FUTEX_WAKE_OP, 1, (void *)1, w + 2, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	printf("  after wake_op: %u\n", w[2]);
	R("FUTEX_WAKE_OP read-only uaddr2", fx(w, FUTEX_WAKE_OP, 1, (void *)1, ronly, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	/* PI futexes */
	uint32_t *pi = w + 8;
	*pi = 0;
	R("FUTEX_LOCK_PI free", fx(pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	R("FUTEX_LOCK_PI own (deadlock)", fx(pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	R("FUTEX_TRYLOCK_PI own", fx(pi, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
	R("FUTEX_UNLOCK_PI", fx(pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
	R("FUTEX_UNLOCK_PI not owner", fx(pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0));
	*pi = 999999;
	R("FUTEX_LOCK_PI owner gone", fx(pi, FUTEX_LOCK_PI, 0, &ts0, NULL, 0));
	R("FUTEX_TRYLOCK_PI owner gone", fx(pi, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0));
	*pi = 0;
	R("FUTEX_LOCK_PI unaligned", fx((char *)pi + 1, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	R("FUTEX_LOCK_PI read-only", fx(ronly, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	R("FUTEX_LOCK_PI unmapped", fx((void *)0x70000000, FUTEX_LOCK_PI, 0, NULL, NULL, 0));
	R("FUTEX_LOCK_PI bad timeout", fx(pi, FUTEX_LOCK_PI, 0, &tbad, NULL, 0));
	R("FUTEX_CMP_REQUEUE_PI same futex", fx(pi, FUTEX_CMP_REQUEUE_PI, 1, (void *)1, pi, 0));
	R("FUTEX_WAIT_REQUEUE_PI same futex", fx(pi, FUTEX_WAIT_REQUEUE_PI, 0, NULL, pi, 0));
	/* robust lists */
	struct robust_list_head rh;
	R("set_robust_list bad size", syscall(SYS_set_robust_list, &rh, sizeof rh + 1));
	R("get_robust_list no such pid", syscall(SYS_get_robust_list, 999999, &(void *){0}, &(size_t){0}));
	R("get_robust_list bad pointer", syscall(SYS_get_robust_list, 0, (void *)8, &(size_t){0}));
	return 0;
}
`

func TestErrorsShmFutex(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errors-shm-futex", errorsShmFutexC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}
