package ui

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The dashboard speaks just enough HTTP/1.x for its page, the page's
// static files, the JSON API and the server-sent event stream: one
// request per connection, each response closing it. net/http is not
// used because linking it (with crypto/tls and the rest it brings) makes
// every glassbox start pay its packages' initialisation, dashboard or not.

// maxHeaderBytes bounds a request's line and headers (as net/http's
// DefaultMaxHeaderBytes).
const maxHeaderBytes = 1 << 20

// headerTimeout is how long a client may take to send its request.
const headerTimeout = 10 * time.Second

// request is one parsed request.
type request struct {
	method string
	path   string // unescaped
	query  url.Values
	header map[string]string // names in lower case
	ctx    context.Context   // done when the client goes away or the server closes
}

// response collects one response. Until flush it is buffered, and sent
// with its length; after a flush (a stream) the body runs until the
// connection closes.
type response struct {
	conn   net.Conn
	head   bool // a HEAD request: no body
	status int
	header []string // "Name: value"
	body   bytes.Buffer
	length int  // of the body, HEAD's included
	sent   bool // status line and headers written
	err    error
}

func (w *response) setHeader(name, value string) {
	w.header = append(w.header, name+": "+value)
}

// Write adds to the body.
func (w *response) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.length += len(p)
	if !w.head {
		w.body.Write(p)
	}
	if w.sent {
		return len(p), w.flush()
	}
	return len(p), nil
}

// writeHead writes the status line and the headers; length < 0 means the
// body ends with the connection.
func (w *response) writeHead(length int) {
	if w.status == 0 {
		w.status = 200
	}
	var b strings.Builder
	b.WriteString("HTTP/1.1 " + strconv.Itoa(w.status) + " " + statusText(w.status) + "\r\n")
	for _, h := range w.header {
		b.WriteString(h + "\r\n")
	}
	if length >= 0 {
		b.WriteString("Content-Length: " + strconv.Itoa(length) + "\r\n")
	}
	b.WriteString("Date: " + time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05") + " GMT\r\n")
	b.WriteString("Connection: close\r\n\r\n")
	w.sent = true
	_, w.err = io.WriteString(w.conn, b.String())
}

// flush sends what the body holds now, the headers first if they are not
// out yet: the response becomes a stream.
func (w *response) flush() error {
	if !w.sent {
		w.writeHead(-1)
	}
	if w.err == nil && w.body.Len() > 0 {
		_, w.err = w.conn.Write(w.body.Bytes())
	}
	w.body.Reset()
	return w.err
}

// finish sends a response that was never flushed, with its length.
func (w *response) finish() {
	if w.sent {
		return
	}
	w.writeHead(w.length)
	if w.err == nil && w.body.Len() > 0 {
		_, w.err = w.conn.Write(w.body.Bytes())
	}
}

// notFound is net/http's NotFound.
func notFound(w *response) { httpError(w, "404 page not found", 404) }

// httpError replies with a plain-text error, as net/http's Error does.
func httpError(w *response, msg string, code int) {
	w.header = w.header[:0]
	w.body.Reset()
	w.length = 0
	w.status = code
	w.setHeader("Content-Type", "text/plain; charset=utf-8")
	w.setHeader("X-Content-Type-Options", "nosniff")
	w.Write([]byte(msg + "\n"))
}

func statusText(code int) string {
	switch code {
	case 200:
		return "OK"
	case 400:
		return "Bad Request"
	case 404:
		return "Not Found"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	}
	return "Status " + strconv.Itoa(code)
}

// conns tracks the open connections, so that Close ends them all.
type conns struct {
	mu     sync.Mutex
	open   map[net.Conn]struct{}
	closed bool
}

func (c *conns) add(nc net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	if c.open == nil {
		c.open = map[net.Conn]struct{}{}
	}
	c.open[nc] = struct{}{}
	return true
}

func (c *conns) remove(nc net.Conn) {
	c.mu.Lock()
	delete(c.open, nc)
	c.mu.Unlock()
}

func (c *conns) closeAll() {
	c.mu.Lock()
	c.closed = true
	for nc := range c.open {
		nc.Close()
	}
	c.mu.Unlock()
}

// serve accepts connections until ln is closed.
func (s *Server) serve(ln net.Listener) {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: back off, as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if !s.conns.add(nc) {
			nc.Close()
			return
		}
		go s.serveConn(nc)
	}
}

// serveConn answers the one request of a connection and closes it.
func (s *Server) serveConn(nc net.Conn) {
	defer s.conns.remove(nc)
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(headerTimeout))
	br := bufio.NewReaderSize(nc, 4096)
	req, status := readRequest(br)
	w := &response{conn: nc}
	if req == nil {
		if status != 0 {
			httpError(w, statusText(status), status)
			w.finish()
			// Let the client read the answer: a close with its request
			// still unread would reset the connection under it.
			if tc, ok := nc.(*net.TCPConn); ok {
				tc.CloseWrite()
				nc.SetReadDeadline(time.Now().Add(time.Second))
				io.Copy(io.Discard, io.LimitReader(br, 4*maxHeaderBytes))
			}
		}
		return
	}
	nc.SetReadDeadline(time.Time{})
	// The client going away (its end of the connection closing) ends a
	// stream: watch for it while the handler runs.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req.ctx = ctx
	go func() {
		io.Copy(io.Discard, br)
		cancel()
	}()
	w.head = req.method == "HEAD"
	defer func() {
		if recover() != nil {
			return // the connection closes; the dashboard serves on
		}
		w.finish()
	}()
	s.route(w, req)
}

// route picks the handler, as the page's paths are laid out.
func (s *Server) route(w *response, r *request) {
	switch {
	case r.path == "/api/snapshot":
		s.handleSnapshot(w, r)
	case r.path == "/api/events":
		s.handleEvents(w, r)
	case r.path == "/api/stream":
		s.handleStream(w, r)
	case strings.HasPrefix(r.path, "/static/"):
		serveStatic(w, strings.TrimPrefix(r.path, "/static/"))
	default:
		s.handleIndex(w, r)
	}
}

// serveStatic serves one of the page's files.
func serveStatic(w *response, name string) {
	b, err := static.ReadFile("static/" + name)
	if err != nil || name == "" || strings.Contains(name, "..") {
		notFound(w)
		return
	}
	w.setHeader("Content-Type", contentType(name))
	w.Write(b)
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// readRequest reads a request's line and headers. A nil request with
// status 0 means the client sent nothing usable to answer.
func readRequest(br *bufio.Reader) (*request, int) {
	budget := maxHeaderBytes
	line := func() (string, int) {
		var b []byte
		for {
			part, more, err := br.ReadLine()
			if err != nil {
				return "", -1
			}
			budget -= len(part)
			if budget < 0 {
				return "", 431
			}
			b = append(b, part...)
			if !more {
				return string(b), 0
			}
		}
	}
	first, st := line()
	if st != 0 {
		return nil, max(st, 0)
	}
	method, rest, ok1 := strings.Cut(first, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !strings.HasPrefix(proto, "HTTP/1.") || !strings.HasPrefix(target, "/") {
		return nil, 400
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, 400
	}
	r := &request{method: method, path: u.Path, query: u.Query(), header: map[string]string{}}
	for {
		h, st := line()
		if st != 0 {
			return nil, max(st, 0)
		}
		if h == "" {
			return r, 0
		}
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			return nil, 400
		}
		r.header[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
	}
}
