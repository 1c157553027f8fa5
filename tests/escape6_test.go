package tests

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// openSwapC: /mnt/r is a regular file and /mnt/p a FIFO the host made.
// One thread keeps giving the name f to each in turn (a hard link of r,
// then the FIFO renamed over it, then back to p) while the main thread
// opens /mnt/f for reading again and again. Every open a lookup found a regular file must open that file,
// never the FIFO renamed over its name in between: the guest may not
// open host FIFOs and devices (EACCES), and glassbox opening one for it
// is a host-visible act (here: it releases a host writer blocked in
// open(2)).
const openSwapC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile int stop;
static void *swapper(void *a) {
	(void)a;
	while (!stop) {
		link("/mnt/r", "/mnt/f");
		rename("/mnt/p", "/mnt/f");
		rename("/mnt/f", "/mnt/p");
	}
	return 0;
}
int main(void) {
	pthread_t th;
	pthread_create(&th, 0, swapper, 0);
	int opened = 0, refused = 0, other = 0;
	for (int i = 0; i < 20000; i++) {
		int fd = open("/mnt/f", O_RDONLY | O_NONBLOCK);
		if (fd >= 0) {
			opened++;
			close(fd);
		} else if (errno == EACCES || errno == ENOENT) {
			refused++;
		} else {
			other++;
		}
	}
	stop = 1;
	pthread_join(th, 0);
	printf("opened>0=%d refused>0=%d other=%d\n", opened > 0, refused > 0, other);
	return 0;
}
`

// TestEscapeOpenSwapFIFO: a guest that races renames against its own
// opens in a --bind cannot make glassbox open a host FIFO (or device)
// that the lookup did not see.
func TestEscapeOpenSwapFIFO(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "openswap", openSwapC, "-pthread")
	w := newEscapeWorld(t, prog)
	writeFile(t, filepath.Join(w.bind, "r"), "regular\n", 0o644)
	fifo := filepath.Join(w.bind, "p")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	// A host writer blocks in open(2) until someone opens the FIFO for
	// reading: only glassbox could, on the guest's behalf.
	released := make(chan struct{})
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		close(released)
	}()
	r := runGlassbox(t, w.flags(), []string{"/bin/prog"})
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "opened>0=1 refused>0=1 other=0") {
		t.Errorf("open/rename race: %s", r)
	}
	select {
	case <-released:
		t.Errorf("glassbox opened the host FIFO for the guest (a host writer blocked in open(2) was released)")
	case <-time.After(100 * time.Millisecond):
	}
	// Let the writer go.
	if f, err := os.OpenFile(findFIFO(t, w.bind), os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		<-released
		f.Close()
	}
	w.check(t, r)
}

// findFIFO is the name the FIFO ended under in dir (the guest's renames
// may leave it at f, p or t).
func findFIFO(t *testing.T, dir string) string {
	for _, n := range []string{"p", "f"} {
		if st, err := os.Lstat(filepath.Join(dir, n)); err == nil && st.Mode()&os.ModeNamedPipe != 0 {
			return filepath.Join(dir, n)
		}
	}
	t.Fatalf("no FIFO left in %s", dir)
	return ""
}
