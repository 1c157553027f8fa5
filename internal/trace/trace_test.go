package trace

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTextAndJSON(t *testing.T) {
	var text, js bytes.Buffer
	tr := New(time.Now())
	tr.Add(NewText(&text, Syscall|COW), Syscall|COW)
	tr.Add(NewJSON(&js, Syscall|COW), Syscall|COW)
	if !tr.On(Syscall) || tr.On(Signal) {
		t.Fatal("mask wrong")
	}
	tr.Emit(&Event{Kind: Syscall, PID: 1, TID: 1, Nr: 1, Name: "write", Args: `1, "hi\n", 3`, Result: "3", Dur: 12 * time.Microsecond})
	tr.Emit(&Event{Kind: COW, PID: 2, TID: 2, Addr: 0x1000, Detail: "copy page 0x1000 on write"})
	if got := text.String(); got != "[pid 1] write#1(1, \"hi\\n\", 3) = 3 <12µs>\n[pid 2] cow: copy page 0x1000 on write\n" {
		t.Errorf("text = %q", got)
	}
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("json lines = %q", js.String())
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["kind"] != "syscall" || ev["name"] != "write" || ev["nr"] != 1.0 || ev["dur_us"] != 12.0 || ev["result"] != "3" {
		t.Errorf("syscall json = %v", ev)
	}
	ev = nil
	if err := json.Unmarshal([]byte(lines[1]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["kind"] != "cow" || ev["addr"] != 4096.0 || ev["nr"] != nil {
		t.Errorf("cow json = %v", ev)
	}
}

func TestParseKinds(t *testing.T) {
	k, err := ParseKinds("syscall,cow")
	if err != nil || k != Syscall|COW {
		t.Errorf("ParseKinds = %v, %v", k, err)
	}
	if _, err := ParseKinds("bogus"); err == nil {
		t.Error("bogus kind accepted")
	}
}

// BenchmarkOnOff is the cost the syscall path pays per check when nobody
// traces: one atomic load (compare with ~9 µs per trapped syscall).
func BenchmarkOnOff(b *testing.B) {
	tr := New(time.Now())
	n := 0
	for i := 0; i < b.N; i++ {
		if tr.On(Syscall) {
			n++
		}
	}
	if n != 0 {
		b.Fatal("tracing on")
	}
}
