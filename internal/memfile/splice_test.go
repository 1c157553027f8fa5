package memfile

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadFrom: ReadFrom puts a host file's bytes into frames as pread
// would, across more than one pipe's worth, from an offset, with a short
// read at the end of the file leaving the rest of the frames zero.
func TestReadFrom(t *testing.T) {
	f, err := New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, 3<<20+1234)
	rand.New(rand.NewSource(1)).Read(data)
	path := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, c := range []struct {
		off   int64
		pages uint64
		want  int
	}{
		{0, 1, 4096},
		{8192, 300, 300 * 4096},                    // beyond one 1 MiB pipe
		{3 << 20, 4, 1234},                         // past the end of the file
		{int64(len(data)) + 4096, 2, 0},            // wholly past it
		{4096, 3 << 20 >> 12, 3<<20 - 4096 + 1234}, // more than the file
	} {
		fr, err := f.Alloc(c.pages)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.ReadFrom(fr, c.pages, int(src.Fd()), c.off)
		if err != nil || got != c.want {
			t.Errorf("ReadFrom(off %d, %d pages) = %d, %v; want %d", c.off, c.pages, got, err, c.want)
		}
		b := f.Bytes(fr, c.pages)
		var want []byte
		if c.off < int64(len(data)) {
			want = data[c.off:min(int(c.off)+len(b), len(data))]
		}
		if !bytes.Equal(b[:len(want)], want) {
			t.Errorf("off %d: frames differ from the file", c.off)
		}
		if bytes.IndexFunc(b[len(want):], func(r rune) bool { return r != 0 }) >= 0 {
			t.Errorf("off %d: frames past the file's end are not zero", c.off)
		}
		f.DecRef(fr, c.pages)
	}
}

// TestReadFromClose: the pipes ReadFrom keeps are closed with the file,
// and one put back after Close is closed at once.
func TestReadFromClose(t *testing.T) {
	f, err := New(64 << 20)
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	fr, err := f.Alloc(2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(fr, 2, int(src.Fd()), 0); err != nil {
		t.Fatal(err)
	}
	f.pipes.mu.Lock()
	idle := append([]pipe(nil), f.pipes.idle...)
	f.pipes.mu.Unlock()
	if len(idle) == 0 {
		t.Fatal("ReadFrom kept no pipe")
	}
	late, err := f.getPipe()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	f.putPipe(late)
	for _, p := range append(idle, late) {
		for _, fd := range []int{p.r, p.w} {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
				t.Errorf("pipe fd %d open after Close", fd)
			}
		}
	}
}
