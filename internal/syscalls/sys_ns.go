package syscalls

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/mqueuefs"
	"glassbox/internal/fs/procfs"
	"glassbox/internal/fs/synth"
	"glassbox/internal/fs/tmpfs"
	"glassbox/internal/ipc"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

// Namespaces and the mount table: unshare, setns, mount, umount2,
// pivot_root. Linux: kernel/fork.c (ksys_unshare), kernel/nsproxy.c
// (setns), fs/namespace.c
func init() {
	reg(unix.SYS_UNSHARE, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		return 0, t.Unshare(a[0])
	}, "user, mount, UTS, IPC, PID, network, cgroup and time namespaces")
	reg(unix.SYS_SETNS, func(t *kernel.Task, a kernel.Args) (uint64, error) {
		f, err := getFile(t, a.Int(0))
		if err != nil {
			return 0, err
		}
		defer f.DecRef()
		return 0, t.Setns(f, a.Int(1))
	}, "nsfs files of /proc/PID/ns (PID namespaces too) and pidfds; a pidfd whose later namespace fails leaves the earlier ones joined")
	reg(unix.SYS_MOUNT, sysMount, "tmpfs, proc, sysfs, mqueue, devpts (the sandbox's), bind mounts, MS_MOVE, remount, propagation flags (accepted)")
	reg(unix.SYS_UMOUNT2, sysUmount2, "glassbox' own mounts are locked (EINVAL), as Linux locks a more privileged namespace's")
	reg(unix.SYS_PIVOT_ROOT, sysPivotRoot)
}

// mountFlagsKept are the per-mount flags a mount keeps.
const mountFlagsKept = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC

// optString reads mount's optional string argument (0: "").
func optString(t *kernel.Task, addr uint64, max int) (string, error) {
	if addr == 0 {
		return "", nil
	}
	return t.ReadString(addr, max)
}

// sysMount. Linux: fs/namespace.c (path_mount)
func sysMount(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := int(a[3])
	src, err := optString(t, a[0], vfs.PathMax)
	if err != nil {
		return 0, err
	}
	fstype, err := optString(t, a[2], 4096)
	if err != nil {
		return 0, err
	}
	data, err := optString(t, a[4], 4096)
	if err != nil {
		return 0, err
	}
	if flags&unix.MS_MGC_MSK == unix.MS_MGC_VAL {
		flags &^= unix.MS_MGC_MSK
	}
	at, err := walkPath(t, kernel.AtFDCWD, a[1], vfs.Follow)
	if err != nil {
		return 0, err
	}
	// The strings and the target first, then the privilege.
	// Linux: fs/namespace.c (do_mount, path_mount: may_mount)
	if !t.MountCapable() {
		return 0, unix.EPERM
	}
	tree := t.MountNS()
	if !tree.Contains(at.Mount) {
		return 0, unix.EINVAL
	}
	const propagation = unix.MS_SHARED | unix.MS_PRIVATE | unix.MS_SLAVE | unix.MS_UNBINDABLE
	switch {
	case flags&unix.MS_REMOUNT != 0:
		if !at.IsMountRoot() {
			return 0, unix.EINVAL
		}
		return 0, tree.SetFlags(at.Mount, flags, mountFlagsKept)
	case flags&unix.MS_BIND != 0:
		from, err := t.Walk(kernel.AtFDCWD, src, vfs.Follow)
		if err != nil {
			return 0, err
		}
		if _, isDir := from.Inode().(vfs.Dir); isDir != isDirPath(at) {
			return 0, unix.ENOTDIR
		}
		_, err = tree.BindMount(at, from, flags&unix.MS_REC != 0, 0)
		return 0, err
	case flags&propagation != 0:
		if !at.IsMountRoot() {
			return 0, unix.EINVAL
		}
		return 0, nil // one table per namespace: nothing propagates anyway
	case flags&unix.MS_MOVE != 0:
		// Linux: fs/namespace.c (do_move_mount_old, do_move_mount)
		from, err := t.Walk(kernel.AtFDCWD, src, vfs.Follow)
		if err != nil {
			return 0, err
		}
		if !from.IsMountRoot() || !tree.Contains(from.Mount) {
			return 0, unix.EINVAL
		}
		if _, isDir := from.Inode().(vfs.Dir); isDir != isDirPath(at) {
			return 0, unix.ENOTDIR
		}
		return 0, tree.Move(from.Mount, at)
	}
	root, err := newFS(t, fstype, data)
	if err != nil {
		return 0, err
	}
	if !isDirPath(at) {
		return 0, unix.ENOTDIR
	}
	if src == "" {
		src = "none"
	}
	tree.Mount(at, vfs.NewRoot(root), fstype, src, flags&mountFlagsKept)
	return 0, nil
}

func isDirPath(p vfs.Path) bool {
	_, ok := p.Inode().(vfs.Dir)
	return ok
}

// newFS makes a file system instance of fstype with its options.
func newFS(t *kernel.Task, fstype, data string) (vfs.Inode, error) {
	switch fstype {
	case "tmpfs":
		// The root belongs to the mounter. Linux: mm/shmem.c (shmem_fill_super)
		c := t.Creds()
		o := tmpfs.Options{Mode: 0o1777, UID: c.FSUID, GID: c.FSGID}
		for _, opt := range strings.Split(data, ",") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "mode":
				m, err := strconv.ParseUint(v, 8, 32)
				if err != nil {
					return nil, unix.EINVAL
				}
				o.Mode = uint32(m) & 0o7777
			case "size":
				n, err := parseSize(v)
				if err != nil {
					return nil, err
				}
				o.Size = n
			case "uid", "gid":
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return nil, unix.EINVAL
				}
				if k == "uid" {
					ku, ok := t.MapUID(uint32(n))
					if !ok {
						return nil, unix.EINVAL
					}
					o.UID = ku
				} else {
					kg, ok := t.MapGID(uint32(n))
					if !ok {
						return nil, unix.EINVAL
					}
					o.GID = kg
				}
			}
		}
		return tmpfs.New(t.Kernel().MemFile(), o).Root(), nil
	case "proc":
		extra := map[string]vfs.Inode{"sysvipc": ipc.ProcDirFor(t.Kernel().IPCOf, procfs.Dev)}
		for name, in := range ipc.Sysctls(procfs.Dev) {
			extra["sys/kernel/"+name] = in
		}
		return procfs.New(t.ProcSourceFor(), extra, ProcNetDir).Root(), nil
	case "mqueue":
		return mqueuefs.New(t.IPC()), nil
	case "sysfs":
		if !t.NetCapable(unix.CAP_SYS_ADMIN) {
			return nil, unix.EPERM
		}
		return synth.Static(0x17, 0o555, map[string]vfs.Inode{}), nil
	case "devpts":
		// The sandbox's one pty instance (no newinstance of its own).
		ns := t.Kernel().Namespace()
		p, err := ns.Walk(t, ns.Root(), ns.Root(), "/dev/pts", vfs.Follow|vfs.MustDir)
		if err != nil {
			return nil, unix.ENODEV
		}
		return p.Inode(), nil
	case "":
		return nil, unix.EINVAL
	}
	t.ReportUnsupported("mount type " + fstype)
	return nil, unix.ENODEV
}

// parseSize reads tmpfs' size= (bytes with k, m, g suffixes; % unsupported).
func parseSize(v string) (uint64, error) {
	mul := uint64(1)
	if v != "" {
		switch v[len(v)-1] {
		case 'k', 'K':
			mul = 1 << 10
		case 'm', 'M':
			mul = 1 << 20
		case 'g', 'G':
			mul = 1 << 30
		}
		if mul != 1 {
			v = v[:len(v)-1]
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, unix.EINVAL
	}
	return n * mul, nil
}

// sysUmount2. Linux: fs/namespace.c (ksys_umount, can_umount)
func sysUmount2(t *kernel.Task, a kernel.Args) (uint64, error) {
	flags := a.Int(1)
	if flags&^(unix.MNT_FORCE|unix.MNT_DETACH|unix.MNT_EXPIRE|unix.UMOUNT_NOFOLLOW) != 0 {
		return 0, unix.EINVAL
	}
	wf := vfs.Follow
	if flags&unix.UMOUNT_NOFOLLOW != 0 {
		wf = 0
	}
	at, err := walkPath(t, kernel.AtFDCWD, a[0], wf)
	if err != nil {
		return 0, err
	}
	// Linux: fs/namespace.c (can_umount, do_umount)
	if !t.MountCapable() {
		return 0, unix.EPERM
	}
	tree := t.MountNS()
	if !at.IsMountRoot() || !tree.Contains(at.Mount) {
		return 0, unix.EINVAL
	}
	if flags&unix.MNT_FORCE != 0 && !t.CapableInit(unix.CAP_SYS_ADMIN) {
		return 0, unix.EPERM
	}
	if flags&unix.MNT_EXPIRE != 0 && (flags&(unix.MNT_FORCE|unix.MNT_DETACH) != 0 || at.Mount == t.FS().Root().Mount) {
		return 0, unix.EINVAL
	}
	return 0, tree.Unmount(at.Mount, flags&unix.MNT_DETACH != 0)
}

// sysPivotRoot. Linux: fs/namespace.c (pivot_root)
func sysPivotRoot(t *kernel.Task, a kernel.Args) (uint64, error) {
	if !t.MountCapable() {
		return 0, unix.EPERM // before the paths. Linux: fs/namespace.c (pivot_root: may_mount)
	}
	newRoot, err := walkPath(t, kernel.AtFDCWD, a[0], vfs.Follow|vfs.MustDir)
	if err != nil {
		return 0, err
	}
	putOld, err := walkPath(t, kernel.AtFDCWD, a[1], vfs.Follow|vfs.MustDir)
	if err != nil {
		return 0, err
	}
	tree := t.MountNS()
	root := t.FS().Root()
	if !newRoot.IsMountRoot() || !root.IsMountRoot() || newRoot.Mount == root.Mount ||
		!tree.Contains(newRoot.Mount) || !tree.Contains(putOld.Mount) {
		return 0, unix.EINVAL
	}
	if root != tree.Root() {
		return 0, unix.EINVAL // the caller is chrooted below the namespace's root
	}
	// put_old must be at or below new_root.
	if !tree.IsBelow(putOld, newRoot) {
		return 0, unix.EINVAL
	}
	return 0, t.PivotRoot(newRoot, putOld)
}
