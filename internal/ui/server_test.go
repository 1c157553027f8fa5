package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"glassbox/internal/kernel"
	"glassbox/internal/trace"
)

// fakeSource is a kernel that never changes unless told.
type fakeSource struct {
	mu   sync.Mutex
	snap kernel.Snapshot
	tr   *trace.Tracer
}

func newFake() *fakeSource {
	return &fakeSource{snap: pipeline(), tr: trace.New(time.Now())}
}

func (f *fakeSource) Snapshot() kernel.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}
func (f *fakeSource) Tracer() *trace.Tracer { return f.tr }

func startFake(t *testing.T) (*Server, *fakeSource) {
	t.Helper()
	src := newFake()
	s, err := Start(src, "127.0.0.1:0", Options{Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, src
}

// fetch GETs path from the running dashboard.
func fetch(t *testing.T, s *Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(s.URL(), "/") + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, b
}

// get GETs path and wants 200.
func get(t *testing.T, s *Server, path string) []byte {
	t.Helper()
	resp, b := fetch(t, s, path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return b
}

func TestHandlers(t *testing.T) {
	s, src := startFake(t)
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL = %q", s.URL())
	}

	page := string(get(t, s, "/"))
	if strings.Contains(page, "/*GB_INITIAL*/") || !strings.Contains(page, `"comm":"head"`) ||
		!strings.Contains(page, "/static/app.js") {
		t.Errorf("page lacks the inlined view or the script:\n%s", page)
	}
	for _, f := range []string{"/static/app.js", "/static/style.css"} {
		if b := get(t, s, f); len(b) < 100 {
			t.Errorf("%s: only %d bytes", f, len(b))
		}
	}
	if resp, _ := fetch(t, s, "/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope: %d", resp.StatusCode)
	}

	var v View
	if err := json.Unmarshal(get(t, s, "/api/snapshot"), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Procs) != 3 || v.Procs[2].Comm != "head" || len(v.Pipes) != 1 || !v.Running {
		t.Errorf("snapshot = %+v", v)
	}

	// Events reach /api/events through the tracer; fault is a default
	// kind, syscall is not (nobody asked).
	src.tr.Emit(&trace.Event{Kind: trace.Fault, PID: 2, Detail: "write at 0x1000: mapped"})
	src.tr.Emit(&trace.Event{Kind: trace.Syscall, PID: 2, Name: "write"})
	var evs struct {
		Events []Event `json:"events"`
		Next   uint64  `json:"next"`
	}
	if err := json.Unmarshal(get(t, s, "/api/events?since=0"), &evs); err != nil {
		t.Fatal(err)
	}
	if len(evs.Events) != 1 || evs.Events[0].Kind != "fault" || evs.Events[0].PID != 2 || evs.Next != 2 {
		t.Errorf("events = %+v", evs)
	}
	if src.tr.On(trace.Syscall) {
		t.Error("syscall events turned on without a page asking")
	}
}

// sse reads server-sent events: name and data.
func sse(t *testing.T, r *bufio.Reader) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

func TestStream(t *testing.T) {
	s, src := startFake(t)
	src.tr.Emit(&trace.Event{Kind: trace.Proc, PID: 1, Detail: "fork: child pid 2 (fork)"})

	resp, err := http.Get(s.URL() + "api/stream?kinds=proc,syscall")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type = %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	name, data := sse(t, r)
	var v View
	if name != "snapshot" || json.Unmarshal([]byte(data), &v) != nil || len(v.Procs) != 3 {
		t.Fatalf("first message: %s %.200s", name, data)
	}
	name, data = sse(t, r)
	if name != "events" || !strings.Contains(data, "fork: child pid 2") {
		t.Fatalf("second message: %s %s", name, data)
	}
	// Asking for syscall events turned them on in the tracer.
	if !src.tr.On(trace.Syscall) {
		t.Fatal("syscall events not turned on for the page")
	}
	src.tr.Emit(&trace.Event{Kind: trace.Syscall, PID: 3, Name: "read", Result: "4096"})
	src.tr.Emit(&trace.Event{Kind: trace.Fault, PID: 3}) // not asked for
	for {
		name, data = sse(t, r)
		if name == "events" {
			break
		}
	}
	if !strings.Contains(data, `"name":"read"`) || strings.Contains(data, `"fault"`) {
		t.Errorf("events = %s", data)
	}
	// A new process shows in a later snapshot.
	src.mu.Lock()
	src.snap.Procs = append(append([]kernel.ProcSnapshot(nil), src.snap.Procs...), kernel.ProcSnapshot{PID: 9, PPID: 1, Comm: "cat", State: "R"})
	src.mu.Unlock()
	for {
		name, data = sse(t, r)
		if name == "snapshot" && strings.Contains(data, `"comm":"cat"`) {
			break
		}
	}
	// The view counts syscall events per process.
	if !strings.Contains(data, `"syscalls_traced":1`) || !strings.Contains(data, `"syscall_events":true`) {
		t.Errorf("view lacks the syscall count: %.300s", data)
	}
	// Close ends the stream.
	go s.Close()
	if _, err := io.Copy(io.Discard, r); err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Logf("after close: %v", err)
	}
}

func TestLinger(t *testing.T) {
	s, _ := startFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Linger(ctx, nil); close(done) }()
	select {
	case <-done:
		t.Fatal("Linger returned before cancel")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	<-done

	sigs := make(chan os.Signal, 1)
	sigs <- syscall.SIGINT
	s.Linger(context.Background(), sigs) // returns at once
	// Still serving until Close.
	resp, err := http.Get(s.URL() + "api/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.Close()
	if _, err := http.Get(s.URL() + "api/snapshot"); err == nil {
		t.Error("still serving after Close")
	}
}

func TestClosedSinkDropsEvents(t *testing.T) {
	s, src := startFake(t)
	s.Close()
	src.tr.Emit(&trace.Event{Kind: trace.Proc, PID: 1, Detail: "exit status 0"})
	if evs, _, _ := s.log.since(0, DefaultKinds, 10); len(evs) != 0 {
		t.Errorf("events recorded after Close: %+v", evs)
	}
}
