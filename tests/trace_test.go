package tests

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const cowTraceC = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#define PAGES 40
int main(void) {
	char *m = mmap(0, PAGES * 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
	memset(m, 1, PAGES * 4096);
	printf("%lu\n", (unsigned long)m);
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		for (int i = 0; i < PAGES; i++) m[i * 4096] = 2;
		_exit(0);
	}
	waitpid(p, 0, 0);
	return 0;
}
`

// TestTraceCOW: after fork, the child's writes to the shared pages show
// COW events that together cover every page written (a sequential writer
// gets runs of pages copied by one fault; the event says how many).
func TestTraceCOW(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "cowtrace", cowTraceC)
	gb := runGlassbox(t, []string{"--trace=cow,proc", "--trace-format=json"}, []string{prog})
	if gb.Code != 0 {
		t.Fatalf("run failed: %s", gb)
	}
	base, err := strconv.ParseUint(strings.TrimSpace(gb.Stdout), 10, 64)
	if err != nil {
		t.Fatalf("no mapping address: %s", gb)
	}
	// Count the child's COW copies inside the 40-page mapping.
	var child int
	seen := map[uint64]bool{}
	for _, line := range strings.Split(gb.Stderr, "\n") {
		var ev struct {
			Kind   string `json:"kind"`
			PID    int    `json:"pid"`
			Addr   uint64 `json:"addr"`
			Detail string `json:"detail"`
			Pages  int    `json:"pages"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil {
			continue
		}
		if ev.Kind == "proc" && strings.HasPrefix(ev.Detail, "fork: child pid ") {
			child, _ = strconv.Atoi(strings.Fields(ev.Detail)[3])
		}
		if ev.Kind == "cow" && ev.PID == child && child != 0 && ev.Addr >= base && ev.Addr < base+40*4096 {
			if ev.Pages < 1 {
				t.Errorf("cow event without a page count: %s", line)
			}
			for i := 0; i < ev.Pages; i++ {
				if a := ev.Addr&^4095 + uint64(i)*4096; a < base+40*4096 {
					seen[a] = true
				}
			}
		}
	}
	pages := len(seen)
	if child == 0 || pages != 40 {
		t.Errorf("child %d: %d pages copied in the mapping, want 40\n%s", child, pages, gb.Stderr)
	}
}

const nSyscallsC = `
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
	for (int i = 0; i < 1000; i++) syscall(SYS_getppid);
	return 0;
}
`

// TestStatsCounts: --stats counts exactly the getppid calls the program
// makes, in its per-syscall table.
func TestStatsCounts(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "nsyscalls", nSyscallsC)
	gb := runGlassbox(t, []string{"--stats"}, []string{prog})
	m := regexp.MustCompile(`(?m)^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+\S*\s*getppid$`).FindStringSubmatch(gb.Stderr)
	if gb.Code != 0 || m == nil || m[1] != "1000" {
		t.Errorf("want a getppid row with 1000 calls: %s", gb)
	}
}

// TestTraceFDMem: --trace=fd,mem names what descriptors refer to and the
// ranges mapped.
func TestTraceFDMem(t *testing.T) {
	t.Parallel()
	gb := runGlassbox(t, []string{"--trace=fd,mem"}, []string{"/bin/sh", "-c", "cat /etc/hostname | wc -c >/dev/null"})
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`fd: pipe fds 3, 4 -> pipe:\[\d+\], pipe:\[\d+\]`),
		regexp.MustCompile(`fd: open fd \d+ -> /etc/hostname`),
		regexp.MustCompile(`fd: dup fd \d+ -> fd 1 \(pipe:\[\d+\]\)`),
		regexp.MustCompile(`mem: mmap 0x[0-9a-f]+-0x[0-9a-f]+ prot 0x`),
	} {
		if !want.MatchString(gb.Stderr) {
			t.Errorf("trace lacks %v:\n%s", want, gb.Stderr)
		}
	}
}

// TestStatsPipesSignals: --stats counts the bytes written into pipes and
// the signals acted on, by name.
func TestStatsPipesSignals(t *testing.T) {
	t.Parallel()
	gb := runGlassbox(t, []string{"--stats"}, []string{"/bin/sh", "-c", "head -c 300000 /dev/zero | cat > /dev/null; kill -USR1 $$"})
	m := regexp.MustCompile(`pipe_bytes=(\d+) socket_bytes=\d+ (.*)`).FindStringSubmatch(gb.Stderr)
	if m == nil {
		t.Fatalf("no stats: %s", gb)
	}
	if n, _ := strconv.Atoi(m[1]); n != 300000 {
		t.Errorf("pipe_bytes = %s, want 300000", m[1])
	}
	if !strings.Contains(m[2], "SIGUSR1=1") {
		t.Errorf("signals %q lack SIGUSR1=1", m[2])
	}
}
