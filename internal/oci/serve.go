package oci

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox"
)

// server answers a sandbox's control socket.
type server struct {
	s      *glassbox.Sandbox
	l      *net.UnixListener
	dir    string
	rootfs string // the rootfs on the host (for HOME from its /etc/passwd)
	log    *logger
	conns  sync.WaitGroup // connections being answered

	mu     sync.Mutex
	closed bool // no more connections are counted (guarded by mu)
}

// serve starts answering the control socket in dir for s.
func serve(dir string, s *glassbox.Sandbox, rootfs string, log *logger) (*server, error) {
	l, err := listen(dir)
	if err != nil {
		return nil, err
	}
	sv := &server{s: s, l: l, dir: dir, rootfs: rootfs, log: log}
	go sv.accept()
	return sv, nil
}

// close stops answering and removes the socket, after the answers
// under way are sent (a kill that ended the sandbox still gets its
// reply; an exec's ends with its process, which the sandbox's end
// ended), waiting a few seconds at most.
func (sv *server) close() {
	sv.mu.Lock()
	sv.closed = true
	sv.mu.Unlock()
	sv.l.Close()
	os.Remove(filepath.Join(sv.dir, controlSock))
	done := make(chan struct{})
	go func() {
		sv.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
	}
}

func (sv *server) accept() {
	for {
		c, err := sv.l.AcceptUnix()
		if err != nil {
			return
		}
		sv.mu.Lock()
		if sv.closed {
			sv.mu.Unlock()
			c.Close()
			return
		}
		sv.conns.Add(1)
		sv.mu.Unlock()
		go func() {
			defer sv.conns.Done()
			sv.handle(c)
		}()
	}
}

func (sv *server) handle(c *net.UnixConn) {
	defer c.Close()
	if !peerAllowed(c) {
		sv.log.Warnf("control socket: a connection from another user was refused")
		return
	}
	cn := conn{c}
	var req request
	fds, err := cn.recv(&req)
	if err != nil {
		return
	}
	if req.Op != "exec" {
		closeFDs(fds)
	}
	switch req.Op {
	case "start":
		sv.s.Release()
		cn.send(response{OK: true})
	case "kill":
		if err := sv.s.Signal(req.Signal, req.All); err != nil {
			cn.send(response{Error: "container not running"})
			return
		}
		cn.send(response{OK: true})
	case "ps":
		cn.send(response{OK: true, Procs: sv.s.Processes()})
	case "exec":
		sv.exec(cn, req, fds)
	default:
		cn.send(response{Error: "unknown request " + req.Op})
	}
}

// exec starts the process the request describes, with the descriptors
// it carried as stdin, stdout and stderr; answers its pid, and its
// status once it has ended. Signals and window-size changes may come
// meanwhile on the same connection.
func (sv *server) exec(cn conn, req request, fds []int) {
	var files [3]*os.File
	for i, fd := range fds {
		if i < 3 {
			files[i] = os.NewFile(uintptr(fd), "")
		} else {
			unix.Close(fd)
		}
	}
	closeAll := func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}
	if req.Process == nil || len(req.Process.Args) == 0 {
		closeAll()
		cn.send(response{Error: "exec: no process given"})
		return
	}
	e := execConfig(req.Process, sv.rootfs, sv.log)
	e.Stdin, e.Stdout, e.Stderr = files[0], files[1], files[2]
	p, err := sv.s.Exec(e)
	closeAll() // Exec lent copies
	if err != nil {
		cn.send(response{Error: startError(e.Argv[0], err).Error()})
		return
	}
	if err := cn.send(response{OK: true, PID: p.PID()}); err != nil {
		sv.log.Debugf("exec: the client went away: %v", err)
	}
	go func() {
		for {
			var r request
			fds, err := cn.recv(&r)
			closeFDs(fds)
			if err != nil {
				return
			}
			switch r.Op {
			case "signal":
				p.Signal(r.Signal)
			case "resize":
				p.Resize()
			}
		}
	}()
	st := p.Wait()
	cn.send(response{OK: true, Exit: &exitStatus{Code: st.Code, Signal: st.Signal}})
}
