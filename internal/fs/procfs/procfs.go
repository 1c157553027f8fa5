package procfs

import (
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
	// Process returns the process pid, or nil if there is none. Its
	// values are comparable: two calls give equal values for the same
	// process (and thread), unequal ones otherwise.
	Process(pid int) Process
	// PathName renders p as the caller sees it (relative to its root).
	PathName(ctx vfs.Ctx, p vfs.Path) string
	// System reports the sandbox-wide numbers.
	System() System
	// Mounts lists the mounts as the caller sees them.
	Mounts(ctx vfs.Ctx) []MountLine
}

// Process is one process as /proc shows it.
type Process interface {
	Exe() (vfs.Path, bool)
	Cmdline() []byte
	Environ() []byte
	// Auxv is the auxiliary vector the process was started with, as
	// (type, value) words ending with AT_NULL.
	Auxv() []byte
	Comm() string
	Cwd() vfs.Path
	Root() vfs.Path
	FDs() []int
	FD(n int) *vfs.File // without a reference; nil if closed
	VMAs() []mm.VMA
	// MM is the address space (smaps, pagemap), nil if there is none.
	MM() *mm.MM
	UID() uint32
	GID() uint32
	// Stat is the process's line of /proc/PID/stat; self says the reader
	// is the process itself (which is then running, not sleeping).
	Stat(self bool) string
	// Status is /proc/PID/status.
	Status(self bool) string
	// Statm is /proc/PID/statm.
	Statm() string
	// Thread is the view of the process's thread tid (/proc/TID,
	// /proc/PID/task/TID), nil if it has none.
	Thread(tid int) Process
	// Limits is /proc/PID/limits.
	Limits() string
	// Threads lists the process's thread ids.
	Threads() []int
	// FDInfo is /proc/PID/fdinfo/N (false if n is not open).
	FDInfo(n int) (string, bool)
	// OpenMem opens the address space for the caller behind ctx
	// (/proc/PID/mem): a copier (write: into the process) and its
	// release, or EACCES.
	OpenMem(ctx vfs.Ctx) (rw func(addr uint64, b []byte, write bool) (int, error), release func(), err error)
	// NSLink is /proc/PID/ns/kind: its text ("user:[4026531837]") and
	// the nsfs file it opens to.
	NSLink(kind string) (string, vfs.Path, bool)
	// IDMap renders uid_map, gid_map or setgroups for the reader;
	// WriteIDMap applies a write to one of them.
	IDMap(ctx vfs.Ctx, file string) string
	WriteIDMap(ctx vfs.Ctx, file string, data []byte) error
	// Task is the thread the files show, as a context the network code
	// (NetDir) knows; nil when it is gone.
	Task() vfs.Ctx
}

// NetDir returns /proc/PID/net for the process whose thread is task: its
// network namespace's view.
type NetDir func(task vfs.Ctx) vfs.Inode

// NSKinds are the names in /proc/PID/ns.
var NSKinds = []string{"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts"}

// System is what the system-wide files report: the sandbox's own view.
type System struct {
	Uptime, Idle    float64 // seconds
	Processes       int
	Threads         int
	LastPID         int
	MemUsed         uint64 // bytes of guest memory in use, and the bound's share kept for glassbox
	MemLimit        uint64 // bytes the memory file may hold (0: no limit)
	SwapTotal       uint64 // bytes of swap (0: none)
	SwapUsed        uint64
	Mem             mm.Totals
	Hostname        string
	Domainname      string
	Release         string // uname -r
	Version         string // uname -v
	BootTime        int64  // unix seconds
	CPUTicks        uint64 // guest CPU time in clock ticks
	ContextSwitches uint64
}

// MountLine is one mount as /proc/mounts shows it.
type MountLine struct {
	ID, ParentID  int
	Source, Point string
	FSType, Opts  string
	Root          string
}

// FS is one /proc.
type FS struct {
	src  Source
	root *synth.VolatileDir
	// global files, fixed at creation
	global map[string]vfs.Inode
	net    NetDir // nil: no /proc/net
	pids   pidCache
}

// New returns a /proc fed by src; extra adds system-wide files (meminfo,
// cpuinfo...) the caller generates; net makes each process's net
// directory (/proc/net is a link to self/net, as in Linux).
func New(src Source, extra map[string]vfs.Inode, net NetDir) *FS {
	fs := &FS{src: src, global: map[string]vfs.Inode{}, net: net}
	kernelExtra := map[string]vfs.Inode{}
	for k, v := range extra {
		if name, ok := strings.CutPrefix(k, "sys/kernel/"); ok {
			kernelExtra[name] = v
			continue
		}
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
	if net != nil {
		fs.global["net"] = synth.NewLink(Dev, "self/net")
	}
	fs.addGlobal(kernelExtra)
	fs.root = &synth.VolatileDir{Dir: synth.Dir{Attr: synth.NewAttr(Dev, unix.S_IFDIR|0o555), List: fs.list,
		Hidden: fs.threadDir, Find: fs.find}}
	return fs
}

// Root returns the root inode.
func (fs *FS) Root() vfs.Inode { return fs.root }

// threadDir is /proc/TID for a thread other than a process's first: not
// listed, but it opens and shows that thread. Linux: fs/proc/base.c
// (proc_pid_lookup finds any task; proc_pid_readdir lists only leaders)
func (fs *FS) threadDir(ctx vfs.Ctx, name string) vfs.Inode {
	tid, err := strconv.Atoi(name)
	if err != nil || tid <= 0 || strconv.Itoa(tid) != name {
		return nil
	}
	return fs.pidDir(tid)
}

// find looks one name up in /proc: a system-wide file, or a process's or
// a thread's directory (list's pids are the processes' first threads,
// which threadDir finds too).
func (fs *FS) find(ctx vfs.Ctx, name string) vfs.Inode {
	if in, ok := fs.global[name]; ok {
		return in
	}
	return fs.threadDir(ctx, name)
}

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
