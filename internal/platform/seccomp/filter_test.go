package seccomp

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// seccompData is what a filter sees of one call.
type seccompData struct {
	nr   uint32
	arch uint32
	ip   uint64
	args [6]uint64
}

// runFilter interprets a program built by siteFilter (loads of the
// seccomp_data's words, jeq, ret) the way the kernel's checker would.
func runFilter(t *testing.T, prog []bpfInsn, d seccompData) uint32 {
	t.Helper()
	word := func(off uint32) uint32 {
		switch {
		case off == sdNR:
			return d.nr
		case off == sdArch:
			return d.arch
		case off == sdIPLo:
			return uint32(d.ip)
		case off == sdIPHi:
			return uint32(d.ip >> 32)
		case off >= sdArgsLo && off < sdArgsLo+48 && off%4 == 0:
			a := d.args[(off-sdArgsLo)/8]
			if (off-sdArgsLo)%8 == 4 {
				return uint32(a >> 32)
			}
			return uint32(a)
		}
		t.Fatalf("load at %d", off)
		return 0
	}
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.code {
		case bpfLdWAbs:
			acc = word(in.k)
		case bpfJeqK:
			if acc == in.k {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case bpfRetK:
			return in.k
		default:
			t.Fatalf("instruction %#x", in.code)
		}
	}
	t.Fatal("program fell off its end")
	return 0
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
