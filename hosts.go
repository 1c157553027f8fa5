package glassbox

import (
	"io"
	"strings"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// DefaultHostname is the sandbox's hostname when Config.Hostname is empty.
const DefaultHostname = "glassbox"

// setupCtx is the vfs context of glassbox' own work in the guest's tree
// before any guest runs: root with every capability, never interrupted.
type setupCtx struct{}

func (setupCtx) Creds() *vfs.Creds          { return vfs.RootCreds() }
func (setupCtx) Interrupt() <-chan struct{} { return nil }
func (setupCtx) Interrupted() bool          { return false }

// resolveHostname makes the sandbox's hostname resolve, as container
// engines do: when the root's /etc/hosts names it on no line, a line
// "127.0.0.1 NAME" is appended in the in-memory layer (the host's file is
// not changed). Programs that look their own name up (sudo, Java's
// getLocalHost, Python's getfqdn, CPython's test_socket) then find it as
// they find the host's on the host. Called on the bare root, before any
// mount, so that it can only write the overlay's upper layer.
func resolveHostname(ns *vfs.Namespace, hostname string) {
	ctx := setupCtx{}
	root := ns.Root()
	f, err := ns.Open(ctx, root, root, "/etc/hosts", unix.O_RDONLY, 0)
	if err != nil {
		return // no /etc/hosts: the resolver has nothing to read either way
	}
	var b strings.Builder
	buf := make([]byte, 8192)
	for off := int64(0); b.Len() < 1<<20; {
		n, err := f.Read(ctx, [][]byte{buf}, off)
		b.Write(buf[:n])
		off += int64(n)
		if n == 0 || err != nil && err != io.EOF {
			break
		}
	}
	f.DecRef()
	hosts := b.String()
	if namesHost(hosts, hostname) {
		return
	}
	w, err := ns.Open(ctx, root, root, "/etc/hosts", unix.O_WRONLY|unix.O_APPEND, 0)
	if err != nil {
		return
	}
	defer w.DecRef()
	line := "127.0.0.1\t" + hostname + "\n"
	if hosts != "" && !strings.HasSuffix(hosts, "\n") {
		line = "\n" + line
	}
	w.Write(ctx, [][]byte{[]byte(line)}, int64(len(hosts)))
}

// namesHost reports whether an /etc/hosts text gives name an address.
func namesHost(hosts, name string) bool {
	for _, l := range strings.Split(hosts, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		f := strings.Fields(l)
		for _, n := range f[min(1, len(f)):] {
			if strings.EqualFold(n, name) {
				return true
			}
		}
	}
	return false
}
