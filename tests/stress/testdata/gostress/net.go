package main

// Network shapes from issue 13: io.Copy of a file into a loopback TCP
// connection (the sendfile/splice path, which once delivered about 6.4 MiB
// of 10 MiB with both sides reporting success), and a dial racing with an
// Accept on the same listener (the first test of Go's net package stalled:
// an edge-triggered epoll registration missed readiness that arrived
// before EPOLL_CTL_ADD).

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// ioCopyTCP sends an n MiB file over loopback TCP with io.Copy (*TCPConn
// ReadFrom: sendfile) and checks the receiver got every byte in order.
func ioCopyTCP(n int) {
	dir, err := os.MkdirTemp("", "gostress-iocopy")
	check(err)
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "data")
	data := make([]byte, n<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	check(os.WriteFile(name, data, 0o644))
	want := sha256.Sum256(data)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		check(err)
		h := sha256.New()
		m, err := io.Copy(h, c)
		check(err)
		c.Close()
		got <- fmt.Sprintf("%d %v", m, [32]byte(h.Sum(nil)) == want)
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	check(err)
	f, err := os.Open(name)
	check(err)
	m, err := io.Copy(c, f)
	check(err)
	f.Close()
	check(c.Close())
	fmt.Printf("sent %d received %s\n", m, <-got)
}

// dialAccept dials n times while a goroutine waits in Accept, each dial
// racing with the previous connection's echo.
func dialAccept(n int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			c, err := l.Accept()
			check(err)
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	ok := 0
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", l.Addr().String())
		check(err)
		msg := fmt.Sprintf("hello %d", i)
		_, err = c.Write([]byte(msg))
		check(err)
		buf := make([]byte, len(msg))
		_, err = io.ReadFull(c, buf)
		check(err)
		if string(buf) == msg {
			ok++
		}
		c.Close()
	}
	wg.Wait()
	fmt.Printf("dial/accept %d of %d echoed\n", ok, n)
}

func check(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}
