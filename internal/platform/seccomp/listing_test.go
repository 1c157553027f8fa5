package seccomp

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestListing disassembles the stub with objdump when GLASSBOX_STUB_LISTING
// is set (a reading aid; the encodings are checked by TestAsmForms).
func TestListing(t *testing.T) {
	if os.Getenv("GLASSBOX_STUB_LISTING") == "" {
		t.Skip("set GLASSBOX_STUB_LISTING=1 to print the stub's disassembly")
	}
	s := buildStub()
	f := filepath.Join(t.TempDir(), "stub.bin")
	os.WriteFile(f, s.code, 0o644)
	out, err := exec.Command("objdump", "-D", "--insn-width=12", "-b", "binary", "-m", "i386:x86-64",
		"--adjust-vma=0x7ff000000100", f).CombinedOutput()
	if err != nil {
		t.Fatal(err, string(out))
	}
	t.Logf("\n%s", out)
	for n, v := range s.a.sites {
		t.Logf("site %-18s %#x", n, v)
	}
}
