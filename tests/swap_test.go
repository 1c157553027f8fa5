package tests

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Memory limits (--memory) and swap (--swap). Natively there is no limit,
// so these compare the guest's output with a native run where the result
// must be the same (swap keeps the data), and otherwise check the
// specified behaviour: the OOM killer's victim dies of SIGKILL, the rest
// of the sandbox keeps running.

// hogSrc allocates and touches MiB (argv[1]) with a pattern, forks if
// argv[2] is "fork" (the child checks and rewrites the data, the parent
// then checks its own copy is unchanged), checks the pattern and prints
// a checksum. Major faults (getrusage and /proc/self/stat) go to stderr.
const hogSrc = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
static unsigned char pat(size_t i, int gen) { return (unsigned char)((i >> 12) * 31 + 7 + gen); }
static unsigned long check(unsigned char *p, size_t n, int gen, unsigned long *bad) {
	unsigned long sum = 0;
	for (size_t i = 0; i < n; i += 4096) {
		if (p[i] != pat(i, gen) || p[i + 2048] != (unsigned char)(i >> 20)) (*bad)++;
		sum += p[i] + p[i + 2048];
	}
	return sum;
}
int main(int argc, char **argv) {
	size_t n = (size_t)atol(argv[1]) << 20;
	unsigned char *p = malloc(n);
	if (!p) { perror("malloc"); return 1; }
	for (size_t i = 0; i < n; i += 4096) { p[i] = pat(i, 0); p[i + 2048] = (unsigned char)(i >> 20); }
	unsigned long bad = 0, sum = check(p, n, 0, &bad);
	printf("touched %s MiB: sum %lu bad %lu\n", argv[1], sum, bad);
	if (argc > 2 && strcmp(argv[2], "hold") == 0) {
		fflush(stdout);
		sleep(5);
	}
	if (argc > 2 && strcmp(argv[2], "fork") == 0) {
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			unsigned long b = 0, s = check(p, n, 0, &b);
			for (size_t i = 0; i < n; i += 4096) p[i] = pat(i, 1);
			unsigned long b2 = 0, s2 = check(p, n, 1, &b2);
			printf("child: sum %lu bad %lu, rewritten sum %lu bad %lu\n", s, b, s2, b2);
			return 0;
		}
		int st;
		waitpid(c, &st, 0);
		bad = 0;
		sum = check(p, n, 0, &bad);
		printf("parent after child (status %d): sum %lu bad %lu\n", st, sum, bad);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long maj = 0;
	if (f && fscanf(f, "%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %lu", &maj) != 1) maj = 0;
	fprintf(stderr, "majflt rusage %ld stat %lu\n", ru.ru_majflt, maj);
	return 0;
}
`

// siblingSrc holds a little memory until its stdin says go (the hog is
// gone by then) and checks it is intact.
const siblingSrc = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void) {
	size_t n = 8 << 20;
	unsigned char *p = malloc(n);
	for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 7);
	getchar();
	for (size_t i = 0; i < n; i++) if (p[i] != (unsigned char)(i * 7)) { puts("sibling: corrupt"); return 1; }
	puts("sibling ok");
	return 0;
}
`

var majRe = regexp.MustCompile(`majflt rusage (\d+) stat (\d+)`)

func majorFaults(t *testing.T, stderr string) (int, int) {
	t.Helper()
	m := majRe.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no majflt line in stderr:\n%s", stderr)
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return a, b
}

func TestOOMKillsLargest(t *testing.T) {
	hog := compileC(t, "hog", hogSrc)
	sib := compileC(t, "sibling", siblingSrc)
	script := "F=$(mktemp -u); mkfifo $F; " + sib + " <$F & exec 3>$F; " + hog + " 512; echo hog=$?; echo go >&3; wait"
	r := runGlassbox(t, []string{"--memory=256M", "--verbose"}, []string{"/bin/sh", "-c", script})
	expect(t, "sh under --memory=256M", r, "hog=137\nsibling ok\n", 0)
	if !regexp.MustCompile(`glassbox: out of memory: killed pid \d+ \(hog[^)]*\)`).MatchString(r.Stderr) {
		t.Errorf("no OOM line naming hog in stderr:\n%s", r.Stderr)
	}
	// Natively (no limit) the hog completes.
	n := runNative(t, []string{hog, "64"})
	if n.Code != 0 {
		t.Fatalf("native hog: %v", n)
	}
}

func TestOOMKillsOther(t *testing.T) {
	// The process that needs memory is not the largest: the largest dies
	// and the needy one carries on once its memory is freed.
	hog := compileC(t, "hog", hogSrc)
	script := hog + " 200 hold & sleep 1; " + hog + " 100; echo small=$?; wait $!; echo big=$?"
	r := runGlassbox(t, []string{"--memory=256M"}, []string{"/bin/sh", "-c", script})
	big, small := runNative(t, []string{hog, "200"}), runNative(t, []string{hog, "100"})
	expect(t, "sh under --memory=256M", r, big.Stdout+small.Stdout+"small=0\nbig=137\n", 0)
}

func TestSwapKeepsData(t *testing.T) {
	hog := compileC(t, "hog", hogSrc)
	_, gb := diffWith(t, diffOpts{gbFlags: []string{"--memory=256M", "--swap=1G", "--stats"}}, []string{hog, "512"})
	ru, stat := majorFaults(t, gb.Stderr)
	if ru == 0 || stat == 0 {
		t.Errorf("want major faults > 0 under swap, got rusage %d, /proc/self/stat %d", ru, stat)
	}
	if !regexp.MustCompile(`major_faults=[1-9]\d* swap_outs=[1-9]\d* swap_ins=[1-9]\d* oom_kills=0`).MatchString(gb.Stderr) {
		t.Errorf("--stats does not show swapping:\n%s", gb.Stderr)
	}
}

func TestSwapFork(t *testing.T) {
	// Pages swapped out before fork are shared by parent and child (one
	// slot, two entries); the child's writes must not reach the parent.
	// --memory=232M leaves the guest about 198 MiB of frames (the rest is
	// glassbox' own, memfile/bound.go): room for the 160 MiB both share.
	hog := compileC(t, "hog", hogSrc)
	n, _ := diffWith(t, diffOpts{gbFlags: []string{"--memory=232M", "--swap=1G"}}, []string{hog, "160", "fork"})
	if !strings.Contains(n.Stdout, "bad 0, rewritten") {
		t.Fatalf("native run looks wrong: %v", n)
	}
}

func TestSwapThreads(t *testing.T) {
	// Four threads touch their own 64 MiB while the others' pages are
	// swapped out under them.
	src := `
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#define N (64UL << 20)
static unsigned long sums[4];
static void *work(void *arg) {
	long id = (long)arg;
	unsigned char *p = malloc(N);
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < N; i += 4096) p[i] = (unsigned char)(i / 4096 + id + round);
		unsigned long s = 0;
		for (size_t i = 0; i < N; i += 4096) s += p[i] == (unsigned char)(i / 4096 + id + round);
		sums[id] += s;
	}
	return 0;
}
int main(void) {
	pthread_t th[4];
	for (long i = 0; i < 4; i++) pthread_create(&th[i], 0, work, (void *)i);
	for (int i = 0; i < 4; i++) pthread_join(th[i], 0);
	for (int i = 0; i < 4; i++) printf("thread %d: %lu pages right\n", i, sums[i]);
	return 0;
}
`
	bin := compileC(t, "swapthreads", src)
	diffWith(t, diffOpts{gbFlags: []string{"--memory=128M", "--swap=1G"}}, []string{bin})
}

func TestMemoryFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--swap=1G", "--", "/bin/true"}, "needs a memory limit"},
		{[]string{"--memory=lots", "--", "/bin/true"}, "want a size"},
	} {
		r := runGlassboxRaw(t, append([]string{"run"}, c.args...)...)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("glassbox run %q: want one line containing %q and a failure, got %v", c.args, c.want, r)
		}
	}
}

// TestSwapViews: pages in swap show in /proc/self/status (VmSwap), smaps
// (Swap), pagemap (bit 62), mincore (not resident) and /proc/meminfo
// (SwapTotal/SwapFree), and come back intact.
func TestSwapViews(t *testing.T) {
	src := `
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
static long field(const char *path, const char *name) {
	FILE *f = fopen(path, "r");
	char line[256];
	long sum = 0, v;
	size_t n = strlen(name);
	while (fgets(line, sizeof line, f))
		if (strncmp(line, name, n) == 0 && sscanf(line + n, " %ld", &v) == 1) sum += v;
	fclose(f);
	return sum;
}
int main(void) {
	size_t n = 128 << 20;
	unsigned char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < n; i += 4096) p[i] = (unsigned char)(i >> 12);
	printf("VmSwap > 0: %d\n", field("/proc/self/status", "VmSwap:") > 0);
	printf("smaps Swap > 0: %d\n", field("/proc/self/smaps", "Swap:") > 0);
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e;
	pread(fd, &e, 8, (uintptr_t)p / 4096 * 8);
	printf("pagemap first page: present %d swapped %d\n", (int)(e >> 63 & 1), (int)(e >> 62 & 1));
	unsigned char vec;
	mincore(p, 4096, &vec);
	printf("mincore first page: %d\n", vec & 1);
	long total = field("/proc/meminfo", "SwapTotal:"), fr = field("/proc/meminfo", "SwapFree:");
	printf("SwapTotal %ld, some used: %d\n", total, fr < total);
	long bad = 0;
	for (size_t i = 0; i < n; i += 4096) bad += p[i] != (unsigned char)(i >> 12);
	printf("bad %ld\n", bad);
	return 0;
}
`
	bin := compileC(t, "swapviews", src)
	r := runGlassbox(t, []string{"--memory=64M", "--swap=256M"}, []string{bin})
	expect(t, "swap views", r, "VmSwap > 0: 1\nsmaps Swap > 0: 1\npagemap first page: present 0 swapped 1\n"+
		"mincore first page: 0\nSwapTotal 262144, some used: 1\nbad 0\n", 0)
}

// TestSwapSkipsLocked: mlock'ed pages stay resident however hard the
// rest of the address space is swapped.
func TestSwapSkipsLocked(t *testing.T) {
	src := `
#include <stdio.h>
#include <sys/mman.h>
int main(void) {
	size_t lk = 16 << 20, big = 256 << 20;
	unsigned char *l = mmap(0, lk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *b = mmap(0, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mlock(l, lk)) { perror("mlock"); return 1; }
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < big; i += 4096) b[i] = (unsigned char)(i >> 12);
	static unsigned char vec[(16 << 20) / 4096];
	mincore(l, lk, vec);
	int res = 0;
	for (size_t i = 0; i < sizeof vec; i++) res += vec[i] & 1;
	printf("locked pages resident: %d of %zu\n", res, sizeof vec);
	return 0;
}
`
	bin := compileC(t, "swaplocked", src)
	diffWith(t, diffOpts{gbFlags: []string{"--memory=96M", "--swap=512M"}}, []string{bin})
}

const readBigC = `
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
int main(void) {
	size_t n = 256 << 20;
	char *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = open("/dev/zero", O_RDONLY);
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r <= 0) { perror("read"); return 1; }
		got += r;
	}
	printf("read %zu MiB\n", got >> 20);
	return 0;
}
`

// TestOOMInSyscall: memory the kernel needs for a system call (read into
// untouched memory) counts as the program's: at the limit the OOM killer
// runs, as for a fault; with swap the read completes.
func TestOOMInSyscall(t *testing.T) {
	bin := compileC(t, "readbig", readBigC)
	r := runGlassbox(t, []string{"--memory=128M"}, []string{bin})
	expect(t, "read 256 MiB under --memory=128M", r, "", 137)
	if r.Stderr != "" {
		t.Errorf("without --verbose glassbox wrote %q", r.Stderr)
	}
	r = runGlassbox(t, []string{"--memory=128M", "--verbose"}, []string{bin})
	expect(t, "read 256 MiB under --memory=128M --verbose", r, "", 137)
	if !strings.HasPrefix(r.Stderr, "glassbox: out of memory: killed pid 1 (") {
		t.Errorf("--verbose: no OOM line: %s", r.Stderr)
	}
	diffWith(t, diffOpts{gbFlags: []string{"--memory=128M", "--swap=512M"}}, []string{bin})
}
