package tests

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// freeHostPort returns a TCP port free on the host's loopback now.
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startGlassbox starts glassbox with args in the background; stop sends
// it SIGTERM (forwarded to the guest) and waits, returning its output.
func startGlassbox(t *testing.T, args ...string) (stop func() string) {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("glassbox unavailable: %v", buildErr)
	}
	var out bytes.Buffer
	cmd := exec.Command(glassboxBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("glassbox did not end after SIGTERM")
			}
		}
		return out.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

// netFetch fetches url, retrying until it answers or the deadline passes.
func netFetch(url string, until time.Time) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second}
	for {
		r, err := c.Get(url)
		if err == nil {
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err == nil && r.StatusCode == 200 {
				return string(b), nil
			}
			if err == nil {
				err = fmt.Errorf("status %s", r.Status)
			}
		}
		if time.Now().After(until) {
			return "", err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// --publish: a server inside on the sandbox's private loopback is reached
// from the host through the published port.
func TestNetPublish(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	content := strings.Repeat("served inside, fetched outside\n", 5000)
	writeFile(t, dir+"/page.txt", content, 0o644)
	hostPort, guestPort := freeHostPort(t), inetPort(t)
	stop := startGlassbox(t, "run", "--dir", dir, "--publish", fmt.Sprintf("%d:%d", hostPort, guestPort), "--",
		"/usr/bin/python3", "-m", "http.server", strconv.Itoa(guestPort), "--bind", "127.0.0.1")
	url := fmt.Sprintf("http://127.0.0.1:%d/page.txt", hostPort)
	until := time.Now().Add(20 * time.Second)
	for i := range 3 { // several connections, one after another
		got, err := netFetch(url, until)
		if err != nil {
			t.Fatalf("fetch %d through --publish: %v\nglassbox: %s", i, err, stop())
		}
		if got != content {
			t.Fatalf("fetch %d: got %d bytes, want %d", i, len(got), len(content))
		}
	}
	// The guest port itself is not on the host.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(guestPort), time.Second); err == nil {
		c.Close()
		t.Errorf("the guest's port %d is reachable on the host", guestPort)
	}
	stop()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(hostPort), time.Second); err == nil {
		c.Close()
		t.Errorf("the published port %d still listens after glassbox ended", hostPort)
	}
}

// --publish with nothing listening inside: the host connection is closed.
func TestNetPublishNoServer(t *testing.T) {
	t.Parallel()
	hostPort := freeHostPort(t)
	stop := startGlassbox(t, "run", "--publish", fmt.Sprintf("%d:%d", hostPort, inetPort(t)), "--", "/bin/sleep", "30")
	var c net.Conn
	var err error
	for range 100 {
		if c, err = net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(hostPort)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dial the published port: %v (%s)", err, stop())
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("read from a published port without a server: %d, %v; want EOF", n, err)
	}
	if out := stop(); out != "" {
		t.Errorf("glassbox printed %q", out)
	}
}

// --net=host: a guest reaches a server the test runs on the host's
// loopback; with --net=none (the default) the same fails and the server
// sees nothing.
func TestNetHost(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "hello from the host "+r.URL.Path)
	})}
	go srv.Serve(l)
	defer srv.Close()
	url := "http://" + l.Addr().String() + "/x"
	prog := []string{"/usr/bin/python3", "-c", "import urllib.request, sys; print(urllib.request.urlopen(sys.argv[1]).read().decode())", url}

	gb := runGlassbox(t, []string{"--net=none"}, prog)
	if gb.Code == 0 || !strings.Contains(gb.Stderr, "Connection refused") {
		t.Errorf("--net=none: want connection refused, got %s", gb)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("--net=none: the host server saw %d requests", n)
	}

	gb = runGlassbox(t, []string{"--net=host"}, prog)
	if gb.Code != 0 || gb.Stdout != "hello from the host /x\n" {
		t.Errorf("--net=host: %s", gb)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("--net=host: the host server saw %d requests, want 1", n)
	}
}

// --net=host: sockets are the host's, so a server inside is reachable
// from the host and a client inside reaches it too (curl).
func TestNetHostServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir+"/page.txt", "guest server on the host network\n", 0o644)
	port := freeHostPort(t)
	stop := startGlassbox(t, "run", "--net=host", "--dir", dir, "--",
		"/usr/bin/python3", "-m", "http.server", strconv.Itoa(port), "--bind", "127.0.0.1")
	url := fmt.Sprintf("http://127.0.0.1:%d/page.txt", port)
	got, err := netFetch(url, time.Now().Add(20*time.Second))
	if err != nil || got != "guest server on the host network\n" {
		t.Fatalf("fetch from the host: %q, %v\nglassbox: %s", got, err, stop())
	}
	gb := runGlassbox(t, []string{"--net=host"}, []string{"/usr/bin/curl", "-sS", url})
	if gb.Code != 0 || gb.Stdout != "guest server on the host network\n" {
		t.Errorf("curl inside --net=host: %s", gb)
	}
	stop()
}

// --net and --publish are checked.
func TestNetFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"run", "--net=bogus", "--", "/bin/true"},
		{"run", "--publish", "notaport", "--", "/bin/true"},
		{"run", "--net=host", "--publish", "1:2", "--", "/bin/true"},
	} {
		r := runGlassboxRaw(t, args...)
		if r.Code == 0 || !strings.HasPrefix(r.Stderr, "glassbox: ") {
			t.Errorf("%q: want an error, got %s", args, r)
		}
	}
}
