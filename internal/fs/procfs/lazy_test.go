package procfs

import (
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

// A /proc/PID entry is made once per directory, at its first lookup or at
// the first listing, and a lookup and a listing give the same inode.
func TestLazyChildren(t *testing.T) {
	made := map[string]int{}
	c := &lazyChildren{make: func(name string) vfs.Inode {
		known := false
		for _, n := range pidNames {
			known = known || n == name
		}
		if !known || name == "net" { // no network
			return nil
		}
		made[name]++
		return synth.NewFile(Dev, func(vfs.Ctx) ([]byte, error) { return nil, nil })
	}}
	exe := c.find(nil, "exe")
	if exe == nil || c.find(nil, "exe") != exe || made["exe"] != 1 {
		t.Fatalf("exe: %v, made %d times", exe, made["exe"])
	}
	if len(made) != 1 {
		t.Errorf("a lookup made %v", made)
	}
	if c.find(nil, "nope") != nil || c.find(nil, "net") != nil {
		t.Error("a name the directory lacks was found")
	}
	all := c.list(nil)
	if len(all) != len(pidNames)-1 || all["exe"] != exe {
		t.Errorf("list: %d entries, exe %v (want %d, %v)", len(all), all["exe"], len(pidNames)-1, exe)
	}
	for name, n := range made {
		if n != 1 {
			t.Errorf("%s made %d times", name, n)
		}
	}
	if st := all["status"]; c.find(nil, "status") != st {
		t.Error("lookup after list made a new status")
	}
	if c.find(nil, "net") != nil {
		t.Error("net found after list")
	}
}

// synth.Dir's Find answers lookups in place of List.
func TestDirFind(t *testing.T) {
	f := synth.NewFile(Dev, nil)
	d := &synth.Dir{Attr: synth.NewAttr(Dev, unix.S_IFDIR|0o555),
		List: func(vfs.Ctx) map[string]vfs.Inode { t.Fatal("List called for a lookup"); return nil },
		Find: func(_ vfs.Ctx, name string) vfs.Inode {
			if name == "f" {
				return f
			}
			return nil
		}}
	if in, err := d.Lookup(nil, "f"); in != f || err != nil {
		t.Errorf("Lookup(f) = %v, %v", in, err)
	}
	if _, err := d.Lookup(nil, "g"); err != unix.ENOENT {
		t.Errorf("Lookup(g): %v, want ENOENT", err)
	}
}
