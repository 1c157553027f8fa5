package seccomp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// Containment of host-file mapping (hostfile.go): the stub's descriptors,
// the new sites, the guest-writable receive area.

// TestStubDescriptors: a stub holds the memory file, its socket and its
// two pipe ends, whatever glassbox inherited without close-on-exec.
func TestStubDescriptors(t *testing.T) {
	runtime.LockOSThread()
	leak, err := unix.Open("/dev/null", unix.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(leak)
	th, _ := newTestThread(t, hfCode)
	defer th.Release()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", th.(*thread).proc.pid))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if fmt.Sprint(got) != "[0 1 2 3]" {
		t.Fatalf("the stub's descriptors: %v, want [0 1 2 3] (glassbox' fd %d leaked?)", got, leak)
	}
	if s := stubFD(t, th, sockFD); !bytes.HasPrefix([]byte(s), []byte("socket:")) {
		t.Fatalf("the stub's fd %d is %q, want its socket", sockFD, s)
	}
}

// TestEscapeHostFileSites: a guest that makes the host-file calls itself,
// or jumps to the new sites (or into the receive command) with registers
// of its own — glassbox' own host-file request among them, a writable or
// shared one, the memory file's or a pipe's descriptor — makes a trapped
// syscall every time and maps nothing; the stub serves host files after.
func TestEscapeHostFileSites(t *testing.T) {
	runtime.LockOSThread()
	th, _ := newTestThread(t, hfCode)
	defer th.Release()
	tt, s := stubOf(th)
	dir := t.TempDir()
	a := writeHostFile(t, dir, "a", 1)
	if err := mapHost(t, th, 0x400000, page, unix.PROT_READ, a, 0); err != nil {
		t.Fatal(err)
	}
	const target = 0x600000
	type call struct {
		nr                         uint64
		rdi, rsi, rdx, r10, r8, r9 uint64
	}
	calls := []call{
		{nrMmap, target, page, unix.PROT_READ, mapPrivateFixed, firstFileFD, 0},
		{nrMmap, target, page, unix.PROT_READ | unix.PROT_WRITE, mapPrivateFixed, firstFileFD, 0},
		{nrMmap, target, page, unix.PROT_READ | unix.PROT_WRITE, mapSharedFixed, firstFileFD, 0},
		{nrRecvmsg, sockFD, slotAddr(rxSlot) + rxMsg, recvFlags, 0, 0, 0},
	}
	for fd := uint64(0); fd < firstFileFD; fd++ {
		calls = append(calls, call{nrMmap, target, page, unix.PROT_READ, mapPrivateFixed, fd, 0})
	}
	check := func(what string, regs *platform.Regs, nr, rip uint64) {
		t.Helper()
		ev, err := switchWithin(t, th, regs, 10*time.Second)
		if err != nil || ev.Kind != platform.EventSyscall || regs.Orig_rax != nr || regs.Rip != rip {
			t.Fatalf("%s: %v %v orig_rax %d rip %#x, want a trapped syscall %d at %#x", what, ev.Kind, err, regs.Orig_rax, regs.Rip, nr, rip)
		}
	}
	for _, c := range calls {
		// From the guest's own code (the reader's syscall instruction,
		// at 0x10008), then from each new site.
		for _, site := range []string{"", "st_mmap_file", "st_recvmsg"} {
			regs := startRegs()
			regs.Rip, regs.Rax = hfRead+8, c.nr
			want := uint64(hfRead + 10)
			if site != "" {
				regs.Rip, want = s.a.site(site)-2, s.a.site(site)
			}
			regs.Rdi, regs.Rsi, regs.Rdx, regs.R10, regs.R8, regs.R9 = c.rdi, c.rsi, c.rdx, c.r10, c.r8, c.r9
			check(fmt.Sprintf("%+v at %q", c, site), &regs, c.nr, want)
		}
	}
	// Into the receive command with the command page's address: the
	// receive traps; past it, the last command's mmap (glassbox' own
	// host-file request) traps too.
	regs := startRegs()
	regs.Rip, regs.R14 = s.a.addr("do_recv_file"), ctlRO
	check("do_recv_file", &regs, nrRecvmsg, s.a.site("st_recvmsg"))
	regs = startRegs()
	regs.Rip, regs.R14 = s.a.addr("recv_ok"), ctlRO
	check("recv_ok", &regs, nrMmap, s.a.site("st_mmap_file"))
	if hostMapped(t, tt, target) {
		t.Fatal("a guest call mapped something")
	}
	if got := stubFD(t, th, firstFileFD+1); got != "" {
		t.Fatalf("a guest call installed fd %d: %s", firstFileFD+1, got)
	}
	b := writeHostFile(t, dir, "b", 2)
	if err := mapHost(t, th, target, page, unix.PROT_READ, b, page); err != nil {
		t.Fatal(err)
	}
	wantWord(t, th, target, hfWord(1))
	wantWord(t, th, 0x400000, hfWord(0))
}

// TestHostFileReceiveRace: a second guest thread writes the receive area
// without pause while glassbox sends files. Each MapHostFile maps the file
// it names at the descriptor glassbox recorded, or answers ErrNoHostFile
// with nothing mapped; the stub is never lost.
func TestHostFileReceiveRace(t *testing.T) {
	runtime.LockOSThread()
	// The scribbler (TestEscapeScribbleRace's), at 0x10180: writes rax,
	// rax+rcx, ... over [rdx, rsi) again and again.
	scr := []byte{0x48, 0x89, 0xd7, 0x48, 0x89, 0x07, 0x48, 0x01, 0xc8, 0x48, 0x83, 0xc7, 0x08,
		0x48, 0x39, 0xf7, 0x72, 0xf1, 0xeb, 0xec}
	code := append([]byte(nil), hfCode...)
	copy(code[0x180:], scr)
	p, _ := newCodePlatform(t, code)
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 16; i++ {
		paths = append(paths, writeHostFile(t, dir, fmt.Sprintf("f%d", i), 1))
	}
	rx := slotAddr(rxSlot)
	mapped := 0
	// What the scribbler writes: over [from, to) of the receive area,
	// v, v+step, v+2*step...: the control buffer's length or address
	// turning between good and bad, or everything garbage.
	cases := []struct{ from, to, v, step uint64 }{
		{rxMsg + 40, rxMsg + 48, rxCtlSize, 1 << 63},
		{rxMsg + 40, rxMsg + 48, 4, 20},
		{rxMsg + 32, rxMsg + 40, rx + rxCtl, 1 << 63},
		{rxMsg + 32, rxMsg + 40, rx + rxCtl, 0x800},
		{rxMsg + 16, rxMsg + 32, 0, 1},
		{0, rxCtl + rxCtlSize, 0, 0},
		{0, rxCtl + rxCtlSize, rx + rxCtl, 0},
		{0, rxCtl + rxCtlSize, 0x18, 1 << 63},
	}
	for _, tc := range cases {
		th, err := p.NewAddressSpace()
		if err != nil {
			t.Fatal(err)
		}
		if err := th.Map(0x10000, page, unix.PROT_READ|unix.PROT_EXEC, 0); err != nil {
			t.Fatal(err)
		}
		st, err := th.NewThread()
		if err != nil {
			t.Fatal(err)
		}
		regs := startRegs()
		regs.Rip = 0x10180
		regs.Rdx, regs.Rsi = rx+tc.from, rx+tc.to
		regs.Rax, regs.Rcx = tc.v, tc.step
		stop, done := runInterruptible(st, regs)
		time.Sleep(time.Millisecond)
		proc := th.(*thread).proc
		for i, path := range paths {
			at := uint64(0x400000 + i*page)
			err := mapHost(t, th, at, page, unix.PROT_READ, path, 0)
			if errors.Is(err, platform.ErrNoHostFile) {
				if hostMapped(t, th.(*thread), at) {
					t.Fatalf("%+v, file %d: ErrNoHostFile, yet mapped", tc, i)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%+v, file %d: %v", tc, i, err)
			}
			mapped++
			maps, _ := platform.ReadHostMaps(proc.pid)
			name := ""
			for _, m := range maps {
				if at >= m.Start && at < m.End {
					name = m.Name
				}
			}
			if name != path {
				t.Fatalf("%+v, file %d: %q mapped, want %q", tc, i, name, path)
			}
		}
		close(stop)
		if err := <-done; err != nil {
			t.Logf("scribbler: %v", err)
		}
		th.Release()
	}
	t.Logf("%d of %d mappings made under the scribbler", mapped, len(cases)*len(paths))
}

// TestHostFileReceiveArea: the receive area is guest-writable. A short
// control buffer written under the call installs nothing (the mmap's
// EBADF says so), garbage fails the receive; either way the answer is
// ErrNoHostFile, nothing is mapped, the stub takes no more files, keeps
// those it holds, and serves Map as before.
func TestHostFileReceiveArea(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(b []byte)
	}{
		{"short control buffer", func(b []byte) { binary.LittleEndian.PutUint64(b[rxMsg+40:], 4) }},
		{"no control buffer", func(b []byte) { binary.LittleEndian.PutUint64(b[rxMsg+32:], 0) }},
		{"bad iovec", func(b []byte) {
			binary.LittleEndian.PutUint64(b[rxMsg+16:], 0x1000)
			binary.LittleEndian.PutUint64(b[rxMsg+24:], 1)
		}},
		{"control buffer elsewhere", func(b []byte) { binary.LittleEndian.PutUint64(b[rxMsg+32:], slotAddr(rxSlot)+0x800) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			th, _ := newTestThread(t, hfCode)
			defer th.Release()
			proc := th.(*thread).proc
			dir := t.TempDir()
			a := writeHostFile(t, dir, "a", 1)
			b := writeHostFile(t, dir, "b", 2)
			c := writeHostFile(t, dir, "c", 1)
			const at = 0x400000
			if err := mapHost(t, th, at, page, unix.PROT_READ, a, 0); err != nil {
				t.Fatal(err)
			}
			rxHook = func(proc *process) { tc.write(proc.ctl[slotOff(rxSlot):]) }
			err := mapHost(t, th, at+page, page, unix.PROT_READ, b, page)
			rxHook = nil
			if tc.name == "control buffer elsewhere" {
				// The descriptor is installed where glassbox said; only
				// the report of its number went astray.
				if err != nil {
					t.Fatal(err)
				}
				wantWord(t, th, at+page, hfWord(1))
				return
			}
			if !errors.Is(err, platform.ErrNoHostFile) {
				t.Fatalf("%v, want ErrNoHostFile", err)
			}
			if hostMapped(t, th.(*thread), at+page) {
				t.Fatal("mapped after a failed receive")
			}
			if got := stubFD(t, th, firstFileFD+1); got != "" {
				t.Fatalf("fd %d installed: %s", firstFileFD+1, got)
			}
			if err := mapHost(t, th, at+2*page, page, unix.PROT_READ, c, 0); !errors.Is(err, platform.ErrNoHostFile) || proc.files.sends != 2 {
				t.Fatalf("a file after the failure: %v, %d sends", err, proc.files.sends)
			}
			if err := mapHost(t, th, at+3*page, page, unix.PROT_READ, a, 0); err != nil {
				t.Fatal(err)
			}
			wantWord(t, th, at+3*page, hfWord(0))
			if err := th.Map(at+page, page, unix.PROT_READ, 0); err != nil {
				t.Fatal(err)
			}
			wantWord(t, th, at+page, binary.LittleEndian.Uint64(hfCode))
		})
	}
}
