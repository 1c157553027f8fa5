package tests

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// TestExecBadInterp: executables whose PT_INTERP header lies — a length
// of 2^40 bytes (glassbox allocated that much and died of it), past
// PATH_MAX, without its NUL, past the file's end — are refused as Linux
// refuses them (ENOEXEC; EIO for headers past the end), and a shell
// reports it the same way.
func TestExecBadInterp(t *testing.T) {
	t.Parallel()
	orig, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	le := binary.LittleEndian
	phoff, phent, phnum := le.Uint64(orig[32:]), int(le.Uint16(orig[54:])), int(le.Uint16(orig[56:]))
	patch := func(name string, fn func(ph []byte)) string {
		b := append([]byte(nil), orig...)
		found := false
		for i := 0; i < phnum; i++ {
			ph := b[int(phoff)+i*phent:]
			if le.Uint32(ph) == 3 { // PT_INTERP
				fn(ph)
				found = true
			}
		}
		if !found {
			t.Fatal("/bin/true has no PT_INTERP")
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	huge := patch("huge", func(ph []byte) { le.PutUint64(ph[32:], 1<<40) })
	long := patch("long", func(ph []byte) { le.PutUint64(ph[32:], 4097) })
	nonul := patch("nonul", func(ph []byte) { le.PutUint64(ph[32:], le.Uint64(ph[32:])-1) })
	past := patch("past", func(ph []byte) { le.PutUint64(ph[8:], 1<<30) })
	script := ""
	for _, p := range []string{huge, long, nonul, past} {
		script += p + "; echo " + filepath.Base(p) + " $?; "
	}
	diff(t, []string{"sh", "-c", script + "/bin/true; echo true $?"})
}
