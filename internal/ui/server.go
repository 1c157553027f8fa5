package ui

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"glassbox/internal/kernel"
	"glassbox/internal/trace"
)

//go:embed static
var static embed.FS

// Source is what the dashboard watches: a *kernel.Kernel, or a fake in tests.
type Source interface {
	Snapshot() kernel.Snapshot
	Tracer() *trace.Tracer // may be nil: no event log
}

// minGap is the least time between two snapshots that process events
// asked for (a fork loop must not turn the dashboard into a busy loop).
const minGap = 25 * time.Millisecond

// Options tune a Server; the zero value is the default.
type Options struct {
	Interval time.Duration // between snapshots (default 250 ms)
}

// Server is a running dashboard.
type Server struct {
	src      Source
	interval time.Duration
	ln       net.Listener
	conns    conns
	url      string
	quit     chan struct{}
	loopDone chan struct{}
	trigger  chan struct{}
	closed   atomic.Bool

	log *eventLog

	// refreshMu serialises snapshots and guards hist; mu guards the
	// current view.
	refreshMu sync.Mutex
	hist      *history
	mu        sync.Mutex
	viewJSON  []byte
	version   uint64

	// Clients' wake channels, replaced whole when one comes or goes so
	// Emit can read them without a lock.
	clientsMu sync.Mutex
	clients   atomic.Pointer[[]chan struct{}]

	regMu      sync.Mutex
	registered trace.Kind // kinds with a sink in the tracer
	want       [32]atomic.Int32
}

// Start listens on addr (host:port; port 0 picks one), subscribes to the
// source's tracer and starts serving. Call it before the guest starts so
// no process event is missed.
func Start(src Source, addr string, opt Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if opt.Interval <= 0 {
		opt.Interval = 250 * time.Millisecond
	}
	s := &Server{src: src, interval: opt.Interval, ln: ln, quit: make(chan struct{}), loopDone: make(chan struct{}),
		trigger: make(chan struct{}, 1), log: newEventLog(), hist: newHistory(), registered: DefaultKinds}
	s.url = urlFor(ln.Addr())
	s.clients.Store(&[]chan struct{}{})
	if tr := src.Tracer(); tr != nil {
		tr.Add(sink{s}, DefaultKinds)
	}
	s.refresh()
	go s.serve(ln)
	go s.loop()
	return s, nil
}

// The paths served (route, in http.go):
//
//	/                 the page, with the current view inlined
//	/static/...       its script and style sheet
//	/api/snapshot     the view as JSON (?fresh=1 takes a snapshot first)
//	/api/events       recent events as JSON (?since=SEQ&kinds=proc,syscall)
//	/api/stream       server-sent events: "snapshot" and "events" (?kinds=, ?since=)

// urlFor is the address to print: an unspecified host becomes 127.0.0.1.
func urlFor(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// URL is the page's address, e.g. http://127.0.0.1:8080/.
func (s *Server) URL() string { return s.url }

// Close stops serving. The tracer keeps the sinks (it can't drop them),
// but they drop every event from now on.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.quit)
	err := s.ln.Close()
	s.conns.closeAll()
	<-s.loopDone
	return err
}

// Linger keeps serving after the guest has exited, until ctx is done or a
// signal arrives on sigs (nil: only ctx).
func (s *Server) Linger(ctx context.Context, sigs <-chan os.Signal) {
	s.refresh()
	select {
	case <-ctx.Done():
	case <-sigs:
	case <-s.quit:
	}
}

// record stores an event and tells whoever waits. Guest goroutines call it.
func (s *Server) record(e *trace.Event) {
	s.log.add(e)
	if e.Kind == trace.Proc {
		select {
		case s.trigger <- struct{}{}:
		default:
		}
	}
	s.wakeAll()
}

func (s *Server) wakeAll() {
	for _, c := range *s.clients.Load() {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// loop takes snapshots: every interval, and soon after a process event
// (a process that lives for less than the interval still gets seen).
func (s *Server) loop() {
	defer close(s.loopDone)
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	var last time.Time
	for {
		select {
		case <-s.quit:
			return
		case <-tick.C:
		case <-s.trigger:
			// Let the exec or fork settle, and batch a burst of them:
			// at most one snapshot per minGap.
			wait := 5 * time.Millisecond
			if d := minGap - time.Since(last); d > wait {
				wait = d
			}
			time.Sleep(wait)
		}
		s.refresh()
		last = time.Now()
	}
}

// refresh takes a snapshot and re-encodes the view if it changed.
func (s *Server) refresh() {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	snap := s.src.Snapshot()
	evs, next := s.log.procSince(s.hist.nextEv)
	s.hist.nextEv = next
	s.hist.apply(evs)
	v := s.hist.merge(snap, s.log.syscallCounts())
	v.SyscallEvents = s.wanted(trace.Syscall) > 0
	b, err := json.Marshal(v)
	s.mu.Lock()
	changed := err == nil && !bytes.Equal(b, s.viewJSON)
	if changed {
		s.viewJSON = b
		s.version++
	}
	s.mu.Unlock()
	if changed {
		s.wakeAll()
	}
}

func (s *Server) view() ([]byte, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewJSON, s.version
}

// wanted is how many pages want kind k.
func (s *Server) wanted(k trace.Kind) int32 { return s.want[bitIndex(k)].Load() }

func bitIndex(k trace.Kind) int {
	for i := 0; i < 32; i++ {
		if k == 1<<i {
			return i
		}
	}
	return 31
}

// subscribe counts a page's interest in mask (delta +1 or -1), adding a
// sink to the tracer the first time a kind beyond the defaults is wanted.
func (s *Server) subscribe(mask trace.Kind, delta int32) {
	for _, k := range allKinds {
		if mask&k == 0 || DefaultKinds&k != 0 {
			continue
		}
		s.want[bitIndex(k)].Add(delta)
		if delta > 0 {
			s.regMu.Lock()
			if s.registered&k == 0 {
				if tr := s.src.Tracer(); tr != nil {
					tr.Add(extraSink{s, k}, k)
				}
				s.registered |= k
			}
			s.regMu.Unlock()
		}
	}
}

func (s *Server) addClient(c chan struct{}) {
	s.clientsMu.Lock()
	old := *s.clients.Load()
	n := append(append([]chan struct{}(nil), old...), c)
	s.clients.Store(&n)
	s.clientsMu.Unlock()
}

func (s *Server) removeClient(c chan struct{}) {
	s.clientsMu.Lock()
	var n []chan struct{}
	for _, o := range *s.clients.Load() {
		if o != c {
			n = append(n, o)
		}
	}
	s.clients.Store(&n)
	s.clientsMu.Unlock()
}

// handleIndex serves the page with the current view inlined, so it shows
// the processes even before (or without) the live stream.
func (s *Server) handleIndex(w *response, r *request) {
	if r.path != "/" && r.path != "/index.html" {
		notFound(w)
		return
	}
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		httpError(w, err.Error(), 500)
		return
	}
	b, _ := s.view()
	// json.Marshal escapes <, > and &, so the JSON can't end the script.
	page = bytes.Replace(page, []byte("/*GB_INITIAL*/null"), b, 1)
	w.setHeader("Content-Type", "text/html; charset=utf-8")
	w.setHeader("Cache-Control", "no-store")
	w.Write(page)
}

func (s *Server) handleSnapshot(w *response, r *request) {
	if r.query.Get("fresh") != "" {
		s.refresh()
	}
	b, _ := s.view()
	w.setHeader("Content-Type", "application/json")
	w.setHeader("Cache-Control", "no-store")
	w.Write(b)
}

// handleEvents returns recent events as JSON: ?since=SEQ&kinds=proc,signal.
func (s *Server) handleEvents(w *response, r *request) {
	q := r.query
	since, _ := parseUint(q.Get("since"))
	mask := DefaultKinds | trace.Syscall | trace.FD | trace.Mem
	if k := q.Get("kinds"); k != "" {
		mask = parseKinds(k)
	}
	evs, next, lost := s.log.since(since, mask, ringSize)
	if evs == nil {
		evs = []Event{}
	}
	w.setHeader("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Events []Event `json:"events"`
		Next   uint64  `json:"next"`
		Lost   uint64  `json:"lost"`
	}{evs, next, lost})
}

// handleStream is the live feed (server-sent events): "snapshot" with the
// view whenever it changes, "events" with batches of trace events of the
// kinds asked for (?kinds=proc,signal,cow,fault,syscall; ?since=SEQ or
// Last-Event-ID to resume).
func (s *Server) handleStream(w *response, r *request) {
	q := r.query
	mask := DefaultKinds
	if k := q.Get("kinds"); k != "" {
		mask = parseKinds(k)
	}
	cursor, _ := parseUint(q.Get("since"))
	if id, err := parseUint(r.header["last-event-id"]); err == nil {
		cursor = id + 1
	}
	s.subscribe(mask, 1)
	defer s.subscribe(mask, -1)
	if mask&trace.Syscall != 0 {
		s.refresh() // the view tells pages syscall events are on
	}
	wake := make(chan struct{}, 1)
	s.addClient(wake)
	defer s.removeClient(wake)

	w.setHeader("Content-Type", "text/event-stream")
	w.setHeader("Cache-Control", "no-store")
	w.setHeader("X-Accel-Buffering", "no")
	if w.flush() != nil {
		return
	}
	var sent uint64
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		var buf bytes.Buffer
		if b, v := s.view(); v != sent {
			sent = v
			fmt.Fprintf(&buf, "event: snapshot\ndata: %s\n\n", b)
		}
		for {
			evs, next, lost := s.log.since(cursor, mask, 500)
			cursor = next
			if len(evs) == 0 && lost == 0 {
				break
			}
			b, _ := json.Marshal(struct {
				Events []Event `json:"events"`
				Lost   uint64  `json:"lost"`
			}{evs, lost})
			fmt.Fprintf(&buf, "id: %d\nevent: events\ndata: %s\n\n", next-1, b)
			if len(evs) < 500 || buf.Len() > 1<<20 {
				break
			}
		}
		if buf.Len() > 0 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
		}
		select {
		case <-r.ctx.Done():
			return
		case <-s.quit:
			return
		case <-ping.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil {
				return
			}
		case <-wake:
			// Batch: at most ten updates a second per page.
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.ctx.Done():
				return
			}
		}
	}
}

func parseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	var n uint64
	_, err := fmt.Sscan(s, &n)
	return n, err
}
