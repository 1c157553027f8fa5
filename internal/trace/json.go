package trace

import (
	"encoding/json"
	"io"
	"sync"
)

// JSON writes events as JSON lines, one object per event, for tools.
type JSON struct {
	mu   sync.Mutex
	enc  *json.Encoder
	mask Kind
}

// NewJSON returns a sink writing JSON lines for the kinds in mask to w.
func NewJSON(w io.Writer, mask Kind) *JSON { return &JSON{enc: json.NewEncoder(w), mask: mask} }

// JSONEvent is the line format: fields that don't apply are left out.
// The dashboard sends the same fields.
type JSONEvent struct {
	Kind   string  `json:"kind"`
	TimeUS float64 `json:"t_us"`
	PID    int     `json:"pid,omitempty"`
	TID    int     `json:"tid,omitempty"`
	Nr     *int    `json:"nr,omitempty"`
	Name   string  `json:"name,omitempty"`
	Args   string  `json:"args,omitempty"`
	Result string  `json:"result,omitempty"`
	DurUS  float64 `json:"dur_us,omitempty"`
	Addr   uint64  `json:"addr,omitempty"`
	Detail string  `json:"detail,omitempty"`
	Pages  int     `json:"pages,omitempty"`
}

// ToJSON renders e in the line format.
func ToJSON(e *Event) JSONEvent {
	j := JSONEvent{Kind: e.Kind.String(), TimeUS: float64(e.Time.Nanoseconds()) / 1e3, PID: e.PID, TID: e.TID,
		Addr: e.Addr, Detail: e.Detail, Pages: e.Pages}
	if e.Kind == Syscall {
		nr := e.Nr
		j.Nr, j.Name, j.Args, j.Result = &nr, e.Name, e.Args, e.Result
		j.DurUS = float64(e.Dur.Nanoseconds()) / 1e3
	}
	return j
}

// Emit implements Sink.
func (s *JSON) Emit(e *Event) {
	if e.Kind&s.mask == 0 {
		return
	}
	j := ToJSON(e)
	s.mu.Lock()
	s.enc.Encode(&j)
	s.mu.Unlock()
}
