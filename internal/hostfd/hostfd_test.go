package hostfd

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestBound(t *testing.T) {
	old := SetLimit(InUse() + 3)
	defer SetLimit(old)
	var fds []int
	for i := 0; i < 3; i++ {
		fd, err := Opened(unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0))
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		fds = append(fds, fd)
	}
	raw, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := Opened(raw, nil); err != unix.ENFILE || fd != -1 {
		t.Fatalf("past the bound: fd %d, %v; want ENFILE", fd, err)
	}
	if _, err := unix.FcntlInt(uintptr(raw), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("the descriptor refused was left open (%v)", err)
	}
	Close(fds[0])
	fd, err := Opened(unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0))
	if err != nil {
		t.Fatalf("after a close: %v", err)
	}
	Close(fd)
	Close(fds[1])
	Close(fds[2])
	if _, err := Opened(-1, unix.ENOENT); err != unix.ENOENT {
		t.Errorf("an open's own error: %v", err)
	}
}
