package tmpfs

import (
	"testing"

	"glassbox/internal/vfs"
)

// FuzzWalk: any path a guest names, resolved inside a chroot (/jail)
// whose symlinks point up, out, absolute, at themselves and at each
// other, resolves without a panic, in bounded time, to a place inside the
// jail or to an error.
func FuzzWalk(f *testing.F) {
	for _, p := range []string{"/", "up/d", "../../outside/secret", "abs/f", "loop", "loop2/x", "deep/outside",
		"d/../../..//./d/f", "/d/f/", "d/f/..", "", "////", "up/up/up/../outside"} {
		f.Add(p, uint8(1))
	}
	f.Fuzz(func(t *testing.T, path string, flags uint8) {
		fs, mf := newFS(t, Options{})
		defer mf.Close()
		r := fs.root
		mk := func(d *Dir, name string) *Dir {
			if err := d.Mkdir(root, name, 0o755); err != nil {
				t.Fatal(err)
			}
			in, err := d.Lookup(root, name)
			if err != nil {
				t.Fatal(err)
			}
			return in.(*Dir)
		}
		jail, out := mk(r, "jail"), mk(r, "outside")
		create(t, out, "secret")
		d := mk(jail, "d")
		create(t, d, "f")
		for name, target := range map[string]string{"up": "../../../..", "abs": "/d", "loop": "loop",
			"loop2": "loop3", "loop3": "loop2", "deep": "d/../d/../up", "out": "/../outside/secret"} {
			if err := jail.Symlink(root, name, target); err != nil {
				t.Fatal(err)
			}
		}
		ns := vfs.NewNamespace(vfs.NewRoot(r), "tmpfs", "tmpfs", 0)
		jr, err := ns.Walk(root, ns.Root(), ns.Root(), "/jail", vfs.Follow|vfs.MustDir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ns.Walk(root, jr, jr, path, int(flags)&(vfs.Follow|vfs.MustDir))
		if err != nil {
			return
		}
		for dd := p.Dentry; dd != jr.Dentry; dd = dd.Parent() {
			if dd == nil {
				t.Fatalf("%q resolved outside the jail", path)
			}
		}
	})
}
