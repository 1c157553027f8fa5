package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const threads5C = `#define _GNU_SOURCE
#include <stdio.h>
#include <pthread.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void *inc(void *a) { for (int i = 0; i < 1000000; i++) { pthread_mutex_lock(&mu); counter++; pthread_mutex_unlock(&mu); } return 0; }
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int queue[16], qn, produced_done; static long consumed_sum;
static void *producer(void *a) { for (int i = 1; i <= 1000; i++) { pthread_mutex_lock(&mu); while (qn == 16) pthread_cond_wait(&cv, &mu); queue[qn++] = i; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&mu); } pthread_mutex_lock(&mu); produced_done = 1; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&mu); return 0; }
static void *consumer(void *a) { for (;;) { pthread_mutex_lock(&mu); while (qn == 0 && !produced_done) pthread_cond_wait(&cv, &mu); if (qn == 0) { pthread_mutex_unlock(&mu); return 0; } consumed_sum += queue[--qn]; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&mu); } }
static __thread int tls = 5;
static void *tlsf(void *a) { tls = (int)(long)a; usleep(1000); return (void *)(long)(tls * 10); }
static pthread_mutex_t rm;
static void *robust_owner(void *a) { pthread_mutex_lock(&rm); return 0; }
static pthread_barrier_t bar; static int arrived;
static void *barf(void *a) { __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST); pthread_barrier_wait(&bar); return (void *)(long)(arrived == 4); }
static void *execer(void *a) { execl("/bin/echo", "echo", "exec from thread", (char *)0); return 0; }
int main(int argc, char **argv) {
	pthread_t t[8];
	for (int i = 0; i < 8; i++) pthread_create(&t[i], 0, inc, 0);
	for (int i = 0; i < 8; i++) pthread_join(t[i], 0);
	printf("counter=%ld\n", counter);
	pthread_create(&t[0], 0, producer, 0); pthread_create(&t[1], 0, consumer, 0); pthread_create(&t[2], 0, consumer, 0);
	for (int i = 0; i < 3; i++) pthread_join(t[i], 0);
	printf("consumed=%ld\n", consumed_sum);
	long r1, r2; pthread_create(&t[0], 0, tlsf, (void *)1); pthread_create(&t[1], 0, tlsf, (void *)2);
	pthread_join(t[0], (void **)&r1); pthread_join(t[1], (void **)&r2);
	printf("tls main=%d t1=%ld t2=%ld\n", tls, r1, r2);
	pthread_attr_t at; pthread_attr_init(&at); pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	printf("detached create=%d\n", pthread_create(&t[0], &at, tlsf, (void *)3));
	pthread_mutexattr_t ma; pthread_mutexattr_init(&ma); pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rm, &ma);
	pthread_create(&t[0], 0, robust_owner, 0); pthread_join(t[0], 0);
	int e = pthread_mutex_lock(&rm);
	printf("robust lock=%s consistent=%d\n", e == EOWNERDEAD ? "EOWNERDEAD" : strerror(e), pthread_mutex_consistent(&rm));
	pthread_mutex_unlock(&rm);
	pthread_barrier_init(&bar, 0, 4);
	long ok = 1, r;
	for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, barf, 0);
	for (int i = 0; i < 4; i++) { pthread_join(t[i], (void **)&r); ok &= r; }
	printf("barrier all arrived=%ld\n", ok);
	/* a process-shared mutex in MAP_SHARED memory, used by parent and child */
	struct shm { pthread_mutex_t m; long n; } *s = mmap(0, 4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t pa; pthread_mutexattr_init(&pa); pthread_mutexattr_setpshared(&pa, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->m, &pa);
	pid_t pid = fork();
	for (int i = 0; i < 20000; i++) { pthread_mutex_lock(&s->m); s->n++; pthread_mutex_unlock(&s->m); }
	if (pid == 0) _exit(0);
	waitpid(pid, 0, 0);
	printf("shared n=%ld\n", s->n);
	fflush(stdout);
	pthread_create(&t[0], 0, execer, 0);
	pthread_join(t[0], 0);
	printf("not reached\n");
	return 1;
}
`

// TestPthreads: 8 threads x 1e6 mutex increments (exact), a condition
// variable producer/consumer, thread-local storage, detached threads, a
// robust mutex whose owner died (EOWNERDEAD), a barrier, a process-shared
// mutex over MAP_SHARED memory used by parent and child (shared futex
// keys), and execve from a non-main thread.
func TestPthreads(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "pthreads", threads5C, "-dynamic", "-pthread")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "counter=8000000\nconsumed=500500\ntls main=5 t1=10 t2=20\ndetached create=0\n"+
		"robust lock=EOWNERDEAD consistent=0\nbarrier all arrived=1\nshared n=40000\nexec from thread\n", 0)
}

const goProgram = `package main

import (
	"fmt"
	"os/exec"
	"sort"
	"sync"
	"time"
)

func main() {
	var wg sync.WaitGroup
	ch := make(chan int, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			ch <- i * i
		}(i)
	}
	wg.Wait()
	close(ch)
	var got []int
	for v := range ch {
		got = append(got, v)
	}
	sort.Ints(got)
	sum := 0
	for _, v := range got {
		sum += v
	}
	fmt.Println("goroutines:", len(got), "sum:", sum)
	start := time.Now()
	tm := time.NewTimer(20 * time.Millisecond)
	<-tm.C
	fmt.Println("timer fired late enough:", time.Since(start) >= 20*time.Millisecond)
	out, err := exec.Command("/bin/echo", "from", "exec").Output()
	fmt.Printf("exec: %q %v\n", out, err)
}
`

// TestGoProgram: a static Go binary (100 goroutines on several threads,
// channels, timers, os/exec) runs as natively.
func TestGoProgram(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module gotest\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gotest")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	native, _ := diff(t, []string{bin})
	expect(t, "native", native, "goroutines: 100 sum: 328350\ntimer fired late enough: true\nexec: \"from exec\\n\" <nil>\n", 0)
}

// TestPythonThreads: the host's python3 with 4 threads.
func TestPythonThreads(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 not found")
	}
	script := "import threading\nr=[]\nl=threading.Lock()\n" +
		"def f(i):\n  s=sum(range(i*10000))\n  with l: r.append(s)\n" +
		"ts=[threading.Thread(target=f,args=(i,)) for i in range(4)]\n" +
		"[x.start() for x in ts]\n[x.join() for x in ts]\nprint(sorted(r))\n"
	native, _ := diff(t, []string{py, "-c", script})
	if native.Code != 0 || !strings.HasPrefix(native.Stdout, "[0, ") {
		t.Errorf("native run looks wrong: %s", native)
	}
}

const epoll100C = `
#include <stdio.h>
#include <unistd.h>
#include <sys/epoll.h>
int main(void) {
	int ep = epoll_create1(0), p[100][2];
	for (int i = 0; i < 100; i++) {
		pipe(p[i]);
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		epoll_ctl(ep, EPOLL_CTL_ADD, p[i][0], &ev);
	}
	for (int i = 0; i < 100; i += 7) write(p[i][1], "x", 1);
	struct epoll_event out[200];
	int n = epoll_wait(ep, out, 200, 1000), sum = 0;
	for (int i = 0; i < n; i++) sum += out[i].data.u32;
	printf("ready=%d sum=%d\n", n, sum);
	return 0;
}
`

// TestEpoll100Pipes: epoll over 100 pipes reports exactly the written ones.
func TestEpoll100Pipes(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "epoll100", epoll100C, "-dynamic")
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "ready=15 sum=735\n", 0)
}

const clockC = `
#include <stdio.h>
#include <time.h>
int main(void) {
	struct timespec a, b, x;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < 1000000; i++) clock_gettime(CLOCK_MONOTONIC, &x);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e6);
	return 0;
}
`

// TestClockVDSO: clock_gettime goes through the vDSO (no trap): 1e6 calls
// cost less than 2 µs each. A trapped call costs ~8 µs here.
func TestClockVDSO(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "clock", clockC, "-dynamic")
	gb := runGlassbox(t, nil, []string{prog})
	ns, err := strconv.Atoi(strings.TrimSpace(gb.Stdout))
	if err != nil || gb.Code != 0 {
		t.Fatalf("bad output: %s", gb)
	}
	if ns >= 2000 {
		t.Errorf("clock_gettime costs %d ns under glassbox; the vDSO path must not trap", ns)
	}
	t.Logf("clock_gettime: %d ns per call under glassbox", ns)
}
