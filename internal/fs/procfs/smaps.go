package procfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/synth"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// /proc/PID/smaps, smaps_rollup and pagemap, computed from the address
// space's own page table (mm.Smaps, mm.Pagemap).
// Linux: fs/proc/task_mmu.c

// smaps renders every VMA's maps line and usage.
func smaps(m *mm.MM) []byte {
	if m == nil {
		return nil
	}
	var b strings.Builder
	for _, u := range m.Smaps() {
		b.Write(formatMaps([]mm.VMA{u.VMA}))
		fmt.Fprintf(&b, "Size:           %8d kB\nKernelPageSize: %8d kB\nMMUPageSize:    %8d kB\n",
			(u.End-u.Start)>>10, 4, 4)
		writeUsage(&b, u, false)
		fmt.Fprintf(&b, "THPeligible:    %8d\n", 0)
		if hostPkeys() {
			fmt.Fprintf(&b, "ProtectionKey:  %8d\n", 0)
		}
		fmt.Fprintf(&b, "VmFlags: %s\n", vmFlags(u.VMA))
	}
	return []byte(b.String())
}

// hostPkeys reports whether the host kernel shows protection keys in smaps
// (it does when the CPU has them enabled, arch_pkeys_enabled). glassbox
// shows the line as the host does; every range has key 0, since glassbox
// allocates none (syscalls/sys_pkey.go).
var hostPkeys = sync.OnceValue(func() bool {
	return bytes.Contains(hostFile("/proc/self/smaps"), []byte("\nProtectionKey:"))
})

// smapsRollup sums smaps over the address space.
func smapsRollup(m *mm.MM) []byte {
	if m == nil {
		return nil
	}
	var sum mm.Usage
	us := m.Smaps()
	for _, u := range us {
		sum.Rss += u.Rss
		sum.Pss += u.Pss
		sum.PssAnon += u.PssAnon
		sum.PssFile += u.PssFile
		sum.PssShmem += u.PssShmem
		sum.PssDirty += u.PssDirty
		sum.SharedClean += u.SharedClean
		sum.SharedDirty += u.SharedDirty
		sum.PrivateClean += u.PrivateClean
		sum.PrivateDirty += u.PrivateDirty
		sum.Anonymous += u.Anonymous
		sum.Swap += u.Swap
		sum.Locked += u.Locked
	}
	lo, hi := uint64(0), uint64(0)
	if len(us) > 0 {
		lo, hi = us[0].Start, us[len(us)-1].End
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%08x-%08x ---p 00000000 00:00 0%s[rollup]\n", lo, hi, strings.Repeat(" ", 26))
	writeUsage(&b, sum, true)
	return []byte(b.String())
}

// writeUsage writes the usage lines; the rollup splits Pss by kind.
func writeUsage(b *strings.Builder, u mm.Usage, rollup bool) {
	line := func(name string, v uint64) { fmt.Fprintf(b, "%-16s%8d kB\n", name+":", v>>10) }
	line("Rss", u.Rss)
	line("Pss", u.Pss)
	line("Pss_Dirty", u.PssDirty)
	if rollup {
		line("Pss_Anon", u.PssAnon)
		line("Pss_File", u.PssFile)
		line("Pss_Shmem", u.PssShmem)
	}
	line("Shared_Clean", u.SharedClean)
	line("Shared_Dirty", u.SharedDirty)
	line("Private_Clean", u.PrivateClean)
	line("Private_Dirty", u.PrivateDirty)
	line("Referenced", u.Rss)
	line("Anonymous", u.Anonymous)
	line("KSM", 0)
	line("LazyFree", 0)
	line("AnonHugePages", 0)
	line("ShmemPmdMapped", 0)
	line("FilePmdMapped", 0)
	line("Shared_Hugetlb", 0)
	line("Private_Hugetlb", 0)
	line("Swap", u.Swap)
	line("SwapPss", u.Swap)
	line("Locked", u.Locked)
}

// vmFlags renders the VmFlags line, in Linux's bit order.
// Linux: fs/proc/task_mmu.c (show_smap_vma_flags)
func vmFlags(v mm.VMA) string {
	var f []string
	add := func(ok bool, s string) {
		if ok {
			f = append(f, s)
		}
	}
	w, ok := v.File.(interface{ Writable() bool })
	mayWrite := !v.Shared || !ok || w.Writable()
	add(v.Prot&unix.PROT_READ != 0, "rd")
	add(v.Prot&unix.PROT_WRITE != 0, "wr")
	add(v.Prot&unix.PROT_EXEC != 0, "ex")
	add(v.Shared, "sh")
	f = append(f, "mr")
	add(mayWrite, "mw")
	f = append(f, "me")
	add(v.Shared, "ms")
	add(v.Name == "[stack]", "gd")
	add(v.Flags&mm.VMLocked != 0, "lo")
	add(v.Flags&mm.VMDontFork != 0, "dc")
	add(v.Flags&mm.VMLockOnFault != 0, "lf")
	add(!v.Shared && v.Prot&unix.PROT_WRITE != 0, "ac")
	add(v.Flags&mm.VMWipeOnFork != 0, "wf")
	add(v.Flags&mm.VMDontDump != 0, "dd")
	add(v.Flags&mm.VMHugePage != 0, "hg")
	add(v.Flags&mm.VMNoHugePage != 0, "nh")
	add(v.Flags&mm.VMMergeable != 0, "mg")
	return strings.Join(f, " ") + " "
}

// pagemapFile is /proc/PID/pagemap: 8 bytes per virtual page, read at any
// offset. PFNs are always zero (glassbox frames are not host page frames;
// Linux shows PFNs only to CAP_SYS_ADMIN).
func pagemapFile(p Process, owned func(synth.Attr) synth.Attr) vfs.Inode {
	return &pagemapInode{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o400)), p: p}
}

type pagemapInode struct {
	synth.Attr
	p Process
}

// Open implements vfs.Opener.
func (in *pagemapInode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EACCES
	}
	return &pagemapOps{in: in}, nil
}

type pagemapOps struct {
	vfs.BaseOps
	in *pagemapInode
}

func (o *pagemapOps) Stat(vfs.Ctx) (vfs.Stat, error) { return o.in.Stat() }

// Read implements the read: offset and length must be multiples of 8.
// Linux: fs/proc/task_mmu.c (pagemap_read)
func (o *pagemapOps) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	total := 0
	for _, b := range dst {
		total += len(b)
	}
	if off%8 != 0 || total%8 != 0 || off < 0 {
		return 0, unix.EINVAL
	}
	m := o.in.p.MM()
	if m == nil || total == 0 {
		return 0, nil
	}
	const maxPages = 1 << 16
	n := min(total/8, maxPages)
	start := uint64(off/8) << abi.PageShift
	if lim := m.Layout().TaskSize; start >= lim {
		return 0, nil
	} else if pages := (lim - start) >> abi.PageShift; uint64(n) > pages {
		n = int(pages)
	}
	ents := m.Pagemap(start, n)
	buf := make([]byte, 8*len(ents))
	for i, e := range ents {
		binary.LittleEndian.PutUint64(buf[8*i:], e)
	}
	return synth.ReadAt(buf, dst, 0), nil
}
