package kernel

import (
	"strings"
	"testing"
)

// FuzzParseShebang: the bytes after "#!" in a guest's script (at most
// the 254 execve reads) split into an interpreter without blanks and an
// argument without surrounding blanks, both within the line, with no
// panic.
func FuzzParseShebang(f *testing.F) {
	for _, s := range []string{"/bin/sh\n", " /usr/bin/env python3 -u\nprint(1)\n", "/fuzz run\r\n",
		"\t\t\n", "", "/a\tb  c \t\r", "/x\x00y z\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 254 {
			b = b[:254]
		}
		interp, arg, ok := parseShebang(b)
		if !ok {
			if interp != "" || arg != "" {
				t.Fatalf("refused, yet %q %q", interp, arg)
			}
			return
		}
		line := string(b)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		if interp == "" || strings.ContainsAny(interp, " \t\n") || !strings.Contains(line, interp) {
			t.Fatalf("interpreter %q from %q", interp, line)
		}
		if arg != strings.Trim(arg, " \t") && !strings.HasSuffix(arg, "\r") || strings.Contains(arg, "\n") || !strings.Contains(line, arg) {
			t.Fatalf("argument %q from %q", arg, line)
		}
	})
}
