package tests

// C programs of mem2_test.go.

// mem2MincoreC tests mincore: residency before and after touching, after MADV_DONTNEED, errors; shared anonymous memory in a child.
const mem2MincoreC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
int main(){
	long pg = 4096;
	unsigned char *p = mmap((void*)0x200000000, 16*pg, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED) { perror("mmap"); return 1; }
	unsigned char v[16];
	int r = mincore(p, 16*pg, v); int n=0; for(int i=0;i<16;i++) n+=v[i]&1;
	printf("before r=%d resident=%d\n", r, n);
	for(int i=0;i<16;i++) p[i*pg]=1;
	r = mincore(p, 16*pg, v); n=0; for(int i=0;i<16;i++) n+=v[i]&1;
	printf("after r=%d resident=%d\n", r, n);
	madvise(p, 16*pg, MADV_DONTNEED);
	r = mincore(p, 16*pg, v); n=0; for(int i=0;i<16;i++) n+=v[i]&1;
	printf("dontneed r=%d resident=%d\n", r, n);
	errno=0; r = mincore(p+pg/2, pg, v); printf("unaligned %d %s\n", r, strerror(errno));
	errno=0; r = mincore(p+16*pg, pg, v); printf("unmapped %d %s\n", r, strerror(errno));
	errno=0; r = mincore(p, pg, (void*)8); printf("badvec %d %s\n", r, strerror(errno));
	unsigned char *s = mmap(0, 8*pg, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
	r = mincore(s, 8*pg, v); n=0; for(int i=0;i<8;i++) n+=v[i]&1;
	printf("shared before %d\n", n);
	for(int i=0;i<8;i++) s[i*pg]=1; fflush(stdout);
	pid_t c = fork(); if (c==0) { mincore(s, 8*pg, v); n=0; for(int i=0;i<8;i++) n+=v[i]&1; printf("child shared %d\n", n); fflush(stdout); _exit(0);} 
	waitpid(c,0,0);
	return 0;
}
`

// mem2MadviseC tests madvise: DONTNEED/FREE per mapping kind, accepted hints, errors, REMOVE, DONTFORK/WIPEONFORK in a child, POPULATE.
const mem2MadviseC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define PG 4096
#define SHOW(what, call) do { errno = 0; long r_ = (long)(call); printf("%s: %ld %s\n", what, r_, r_ < 0 ? strerror(errno) : ""); } while (0)
static int child(void (*fn)(void *), void *arg) {
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) { fn(arg); fflush(stdout); _exit(0); }
	int st; waitpid(c, &st, 0);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
static void readit(void *p) { printf("child reads %d\n", *(volatile char *)p); }
int main(int argc, char **argv) {
	char path[256]; snprintf(path, sizeof path, "%s/madv.dat", argv[1]);
	int fd = open(path, O_RDWR|O_CREAT|O_TRUNC, 0600);
	char buf[4*PG]; memset(buf, 'f', sizeof buf); write(fd, buf, sizeof buf);
	char *a = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	char *f = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *s = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
	char *sa = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
	memset(a, 'a', 4*PG); memset(f, 'p', 4*PG); s[PG] = 's'; memset(sa, 'x', 4*PG);
	SHOW("dontneed anon", madvise(a, 4*PG, MADV_DONTNEED));
	SHOW("dontneed file", madvise(f, 4*PG, MADV_DONTNEED));
	SHOW("dontneed shared", madvise(s, 4*PG, MADV_DONTNEED));
	printf("after: anon=%d file=%c shared=%c\n", a[5], f[5], s[PG]);
	memset(a, 'a', 4*PG);
	SHOW("free anon", madvise(a, 4*PG, MADV_FREE));
	SHOW("free file", madvise(f, 4*PG, MADV_FREE));
	SHOW("free shared anon", madvise(sa, 4*PG, MADV_FREE));
	SHOW("willneed", madvise(f, 4*PG, MADV_WILLNEED));
	SHOW("hugepage", madvise(a, 4*PG, MADV_HUGEPAGE));
	SHOW("nohugepage", madvise(a, 4*PG, MADV_NOHUGEPAGE));
	SHOW("mergeable", madvise(a, 4*PG, MADV_MERGEABLE));
	SHOW("unmergeable", madvise(a, 4*PG, MADV_UNMERGEABLE));
	SHOW("random", madvise(f, 4*PG, MADV_RANDOM));
	SHOW("sequential", madvise(f, 4*PG, MADV_SEQUENTIAL));
	SHOW("dontdump", madvise(a, 4*PG, MADV_DONTDUMP));
	SHOW("dodump", madvise(a, 4*PG, MADV_DODUMP));
	SHOW("unknown", madvise(a, 4*PG, 77));
	SHOW("unaligned", madvise(a + 1, PG, MADV_NORMAL));
	SHOW("zero length", madvise(a, 0, MADV_DONTNEED));
	munmap(a + 2*PG, PG);
	SHOW("hole", madvise(a, 4*PG, MADV_NORMAL));
	SHOW("unmapped", madvise(a + 2*PG, PG, MADV_DONTNEED));
	/* REMOVE on shared anonymous memory: the pages read as zeros again. */
	SHOW("remove shared anon", madvise(sa, 2*PG, MADV_REMOVE));
	printf("after remove: %d %d\n", sa[0], sa[2*PG]);
	SHOW("remove private", madvise(a, PG, MADV_REMOVE));
	SHOW("remove private file", madvise(f, PG, MADV_REMOVE));
	/* REMOVE on a shared file mapping punches a hole in the file. */
	s[0] = 'h'; s[3*PG] = 'k';
	SHOW("remove shared file", madvise(s, 2*PG, MADV_REMOVE));
	char rb[2]; pread(fd, rb, 1, 0); pread(fd, rb + 1, 1, 3*PG);
	printf("after remove: map %d %c, file %d %c\n", s[0], s[3*PG], rb[0], rb[1]);
	/* DONTFORK: the child has no mapping there. */
	char *d = mmap(0, 2*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	d[0] = 7;
	SHOW("dontfork", madvise(d, 2*PG, MADV_DONTFORK));
	printf("dontfork child: %d\n", child(readit, d));
	SHOW("dofork", madvise(d, 2*PG, MADV_DOFORK));
	printf("dofork child: %d\n", child(readit, d));
	/* WIPEONFORK: the child gets zeros, the parent keeps its data. */
	SHOW("wipeonfork", madvise(d, 2*PG, MADV_WIPEONFORK));
	printf("wipeonfork child: %d\n", child(readit, d));
	printf("parent still %d\n", d[0]);
	SHOW("keeponfork", madvise(d, 2*PG, MADV_KEEPONFORK));
	printf("keeponfork child: %d\n", child(readit, d));
	SHOW("wipeonfork shared", madvise(sa, PG, MADV_WIPEONFORK));
	SHOW("wipeonfork file", madvise(f, PG, MADV_WIPEONFORK));
	SHOW("populate read", madvise(f, 4*PG, 22));
	SHOW("populate write", madvise(a, 2*PG, 23));
	unlink(path);
	return 0;
}
`

// mem2MremapC tests mremap: DONTUNMAP (anonymous and file), FIXED, shrinking, growing in place and by moving, errors.
const mem2MremapC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <sys/mman.h>
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#define PG 4096
#define SHOW(what, call) do { errno = 0; long r_ = (long)(call); printf("%s: %s %s\n", what, r_ == -1 ? "-1" : "ok", r_ == -1 ? strerror(errno) : ""); } while (0)
int main(int argc, char **argv) {
	char *a = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	memset(a, 'a', 4*PG);
	char *b = mremap(a, 4*PG, 4*PG, MREMAP_MAYMOVE|MREMAP_DONTUNMAP, NULL);
	if (b == MAP_FAILED) { perror("dontunmap"); return 1; }
	printf("dontunmap moved=%d new=%c old=%d\n", b != a, b[PG], a[PG]);
	a[0] = 'z'; printf("old writable=%c new=%c\n", a[0], b[0]);
	SHOW("dontunmap no maymove", mremap(b, 4*PG, 4*PG, MREMAP_DONTUNMAP));
	SHOW("dontunmap size change", mremap(b, 4*PG, 8*PG, MREMAP_MAYMOVE|MREMAP_DONTUNMAP));
	SHOW("fixed no maymove", mremap(b, 4*PG, 4*PG, MREMAP_FIXED, a));
	SHOW("bad flags", mremap(b, 4*PG, 4*PG, 8));
	SHOW("unaligned", mremap(b + 1, PG, PG, 0));
	SHOW("zero new", mremap(b, PG, 0, 0));
	SHOW("fixed overlap", mremap(b, 4*PG, 4*PG, MREMAP_MAYMOVE|MREMAP_FIXED, b + PG));
	SHOW("fixed unaligned", mremap(b, 4*PG, 4*PG, MREMAP_MAYMOVE|MREMAP_FIXED, a + 1));
	munmap(a, 4*PG);
	SHOW("unmapped", mremap(a, PG, 2*PG, MREMAP_MAYMOVE));
	SHOW("past vma", mremap(b, 8*PG, 16*PG, MREMAP_MAYMOVE));
	/* Shrink in place; grow in place into the freed tail. */
	char *c = mremap(b, 4*PG, 2*PG, 0);
	printf("shrink same=%d data=%c\n", c == b, c[PG]);
	char *d = mremap(c, 2*PG, 4*PG, 0);
	printf("grow in place same=%d data=%c new=%d\n", d == c, d[PG], d[3*PG]);
	/* Growing into a taken range fails without MAYMOVE and moves with it. */
	char *blk = mmap(d + 4*PG, PG, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0);
	if (blk == MAP_FAILED) { perror("blk"); return 2; }
	SHOW("grow blocked", mremap(d, 4*PG, 8*PG, 0));
	char *e = mremap(d, 4*PG, 8*PG, MREMAP_MAYMOVE);
	printf("grow moved=%d data=%c new=%d\n", e != d, e[PG], e[7*PG]);
	/* FIXED to a chosen place replaces what is there. */
	char *tgt = mmap(0, 8*PG, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	char *f = mremap(e, 8*PG, 8*PG, MREMAP_MAYMOVE|MREMAP_FIXED, tgt);
	printf("fixed at=%d data=%c\n", f == tgt, f[PG]);
	f[0] = 1;
	/* DONTUNMAP of a file mapping: the old range shows the file again. */
	char path[256]; snprintf(path, sizeof path, "%s/mremap.dat", argv[1]);
	int fd = open(path, O_RDWR|O_CREAT|O_TRUNC, 0600);
	char buf[2*PG]; memset(buf, 'F', sizeof buf); write(fd, buf, sizeof buf);
	char *m = mmap(0, 2*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE, fd, 0);
	m[0] = 'w';
	char *n = mremap(m, 2*PG, 2*PG, MREMAP_MAYMOVE|MREMAP_DONTUNMAP, NULL);
	if (n == MAP_FAILED) { perror("dontunmap file"); return 3; }
	printf("file dontunmap new=%c old=%c\n", n[0], m[0]);
	unlink(path);
	return 0;
}
`

// mem2SigbusC tests SIGBUS past the end after ftruncate shrinks a mapped file (argv[1] is the directory), in this process and in a child.
const mem2SigbusC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define PG 4096
static sigjmp_buf jb;
static void onbus(int sig, siginfo_t *si, void *uc) { siglongjmp(jb, sig); }
static const char *touch(volatile char *p, int write) {
	int sig = sigsetjmp(jb, 1);
	if (sig) return sig == SIGBUS ? "SIGBUS" : "SIGSEGV";
	if (write) *p = 'w'; else (void)*p;
	static char b[8]; snprintf(b, sizeof b, "ok %c", *p ? *p : '0'); return b;
}
int main(int argc, char **argv) {
	struct sigaction sa = {0}; sa.sa_sigaction = onbus; sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, 0); sigaction(SIGSEGV, &sa, 0);
	char path[256]; snprintf(path, sizeof path, "%s/sigbus.dat", argv[1]);
	int fd = open(path, O_RDWR|O_CREAT|O_TRUNC, 0600);
	char buf[4*PG]; memset(buf, 'd', sizeof buf); write(fd, buf, sizeof buf);
	char *s = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
	char *p = mmap(0, 4*PG, PROT_READ|PROT_WRITE, MAP_PRIVATE, fd, 0);
	for (int i = 0; i < 4; i++) { (void)*(volatile char *)(s + i*PG); p[i*PG] = 'c'; }
	int pc[2], cp[2]; pipe(pc); pipe(cp);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		char *cs = mmap(0, 4*PG, PROT_READ, MAP_SHARED, fd, 0);
		(void)*(volatile char *)(cs + 3*PG);
		write(cp[1], "r", 1);
		char x; read(pc[0], &x, 1);
		printf("child page 0: %s\n", touch(cs, 0));
		printf("child page 3: %s\n", touch(cs + 3*PG, 0));
		fflush(stdout); _exit(0);
	}
	char x; read(cp[0], &x, 1);
	if (ftruncate(fd, PG + 100) < 0) { perror("ftruncate"); return 1; }
	write(pc[1], "g", 1);
	waitpid(c, 0, 0);
	printf("shared page 0: %s\n", touch(s, 0));
	printf("shared page 1 tail: %s\n", touch(s + PG + 200, 0));
	printf("shared page 2: %s\n", touch(s + 2*PG, 0));
	printf("shared page 3 write: %s\n", touch(s + 3*PG, 1));
	printf("private page 0: %s\n", touch(p, 0));
	printf("private page 2 (copied): %s\n", touch(p + 2*PG, 0));
	/* Growing the file again brings zeros back. */
	ftruncate(fd, 4*PG);
	printf("regrown page 2: %s\n", touch(s + 2*PG, 0));
	printf("regrown page 1 tail: %s\n", touch(s + PG + 200, 0));
	/* A fresh mapping past the end of a short file. */
	ftruncate(fd, 100);
	char *q = mmap(0, 2*PG, PROT_READ, MAP_SHARED, fd, 0);
	printf("fresh page 0: %s\n", touch(q, 0));
	printf("fresh page 1: %s\n", touch(q + PG, 0));
	unlink(path);
	return 0;
}
`

const mem2SharedMapC = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define PG 4096
/* Two processes share a file (argv[1]/shmap.dat) through MAP_SHARED and
   see each other's stores, in the mapping and through read(2). */
int main(int argc, char **argv) {
	char path[256]; snprintf(path, sizeof path, "%s/shmap.dat", argv[1]);
	int fd = open(path, O_RDWR|O_CREAT|O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 2*PG) < 0) { perror("open"); return 1; }
	char *m = mmap(0, 2*PG, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
	int p2c[2], c2p[2]; pipe(p2c); pipe(c2p);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		int cfd = open(path, O_RDWR);
		char *cm = mmap(0, 2*PG, PROT_READ|PROT_WRITE, MAP_SHARED, cfd, 0);
		strcpy(cm + 100, "written by the child");
		write(c2p[1], "x", 1);
		char x; read(p2c[0], &x, 1);
		char buf[32] = {0};
		pread(cfd, buf, 20, PG + 10);
		printf("child maps: %s, reads: %s\n", cm + PG + 10, buf);
		fflush(stdout); _exit(0);
	}
	char x; read(c2p[0], &x, 1);
	char buf[32] = {0};
	pread(fd, buf, 20, 100);
	printf("parent maps: %s, reads: %s\n", m + 100, buf);
	strcpy(m + PG + 10, "written by parent");
	write(p2c[1], "x", 1);
	waitpid(c, 0, 0);
	/* write(2) shows in both mappings too. */
	pwrite(fd, "via write", 9, 200);
	printf("after write: %.9s\n", m + 200);
	unlink(path);
	return 0;
}
`
