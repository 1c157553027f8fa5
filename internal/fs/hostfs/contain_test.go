package hostfs

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// snapshot describes everything under dir: names, types, modes, owners,
// sizes, times, link targets and contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %o %d:%d %d %d nlink=%d", p, st.Mode, st.Uid, st.Gid, st.Size, st.Mtim.Nano(), st.Nlink)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			tgt, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %s", tgt)
		case unix.S_IFREG:
			data, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %q", data)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// containEnv: base/outside holds a victim file and directory; base/vol is
// exported and holds symlinks that would lead out if the host followed
// them.
func containEnv(t *testing.T) (e *env, base, outside string) {
	base = t.TempDir()
	outside = filepath.Join(base, "outside")
	vol := filepath.Join(base, "vol")
	for _, d := range []string{outside, filepath.Join(outside, "sub"), vol} {
		must(t, "mkdir", os.Mkdir(d, 0o755))
	}
	must(t, "victim", os.WriteFile(filepath.Join(outside, "victim"), []byte("victim"), 0o644))
	links := map[string]string{
		"root": "/", "up": "../..", "rel": "../outside", "abs": outside,
		"victimlink": filepath.Join(outside, "victim"), "rvictim": "../outside/victim",
	}
	for name, tgt := range links {
		must(t, "symlink", os.Symlink(tgt, filepath.Join(vol, name)))
	}
	must(t, "inside", os.WriteFile(filepath.Join(vol, "inside"), []byte("inside"), 0o644))
	return newEnvAt(t, vol), base, outside
}

// TestContainGuestPaths: every operation through every escaping symlink
// stays inside the exported directory.
func TestContainGuestPaths(t *testing.T) {
	e, base, outside := containEnv(t)
	before := snapshot(t, outside)
	uniq := fmt.Sprintf("gbesc%d", os.Getpid())
	r, n := e.ns.Root(), e.ns
	var prefixes []string
	for _, l := range []string{"root", "up", "rel", "abs"} {
		prefixes = append(prefixes, "/"+l+"/", "/"+l+"/outside/", "/"+l+"/vol/../outside/", "/"+l+base+"/outside/")
	}
	prefixes = append(prefixes, "/../", "/../outside/", "/../../", "/../.."+outside+"/")
	for _, p := range prefixes {
		if f, err := n.Open(root, r, r, p+uniq, unix.O_WRONLY|unix.O_CREAT, 0o644); err == nil {
			f.DecRef()
		}
		n.Mkdir(root, r, r, p+uniq+"d", 0o755)
		n.Symlink(root, r, r, p+uniq+"s", "/etc/passwd")
		n.Mknod(root, r, r, p+uniq+"n", unix.S_IFREG|0o644, 0)
		if in, err := e.walk("/inside", 0); err == nil {
			n.Link(root, in, r, r, p+uniq+"h")
		}
		n.Unlink(root, r, r, p+"victim")
		n.Rmdir(root, r, r, p+"sub")
		n.Rename(root, r, r, p+"victim", r, "/stolen", 0)
		n.Rename(root, r, r, "/inside", r, p+"victim", 0)
		n.Rename(root, r, r, p+"sub", r, "/stolen2", unix.RENAME_EXCHANGE)
		for _, target := range []string{p + "victim", p + "sub"} {
			if q, err := e.walk(target, vfs.Follow); err == nil {
				vfs.Chmod(root, q, 0o777)
				vfs.Chown(root, q, 4242, 4242)
				vfs.Utimes(root, q, &[2]unix.Timespec{{Sec: 1}, {Sec: 1}})
				vfs.Truncate(root, q, 0)
			}
		}
	}
	for _, l := range []string{"victimlink", "rvictim"} {
		if f, err := n.Open(root, r, r, "/"+l, unix.O_WRONLY|unix.O_TRUNC|unix.O_CREAT, 0o600); err == nil {
			f.Write(root, [][]byte{[]byte("pwned")}, -1)
			f.DecRef()
		}
		if q, err := e.walk("/"+l, vfs.Follow); err == nil {
			vfs.Chmod(root, q, 0o777)
		}
	}
	if after := snapshot(t, outside); after != before {
		t.Fatalf("outside changed:\n%s\nbefore:\n%s", after, before)
	}
	for _, p := range []string{"/" + uniq, "/tmp/" + uniq, filepath.Join(base, uniq), filepath.Join(outside, uniq)} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was made on the host", p)
		}
	}
	// "/root/x" and "/up/x" are the volume's own root in the guest.
	if _, err := os.Stat(e.host(uniq)); err != nil {
		t.Errorf("create through /root did not land in the volume: %v", err)
	}
}

// TestContainBadNames: names the vfs never passes are refused before they
// reach the host.
func TestContainBadNames(t *testing.T) {
	e, _, outside := containEnv(t)
	before := snapshot(t, outside)
	d := e.fs.Root().(wdir)
	in, err := d.Lookup(root, "inside")
	must(t, "lookup", err)
	for _, name := range []string{"", ".", "..", "../outside/x", "a/b", "/x", "x\x00y"} {
		if _, err := d.Lookup(root, name); err == nil && name != "" {
			t.Errorf("lookup %q succeeded", name)
		}
		if _, err := d.Create(root, name, 0o644); err != unix.EINVAL {
			t.Errorf("create %q: %v", name, err)
		}
		checks := map[string]error{
			"mkdir":    d.Mkdir(root, name, 0o755),
			"mknod":    d.Mknod(root, name, unix.S_IFREG|0o644, 0),
			"symlink":  d.Symlink(root, name, "x"),
			"link":     d.Link(root, name, in),
			"unlink":   d.Unlink(root, name),
			"rmdir":    d.Rmdir(root, name),
			"rename":   d.Rename(root, "inside", d, name, 0),
			"rename2":  d.Rename(root, name, d, "x", 0),
			"exchange": d.Rename(root, name, d, "inside", unix.RENAME_EXCHANGE),
		}
		for op, err := range checks {
			if err != unix.EINVAL {
				t.Errorf("%s %q: %v", op, name, err)
			}
		}
	}
	if after := snapshot(t, outside); after != before {
		t.Fatalf("outside changed:\n%s", after)
	}
}

// TestContainHostSwap: the host replaces a file and a directory the guest
// has already looked up with symlinks leading out; nothing the guest then
// does through its old handles follows them (with the O_PATH descriptors
// still cached, and after they were evicted).
func TestContainHostSwap(t *testing.T) {
	for _, evict := range []bool{false, true} {
		e, _, outside := containEnv(t)
		before := snapshot(t, outside)
		r, n := e.ns.Root(), e.ns
		must(t, "mkdir", n.Mkdir(root, r, r, "/d", 0o755))
		f := e.open("/d/f", unix.O_WRONLY|unix.O_CREAT, 0o644)
		f.DecRef()
		file, err := e.walk("/d/f", 0)
		must(t, "walk", err)
		dir, err := e.walk("/d", 0)
		must(t, "walk", err)
		must(t, "swap file", os.Remove(e.host("d/f")))
		must(t, "swap file", os.Symlink(filepath.Join(outside, "victim"), e.host("d/f")))
		must(t, "swap dir", os.Rename(e.host("d"), e.host("d.old")))
		must(t, "swap dir", os.Symlink(outside, e.host("d")))
		if evict {
			e.fs.evictAll()
		}
		vfs.Chmod(root, file, 0o777)
		vfs.Chown(root, file, 4242, 4242)
		vfs.Utimes(root, file, &[2]unix.Timespec{{Sec: 1}, {Sec: 1}})
		vfs.Truncate(root, file, 0)
		if of, err := vfs.OpenPath(root, file, unix.O_WRONLY|unix.O_TRUNC, false); err == nil {
			of.Write(root, [][]byte{[]byte("pwned")}, 0)
			of.DecRef()
		}
		n.Link(root, file, r, r, "/l")
		vfs.Chmod(root, dir, 0o777)
		for _, name := range []string{"new", "victim", "sub"} {
			n.Mkdir(root, r, dir, name, 0o755)
			n.Symlink(root, r, dir, name+"s", "x")
			if of, err := n.Open(root, r, dir, name, unix.O_WRONLY|unix.O_CREAT, 0o644); err == nil {
				of.DecRef()
			}
			n.Unlink(root, r, dir, name)
			n.Rmdir(root, r, dir, name)
			n.Rename(root, r, dir, name, r, "/stolen", 0)
			n.Rename(root, r, r, "/inside", dir, name, 0)
		}
		if after := snapshot(t, outside); after != before {
			t.Fatalf("evict=%v: outside changed:\n%s\nbefore:\n%s", evict, after, before)
		}
	}
}
