package ui

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"glassbox/internal/trace"
)

// raw sends req as it is on a new connection, ends its side, and returns
// all the server wrote before closing it.
func raw(t *testing.T, s *Server, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("%q: %v", req, err)
	}
	return string(b)
}

func TestHTTPResponses(t *testing.T) {
	s, _ := startFake(t)
	for _, c := range []struct{ path, ctype string }{
		{"/", "text/html; charset=utf-8"},
		{"/index.html", "text/html; charset=utf-8"},
		{"/static/app.js", "text/javascript; charset=utf-8"},
		{"/static/style.css", "text/css; charset=utf-8"},
		{"/api/snapshot", "application/json"},
		{"/api/events", "application/json"},
	} {
		resp, b := fetch(t, s, c.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype {
			t.Errorf("GET %s: %d %q, want 200 %q", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.ctype)
		}
		if resp.ContentLength != int64(len(b)) {
			t.Errorf("GET %s: Content-Length %d for %d bytes", c.path, resp.ContentLength, len(b))
		}
	}
	for _, p := range []string{"/nope", "/static/", "/static/nope.js", "/static/../server.go", "/api/", "/api/snapshot/x"} {
		resp, b := fetch(t, s, p)
		if resp.StatusCode != 404 || string(b) != "404 page not found\n" {
			t.Errorf("GET %s: %d %q, want 404", p, resp.StatusCode, b)
		}
	}

	// HEAD: the headers (with the length a GET would have), no body.
	_, page := fetch(t, s, "/static/style.css")
	out := raw(t, s, "HEAD /static/style.css HTTP/1.1\r\nHost: x\r\n\r\n")
	head, body, _ := strings.Cut(out, "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") || body != "" ||
		!strings.Contains(head, "\r\nContent-Length: "+strconv.Itoa(len(page))+"\r\n") {
		t.Errorf("HEAD: %q", out)
	}
	// Query strings are decoded.
	if resp, _ := fetch(t, s, "/api/events?since=0&kinds=proc%2Cfault"); resp.StatusCode != 200 {
		t.Errorf("events with an escaped query: %d", resp.StatusCode)
	}
	// Requests that are not HTTP/1.x get 400; one whose headers pass the
	// bound gets 431.
	for _, req := range []string{"GET\r\n\r\n", "GET / SPDY/3\r\n\r\n", "GET nope HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n"} {
		if out := raw(t, s, req); !strings.HasPrefix(out, "HTTP/1.1 400 Bad Request\r\n") {
			t.Errorf("%q: %q", req, out)
		}
	}
	big := "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeaderBytes) + "\r\n\r\n"
	if out := raw(t, s, big); !strings.HasPrefix(out, "HTTP/1.1 431 ") {
		t.Errorf("oversized headers: %.100q", out)
	}
	// A client that connects and goes away gets nothing.
	if out := raw(t, s, ""); out != "" {
		t.Errorf("empty request: %q", out)
	}
}

// TestStreamClientGone: a page that closes its stream stops counting as
// one that wants its kinds.
func TestStreamClientGone(t *testing.T) {
	s, _ := startFake(t)
	resp, err := http.Get(s.URL() + "api/stream?kinds=proc,syscall&since=0")
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" || resp.ContentLength != -1 {
		t.Errorf("Content-Type %q, length %d", ct, resp.ContentLength)
	}
	if name, _ := sse(t, bufio.NewReader(resp.Body)); name != "snapshot" {
		t.Fatalf("first message %q", name)
	}
	if s.wanted(trace.Syscall) != 1 {
		t.Fatalf("wanted(syscall) = %d with the page open", s.wanted(trace.Syscall))
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for s.wanted(trace.Syscall) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream outlived its client")
		}
		time.Sleep(time.Millisecond)
	}
}
