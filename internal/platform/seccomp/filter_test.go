package seccomp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	linuxbpf "glassbox/internal/bpf"
	"glassbox/internal/platform"
)

// seccompData is what a filter sees of one call.
type seccompData struct {
	nr   uint32
	arch uint32
	ip   uint64
	args [6]uint64
}

// runFilter runs a program built by siteFilter on one call, after
// checking it by Linux's rules (internal/bpf: an interpreter of its own).
func runFilter(t *testing.T, prog []bpfInsn, d seccompData) uint32 {
	t.Helper()
	insns := make([]linuxbpf.Insn, len(prog))
	for i, in := range prog {
		insns[i] = linuxbpf.Insn{Code: in.code, Jt: in.jt, Jf: in.jf, K: in.k}
	}
	p, err := linuxbpf.Check(insns)
	if err != nil {
		t.Fatalf("the filter is not one Linux accepts: %v", err)
	}
	var b [linuxbpf.DataSize]byte
	le := binary.LittleEndian
	le.PutUint32(b[0:], d.nr)
	le.PutUint32(b[4:], d.arch)
	le.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		le.PutUint64(b[16+8*i:], a)
	}
	return p.Run(&b)
}

// TestFilterPopulateSite: the base filter allows MAP_POPULATE at exactly
// one site, st_mmap_pop, and there only a MAP_SHARED|MAP_FIXED mmap of the
// memory file (fd 0) with nothing else added; no site allows any other
// mmap flags, or madvise (MADV_POPULATE_*) at all.
func TestFilterPopulateSite(t *testing.T) {
	s := buildStub()
	prog := baseFilter(s.a)
	call := func(site string, nr uint32, flags, fd uint64) uint32 {
		return runFilter(t, prog, seccompData{nr: nr, arch: auditArch, ip: s.a.site(site),
			args: [6]uint64{0x400000, 1 << 21, unix.PROT_READ | unix.PROT_WRITE, flags, fd, 0}})
	}
	if r := call("st_mmap_pop", nrMmap, mapPopulate, 0); r != retAllow {
		t.Fatalf("populating mmap at its site: %#x, want allow", r)
	}
	if r := call("st_mmap", nrMmap, mapSharedFixed, 0); r != retAllow {
		t.Fatalf("plain mmap at its site: %#x, want allow", r)
	}
	others := []uint64{
		mapSharedFixed,
		unix.MAP_SHARED | unix.MAP_POPULATE,
		unix.MAP_PRIVATE | unix.MAP_FIXED | unix.MAP_POPULATE,
		mapPopulate | unix.MAP_ANONYMOUS,
		mapPopulate | unix.MAP_GROWSDOWN,
		mapPopulate | unix.MAP_LOCKED,
		mapPopulate | unix.MAP_NONBLOCK,
		unix.MAP_SHARED_VALIDATE | unix.MAP_FIXED | unix.MAP_POPULATE,
		mapPopulate | unix.MAP_FIXED_NOREPLACE,
	}
	for _, fl := range others {
		if r := call("st_mmap_pop", nrMmap, fl, 0); r != retTrap {
			t.Errorf("mmap flags %#x at st_mmap_pop: %#x, want trap", fl, r)
		}
	}
	if r := call("st_mmap_pop", nrMmap, mapPopulate, 3); r != retTrap {
		t.Errorf("populating mmap of fd 3: %#x, want trap", r)
	}
	for _, nr := range []uint32{unix.SYS_MADVISE, nrMprotect, nrMunmap, nrMremap, unix.SYS_MLOCK} {
		if r := call("st_mmap_pop", nr, mapPopulate, 0); r != retTrap {
			t.Errorf("syscall %d at st_mmap_pop: %#x, want trap", nr, r)
		}
	}
	// No other site takes MAP_POPULATE, and madvise is allowed nowhere.
	for _, r := range baseRules() {
		if r.site == "st_mmap_pop" {
			continue
		}
		for _, fl := range []uint64{mapPopulate, unix.MAP_PRIVATE | unix.MAP_POPULATE} {
			args := [6]uint64{0x400000, 1 << 21, 3, fl, 0, 0}
			for i, v := range r.args {
				if i != 3 {
					args[i] = uint64(v)
				}
			}
			if got := runFilter(t, prog, seccompData{nr: nrMmap, arch: auditArch, ip: s.a.site(r.site), args: args}); got != retTrap {
				t.Errorf("mmap flags %#x at %s: %#x, want trap", fl, r.site, got)
			}
		}
		if got := runFilter(t, prog, seccompData{nr: unix.SYS_MADVISE, arch: auditArch, ip: s.a.site(r.site),
			args: [6]uint64{0x400000, 1 << 21, unix.MADV_POPULATE_WRITE}}); got != retTrap {
			t.Errorf("madvise at %s: %#x, want trap", r.site, got)
		}
	}
	// The guest filter allows no mmap anywhere, populating or not.
	gprog := guestFilter(s.a)
	for _, site := range []string{"st_mmap", "st_mmap_pop", "h_wake", "h_wait"} {
		if r := runFilter(t, gprog, seccompData{nr: nrMmap, arch: auditArch, ip: s.a.site(site),
			args: [6]uint64{0x400000, 1 << 21, 3, mapPopulate, 0, 0}}); r != retTrap {
			t.Errorf("guest filter, mmap at %s: %#x, want trap", site, r)
		}
	}
}

// hostRss returns the Rss smaps reports for the stub's mapping at addr.
func hostRss(t *testing.T, pid int, addr uint64) uint64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		l := sc.Text()
		var lo, hi uint64
		if n, _ := fmt.Sscanf(l, "%x-%x", &lo, &hi); n == 2 && strings.Contains(l, " ") {
			in = addr >= lo && addr < hi
			continue
		}
		var kb uint64
		if in && strings.HasPrefix(l, "Rss:") {
			fmt.Sscanf(strings.TrimPrefix(l, "Rss:"), "%d", &kb)
			return kb << 10
		}
	}
	t.Fatalf("no mapping at %#x in the stub", addr)
	return 0
}

// TestMapPopulate: MapPopulate maps like Map and has the stub's page
// tables filled in by the same call; a guest's reads see the file's data.
func TestMapPopulate(t *testing.T) {
	runtime.LockOSThread()
	// mov (%rdi),%rbx; then the getpid loop.
	code := append([]byte{0x48, 0x8b, 0x1f}, getpidLoop...)
	p, fd := newCodePlatform(t, code)
	th, err := p.NewAddressSpace()
	if err != nil {
		t.Fatal(err)
	}
	defer th.Release()
	if err := th.Map(0x10000, 0x1000, unix.PROT_READ|unix.PROT_EXEC, 0); err != nil {
		t.Fatal(err)
	}
	const size = 64 << 10
	data := make([]byte, 2*size)
	for i := range data {
		data[i] = byte(i/4096 + 1)
	}
	unix.Pwrite(fd, data, 0x10000)
	tt := th.(*thread)
	if err := th.Map(0x400000, size, unix.PROT_READ|unix.PROT_WRITE, 0x10000); err != nil {
		t.Fatal(err)
	}
	flushQueue(t, tt)
	if got := hostRss(t, tt.proc.pid, 0x400000); got != 0 {
		t.Fatalf("after Map: Rss %d, want 0 (nothing touched)", got)
	}
	pm, ok := th.(platform.PopulateMapper)
	if !ok {
		t.Fatal("the seccomp thread is no PopulateMapper")
	}
	if err := pm.MapPopulate(0x500000, size, unix.PROT_READ|unix.PROT_WRITE, 0x10000+size); err != nil {
		t.Fatal(err)
	}
	flushQueue(t, tt)
	if got := hostRss(t, tt.proc.pid, 0x500000); got != size {
		t.Fatalf("after MapPopulate: Rss %d, want %d", got, size)
	}
	regs := startRegs()
	regs.Rdi = 0x500000 + 0x3000
	ev, err := switchWithin(t, th, &regs, 10*time.Second)
	if err != nil || ev.Kind != platform.EventSyscall {
		t.Fatalf("%v %v", ev.Kind, err)
	}
	if want := uint64(0x1414141414141414); regs.Rbx != want {
		t.Fatalf("the guest read %#x, want %#x", regs.Rbx, want)
	}
}

// TestFilterHostFileSites: the base filter allows at st_mmap_file only a
// MAP_PRIVATE|MAP_FIXED mmap, never writable, of a received file's
// descriptor, and at st_recvmsg only the receive from the socket into the
// receive area with its flags; neither call anywhere else. The guest
// filter allows neither anywhere.
func TestFilterHostFileSites(t *testing.T) {
	s := buildStub()
	prog, gprog := baseFilter(s.a), guestFilter(s.a)
	mmapAt := func(prog []bpfInsn, site string, prot, flags, fd uint64) uint32 {
		return runFilter(t, prog, seccompData{nr: nrMmap, arch: auditArch, ip: s.a.site(site),
			args: [6]uint64{0x400000, 1 << 21, prot, flags, fd, 0x5000}})
	}
	const r, w, x = unix.PROT_READ, unix.PROT_WRITE, unix.PROT_EXEC
	for _, prot := range []uint64{r, r | x, x, unix.PROT_NONE} {
		for _, fd := range []uint64{firstFileFD, firstFileFD + 1, firstFileFD + maxHostFiles - 1} {
			if got := mmapAt(prog, "st_mmap_file", prot, mapPrivateFixed, fd); got != retAllow {
				t.Errorf("st_mmap_file prot %#x fd %d: %#x, want allow", prot, fd, got)
			}
		}
	}
	for _, prot := range []uint64{w, r | w, r | w | x, w | x, r | 8, r | unix.PROT_GROWSDOWN, r | unix.PROT_GROWSUP, r | 1<<32, r | 1<<63} {
		if got := mmapAt(prog, "st_mmap_file", prot, mapPrivateFixed, firstFileFD); got != retTrap {
			t.Errorf("st_mmap_file prot %#x: %#x, want trap", prot, got)
		}
	}
	for _, fl := range []uint64{mapSharedFixed, unix.MAP_PRIVATE, unix.MAP_SHARED, mapPrivateFixed | unix.MAP_POPULATE,
		mapPrivateFixed | unix.MAP_ANONYMOUS, unix.MAP_SHARED_VALIDATE | unix.MAP_FIXED, mapPrivateFixed | unix.MAP_FIXED_NOREPLACE,
		mapPrivateFixed | unix.MAP_GROWSDOWN, mapPrivateFixed | 1<<32} {
		if got := mmapAt(prog, "st_mmap_file", r, fl, firstFileFD); got != retTrap {
			t.Errorf("st_mmap_file flags %#x: %#x, want trap", fl, got)
		}
	}
	// fget reads the low word: fds 0-3 (the memory file, the socket, the
	// pipes) by any spelling, or past the received range, never pass.
	for _, fd := range []uint64{memFD, sockFD, resultFD, deathFD, firstFileFD + maxHostFiles, 1 << 31, ^uint64(0),
		1 << 32, 1<<32 | firstFileFD, 1<<32 | memFD} {
		if got := mmapAt(prog, "st_mmap_file", r, mapPrivateFixed, fd); got != retTrap {
			t.Errorf("st_mmap_file fd %#x: %#x, want trap", fd, got)
		}
	}
	for _, nr := range []uint32{nrMprotect, nrMunmap, nrMremap, unix.SYS_MADVISE, nrRecvmsg, unix.SYS_READ} {
		if got := runFilter(t, prog, seccompData{nr: nr, arch: auditArch, ip: s.a.site("st_mmap_file"),
			args: [6]uint64{0x400000, 1 << 21, r, mapPrivateFixed, firstFileFD, 0}}); got != retTrap {
			t.Errorf("syscall %d at st_mmap_file: %#x, want trap", nr, got)
		}
	}

	rx := slotAddr(rxSlot) + rxMsg
	recvAt := func(prog []bpfInsn, site string, nr uint32, fd, msg, flags uint64) uint32 {
		return runFilter(t, prog, seccompData{nr: nr, arch: auditArch, ip: s.a.site(site), args: [6]uint64{fd, msg, flags}})
	}
	if got := recvAt(prog, "st_recvmsg", nrRecvmsg, sockFD, rx, recvFlags); got != retAllow {
		t.Fatalf("the stub's receive: %#x, want allow", got)
	}
	for _, c := range []struct{ fd, msg, flags uint64 }{
		{memFD, rx, recvFlags}, {resultFD, rx, recvFlags}, {firstFileFD, rx, recvFlags}, {1<<32 | sockFD, rx, recvFlags},
		{sockFD, rx + 8, recvFlags}, {sockFD, rx + 1<<32, recvFlags}, {sockFD, slotAddr(0), recvFlags}, {sockFD, uint64(uint32(rx)), recvFlags},
		{sockFD, rx, 0}, {sockFD, rx, unix.MSG_DONTWAIT}, {sockFD, rx, recvFlags | unix.MSG_PEEK}, {sockFD, rx, unix.MSG_CMSG_CLOEXEC},
	} {
		if got := recvAt(prog, "st_recvmsg", nrRecvmsg, c.fd, c.msg, c.flags); got != retTrap {
			t.Errorf("recvmsg(%#x, %#x, %#x): %#x, want trap", c.fd, c.msg, c.flags, got)
		}
	}
	for _, nr := range []uint32{unix.SYS_SENDMSG, unix.SYS_RECVMMSG, unix.SYS_RECVFROM, nrMmap} {
		if got := recvAt(prog, "st_recvmsg", nr, sockFD, rx, recvFlags); got != retTrap {
			t.Errorf("syscall %d at st_recvmsg: %#x, want trap", nr, got)
		}
	}
	// No other site takes a private mmap, a received file's descriptor or
	// a recvmsg.
	for _, rule := range baseRules() {
		if rule.site == "st_mmap_file" || rule.site == "st_recvmsg" {
			continue
		}
		if got := mmapAt(prog, rule.site, r, mapPrivateFixed, firstFileFD); got != retTrap {
			t.Errorf("a host-file mmap at %s: %#x, want trap", rule.site, got)
		}
		if got := mmapAt(prog, rule.site, r, mapSharedFixed, firstFileFD); got != retTrap {
			t.Errorf("a shared mmap of fd %d at %s: %#x, want trap", firstFileFD, rule.site, got)
		}
		if got := recvAt(prog, rule.site, nrRecvmsg, sockFD, rx, recvFlags); got != retTrap {
			t.Errorf("recvmsg at %s: %#x, want trap", rule.site, got)
		}
	}
	for _, rule := range baseRules() {
		if got := mmapAt(gprog, rule.site, r, mapPrivateFixed, firstFileFD); got != retTrap {
			t.Errorf("guest filter, a host-file mmap at %s: %#x, want trap", rule.site, got)
		}
		if got := recvAt(gprog, rule.site, nrRecvmsg, sockFD, rx, recvFlags); got != retTrap {
			t.Errorf("guest filter, recvmsg at %s: %#x, want trap", rule.site, got)
		}
	}
}
