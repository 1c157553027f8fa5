package trace

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is a class of events; kinds are bits so a mask selects several.
type Kind uint32

const (
	Syscall Kind = 1 << iota
	Fault
	COW
	Signal
	Proc
	FD
	Mem
)

var kindNames = []struct {
	k Kind
	n string
}{{Syscall, "syscall"}, {Fault, "fault"}, {COW, "cow"}, {Signal, "signal"}, {Proc, "proc"}, {FD, "fd"}, {Mem, "mem"}}

// ParseKinds turns "syscall,fault" (or "all") into a mask.
func ParseKinds(s string) (Kind, error) {
	var m Kind
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if part == "all" {
			for _, kn := range kindNames {
				m |= kn.k
			}
			continue
		}
		found := false
		for _, kn := range kindNames {
			if kn.n == part {
				m |= kn.k
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown trace kind %q (want syscall, fault, cow, signal, proc, fd, mem or all)", part)
		}
	}
	return m, nil
}

func (k Kind) String() string {
	for _, kn := range kindNames {
		if kn.k == k {
			return kn.n
		}
	}
	return "?"
}

// Event is one thing that happened.
type Event struct {
	Kind Kind
	Time time.Duration // since the sandbox started
	PID  int
	TID  int

	// Syscall events.
	Nr     int
	Name   string
	Args   string
	Result string
	Dur    time.Duration

	// Other events: an address and a readable description.
	Addr   uint64
	Detail string
	// Pages is how many pages from Addr's page a COW event copied.
	Pages int
}

// Sink receives events.
type Sink interface {
	Emit(e *Event)
}

// Tracer fans events out to sinks.
type Tracer struct {
	mask  atomic.Uint32
	start time.Time

	mu    sync.Mutex
	sinks []Sink
}

// New returns a tracer with no sinks.
func New(start time.Time) *Tracer { return &Tracer{start: start} }

// On reports whether anyone wants events of kind k. Nil-safe.
func (t *Tracer) On(k Kind) bool { return t != nil && Kind(t.mask.Load())&k != 0 }

// Add registers a sink for the kinds in mask.
func (t *Tracer) Add(s Sink, mask Kind) {
	t.mu.Lock()
	t.sinks = append(t.sinks, s)
	t.mu.Unlock()
	for {
		old := t.mask.Load()
		if t.mask.CompareAndSwap(old, old|uint32(mask)) {
			return
		}
	}
}

// Emit stamps e and hands it to every sink.
func (t *Tracer) Emit(e *Event) {
	e.Time = time.Since(t.start)
	t.mu.Lock()
	sinks := t.sinks
	t.mu.Unlock()
	for _, s := range sinks {
		s.Emit(e)
	}
}

// Text writes events as readable lines.
type Text struct {
	mu   sync.Mutex
	w    io.Writer
	mask Kind
}

// NewText returns a sink writing lines for the kinds in mask to w.
func NewText(w io.Writer, mask Kind) *Text { return &Text{w: w, mask: mask} }

// Emit implements Sink.
func (s *Text) Emit(e *Event) {
	if e.Kind&s.mask == 0 {
		return
	}
	var line string
	switch e.Kind {
	case Syscall:
		line = fmt.Sprintf("[pid %d] %s#%d(%s) = %s <%s>\n", e.TID, e.Name, e.Nr, e.Args, e.Result, fmtDur(e.Dur))
	default:
		line = fmt.Sprintf("[pid %d] %s: %s\n", e.TID, e.Kind, e.Detail)
	}
	s.mu.Lock()
	io.WriteString(s.w, line)
	s.mu.Unlock()
}

func fmtDur(d time.Duration) string {
	us := d.Microseconds()
	if us < 1000 {
		return fmt.Sprintf("%dµs", us)
	}
	return fmt.Sprintf("%.1fms", float64(d)/1e6)
}
