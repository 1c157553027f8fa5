package syscalls

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// docPath is the syscall table users read.
const docPath = "../../docs/SYSCALLS.md"

// docRow is one row of docs/SYSCALLS.md's table.
type docRow struct {
	nr                   int
	name, file, errs, pt string
}

// handlerFile is the file that defines a syscall's handler.
func handlerFile(fn any) string {
	f := runtime.FuncForPC(reflect.ValueOf(fn).Pointer())
	if f == nil {
		return "?"
	}
	file, _ := f.FileLine(f.Entry())
	return filepath.Base(file)
}

// registered lists the table's rows as the registered handlers say:
// number, name, handler file and what is partial (the errors tested are
// the document's own).
func registered() map[int]docRow {
	out := map[int]docRow{}
	for nr, sc := range table.Calls {
		if sc.Fn == nil {
			continue
		}
		out[nr] = docRow{nr: nr, name: sc.Name, file: handlerFile(sc.Fn), pt: sc.Note}
	}
	return out
}

// parseDoc reads the rows of the table: lines "| nr | name | file | errors | partial |".
func parseDoc(t *testing.T) map[int]docRow {
	t.Helper()
	b, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]docRow{}
	for i, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 7 || strings.TrimSpace(cells[0]) != "" {
			continue
		}
		nr, err := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err != nil {
			continue // the header and its rule
		}
		if _, dup := out[nr]; dup {
			t.Errorf("%s:%d: syscall %d listed twice", docPath, i+1, nr)
		}
		trim := func(s string) string { return strings.Trim(strings.TrimSpace(s), "`") }
		out[nr] = docRow{nr: nr, name: trim(cells[2]), file: trim(cells[3]), errs: strings.TrimSpace(cells[4]),
			pt: strings.TrimSpace(cells[5])}
	}
	return out
}

func (r docRow) String() string {
	return fmt.Sprintf("| %d | `%s` | `%s` | %s | %s |", r.nr, r.name, r.file, r.errs, r.pt)
}

// TestSyscallsDoc: docs/SYSCALLS.md has one row per registered syscall,
// with its number, name, handler file and partial note as registered,
// and no row for a syscall without a handler.
func TestSyscallsDoc(t *testing.T) {
	want, got := registered(), parseDoc(t)
	for nr := 0; nr < 1024; nr++ {
		w, inReg := want[nr]
		g, inDoc := got[nr]
		switch {
		case inReg && !inDoc:
			t.Errorf("missing row: %v", w)
		case inDoc && !inReg:
			t.Errorf("row for a syscall with no handler: %v", g)
		case inReg && (w.name != g.name || w.file != g.file || w.pt != g.pt):
			w.errs = g.errs
			t.Errorf("row differs from the registry:\n doc: %v\nwant: %v", g, w)
		}
	}
	if n := len(want); !strings.Contains(string(must(os.ReadFile(docPath))), fmt.Sprintf("%d system calls have handlers", n)) {
		t.Errorf("%s must say %q", docPath, fmt.Sprintf("%d system calls have handlers", n))
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
