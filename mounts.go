package glassbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/hostfs"
	"glassbox/internal/fs/tmpfs"
	"glassbox/internal/kernel"
	"glassbox/internal/memfile"
	"glassbox/internal/vfs"
)

// Bind mounts a host directory into the sandbox (bubblewrap's --bind and
// --ro-bind). Writes to a writable bind reach the host; nothing else does.
type Bind struct {
	Host     string // host directory
	Guest    string // where it appears inside; must be a directory there
	ReadOnly bool
}

// ParseBind reads "HOST:GUEST" or "HOST:GUEST:ro" (a missing GUEST means
// the same path as HOST).
func ParseBind(s string, readOnly bool) (Bind, error) {
	parts := strings.Split(s, ":")
	b := Bind{Host: parts[0], ReadOnly: readOnly}
	switch len(parts) {
	case 1:
		b.Guest = parts[0]
	case 2:
		b.Guest = parts[1]
	case 3:
		if parts[2] != "ro" && parts[2] != "rw" {
			return Bind{}, fmt.Errorf("bind %q: the third part must be ro or rw", s)
		}
		b.Guest, b.ReadOnly = parts[1], parts[2] == "ro"
	default:
		return Bind{}, fmt.Errorf("bind %q: want HOST:GUEST[:ro]", s)
	}
	if b.Host == "" || !strings.HasPrefix(b.Guest, "/") {
		return Bind{}, fmt.Errorf("bind %q: want HOST:GUEST with an absolute GUEST path", s)
	}
	return b, nil
}

// mountBinds mounts each bind and returns the writable file systems, which
// must be synced when the guest is gone; every file system's Close goes
// on closers (Config.exitFreed). A bind of a host file mounts that
// one file over a guest file. With create, missing targets are made in
// the in-memory layer first.
func mountBinds(k *kernel.Kernel, ns *vfs.Namespace, mf *memfile.File, binds []Bind, create bool, closers *[]func()) ([]*hostfs.FS, error) {
	var out []*hostfs.FS
	for _, b := range binds {
		host, err := filepath.Abs(b.Host)
		if err != nil {
			return nil, &Error{"bind " + b.Host, err}
		}
		st, err := os.Stat(host)
		if err != nil {
			return nil, &Error{"bind " + b.Host, unwrapPathErr(err)}
		}
		dir := st.IsDir()
		if !dir && !st.Mode().IsRegular() {
			return nil, &Error{"bind " + b.Host, unix.ENOTDIR}
		}
		fsDir := host
		if !dir {
			// Resolve symlinks first: the file system is its directory,
			// and the file is looked up in it by name.
			if host, err = filepath.EvalSymlinks(host); err != nil {
				return nil, &Error{"bind " + b.Host, unwrapPathErr(err)}
			}
			fsDir = filepath.Dir(host)
		}
		fs, err := hostfs.New(fsDir, b.ReadOnly, mf)
		if err != nil {
			return nil, &Error{"bind " + b.Host, err}
		}
		*closers = append(*closers, fs.Close)
		root := fs.Root()
		if !dir {
			if root, err = root.(vfs.Dir).Lookup(rootCtx, filepath.Base(host)); err != nil {
				return nil, &Error{"bind " + b.Host, err}
			}
		}
		if create {
			if err := makeMountPoint(rootCtx, ns, b.Guest, dir); err != nil {
				return nil, &Error{"bind target " + b.Guest, err}
			}
		}
		flags := vfs.Follow
		if dir {
			flags |= vfs.MustDir
		}
		at, err := ns.Walk(k.HostCtx(), ns.Root(), ns.Root(), b.Guest, flags)
		if err != nil {
			what := "a directory"
			if !dir {
				what = "a file"
			}
			return nil, &Error{"bind target " + b.Guest + " (must be " + what + " inside the root)", err}
		}
		if tst, err := at.Inode().Stat(); err == nil && tst.IsDir() != dir {
			e := unix.ENOTDIR
			if !dir {
				e = unix.EISDIR
			}
			return nil, &Error{"bind target " + b.Guest, e}
		}
		mflags := 0
		if b.ReadOnly {
			mflags = unix.MS_RDONLY
		}
		ns.Mount(at, vfs.NewRoot(root), "hostfs", host, mflags)
		if !b.ReadOnly {
			out = append(out, fs)
		}
	}
	return out, nil
}

// mountTmpfs mounts an empty in-memory file system at guest directory at.
func mountTmpfs(k *kernel.Kernel, ns *vfs.Namespace, at string, create bool) error {
	if create {
		if err := makeMountPoint(rootCtx, ns, at, true); err != nil {
			return &Error{"tmpfs target " + at, err}
		}
	}
	p, err := ns.Walk(k.HostCtx(), ns.Root(), ns.Root(), at, vfs.Follow|vfs.MustDir)
	if err != nil {
		return &Error{"tmpfs target " + at + " (must be a directory inside the root)", err}
	}
	ns.Mount(p, vfs.NewRoot(tmpfs.New(k.MemFile(), tmpfs.Options{}).Root()), "tmpfs", "tmpfs", 0)
	return nil
}

// makeMountPoint makes path (a directory, or with dir false an empty
// file) and its missing parents in the sandbox, as root; what exists is
// left alone.
func makeMountPoint(ctx vfs.Ctx, ns *vfs.Namespace, path string, dir bool) error {
	root := ns.Root()
	parts := strings.Split(strings.Trim(filepath.Clean("/"+path), "/"), "/")
	cur := ""
	for i, name := range parts {
		if name == "" {
			continue
		}
		cur += "/" + name
		if _, err := ns.Walk(ctx, root, root, cur, vfs.Follow); err == nil {
			continue
		} else if err != unix.ENOENT {
			return err
		}
		if i < len(parts)-1 || dir {
			if err := ns.Mkdir(ctx, root, root, cur, 0o755); err != nil && err != unix.EEXIST {
				return err
			}
			continue
		}
		f, err := ns.Open(ctx, root, root, cur, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return err
		}
		f.DecRef()
	}
	return nil
}

// rootCreds is the context of glassbox' own work in the sandbox's file
// tree before the guest runs (making mount points): root's credentials.
type rootCreds struct{}

var rootCtx vfs.Ctx = rootCreds{}

func (rootCreds) Creds() *vfs.Creds          { return vfs.RootCreds() }
func (rootCreds) Interrupt() <-chan struct{} { return nil }
func (rootCreds) Interrupted() bool          { return false }

// syncBinds writes back what guests stored through shared mappings.
func syncBinds(fss []*hostfs.FS) {
	for _, fs := range fss {
		fs.Sync()
	}
}
