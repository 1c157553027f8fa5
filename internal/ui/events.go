package ui

import (
	"strings"
	"sync"

	"glassbox/internal/trace"
)

// DefaultKinds are the event kinds the dashboard subscribes to from the
// start. Syscall events cost a clock read and an argument rendering per
// call, so they are only turned on once a page asks for them.
const DefaultKinds = trace.Proc | trace.Signal | trace.COW | trace.Fault

// allKinds are every kind a page may ask for, in display order.
var allKinds = []trace.Kind{trace.Proc, trace.Signal, trace.COW, trace.Fault, trace.Syscall, trace.FD, trace.Mem}

// ringSize is how many recent events are kept for pages to read.
const ringSize = 8192

// maxProcEvents bounds the process events kept for the view's history.
const maxProcEvents = 100000

// Event is one trace event as the page receives it: the fields of
// `--trace-format=json` plus a sequence number.
type Event struct {
	Seq uint64 `json:"seq"`
	trace.JSONEvent
}

func toEvent(seq uint64, e *trace.Event) Event { return Event{Seq: seq, JSONEvent: trace.ToJSON(e)} }

// eventLog keeps the last ringSize events, every process event (for the
// view's history) and per-process syscall counts.
type eventLog struct {
	mu       sync.Mutex
	ring     [ringSize]trace.Event
	next     uint64 // sequence number of the next event (first is 1)
	proc     []trace.Event
	syscalls map[int]uint64
}

func newEventLog() *eventLog { return &eventLog{next: 1, syscalls: map[int]uint64{}} }

func (l *eventLog) add(e *trace.Event) {
	l.mu.Lock()
	l.ring[l.next%ringSize] = *e
	l.next++
	switch e.Kind {
	case trace.Proc:
		if len(l.proc) < maxProcEvents {
			l.proc = append(l.proc, *e)
		}
	case trace.Syscall:
		l.syscalls[e.PID]++
	}
	l.mu.Unlock()
}

// since returns up to max events with seq >= from whose kind is in mask,
// the sequence number to ask for next, and how many events were lost
// because the ring moved past them.
func (l *eventLog) since(from uint64, mask trace.Kind, max int) (out []Event, next uint64, lost uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	oldest := uint64(1)
	if l.next > ringSize {
		oldest = l.next - ringSize
	}
	if from < oldest {
		if from > 0 {
			lost = oldest - from
		}
		from = oldest
	}
	seq := from
	for ; seq < l.next && len(out) < max; seq++ {
		e := &l.ring[seq%ringSize]
		if e.Kind&mask != 0 {
			out = append(out, toEvent(seq, e))
		}
	}
	return out, seq, lost
}

// procSince returns the process events from index i on.
func (l *eventLog) procSince(i int) ([]trace.Event, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= len(l.proc) {
		return nil, i
	}
	return append([]trace.Event(nil), l.proc[i:]...), len(l.proc)
}

// syscallCounts copies the per-process syscall event counts.
func (l *eventLog) syscallCounts() map[int]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[int]uint64, len(l.syscalls))
	for k, v := range l.syscalls {
		m[k] = v
	}
	return m
}

// parseKinds reads a page's "proc,signal" list (unknown names ignored).
func parseKinds(s string) trace.Kind {
	var m trace.Kind
	for _, n := range strings.Split(s, ",") {
		for _, k := range allKinds {
			if k.String() == strings.TrimSpace(n) {
				m |= k
			}
		}
	}
	return m
}

// sink receives the default kinds from the tracer.
type sink struct{ s *Server }

// Emit implements trace.Sink. It runs on guest goroutines: it must not
// block or take kernel locks.
func (k sink) Emit(e *trace.Event) {
	if e.Kind&DefaultKinds == 0 || k.s.closed.Load() {
		return
	}
	k.s.record(e)
}

// extraSink receives one kind that a page turned on; it drops events
// while no page wants them (the tracer can't take a kind back).
type extraSink struct {
	s    *Server
	kind trace.Kind
}

// Emit implements trace.Sink.
func (k extraSink) Emit(e *trace.Event) {
	if e.Kind != k.kind || k.s.closed.Load() || k.s.wanted(k.kind) == 0 {
		return
	}
	k.s.record(e)
}
