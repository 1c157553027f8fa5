package procfs

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/mm"
	"glassbox/internal/vfs"
)

// pidDir returns /proc/PID, made once per process (and owner) and kept
// while the process lives (pidCache).
func (fs *FS) pidDir(pid int) vfs.Inode {
	return fs.pids.get(fs.src, pid, func(p Process) vfs.Inode { return fs.makePIDDir(pid, p) })
}

// makePIDDir builds /proc/PID for p.
func (fs *FS) makePIDDir(pid int, p Process) vfs.Inode {
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
	child := func(name string) vfs.Inode {
		switch name {
		case "exe":
			return pathLink(p.Exe)
		case "cwd":
			return pathLink(func() (vfs.Path, bool) { return p.Cwd(), true })
		case "root":
			return pathLink(func() (vfs.Path, bool) { return p.Root(), true })
		case "cmdline":
			return file(p.Cmdline)
		case "environ":
			return file(p.Environ)
		case "auxv":
			return file(p.Auxv)
		case "comm":
			return file(func() []byte { return []byte(p.Comm() + "\n") })
		case "stat":
			return selfFile(func(self bool) []byte { return []byte(p.Stat(self) + "\n") })
		case "status":
			return selfFile(func(self bool) []byte { return []byte(p.Status(self)) })
		case "maps":
			return file(func() []byte { return formatMaps(p.VMAs()) })
		case "fd":
			return fs.fdDir(p, owned)
		case "fdinfo":
			return fs.fdinfoDir(p, owned)
		case "statm":
			return file(func() []byte { return []byte(p.Statm() + "\n") })
		case "limits":
			return file(func() []byte { return []byte(p.Limits()) })
		case "task":
			return fs.taskDir(p, owned, file, selfFile)
		case "mounts":
			return &synth.File{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o444)),
				Gen: func(ctx vfs.Ctx) ([]byte, error) { return formatMounts(fs.src.Mounts(ctx)), nil }}
		case "mountinfo":
			return &synth.File{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o444)),
				Gen: func(ctx vfs.Ctx) ([]byte, error) { return formatMountinfo(fs.src.Mounts(ctx)), nil }}
		case "smaps_rollup":
			return file(func() []byte { return smapsRollup(p.MM()) })
		case "smaps":
			return file(func() []byte { return smaps(p.MM()) })
		case "pagemap":
			return pagemapFile(p, owned)
		case "mem":
			return memFile(p, owned)
		case "oom_score_adj", "oom_score":
			return file(func() []byte { return []byte("0\n") })
		case "cgroup":
			return file(func() []byte { return []byte("0::/\n") })
		case "ns":
			return nsDir(p, owned)
		case "uid_map", "gid_map", "setgroups":
			return &synth.File{Attr: owned(synth.NewAttr(Dev, unix.S_IFREG|0o644)),
				Gen:   func(ctx vfs.Ctx) ([]byte, error) { return []byte(p.IDMap(ctx, name)), nil },
				Write: func(ctx vfs.Ctx, b []byte) error { return p.WriteIDMap(ctx, name, b) }}
		case "net":
			if fs.net != nil {
				if t := p.Task(); t != nil {
					return fs.net(t)
				}
			}
		}
		return nil
	}
	ch := &lazyChildren{make: child}
	d := &synth.Dir{Attr: owned(synth.NewAttr(Dev, unix.S_IFDIR|0o555)), List: ch.list, Find: ch.find}
	return &pidDir{Dir: d, pid: pid}
}

// pidNames is every name /proc/PID may hold ("net" only with a network).
var pidNames = [...]string{"exe", "cwd", "root", "cmdline", "environ", "auxv", "comm", "stat",
	"status", "maps", "fd", "fdinfo", "statm", "limits", "task", "mounts", "mountinfo",
	"smaps_rollup", "smaps", "pagemap", "mem", "oom_score_adj", "oom_score", "cgroup", "ns",
	"uid_map", "gid_map", "setgroups", "net"}

// lazyChildren are a /proc/PID directory's entries, each made at its
// first lookup (a path through /proc/self needs one or two of them), all
// of them at the first read of the directory. An entry is made once per
// directory: a lookup and a listing of one directory agree on its inodes.
type lazyChildren struct {
	make func(name string) vfs.Inode

	mu   sync.Mutex
	made map[string]vfs.Inode // never written once all is set
	all  bool
}

func (c *lazyChildren) find(_ vfs.Ctx, name string) vfs.Inode {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in, ok := c.made[name]; ok || c.all {
		return in
	}
	in := c.make(name)
	if in != nil {
		if c.made == nil {
			c.made = map[string]vfs.Inode{}
		}
		c.made[name] = in
	}
	return in
}

func (c *lazyChildren) list(vfs.Ctx) map[string]vfs.Inode {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.all {
		if c.made == nil {
			c.made = make(map[string]vfs.Inode, len(pidNames))
		}
		for _, name := range pidNames {
			if _, ok := c.made[name]; !ok {
				if in := c.make(name); in != nil {
					c.made[name] = in
				}
			}
		}
		c.all = true
	}
	return c.made
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
