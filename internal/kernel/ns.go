package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/ipc"
	"glassbox/internal/userns"
	"glassbox/internal/vfs"
)

// Namespaces. Each task points at a set of namespaces (Linux's nsproxy)
// that is never changed in place: clone with CLONE_NEW*, unshare and
// setns install a new set. The user namespace is in the credentials
// (vfs.Creds.UserNS). Every namespace records the user namespace that
// owns it, for the capability checks on it. Linux: kernel/nsproxy.c

// nsBase is what every namespace has: its /proc/PID/ns inode number and
// its owning user namespace.
type nsBase struct {
	inode uint64
	owner *userns.NS
}

// utsNS holds host and domain names (uts.go).
type utsNS struct {
	nsBase
	names *utsNames
}

// mntNS is a mount table.
type mntNS struct {
	nsBase
	tree *vfs.Namespace
}

// netNS is a network namespace: the sandbox's (own false) or one made by
// CLONE_NEWNET, which has only a loopback interface that is down, so no
// address can be bound and nothing reaches the sandbox's loopback.
type netNS struct {
	nsBase
	own  bool
	objs sync.Map // per-namespace objects of the network code (NetNSObject)
}

// ipcNS holds System V objects.
type ipcNS struct {
	nsBase
	objs *ipc.Namespace
}

// nsSet is one task's namespaces.
type nsSet struct {
	uts    *utsNS
	mnt    *mntNS
	net    *netNS
	ipc    *ipcNS
	cgroup *nsBase
	time   *nsBase
	pid    *pidNS // for children (pid_for_children)
}

// Inode numbers of the initial namespaces, as Linux numbers them.
// Linux: include/linux/proc_ns.h
const (
	initIPCIno    = 0xEFFFFFFF
	initUTSIno    = 0xEFFFFFFE
	initPIDIno    = 0xEFFFFFFC
	initCgroupIno = 0xEFFFFFFB
	initTimeIno   = 0xEFFFFFFA
)

// nsRoot is the kernel's initial set, made on first use.
type nsRoot struct {
	once sync.Once
	set  *nsSet
}

func (k *Kernel) rootNS() *nsSet {
	k.nsRoot.once.Do(func() {
		// What glassbox mounted hides the host's own /proc, /dev and /sys
		// beneath: the guest may not take it away.
		k.cfg.NS.LockAll()
		k.nsRoot.set = &nsSet{
			uts:    &utsNS{nsBase{initUTSIno, nil}, &k.uts},
			mnt:    &mntNS{nsBase{userns.NewInode(), nil}, k.cfg.NS},
			net:    &netNS{nsBase: nsBase{userns.NewInode(), nil}},
			ipc:    &ipcNS{nsBase{initIPCIno, nil}, k.ipc},
			cgroup: &nsBase{initCgroupIno, nil},
			time:   &nsBase{initTimeIno, nil},
			pid:    &pidNS{nsBase: nsBase{initPIDIno, nil}},
		}
	})
	return k.nsRoot.set
}

// namespaces returns the task's set.
func (t *Task) namespaces() *nsSet {
	if s := t.nsp.Load(); s != nil {
		return s
	}
	return t.k.rootNS()
}

// MountNS returns the mount table the task sees.
func (t *Task) MountNS() *vfs.Namespace { return t.namespaces().mnt.tree }

// IPC returns the task's System V IPC namespace.
func (t *Task) IPC() *ipc.Namespace { return t.namespaces().ipc.objs }

// IPCOf returns the IPC namespace of the task behind ctx (the sandbox's
// for any other caller), for /proc/sysvipc.
func (k *Kernel) IPCOf(ctx vfs.Ctx) *ipc.Namespace {
	if t, ok := ctx.(*Task); ok {
		return t.IPC()
	}
	return k.ipc
}

// NetPrivate reports whether the task is in a network namespace of its
// own (made by CLONE_NEWNET): it has only a loopback that is down.
func (t *Task) NetPrivate() bool { return t.namespaces().net.own }

// NetNSObject returns the object kept under key for the task's network
// namespace, made by mk on first use; nil for the sandbox's own
// namespace (whose objects the network code keeps itself).
func (t *Task) NetNSObject(key string, mk func() any) any {
	n := t.namespaces().net
	if !n.own {
		return nil
	}
	if v, ok := n.objs.Load(key); ok {
		return v
	}
	v, _ := n.objs.LoadOrStore(key, mk())
	return v
}

// NetCapable is cap over the task's network namespace.
func (t *Task) NetCapable(cap int) bool { return t.creds.NSCapable(t.namespaces().net.owner, cap) }

// UTSCapable is CAP_SYS_ADMIN over the task's UTS namespace.
func (t *Task) UTSCapable() bool {
	return t.creds.NSCapable(t.namespaces().uts.owner, unix.CAP_SYS_ADMIN)
}

// MountCapable is CAP_SYS_ADMIN over the task's mount namespace.
func (t *Task) MountCapable() bool {
	return t.creds.NSCapable(t.namespaces().mnt.owner, unix.CAP_SYS_ADMIN)
}

// Hostname is the host name of the task's UTS namespace.
func (t *Task) Hostname() string { return t.namespaces().uts.names.get(t.k, false) }

// Domainname is the NIS domain name of the task's UTS namespace.
func (t *Task) Domainname() string { return t.namespaces().uts.names.get(t.k, true) }

// SetUTSName sets the host (domain false) or domain name of the task's
// UTS namespace; the caller has checked privilege and length.
func (t *Task) SetUTSName(name string, domain bool) {
	t.namespaces().uts.names.put(t.k, name, domain)
}

// cloneNSFlags are the namespace flags of clone and unshare.
const cloneNSFlags = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// newNamespaces computes the namespaces and credentials of a task made
// (or changed, for unshare) from t with flags: a new user namespace
// first, owning the others made with it. It returns nil creds when they
// stay t's. Linux: kernel/nsproxy.c (create_new_namespaces),
// kernel/user_namespace.c (create_user_ns)
func (t *Task) newNamespaces(flags uint64) (*nsSet, *vfs.Creds, error) {
	cur := t.namespaces()
	if flags&cloneNSFlags == 0 {
		return cur, nil, nil
	}
	var creds *vfs.Creds
	owner := t.creds.UserNS
	if flags&unix.CLONE_NEWUSER != 0 {
		if t.creds.UserNS != nil && userns.Level(t.creds.UserNS) >= userns.MaxLevel {
			return nil, nil, unix.EUSERS
		}
		if t.tg.fsc.Root() != t.MountNS().Root() {
			return nil, nil, unix.EPERM // a chrooted process may not. Linux: kernel/user_namespace.c (create_user_ns)
		}
		ns, err := userns.New(t.creds.UserNS, t.creds.EUID, t.creds.EGID)
		if err != nil {
			return nil, nil, err
		}
		creds = t.credsCopy()
		creds.UserNS = ns
		// Full capabilities in the new namespace. Linux: kernel/user_namespace.c (set_cred_user_ns)
		creds.CapEff, creds.CapPrm, creds.CapBnd = vfs.CapFull, vfs.CapFull, vfs.CapFull
		creds.CapInh, creds.CapAmb = 0, 0
		creds.Securebits = 0
		owner = ns
	}
	c := t.creds
	if creds != nil {
		c = creds
	}
	if flags&^unix.CLONE_NEWUSER&cloneNSFlags != 0 && !c.NSCapable(owner, unix.CAP_SYS_ADMIN) {
		return nil, nil, unix.EPERM
	}

	set := *cur
	if flags&unix.CLONE_NEWUTS != 0 {
		n := cur.uts.names.snapshot(t.k)
		set.uts = &utsNS{nsBase{userns.NewInode(), owner}, n}
	}
	if flags&unix.CLONE_NEWIPC != 0 {
		set.ipc = &ipcNS{nsBase{userns.NewInode(), owner}, ipc.NewNamespace(t.k.cfg.MemFile)}
	}
	if flags&unix.CLONE_NEWNET != 0 {
		set.net = &netNS{nsBase: nsBase{userns.NewInode(), owner}, own: true}
	}
	if flags&unix.CLONE_NEWCGROUP != 0 {
		set.cgroup = &nsBase{userns.NewInode(), owner}
	}
	if flags&unix.CLONE_NEWTIME != 0 {
		set.time = &nsBase{userns.NewInode(), owner}
	}
	if flags&unix.CLONE_NEWPID != 0 {
		pns, err := t.newPIDNS(owner)
		if err != nil {
			return nil, nil, err
		}
		set.pid = pns
	}
	if flags&unix.CLONE_NEWNS != 0 {
		set.mnt = &mntNS{nsBase{userns.NewInode(), owner}, nil} // tree: copied by installNS
	}
	return &set, creds, nil
}

// installNS puts the task into set (made by newNamespaces for it): a new
// mount namespace gets a copy of the old table, and the task's root and
// working directory move to the copies of their mounts.
// Linux: fs/namespace.c (copy_mnt_ns)
func (t *Task) installNS(set *nsSet, old *nsSet) {
	if set.ipc != old.ipc {
		// The undo list belongs to the old namespace: applied now.
		// Linux: ipc/namespace.c (via unshare_nsproxy_namespaces: exit_sem)
		t.tg.exitSemUndo()
		t.tg.mu.Lock()
		t.tg.semUndo = &semUndo{users: 1, ns: set.ipc.objs}
		t.tg.mu.Unlock()
	}
	if set.mnt != old.mnt && set.mnt.tree == nil {
		tree, move := old.mnt.tree.Copy()
		set.mnt.tree = tree
		fsc := t.tg.fsc
		fsc.mu.Lock()
		fsc.root = move(fsc.root)
		fsc.cwd = move(fsc.cwd)
		fsc.mu.Unlock()
	}
	t.nsp.Store(set)
}

// Unshare is unshare(2). Linux: kernel/fork.c (ksys_unshare)
func (t *Task) Unshare(flags uint64) error {
	const known = cloneNSFlags | unix.CLONE_THREAD | unix.CLONE_SIGHAND | unix.CLONE_VM |
		unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SYSVSEM
	if flags&^known != 0 {
		return unix.EINVAL
	}
	if flags&unix.CLONE_NEWUSER != 0 {
		flags |= unix.CLONE_THREAD | unix.CLONE_FS
	}
	if flags&unix.CLONE_NEWNS != 0 {
		flags |= unix.CLONE_FS
	}
	if flags&(unix.CLONE_THREAD|unix.CLONE_SIGHAND|unix.CLONE_VM) != 0 && t.tg.liveThreads() > 1 {
		return unix.EINVAL
	}
	set, creds, err := t.newNamespaces(flags)
	if err != nil {
		return err
	}
	if flags&unix.CLONE_FS != 0 {
		t.tg.mu.Lock()
		t.tg.fsc = t.tg.fsc.Fork()
		t.tg.mu.Unlock()
	}
	// CLONE_FILES: a process's descriptor table is never shared with
	// another process here, so there is nothing to unshare.
	if creds != nil {
		t.setCreds(creds)
	}
	t.installNS(set, t.namespaces())
	return nil
}

func (tg *ThreadGroup) liveThreads() int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return len(tg.tasks)
}

// checkCloneNS applies clone's rules for namespace flags and computes
// the child's namespaces (nil creds: the parent's).
// Linux: kernel/fork.c (copy_process)
func (t *Task) checkCloneNS(f uint64) (*nsSet, *vfs.Creds, error) {
	if ns := t.namespaces().pid; ns.level > 0 {
		ns.mu.Lock()
		dead := ns.dead
		ns.mu.Unlock()
		if dead {
			return nil, nil, unix.ENOMEM // Linux: alloc_pid on a namespace whose init is gone
		}
	}
	if f&cloneNSFlags == 0 {
		return nil, nil, nil
	}
	if f&(unix.CLONE_NEWNS|unix.CLONE_FS) == unix.CLONE_NEWNS|unix.CLONE_FS ||
		f&(unix.CLONE_NEWUSER|unix.CLONE_FS) == unix.CLONE_NEWUSER|unix.CLONE_FS ||
		f&unix.CLONE_THREAD != 0 && f&(unix.CLONE_NEWUSER|unix.CLONE_NEWPID) != 0 {
		return nil, nil, unix.EINVAL
	}
	set, creds, err := t.newNamespaces(f)
	// After the capability check: a new IPC namespace drops the semaphore
	// undo list CLONE_SYSVSEM would share. Linux: kernel/nsproxy.c
	// (copy_namespaces)
	if err == nil && f&(unix.CLONE_NEWIPC|unix.CLONE_SYSVSEM) == unix.CLONE_NEWIPC|unix.CLONE_SYSVSEM {
		return nil, nil, unix.EINVAL
	}
	return set, creds, err
}

// enterCloneNS puts the new task c into the namespaces checkCloneNS
// computed (set nil: t's).
func (t *Task) enterCloneNS(c *Task, set *nsSet, creds *vfs.Creds) {
	if set == nil {
		c.nsp.Store(t.nsp.Load())
	} else {
		if creds != nil {
			c.setCreds(creds)
		}
		c.installNS(set, t.namespaces())
	}
	c.assignPIDs(c.namespaces().pid, true)
}
