package procfs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// Dev is the device number of /proc inodes.
const Dev = 0x16

// Source answers procfs' questions; the kernel implements it.
type Source interface {
	// Caller returns the pid and tid of the task doing the file operation.
	Caller(ctx vfs.Ctx) (pid, tid int)
	// PIDs lists live processes in ascending order.
	PIDs() []int
	// Process returns the process pid, or nil if there is none.
	Process(pid int) Process
	// PathName renders p as the caller sees it (relative to its root).
	PathName(ctx vfs.Ctx, p vfs.Path) string
}

// Process is one process as /proc shows it.
type Process interface {
	Exe() (vfs.Path, bool)
	Cmdline() []byte
	Environ() []byte
	Comm() string
	Cwd() vfs.Path
	Root() vfs.Path
	FDs() []int
	FD(n int) *vfs.File // without a reference; nil if closed
	VMAs() []mm.VMA
	UID() uint32
	GID() uint32
	// Stat is the process's line of /proc/PID/stat.
	Stat() string
	// Status is /proc/PID/status.
	Status() string
}

// FS is one /proc.
type FS struct {
	src  Source
	root *synth.VolatileDir
	// global files, fixed at creation
	global map[string]vfs.Inode
}

// New returns a /proc fed by src; extra adds system-wide files (meminfo,
// cpuinfo...) the caller generates.
func New(src Source, extra map[string]vfs.Inode) *FS {
	fs := &FS{src: src, global: map[string]vfs.Inode{}}
	for k, v := range extra {
		fs.global[k] = v
	}
	fs.global["self"] = &synth.Link{Attr: synth.NewAttr(Dev, unix.S_IFLNK|0o777),
		Target: func(ctx vfs.Ctx) (string, error) {
			pid, _ := src.Caller(ctx)
			if pid == 0 {
				return "", unix.ENOENT
			}
			return strconv.Itoa(pid), nil
		}}
	fs.global["thread-self"] = &synth.Link{Attr: synth.NewAttr(Dev, unix.S_IFLNK|0o777),
		Target: func(ctx vfs.Ctx) (string, error) {
			pid, tid := src.Caller(ctx)
			if pid == 0 {
				return "", unix.ENOENT
			}
			return fmt.Sprintf("%d/task/%d", pid, tid), nil
		}}
	fs.global["mounts"] = synth.NewLink(Dev, "self/mounts")
	fs.root = &synth.VolatileDir{Dir: synth.Dir{Attr: synth.NewAttr(Dev, unix.S_IFDIR|0o555), List: fs.list}}
	return fs
}

// Root returns the root inode.
func (fs *FS) Root() vfs.Inode { return fs.root }

func (fs *FS) list(ctx vfs.Ctx) map[string]vfs.Inode {
	m := make(map[string]vfs.Inode, len(fs.global)+8)
	for k, v := range fs.global {
		m[k] = v
	}
	for _, pid := range fs.src.PIDs() {
		if d := fs.pidDir(pid); d != nil {
			m[strconv.Itoa(pid)] = d
		}
	}
	return m
}

// pidDir builds /proc/PID. Its inodes are made afresh on each lookup; the
// dentry cache keeps them while the name resolves.
func (fs *FS) pidDir(pid int) vfs.Inode {
	p := fs.src.Process(pid)
	if p == nil {
		return nil
	}
	owned := func(a synth.Attr) synth.Attr { a.UID, a.GID = p.UID(), p.GID(); return a }
	file := func(gen func() []byte) vfs.Inode {
		f := synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return gen(), nil })
		f.Attr = owned(f.Attr)
		return f
	}
	pathLink := func(get func() (vfs.Path, bool)) vfs.Inode {
		l := &synth.MagicLink{}
		l.Attr = owned(synth.NewAttr(Dev, unix.S_IFLNK|0o777))
		l.To = func(vfs.Ctx) (vfs.Path, error) {
			if pth, ok := get(); ok {
				return pth, nil
			}
			return vfs.Path{}, unix.ENOENT
		}
		l.Target = func(ctx vfs.Ctx) (string, error) {
			pth, err := l.To(ctx)
			if err != nil {
				return "", err
			}
			return fs.src.PathName(ctx, pth), nil
		}
		return l
	}
	ch := map[string]vfs.Inode{
		"exe":     pathLink(p.Exe),
		"cwd":     pathLink(func() (vfs.Path, bool) { return p.Cwd(), true }),
		"root":    pathLink(func() (vfs.Path, bool) { return p.Root(), true }),
		"cmdline": file(p.Cmdline),
		"environ": file(p.Environ),
		"comm":    file(func() []byte { return []byte(p.Comm() + "\n") }),
		"stat":    file(func() []byte { return []byte(p.Stat() + "\n") }),
		"status":  file(func() []byte { return []byte(p.Status()) }),
		"maps":    file(func() []byte { return formatMaps(p.VMAs()) }),
		"fd":      fs.fdDir(p, owned),
	}
	d := synth.Static(Dev, 0o555, ch)
	d.Attr = owned(d.Attr)
	return d
}

func (fs *FS) fdDir(p Process, owned func(synth.Attr) synth.Attr) vfs.Inode {
	d := &synth.VolatileDir{Dir: synth.Dir{Attr: owned(synth.NewAttr(Dev, unix.S_IFDIR|0o500))}}
	d.List = func(ctx vfs.Ctx) map[string]vfs.Inode {
		m := map[string]vfs.Inode{}
		for _, n := range p.FDs() {
			n := n
			l := &synth.MagicLink{}
			l.Attr = owned(synth.NewAttr(Dev, unix.S_IFLNK|0o700))
			l.To = func(vfs.Ctx) (vfs.Path, error) {
				f := p.FD(n)
				if f == nil {
					return vfs.Path{}, unix.ENOENT
				}
				if f.Path().Dentry == nil {
					return vfs.Path{}, unix.ENXIO // anonymous files cannot be reopened yet
				}
				return f.Path(), nil
			}
			l.Target = func(ctx vfs.Ctx) (string, error) {
				f := p.FD(n)
				if f == nil {
					return "", unix.ENOENT
				}
				if f.Path().Dentry == nil {
					return f.AnonName(), nil
				}
				return fs.src.PathName(ctx, f.Path()), nil
			}
			m[strconv.Itoa(n)] = l
		}
		return m
	}
	return d
}

// formatMaps renders VMAs as /proc/PID/maps does.
// Linux: fs/proc/task_mmu.c (show_map_vma)
func formatMaps(vmas []mm.VMA) []byte {
	var b bytes.Buffer
	for _, v := range vmas {
		perm := []byte("---p")
		if v.Prot&unix.PROT_READ != 0 {
			perm[0] = 'r'
		}
		if v.Prot&unix.PROT_WRITE != 0 {
			perm[1] = 'w'
		}
		if v.Prot&unix.PROT_EXEC != 0 {
			perm[2] = 'x'
		}
		if v.Shared {
			perm[3] = 's'
		}
		off := v.Off
		if v.File == nil {
			off = 0
		}
		line := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d", v.Start, v.End, perm, off,
			unix.Major(v.Dev), unix.Minor(v.Dev), v.Ino)
		if v.Name != "" {
			if len(line) < 72 {
				line += strings.Repeat(" ", 72-len(line))
			}
			line += " " + v.Name
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
