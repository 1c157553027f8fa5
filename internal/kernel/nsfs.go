package kernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"glassbox/internal/userns"
	"glassbox/internal/vfs"
)

// /proc/PID/ns/*: each link names a namespace as "kind:[inode]" and
// opens to a file of nsfs that setns(2) accepts. Linux: fs/nsfs.c,
// fs/proc/namespaces.c

// nsfsDev is the device number nsfs files report.
const nsfsDev = 0x4

// nsFile is an nsfs inode: one namespace of one kind.
type nsFile struct {
	kind string // "user", "uts", "ipc", "mnt", "net", "pid", "cgroup", "time"
	ino  uint64
	user *userns.NS // kind "user"
	set  *nsSet     // the set the namespace was read from (other kinds)
	pid  *pidNS     // kind "pid": the process's own, or its children's
}

func (n *nsFile) Stat() (vfs.Stat, error) {
	return vfs.Stat{Dev: nsfsDev, Ino: n.ino, Mode: unix.S_IFREG | 0o444, Nlink: 1, Blksize: 4096}, nil
}

func (n *nsFile) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, unix.EACCES
	}
	return nsOps{n}, nil
}

type nsOps struct{ n *nsFile }

func (nsOps) Read(vfs.Ctx, [][]byte, int64) (int, error)  { return 0, unix.EINVAL }
func (nsOps) Write(vfs.Ctx, [][]byte, int64) (int, error) { return 0, unix.EINVAL }
func (o nsOps) Stat(vfs.Ctx) (vfs.Stat, error)            { return o.n.Stat() }
func (nsOps) Release()                                    {}

// nsFileOf returns the namespace of kind the task is in.
func (t *Task) nsFileOf(kind string) *nsFile {
	s := t.namespaces()
	n := &nsFile{kind: kind, set: s}
	switch kind {
	case "user":
		n.user = t.credsShared().UserNS
		n.ino = userns.InodeOf(n.user)
	case "uts":
		n.ino = s.uts.inode
	case "ipc":
		n.ino = s.ipc.inode
	case "mnt":
		n.ino = s.mnt.inode
	case "net":
		n.ino = s.net.inode
	case "pid":
		n.pid = t.activePIDNS()
		n.ino = n.pid.inode
	case "pid_for_children":
		n.kind, n.pid, n.ino = "pid", s.pid, s.pid.inode
	case "cgroup":
		n.ino = s.cgroup.inode
	case "time", "time_for_children":
		n.kind, n.ino = "time", s.time.inode
	default:
		return nil
	}
	return n
}

// NSLink returns what /proc/PID/ns/kind shows and opens to.
func (p procProcess) NSLink(kind string) (string, vfs.Path, bool) {
	t := p.tg.Leader()
	if t == nil {
		return "", vfs.Path{}, false
	}
	n := t.nsFileOf(kind)
	if n == nil {
		return "", vfs.Path{}, false
	}
	return fmt.Sprintf("%s:[%d]", n.kind, n.ino), vfs.NewNamespace(vfs.NewRoot(n), "nsfs", "nsfs", 0).Root(), true
}

// Setns is setns(2) on an nsfs file: the caller joins that namespace.
// Linux: kernel/nsproxy.c (setns), each kind's install
func (t *Task) Setns(f *vfs.File, nstype int) error {
	if pf, ok := PidFDOf(f); ok {
		return t.setnsPidFD(pf, nstype)
	}
	p := f.Path()
	if p.Dentry == nil {
		return unix.EINVAL
	}
	n, ok := p.Inode().(*nsFile)
	if !ok {
		return unix.EINVAL
	}
	return t.setnsTo(n, nstype)
}

// setnsOrder is the order setns(pidfd) joins a process's namespaces in:
// the user namespace first, whose capabilities the others are checked
// against. Linux: kernel/nsproxy.c (prepare_nsset, commit_nsset)
var setnsOrder = []struct {
	flag int
	kind string
}{{unix.CLONE_NEWUSER, "user"}, {unix.CLONE_NEWNS, "mnt"}, {unix.CLONE_NEWUTS, "uts"},
	{unix.CLONE_NEWIPC, "ipc"}, {unix.CLONE_NEWNET, "net"}, {unix.CLONE_NEWPID, "pid"},
	{unix.CLONE_NEWCGROUP, "cgroup"}, {unix.CLONE_NEWTIME, "time"}}

// setnsPidFD is setns(2) on a pidfd: the caller joins each namespace in
// flags that the process is in (joining one it is already in is a no-op
// for all but the user namespace, as on Linux). Unlike Linux, a failure
// part-way leaves the namespaces joined before it.
// Linux: kernel/nsproxy.c (setns, validate_nsset)
func (t *Task) setnsPidFD(pf *PidFD, flags int) error {
	all := 0
	for _, o := range setnsOrder {
		all |= o.flag
	}
	if flags == 0 || flags&^all != 0 {
		return unix.EINVAL
	}
	if pf.gone() {
		return unix.ESRCH
	}
	target := pf.tg.Leader()
	if target == nil {
		return unix.ESRCH
	}
	for _, o := range setnsOrder {
		if flags&o.flag == 0 {
			continue
		}
		n := target.nsFileOf(o.kind)
		if n == nil {
			return unix.ESRCH
		}
		if o.kind == "user" && n.user == t.creds.UserNS {
			continue // already in it: Linux skips it too
		}
		if err := t.setnsTo(n, 0); err != nil {
			return err
		}
	}
	return nil
}

// setnsTo joins the namespace n names (nstype: 0 or its CLONE_NEW* kind).
func (t *Task) setnsTo(n *nsFile, nstype int) error {
	kinds := map[string]int{"user": unix.CLONE_NEWUSER, "uts": unix.CLONE_NEWUTS, "ipc": unix.CLONE_NEWIPC,
		"mnt": unix.CLONE_NEWNS, "net": unix.CLONE_NEWNET, "pid": unix.CLONE_NEWPID,
		"cgroup": unix.CLONE_NEWCGROUP, "time": unix.CLONE_NEWTIME}
	if nstype != 0 && nstype != kinds[n.kind] {
		return unix.EINVAL
	}
	cur := t.namespaces()
	set := *cur
	var owner *userns.NS
	switch n.kind {
	case "user":
		// Linux: kernel/user_namespace.c (userns_install)
		if n.user == t.creds.UserNS {
			return unix.EINVAL
		}
		if t.tg.liveThreads() > 1 {
			return unix.EINVAL
		}
		if !t.creds.NSCapable(n.user, unix.CAP_SYS_ADMIN) {
			return unix.EPERM
		}
		c := t.credsCopy()
		c.UserNS = n.user
		c.CapEff, c.CapPrm, c.CapBnd, c.CapInh, c.CapAmb = vfs.CapFull, vfs.CapFull, vfs.CapFull, 0, 0
		t.setCreds(c)
		return nil
	case "uts":
		set.uts, owner = n.set.uts, n.set.uts.owner
	case "ipc":
		set.ipc, owner = n.set.ipc, n.set.ipc.owner
	case "net":
		set.net, owner = n.set.net, n.set.net.owner
	case "cgroup":
		set.cgroup, owner = n.set.cgroup, n.set.cgroup.owner
	case "time":
		set.time, owner = n.set.time, n.set.time.owner
	case "mnt":
		owner = n.set.mnt.owner
		set.mnt = n.set.mnt
	case "pid":
		// The caller's children will be born in it: it must be the
		// caller's own namespace or one below it.
		// Linux: kernel/pid_namespace.c (pidns_install)
		owner = n.pid.owner
		active := t.activePIDNS()
		a := n.pid
		for a != nil && a.level > active.level {
			a = a.parent
		}
		if a != active {
			if !t.creds.NSCapable(owner, unix.CAP_SYS_ADMIN) || !t.HasCap(unix.CAP_SYS_ADMIN) {
				return unix.EPERM
			}
			return unix.EINVAL
		}
		set.pid = n.pid
	default:
		t.ReportUnsupported("setns " + n.kind)
		return unix.EINVAL
	}
	if !t.creds.NSCapable(owner, unix.CAP_SYS_ADMIN) || !t.HasCap(unix.CAP_SYS_ADMIN) {
		return unix.EPERM
	}
	if n.kind == "mnt" {
		if !t.HasCap(unix.CAP_SYS_CHROOT) {
			return unix.EPERM
		}
		t.tg.mu.Lock()
		t.tg.fsc = t.tg.fsc.Fork()
		fsc := t.tg.fsc
		t.tg.mu.Unlock()
		root := set.mnt.tree.Root()
		fsc.SetRoot(root)
		fsc.SetCwd(root)
	}
	t.nsp.Store(&set)
	return nil
}

// PivotRoot is pivot_root(2) in the task's mount namespace: every process
// whose root or working directory was the old root moves to the new one.
// Linux: fs/namespace.c (pivot_root, chroot_fs_refs)
func (t *Task) PivotRoot(newRoot, putOld vfs.Path) error {
	tree := t.MountNS()
	old := t.tg.fsc.Root()
	if err := tree.PivotRoot(newRoot, putOld); err != nil {
		return err
	}
	nr := tree.Root()
	t.k.mu.Lock()
	var fscs []*FSContext
	for _, o := range t.k.tasks {
		if o.MountNS() == tree {
			o.tg.mu.Lock()
			if o.tg.fsc != nil {
				fscs = append(fscs, o.tg.fsc)
			}
			o.tg.mu.Unlock()
		}
	}
	t.k.mu.Unlock()
	for _, c := range fscs {
		c.mu.Lock()
		if c.root == old {
			c.root = nr
		}
		if c.cwd == old {
			c.cwd = nr
		}
		c.mu.Unlock()
	}
	return nil
}

// userNS returns the user namespace of the process.
func (p procProcess) userNS() (*userns.NS, bool) {
	t := p.tg.Leader()
	if t == nil {
		return nil, false
	}
	return t.credsShared().UserNS, true
}

func ctxCreds(ctx vfs.Ctx) *vfs.Creds {
	if c := ctx.Creds(); c != nil {
		return c
	}
	return &vfs.Creds{}
}

// IDMap renders /proc/PID/uid_map, gid_map or setgroups for the reader.
func (p procProcess) IDMap(ctx vfs.Ctx, file string) string {
	ns, ok := p.userNS()
	if !ok {
		return ""
	}
	switch file {
	case "setgroups":
		return userns.Setgroups(ns)
	case "gid_map":
		return userns.FormatMap(ns, ctxCreds(ctx).UserNS, true)
	}
	return userns.FormatMap(ns, ctxCreds(ctx).UserNS, false)
}

// WriteIDMap is a write of /proc/PID/uid_map, gid_map or setgroups.
func (p procProcess) WriteIDMap(ctx vfs.Ctx, file string, data []byte) error {
	ns, ok := p.userNS()
	if !ok {
		return unix.ESRCH
	}
	c := ctxCreds(ctx)
	w := userns.Writer{NS: c.UserNS, EUID: c.EUID, EGID: c.EGID, Capable: c.NSCapable}
	switch file {
	case "setgroups":
		return userns.WriteSetgroups(ns, w, string(data))
	case "gid_map":
		return userns.WriteMap(ns, w, string(data), true)
	}
	return userns.WriteMap(ns, w, string(data), false)
}
