package vfs

import "testing"

type statOps struct{ BaseOps }

func (statOps) Stat(Ctx) (Stat, error) { return Stat{}, nil }

// NewAnonFileNamer makes the name at the first AnonName, once.
func TestAnonFileNamer(t *testing.T) {
	calls := 0
	f := NewAnonFileNamer(statOps{}, func() string { calls++; return "pipe:[7]" }, 0)
	if calls != 0 {
		t.Fatal("name made before it was asked for")
	}
	if n := f.AnonName(); n != "pipe:[7]" || f.AnonName() != n || calls != 1 {
		t.Errorf("AnonName = %q, made %d times", n, calls)
	}
	if n := NewAnonFile(statOps{}, "anon_inode:[eventfd]", 0).AnonName(); n != "anon_inode:[eventfd]" {
		t.Errorf("NewAnonFile: AnonName = %q", n)
	}
}
