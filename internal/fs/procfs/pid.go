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
	selfFile := func(gen func(self bool) []byte) vfs.Inode {
		f := synth.NewFile(Dev, func(ctx vfs.Ctx) ([]byte, error) {
			caller, _ := fs.src.Caller(ctx)
			return gen(caller == pid), nil
		})
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
		"auxv":    file(p.Auxv),
		"comm":    file(func() []byte { return []byte(p.Comm() + "\n") }),
		"stat":    selfFile(func(self bool) []byte { return []byte(p.Stat(self) + "\n") }),
		"status":  selfFile(func(self bool) []byte { return []byte(p.Status(self)) }),
		"maps":    file(func() []byte { return formatMaps(p.VMAs()) }),
		"fd":      fs.fdDir(p, owned),
		"fdinfo":  fs.fdinfoDir(p, owned),
		"statm":   file(func() []byte { return []byte(p.Statm() + "\n") }),
		"limits":  file(func() []byte { return []byte(p.Limits()) }),
		"task":    fs.taskDir(p, owned, file, selfFile),
		"mounts": &synth.File{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o444)),
			Gen: func(ctx vfs.Ctx) ([]byte, error) { return formatMounts(fs.src.Mounts(ctx)), nil }},
		"mountinfo": &synth.File{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o444)),
			Gen: func(ctx vfs.Ctx) ([]byte, error) { return formatMountinfo(fs.src.Mounts(ctx)), nil }},
		"smaps_rollup":  file(func() []byte { return smapsRollup(p.MM()) }),
		"smaps":         file(func() []byte { return smaps(p.MM()) }),
		"pagemap":       pagemapFile(p, owned),
		"mem":           memFile(p, owned),
		"oom_score_adj": file(func() []byte { return []byte("0\n") }),
		"oom_score":     file(func() []byte { return []byte("0\n") }),
		"cgroup":        file(func() []byte { return []byte("0::/\n") }),
		"ns":            nsDir(p, owned),
	}
	for _, name := range []string{"uid_map", "gid_map", "setgroups"} {
		name := name
		f := &synth.File{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o644)),
			Gen:   func(ctx vfs.Ctx) ([]byte, error) { return []byte(p.IDMap(ctx, name)), nil },
			Write: func(ctx vfs.Ctx, b []byte) error { return p.WriteIDMap(ctx, name, b) }}
		ch[name] = f
	}
	if fs.net != nil {
		if t := p.Task(); t != nil {
			ch["net"] = fs.net(t)
		}
	}
	d := synth.Static(Dev, 0o555, ch)
	d.Attr = owned(d.Attr)
	return &pidDir{Dir: d, pid: pid}
}

// pidDir is /proc/PID, which also names its process: an open descriptor
// of it works as a pidfd. Linux: kernel/pid.c (pidfd_get_pid: a /proc/PID
// directory is accepted where a pidfd is).
type pidDir struct {
	*synth.Dir
	pid int
}

// ProcPID returns the process id the directory describes.
func (d *pidDir) ProcPID() int { return d.pid }

// PIDOf returns the process a /proc/PID directory names.
func PIDOf(in vfs.Inode) (int, bool) {
	d, ok := in.(*pidDir)
	if !ok {
		return 0, false
	}
	return d.pid, true
}

func (fs *FS) fdDir(p Process, owned func(synth.Attr) synth.Attr) vfs.Inode {
	d := &synth.VolatileDir{Dir: synth.Dir{Attr: owned(synth.NewAttr(Dev, unix.S_IFDIR|0o500))}}
	d.List = func(ctx vfs.Ctx) map[string]vfs.Inode {
		m := map[string]vfs.Inode{}
		for _, n := range p.FDs() {
			n := n
			l := &synth.MagicLink{}
			perm := uint32(0o700)
			if f := p.FD(n); f != nil {
				// lr-x, l-wx or lrwx by the open file's access mode.
				switch f.Flags() & unix.O_ACCMODE {
				case unix.O_RDONLY:
					perm = 0o500
				case unix.O_WRONLY:
					perm = 0o300
				}
			}
			l.Attr = owned(synth.NewAttr(Dev, unix.S_IFLNK|perm))
			l.To = func(vfs.Ctx) (vfs.Path, error) {
				f := p.FD(n)
				if f == nil {
					return vfs.Path{}, unix.ENOENT
				}
				if f.Path().Dentry == nil {
					return vfs.ReopenPath(f) // a pipe or host descriptor: its object afresh
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
				name := fs.src.PathName(ctx, f.Path())
				if f.Path().Dentry.Deleted() {
					name += " (deleted)" // Linux: fs/d_path.c (d_path)
				}
				return name, nil
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

// taskDir is /proc/PID/task: one directory per thread with the files that
// describe a thread.
func (fs *FS) taskDir(p Process, owned func(synth.Attr) synth.Attr, file func(func() []byte) vfs.Inode,
	selfFile func(func(bool) []byte) vfs.Inode) vfs.Inode {
	d := &synth.VolatileDir{Dir: synth.Dir{Attr: owned(synth.NewAttr(Dev, unix.S_IFDIR|0o555))}}
	d.List = func(ctx vfs.Ctx) map[string]vfs.Inode {
		m := map[string]vfs.Inode{}
		for _, tid := range p.Threads() {
			th := p.Thread(tid)
			if th == nil {
				continue // it ended since Threads
			}
			// self: the thread reads its own files (it runs, then).
			tidFile := func(gen func(self bool) []byte) vfs.Inode {
				f := synth.NewFile(Dev, func(ctx vfs.Ctx) ([]byte, error) {
					_, caller := fs.src.Caller(ctx)
					return gen(caller == tid), nil
				})
				f.Attr = owned(f.Attr)
				return f
			}
			td := synth.Static(Dev, 0o555, map[string]vfs.Inode{
				"stat":   tidFile(func(self bool) []byte { return []byte(th.Stat(self) + "\n") }),
				"status": tidFile(func(self bool) []byte { return []byte(th.Status(self)) }),
				"comm":   file(func() []byte { return []byte(p.Comm() + "\n") }),
				"mem":    memFile(p, owned),
				"maps":   file(func() []byte { return formatMaps(p.VMAs()) }),
				"auxv":   file(p.Auxv),
			})
			td.Attr = owned(td.Attr)
			m[strconv.Itoa(tid)] = td
		}
		return m
	}
	return d
}

// fdinfoDir is /proc/PID/fdinfo: position and flags of each open file.
func (fs *FS) fdinfoDir(p Process, owned func(synth.Attr) synth.Attr) vfs.Inode {
	d := &synth.VolatileDir{Dir: synth.Dir{Attr: owned(synth.NewAttr(Dev, unix.S_IFDIR|0o500))}}
	d.List = func(ctx vfs.Ctx) map[string]vfs.Inode {
		m := map[string]vfs.Inode{}
		for _, n := range p.FDs() {
			n := n
			f := &synth.File{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o400)), Gen: func(vfs.Ctx) ([]byte, error) {
				s, ok := p.FDInfo(n)
				if !ok {
					return nil, unix.ENOENT
				}
				return []byte(s), nil
			}}
			m[strconv.Itoa(n)] = f
		}
		return m
	}
	return d
}

// nsDir is /proc/PID/ns: a link per namespace kind.
func nsDir(p Process, owned func(synth.Attr) synth.Attr) vfs.Inode {
	ch := map[string]vfs.Inode{}
	for _, kind := range NSKinds {
		kind := kind
		l := &synth.MagicLink{}
		l.Attr = owned(synth.NewAttr(Dev, unix.S_IFLNK|0o777))
		l.To = func(vfs.Ctx) (vfs.Path, error) {
			_, to, ok := p.NSLink(kind)
			if !ok {
				return vfs.Path{}, unix.ENOENT
			}
			return to, nil
		}
		l.Target = func(vfs.Ctx) (string, error) {
			s, _, ok := p.NSLink(kind)
			if !ok {
				return "", unix.ENOENT
			}
			return s, nil
		}
		ch[kind] = l
	}
	d := synth.Static(Dev, 0o511, ch)
	d.Attr = owned(d.Attr)
	return d
}
