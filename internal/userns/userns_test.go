package userns

import (
	"testing"

	"golang.org/x/sys/unix"
)

// writer is a creator in the initial namespace with capabilities there
// (root) or not.
func writer(ns *NS, euid, egid uint32, capInit bool) Writer {
	return Writer{NS: ns, EUID: euid, EGID: egid, Capable: func(target *NS, _ int) bool {
		if target == nil {
			return capInit
		}
		// Capabilities in a child namespace: its owner's.
		return target.Owner == euid
	}}
}

func TestWriteMapRules(t *testing.T) {
	// Unprivileged: only its own uid, one line, once.
	ns, _ := New(nil, 1000, 1000)
	w := writer(nil, 1000, 1000, false)
	if err := WriteMap(ns, w, "0 0 1\n", false); err != unix.EPERM {
		t.Errorf("mapping another uid unprivileged: %v, want EPERM", err)
	}
	if err := WriteMap(ns, w, "0 1000 2\n", false); err != unix.EPERM {
		t.Errorf("a range unprivileged: %v, want EPERM", err)
	}
	if err := WriteMap(ns, w, "0 1000 1\n", false); err != nil {
		t.Fatalf("own uid: %v", err)
	}
	if err := WriteMap(ns, w, "0 1000 1\n", false); err != unix.EPERM {
		t.Errorf("second write: %v, want EPERM", err)
	}
	if k, ok := KUID(ns, 0); !ok || k != 1000 {
		t.Errorf("KUID(0) = %d %v", k, ok)
	}
	if ShowUID(ns, 0) != Overflow {
		t.Errorf("unmapped kernel uid 0 shows as %d", ShowUID(ns, 0))
	}
	// gid_map needs setgroups denied first.
	if err := WriteMap(ns, w, "0 1000 1\n", true); err != unix.EPERM {
		t.Errorf("gid_map before setgroups deny: %v, want EPERM", err)
	}
	if err := WriteSetgroups(ns, w, "deny\n"); err != nil {
		t.Fatal(err)
	}
	if err := WriteSetgroups(ns, w, "allow"); err != unix.EPERM {
		t.Errorf("allow after deny: %v, want EPERM", err)
	}
	if err := WriteMap(ns, w, "0 1000 1\n", true); err != nil {
		t.Errorf("own gid after deny: %v", err)
	}
	// Privileged: any ranges, checked for overlap and syntax.
	root, _ := New(nil, 0, 0)
	rw := writer(nil, 0, 0, true)
	for _, bad := range []string{"0 0\n", "0 0 0\n", "0 0 10\n5 100 10\n", "x 0 1\n", "0 0 1\n\n"} {
		if err := WriteMap(root, rw, bad, false); err != unix.EINVAL {
			t.Errorf("%q: %v, want EINVAL", bad, err)
		}
	}
	if err := WriteMap(root, rw, "0 100000 65536\n", false); err != nil {
		t.Fatal(err)
	}
	if got := FormatMap(root, nil, false); got != "         0     100000      65536\n" {
		t.Errorf("uid_map reads %q", got)
	}
}
