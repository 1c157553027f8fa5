package seccomp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/platform"
)

// Guest code for the host-file tests, at memory-file offset 0 (mapped at
// 0x10000): a reader at 0x10000 (mov (%rdi),%rbx; getpid; jmp back) and a
// writer at 0x10100 (mov %rax,(%rdi); getpid; jmp back).
var hfCode = func() []byte {
	b := make([]byte, 0x200)
	copy(b, []byte{0x48, 0x8b, 0x1f, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf4})
	copy(b[0x100:], []byte{0x48, 0x89, 0x07, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf4})
	return b
}()

const (
	hfRead  = 0x10000
	hfWrite = 0x10100
	page    = 0x1000
)

// hfWord is the word every 8 bytes of page i of a test file hold.
func hfWord(i int) uint64 { return 0x0101010101010101 * uint64(0x10+i) }

// writeHostFile makes a host file of n pages of hfWord and returns its path.
func writeHostFile(t testing.TB, dir string, name string, n int) string {
	t.Helper()
	b := make([]byte, n*page)
	for i := 0; i < n; i++ {
		for o := 0; o < page; o += 8 {
			binary.LittleEndian.PutUint64(b[i*page+o:], hfWord(i))
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// openHostFile opens path read-only and names it as mm would.
func openHostFile(t testing.TB, path string) platform.HostFile {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return platform.HostFile{FD: fd, Dev: st.Dev, Ino: st.Ino}
}

// mapHost maps path at addr and closes glassbox' descriptor at once (it
// is valid only for the call).
func mapHost(t testing.TB, th platform.Thread, addr, length uint64, prot int, path string, off uint64) error {
	t.Helper()
	f := openHostFile(t, path)
	defer unix.Close(f.FD)
	return th.(platform.HostFileMapper).MapHostFile(addr, length, prot, f, off)
}

// guestRead has the guest read the word at addr: its value, or the event
// (a fault) that stopped it.
func guestRead(t *testing.T, th platform.Thread, addr uint64) (uint64, platform.Event) {
	t.Helper()
	regs := startRegs()
	regs.Rip = hfRead
	regs.Rdi = addr
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil {
		t.Fatalf("reading %#x: %v", addr, err)
	}
	if ev.Kind == platform.EventSyscall && regs.Orig_rax == 39 {
		return regs.Rbx, ev
	}
	return 0, ev
}

func wantWord(t *testing.T, th platform.Thread, addr, want uint64) {
	t.Helper()
	got, ev := guestRead(t, th, addr)
	if ev.Kind != platform.EventSyscall || got != want {
		t.Fatalf("guest read at %#x: %#x (%v %+v), want %#x", addr, got, ev.Kind, ev, want)
	}
}

func wantFault(t *testing.T, th platform.Thread, addr uint64) {
	t.Helper()
	_, ev := guestRead(t, th, addr)
	if ev.Kind != platform.EventFault || ev.Addr != addr || ev.Code != abi.SEGV_MAPERR {
		t.Fatalf("guest read at %#x: %v %+v, want a MAPERR fault", addr, ev.Kind, ev)
	}
}

// stubFD returns what the stub's descriptor fd names ("" if none).
func stubFD(t *testing.T, th platform.Thread, fd int) string {
	t.Helper()
	s, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", th.(*thread).proc.pid, fd))
	if err != nil {
		return ""
	}
	return s
}

// TestHostFileMap: the guest reads a host file's bytes where MapHostFile
// put them, from any page-aligned offset; a frame mapped over one page
// shows there and the file elsewhere; Unmap leaves a fault.
func TestHostFileMap(t *testing.T) {
	runtime.LockOSThread()
	th, p := newTestThread(t, hfCode)
	defer th.Release()
	frame := bytes.Repeat([]byte{0x77}, page)
	if _, err := unix.Pwrite(p.memfd, frame, 0x3000); err != nil {
		t.Fatal(err)
	}
	path := writeHostFile(t, t.TempDir(), "f", 4)
	const at = 0x400000
	if err := mapHost(t, th, at, 3*page, unix.PROT_READ, path, page); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		wantWord(t, th, at+uint64(i)*page+0x18, hfWord(i+1))
	}
	if err := th.Map(at+page, page, unix.PROT_READ, 0x3000); err != nil {
		t.Fatal(err)
	}
	wantWord(t, th, at+0x10, hfWord(1))
	wantWord(t, th, at+page+0x10, 0x7777777777777777)
	wantWord(t, th, at+2*page+0x10, hfWord(3))
	if got := stubFD(t, th, firstFileFD); got != path {
		t.Fatalf("the stub's fd %d is %q, want %q", firstFileFD, got, path)
	}
	if err := th.Unmap(at, 3*page); err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < 3; i++ {
		wantFault(t, th, at+i*page)
	}
	// Mapped again (the descriptor is the stub's now): offset 0.
	if err := mapHost(t, th, at, page, unix.PROT_READ, path, 0); err != nil {
		t.Fatal(err)
	}
	wantWord(t, th, at, hfWord(0))
}

// TestHostFileNotWritable: a guest write to a host file's mapping is an
// ACCERR write fault and leaves the file as it was; code in a host file
// mapped PROT_EXEC runs; MapHostFile refuses PROT_WRITE without calling
// the stub.
func TestHostFileNotWritable(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, hfCode)
	defer th.Release()
	dir := t.TempDir()
	path := writeHostFile(t, dir, "f", 2)
	before, _ := os.ReadFile(path)
	const at = 0x400000
	if err := mapHost(t, th, at, 2*page, unix.PROT_READ, path, 0); err != nil {
		t.Fatal(err)
	}
	regs := startRegs()
	regs.Rip = hfWrite
	regs.Rdi = at + page + 8
	regs.Rax = 0x4141414141414141
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventFault || ev.Code != abi.SEGV_ACCERR || ev.Addr != at+page+8 || !ev.Write {
		t.Fatalf("write: %v %v %+v, want an ACCERR write fault", ev.Kind, err, ev)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the host file changed")
	}
	wantWord(t, th, at+page+8, hfWord(1))

	for _, prot := range []int{unix.PROT_WRITE, unix.PROT_READ | unix.PROT_WRITE, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC, 0x10} {
		if err := mapHost(t, th, at+0x100000, page, prot, path, 0); err != unix.EINVAL {
			t.Errorf("prot %#x: %v, want EINVAL", prot, err)
		}
	}
	if hostMapped(t, th.(*thread), at+0x100000) {
		t.Fatal("a refused MapHostFile mapped something")
	}

	// Code: the getpid loop from a host file, PROT_READ|PROT_EXEC.
	code := filepath.Join(dir, "code")
	if err := os.WriteFile(code, append(getpidLoop, make([]byte, page-len(getpidLoop))...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mapHost(t, th, 0x500000, page, unix.PROT_READ|unix.PROT_EXEC, code, 0); err != nil {
		t.Fatal(err)
	}
	regs = startRegs()
	regs.Rip = 0x500000
	ev, err = switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall || regs.Orig_rax != 39 || regs.Rip != 0x500007 {
		t.Fatalf("code from a host file: %v %v rip %#x", ev.Kind, err, regs.Rip)
	}
	// Without PROT_EXEC it does not run.
	if err := mapHost(t, th, 0x500000, page, unix.PROT_READ, code, 0); err != nil {
		t.Fatal(err)
	}
	regs = startRegs()
	regs.Rip = 0x500000
	ev, err = switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventFault || ev.Code != abi.SEGV_ACCERR || ev.Addr != 0x500000 {
		t.Fatalf("running a PROT_READ host file: %v %v %+v", ev.Kind, err, ev)
	}
}

// TestHostFileCache: a file is sent to a stub once, at the descriptor
// glassbox predicts; a stub takes at most maxHostFiles, then the answer
// is ErrNoHostFile with nothing mapped; another address space starts
// with none.
func TestHostFileCache(t *testing.T) {
	runtime.LockOSThread()
	th, p := newTestThread(t, hfCode)
	defer th.Release()
	proc := th.(*thread).proc
	dir := t.TempDir()
	paths := make([]string, maxHostFiles+1)
	for i := range paths {
		paths[i] = writeHostFile(t, dir, fmt.Sprintf("f%d", i), 1)
	}
	const at = 0x400000
	for k := 0; k < 3; k++ {
		if err := mapHost(t, th, at+uint64(k)*page, page, unix.PROT_READ, paths[0], 0); err != nil {
			t.Fatal(err)
		}
	}
	if proc.files.sends != 1 {
		t.Fatalf("one file mapped three times: %d sends, want 1", proc.files.sends)
	}
	for i := 1; i < maxHostFiles; i++ {
		if err := mapHost(t, th, at+uint64(i)*page, page, unix.PROT_READ, paths[i], 0); err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	if proc.files.sends != maxHostFiles {
		t.Fatalf("%d files: %d sends", maxHostFiles, proc.files.sends)
	}
	for _, i := range []int{0, 1, 77, maxHostFiles - 1} {
		if got := stubFD(t, th, firstFileFD+i); got != paths[i] {
			t.Fatalf("the stub's fd %d is %q, want %q", firstFileFD+i, got, paths[i])
		}
	}
	wantWord(t, th, at+77*page, hfWord(0))
	const over = 0x800000
	if err := mapHost(t, th, over, page, unix.PROT_READ, paths[maxHostFiles], 0); !errors.Is(err, platform.ErrNoHostFile) {
		t.Fatalf("file %d: %v, want ErrNoHostFile", maxHostFiles, err)
	}
	if hostMapped(t, th.(*thread), over) || stubFD(t, th, firstFileFD+maxHostFiles) != "" {
		t.Fatal("the file over the bound was mapped or sent")
	}
	// Files the stub holds still map.
	if err := mapHost(t, th, over, page, unix.PROT_READ, paths[5], 0); err != nil {
		t.Fatal(err)
	}
	if proc.files.sends != maxHostFiles {
		t.Fatalf("%d sends after the bound", proc.files.sends)
	}

	// A second address space (a forked child's, say) holds nothing.
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		th2, err := p.NewAddressSpace()
		if err != nil {
			done <- err
			return
		}
		defer th2.Release()
		if err := mapHost(t, th2, at, page, unix.PROT_READ, paths[0], 0); err != nil {
			done <- err
			return
		}
		if n := th2.(*thread).proc.files.sends; n != 1 {
			done <- fmt.Errorf("a new stub: %d sends, want 1", n)
			return
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestHostFileRefused: descriptors mmap cannot use (O_PATH, write-only)
// are not sent at all; a file the host will not map is ErrNoHostFile with
// the range as it was.
func TestHostFileRefused(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, hfCode)
	defer th.Release()
	proc := th.(*thread).proc
	path := writeHostFile(t, t.TempDir(), "f", 1)
	const at = 0x400000
	if err := th.Map(at, page, unix.PROT_READ, 0); err != nil {
		t.Fatal(err)
	}
	opath, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(opath)
	var st unix.Stat_t
	unix.Fstat(opath, &st)
	hm := th.(platform.HostFileMapper)
	if err := hm.MapHostFile(at, page, unix.PROT_READ, platform.HostFile{FD: opath, Dev: st.Dev, Ino: st.Ino}, 0); !errors.Is(err, platform.ErrNoHostFile) {
		t.Fatalf("O_PATH: %v, want ErrNoHostFile", err)
	}
	if proc.files.sends != 0 {
		t.Fatal("an O_PATH descriptor was sent")
	}
	// A write-only descriptor: refused before sending too.
	wfd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(wfd)
	if err := hm.MapHostFile(at, page, unix.PROT_READ, platform.HostFile{FD: wfd, Dev: st.Dev, Ino: st.Ino}, 0); !errors.Is(err, platform.ErrNoHostFile) {
		t.Fatalf("write-only: %v, want ErrNoHostFile", err)
	}
	// The memory file's page is still there: the code page at 0.
	wantWord(t, th, at, binary.LittleEndian.Uint64(hfCode))

	// A file the host cannot mmap (procfs: ENODEV, refused before any
	// change): received, kept, and ErrNoHostFile each time with the
	// range as it was; the next file gets the next descriptor.
	proc0 := openHostFile(t, "/proc/self/status")
	defer unix.Close(proc0.FD)
	for k := 0; k < 2; k++ {
		if err := hm.MapHostFile(at, page, unix.PROT_READ, proc0, 0); !errors.Is(err, platform.ErrNoHostFile) {
			t.Fatalf("a procfs file (%d): %v, want ErrNoHostFile", k, err)
		}
		if proc.files.sends != 1 {
			t.Fatalf("a procfs file (%d): %d sends, want 1", k, proc.files.sends)
		}
		wantWord(t, th, at, binary.LittleEndian.Uint64(hfCode))
	}
	if err := mapHost(t, th, at, page, unix.PROT_READ, path, 0); err != nil {
		t.Fatal(err)
	}
	if got := stubFD(t, th, firstFileFD+1); got != path {
		t.Fatalf("the stub's fd %d is %q, want %q", firstFileFD+1, got, path)
	}
	wantWord(t, th, at, hfWord(0))
}

// BenchmarkMapHostFile: one page mapped by Map (the memory file), by
// MapHostFile of a file the stub holds, and of a file it does not (a
// send and a receive more); the stub is replaced every maxHostFiles
// files, off the clock.
func BenchmarkMapHostFile(b *testing.B) {
	runtime.LockOSThread()
	fd, err := unix.MemfdCreate("test-mem", unix.MFD_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fd)
	unix.Ftruncate(fd, 1<<20)
	p, err := New(fd)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	dir := b.TempDir()
	paths := make([]string, maxHostFiles)
	files := make([]platform.HostFile, maxHostFiles)
	for i := range paths {
		paths[i] = writeHostFile(b, dir, fmt.Sprintf("f%d", i), 1)
		files[i] = openHostFile(b, paths[i])
		defer unix.Close(files[i].FD)
	}
	newAS := func() platform.Thread {
		th, err := p.NewAddressSpace()
		if err != nil {
			b.Fatal(err)
		}
		return th
	}
	const at = 0x400000
	b.Run("map", func(b *testing.B) {
		th := newAS()
		defer th.Release()
		for i := 0; i < b.N; i++ {
			if err := th.Map(at, page, unix.PROT_READ, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hostfile-held", func(b *testing.B) {
		th := newAS()
		defer th.Release()
		hm := th.(platform.HostFileMapper)
		if err := hm.MapHostFile(at, page, unix.PROT_READ, files[0], 0); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := hm.MapHostFile(at, page, unix.PROT_READ, files[0], 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hostfile-first", func(b *testing.B) {
		th := newAS()
		for i := 0; i < b.N; i++ {
			k := i % maxHostFiles
			if k == 0 && i > 0 {
				b.StopTimer()
				th.Release()
				th = newAS()
				b.StartTimer()
			}
			if err := th.(platform.HostFileMapper).MapHostFile(at, page, unix.PROT_READ, files[k], 0); err != nil {
				b.Fatal(err)
			}
		}
		th.Release()
	})
}
