package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ioStressGo moves data through the paths Go's standard library takes on
// its own: io.Copy from an *os.File to a TCP or unix connection
// (sendfile), from a connection to a file (splice through a pipe), from
// a connection to a connection (splice), from a file to a file
// (copy_file_range) and from an os.Pipe to a file (splice), several at
// once, and prints each copy's count and SHA-256.
const ioStressGo = `package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
)

var size int64

func pattern(n int64, seed int64) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x >> 24)
	}
	return b
}

func tempFile(dir string, data []byte) *os.File {
	f, err := os.CreateTemp(dir, "gbgo")
	if err != nil {
		panic(err)
	}
	os.Remove(f.Name())
	if data != nil {
		if _, err := f.Write(data); err != nil {
			panic(err)
		}
		f.Seek(0, 0)
	}
	return f
}

func sum(f *os.File) string {
	f.Seek(0, 0)
	h := sha256.New()
	n, err := io.Copy(h, f)
	return fmt.Sprintf("%d %x %v", n, h.Sum(nil)[:8], err)
}

func listen(network string) (net.Listener, string) {
	addr := "127.0.0.1:0"
	if network == "unix" {
		d, _ := os.MkdirTemp("", "gbsock")
		addr = d + "/s"
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		panic(err)
	}
	return l, l.Addr().String()
}

// fileToConnToFile: io.Copy(conn, file) on one side, io.Copy(file, conn)
// on the other.
func fileToConnToFile(network, dir string, n, seed int64) string {
	data := pattern(n, seed)
	src, dst := tempFile(dir, data), tempFile(dir, nil)
	l, addr := listen(network)
	defer l.Close()
	var wg sync.WaitGroup
	var nr int64
	var rerr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			rerr = err
			return
		}
		defer c.Close()
		nr, rerr = io.Copy(dst, c)
	}()
	c, err := net.Dial(network, addr)
	if err != nil {
		panic(err)
	}
	nw, werr := io.Copy(c, src)
	c.Close()
	wg.Wait()
	return fmt.Sprintf("file->%s->file: sent %d %v, received %d %v, dst %s", network, nw, werr, nr, rerr, sum(dst))
}

// connToConn: a relay copies one TCP connection into another (splice).
func connToConn(seed int64) string {
	data := pattern(size, seed)
	l1, a1 := listen("tcp")
	l2, a2 := listen("tcp")
	defer l1.Close()
	defer l2.Close()
	var wg sync.WaitGroup
	var relayed int64
	wg.Add(2)
	go func() { // the source writes plainly
		defer wg.Done()
		c, _ := l1.Accept()
		c.Write(data)
		c.Close()
	}()
	go func() { // the relay: io.Copy(TCPConn, TCPConn)
		defer wg.Done()
		in, _ := net.Dial("tcp", a1)
		out, _ := net.Dial("tcp", a2)
		relayed, _ = io.Copy(out, in)
		in.Close()
		out.Close()
	}()
	c, _ := l2.Accept()
	h := sha256.New()
	n, err := io.Copy(h, c)
	wg.Wait()
	return fmt.Sprintf("tcp->tcp relay: relayed %d, received %d %x %v", relayed, n, h.Sum(nil)[:8], err)
}

// fileToFile: io.Copy(file, file) (copy_file_range), from an offset.
func fileToFile(dir string, seed int64) string {
	data := pattern(size, seed)
	src, dst := tempFile(dir, data), tempFile(dir, nil)
	src.Seek(1234, 0)
	n, err := io.Copy(dst, src)
	return fmt.Sprintf("file->file: %d %v, dst %s", n, err, sum(dst))
}

// pipeToFile: io.Copy(file, os.Pipe reader) (splice), a goroutine writing.
func pipeToFile(dir string, seed int64) string {
	data := pattern(size, seed)
	r, w, _ := os.Pipe()
	dst := tempFile(dir, nil)
	go func() {
		for off := 0; off < len(data); off += 7777 {
			w.Write(data[off:min(off+7777, len(data))])
		}
		w.Close()
	}()
	n, err := io.Copy(dst, r)
	r.Close()
	return fmt.Sprintf("pipe->file: %d %v, dst %s", n, err, sum(dst))
}

func main() {
	size, _ = strconv.ParseInt(os.Args[1], 10, 64)
	dir := os.Args[2]
	out := make([]string, 6)
	var wg sync.WaitGroup
	jobs := []func() string{
		// The issue's repro: a 10 MiB file into loopback TCP.
		func() string { return fileToConnToFile("tcp", dir, 10<<20, 1) },
		func() string { return fileToConnToFile("unix", dir, size, 2) },
		func() string { return connToConn(3) },
		func() string { return fileToFile(dir, 4) },
		func() string { return pipeToFile(dir, 5) },
		func() string { return fileToConnToFile("tcp", dir, size, 6) },
	}
	for i, j := range jobs {
		wg.Add(1)
		go func() { defer wg.Done(); out[i] = j() }()
	}
	wg.Wait()
	for _, s := range out {
		fmt.Println(s)
	}
}
`

// TestStressIOGo: Go's own sendfile/splice/copy_file_range paths, all at
// once, on tmpfs and on the overlay root.
func TestStressIOGo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(ioStressGo), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module iostress\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "iostress")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	size := "3000000"
	if stressLong() {
		size = "20000000"
	}
	for _, where := range []string{"/tmp", "/var/tmp"} {
		for round := 1; round <= stressRounds(); round++ {
			native, _ := diff(t, []string{bin, size, where})
			if native.Code != 0 || strings.Count(native.Stdout, "<nil>") != 14 {
				t.Errorf("native run looks wrong: %s", native)
			}
		}
	}
}
