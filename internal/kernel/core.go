package kernel

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/mm"
	"glassbox/internal/platform"
)

// Core files: an ELF core of the dying process, written as core.PID in its
// working directory when RLIMIT_CORE allows, readable by gdb with the
// program. Linux: fs/binfmt_elf.c (elf_core_dump), fs/coredump.c

const (
	ntPrstatus = 1
	ntFPRegset = 2
	ntPrpsinfo = 3
	ntAuxv     = 6
	ntFile     = 0x46494c45
	ptLoad     = 1
	ptNote     = 4
	ehdrSize   = 64
	phdrSize   = 56
)

// dumpCore writes the core file; it reports whether one was written.
func (t *Task) dumpCore(sig int, info *SigInfo) bool {
	limit := t.tg.Rlimit(unix.RLIMIT_CORE).Cur
	if limit == 0 || t.mm == nil || t.thread == nil {
		return false
	}
	fsc := t.tg.fsc
	f, err := t.MountNS().Open(t, fsc.Root(), fsc.Cwd(), "core."+strconv.Itoa(t.tg.pid),
		unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		t.k.Logf("pid %d: core dump: %v", t.tg.pid, err)
		return false
	}
	defer f.DecRef()
	img := t.coreImage(sig, info)
	if uint64(len(img)) > limit {
		img = img[:limit]
	}
	for off := 0; off < len(img); {
		n, err := f.Write(t, [][]byte{img[off:]}, int64(off))
		if err != nil || n == 0 {
			t.k.Logf("pid %d: writing core: %v", t.tg.pid, err)
			return false
		}
		off += n
	}
	return true
}

// coreImage builds the ELF core: a note segment, then one PT_LOAD per VMA.
func (t *Task) coreImage(sig int, info *SigInfo) []byte {
	vmas := t.mm.VMAs()
	var notes bytes.Buffer
	writeNote(&notes, "CORE", ntPrstatus, t.prstatus(sig, info))
	writeNote(&notes, "CORE", ntPrpsinfo, t.prpsinfo())
	if fp, err := t.thread.FPState(); err == nil && len(fp) >= 512 {
		writeNote(&notes, "CORE", ntFPRegset, fp[:512])
	}
	t.tg.mu.Lock()
	auxv := t.tg.auxv
	t.tg.mu.Unlock()
	if len(auxv) > 0 {
		b := make([]byte, 8*len(auxv)+16) // with the AT_NULL pair
		for i, v := range auxv {
			binary.LittleEndian.PutUint64(b[8*i:], v)
		}
		writeNote(&notes, "CORE", ntAuxv, b)
	}
	writeNote(&notes, "CORE", ntFile, fileNote(vmas, func(v *mm.VMA) string { return v.Name }))
	phnum := 1 + len(vmas)
	dataOff := uint64(ehdrSize + phdrSize*phnum)
	le := binary.LittleEndian
	var out bytes.Buffer
	eh := make([]byte, ehdrSize)
	copy(eh, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(eh[16:], 4) // ET_CORE
	le.PutUint16(eh[18:], 62)
	le.PutUint32(eh[20:], 1)
	le.PutUint64(eh[32:], ehdrSize) // e_phoff
	le.PutUint16(eh[52:], ehdrSize)
	le.PutUint16(eh[54:], phdrSize)
	le.PutUint16(eh[56:], uint16(phnum))
	out.Write(eh)
	ph := func(typ, flags uint32, off, vaddr, filesz, memsz, align uint64) {
		b := make([]byte, phdrSize)
		le.PutUint32(b[0:], typ)
		le.PutUint32(b[4:], flags)
		le.PutUint64(b[8:], off)
		le.PutUint64(b[16:], vaddr)
		le.PutUint64(b[32:], filesz)
		le.PutUint64(b[40:], memsz)
		le.PutUint64(b[48:], align)
		out.Write(b)
	}
	ph(ptNote, 0, dataOff, 0, uint64(notes.Len()), 0, 4)
	off := pageRound(dataOff + uint64(notes.Len()))
	for _, v := range vmas {
		size := uint64(0)
		if v.Prot&unix.PROT_READ != 0 {
			size = v.End - v.Start
		}
		flags := uint32(0)
		if v.Prot&unix.PROT_READ != 0 {
			flags |= 4
		}
		if v.Prot&unix.PROT_WRITE != 0 {
			flags |= 2
		}
		if v.Prot&unix.PROT_EXEC != 0 {
			flags |= 1
		}
		ph(ptLoad, flags, off, v.Start, size, v.End-v.Start, abi.PageSize)
		off += size
	}
	out.Write(notes.Bytes())
	for uint64(out.Len()) < pageRound(dataOff+uint64(notes.Len())) {
		out.WriteByte(0)
	}
	page := make([]byte, abi.PageSize)
	for _, v := range vmas {
		if v.Prot&unix.PROT_READ == 0 {
			continue
		}
		for a := v.Start; a < v.End; a += abi.PageSize {
			if t.mm.CopyIn(t.thread, a, page) != nil {
				clear(page) // beyond a file's end: zeros, as Linux writes holes
			}
			out.Write(page)
		}
	}
	return out.Bytes()
}

func writeNote(w *bytes.Buffer, name string, typ uint32, desc []byte) {
	le := binary.LittleEndian
	var h [12]byte
	le.PutUint32(h[0:], uint32(len(name)+1))
	le.PutUint32(h[4:], uint32(len(desc)))
	le.PutUint32(h[8:], typ)
	w.Write(h[:])
	w.WriteString(name)
	w.WriteByte(0)
	for w.Len()%4 != 0 {
		w.WriteByte(0)
	}
	w.Write(desc)
	for w.Len()%4 != 0 {
		w.WriteByte(0)
	}
}

// prstatus is struct elf_prstatus (336 bytes on x86-64).
func (t *Task) prstatus(sig int, info *SigInfo) []byte {
	b := make([]byte, 336)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(sig))
	le.PutUint32(b[4:], uint32(info.Code))
	le.PutUint16(b[12:], uint16(sig)) // pr_cursig
	le.PutUint64(b[16:], uint64(t.OwnPending()))
	le.PutUint64(b[24:], uint64(t.SigMask()))
	le.PutUint32(b[32:], uint32(t.tid))
	le.PutUint32(b[36:], uint32(t.tg.PPID()))
	le.PutUint32(b[40:], uint32(t.tg.Pgid()))
	le.PutUint32(b[44:], uint32(t.tg.Sid()))
	regs := userRegs(&t.regs)
	copy(b[112:], regs)
	le.PutUint32(b[112+216:], 1) // pr_fpvalid
	return b
}

// userRegs lays out struct user_regs_struct (27 words), as gdb expects.
func userRegs(r *platform.Regs) []byte {
	b := make([]byte, 216)
	for i, v := range []uint64{r.R15, r.R14, r.R13, r.R12, r.Rbp, r.Rbx, r.R11, r.R10, r.R9, r.R8,
		r.Rax, r.Rcx, r.Rdx, r.Rsi, r.Rdi, r.Orig_rax, r.Rip, r.Cs, r.Eflags, r.Rsp, r.Ss,
		r.Fs_base, r.Gs_base, r.Ds, r.Es, r.Fs, r.Gs} {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return b
}

// prpsinfo is struct elf_prpsinfo (136 bytes).
func (t *Task) prpsinfo() []byte {
	b := make([]byte, 136)
	le := binary.LittleEndian
	b[0] = 'R'
	le.PutUint32(b[24:], t.creds.UID)
	le.PutUint32(b[28:], t.creds.GID)
	le.PutUint32(b[32:], uint32(t.tg.pid))
	le.PutUint32(b[36:], uint32(t.tg.PPID()))
	le.PutUint32(b[40:], uint32(t.tg.Pgid()))
	le.PutUint32(b[44:], uint32(t.tg.Sid()))
	copy(b[48:64], t.tg.Comm())
	as, ae, _, _ := t.tg.ArgRange()
	if ae > as {
		args := make([]byte, min(ae-as, 80))
		if t.mm.CopyIn(t.thread, as, args) == nil {
			for i := range args {
				if args[i] == 0 {
					args[i] = ' '
				}
			}
			copy(b[64:144-8], bytes.TrimRight(args, " "))
		}
	}
	return b
}

func pageRound(x uint64) uint64 { return (x + abi.PageSize - 1) &^ (abi.PageSize - 1) }

// fileNote is NT_FILE: the file-backed mappings (start, end, page offset)
// and their names, which gdb uses to find the program and libraries.
func fileNote(vmas []mm.VMA, name func(*mm.VMA) string) []byte {
	le := binary.LittleEndian
	var ents, names []byte
	n := 0
	for i := range vmas {
		v := &vmas[i]
		nm := name(v)
		if v.File == nil || nm == "" || nm[0] != '/' {
			continue
		}
		var e [24]byte
		le.PutUint64(e[0:], v.Start)
		le.PutUint64(e[8:], v.End)
		le.PutUint64(e[16:], v.Off/abi.PageSize)
		ents = append(ents, e[:]...)
		names = append(append(names, nm...), 0)
		n++
	}
	var h [16]byte
	le.PutUint64(h[0:], uint64(n))
	le.PutUint64(h[8:], abi.PageSize)
	return append(append(h[:], ents...), names...)
}
