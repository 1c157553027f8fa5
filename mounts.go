package glassbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/hostfs"
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
// must be synced when the guest is gone.
func mountBinds(k *kernel.Kernel, ns *vfs.Namespace, mf *memfile.File, binds []Bind) ([]*hostfs.FS, error) {
	var out []*hostfs.FS
	for _, b := range binds {
		host, err := filepath.Abs(b.Host)
		if err != nil {
			return nil, &Error{"bind " + b.Host, err}
		}
		if st, err := os.Stat(host); err != nil {
			return nil, &Error{"bind " + b.Host, unwrapPathErr(err)}
		} else if !st.IsDir() {
			return nil, &Error{"bind " + b.Host, unix.ENOTDIR}
		}
		fs, err := hostfs.New(host, b.ReadOnly, mf)
		if err != nil {
			return nil, &Error{"bind " + b.Host, err}
		}
		at, err := ns.Walk(k.HostCtx(), ns.Root(), ns.Root(), b.Guest, vfs.Follow|vfs.MustDir)
		if err != nil {
			return nil, &Error{"bind target " + b.Guest + " (must be a directory inside the root)", err}
		}
		flags := 0
		if b.ReadOnly {
			flags = unix.MS_RDONLY
		}
		ns.Mount(at, vfs.NewRoot(fs.Root()), "hostfs", host, flags)
		if !b.ReadOnly {
			out = append(out, fs)
		}
	}
	return out, nil
}

// syncBinds writes back what guests stored through shared mappings.
func syncBinds(fss []*hostfs.FS) {
	for _, fs := range fss {
		fs.Sync()
	}
}
