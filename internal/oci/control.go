package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"glassbox"
)

// The control socket: a SOCK_SEQPACKET socket in the container's state
// directory, served by the process that holds the sandbox (the sandbox
// process of create, or `glassbox run --name`). Each message is one JSON
// object; an exec request carries the new process's stdin, stdout and
// stderr as SCM_RIGHTS. Only the sandbox's owner (or root) may connect:
// the directory is 0700, the socket 0600, and the server checks the
// peer's credentials.

// request is a message to the sandbox process.
type request struct {
	Op      string         `json:"op"` // start, kill, ps, exec; on an exec's connection: signal, resize
	Signal  int            `json:"signal,omitempty"`
	All     bool           `json:"all,omitempty"`
	Process *specs.Process `json:"process,omitempty"` // exec: the whole process
}

// response is the sandbox process's answer; an exec's connection gets a
// second one, with Exit, when the process has ended.
type response struct {
	OK    bool                   `json:"ok"`
	Error string                 `json:"error,omitempty"`
	PID   int                    `json:"pid,omitempty"`
	Procs []glassbox.ProcessInfo `json:"procs,omitempty"`
	Exit  *exitStatus            `json:"exit,omitempty"`
}

type exitStatus struct {
	Code   int `json:"code"`
	Signal int `json:"signal,omitempty"`
}

// shellCode is the status a shell (and an engine) reports: the code, or
// 128+signal.
func (e exitStatus) shellCode() int {
	if e.Signal != 0 {
		return 128 + e.Signal
	}
	return e.Code
}

// maxMsg bounds one message (an exec's process with a large environment).
const maxMsg = 1 << 20

// sockAddr returns an address for the socket in dir that fits sun_path
// (108 bytes): the path itself, or one through an O_PATH descriptor of
// the directory (closed by the returned function).
func sockAddr(dir string) (string, func(), error) {
	p := filepath.Join(dir, controlSock)
	if len(p) < 100 {
		return p, func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, err
	}
	return "/proc/self/fd/" + strconv.Itoa(fd) + "/" + controlSock, func() { unix.Close(fd) }, nil
}

// conn is one end of a control connection.
type conn struct{ c *net.UnixConn }

func (c conn) send(v any, fds ...int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	_, _, err = c.c.WriteMsgUnix(b, oob, nil)
	return err
}

// recv reads one message into v and returns the descriptors it carried.
func (c conn) recv(v any) ([]int, error) {
	buf := make([]byte, maxMsg)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := c.c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err == nil {
			for _, m := range msgs {
				if r, err := unix.ParseUnixRights(&m); err == nil {
					fds = append(fds, r...)
				}
			}
		}
	}
	if n == 0 {
		closeFDs(fds)
		return nil, errEOF
	}
	if err := json.Unmarshal(buf[:n], v); err != nil {
		closeFDs(fds)
		return nil, err
	}
	return fds, nil
}

var errEOF = errors.New("connection closed")

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// dial connects to the control socket in dir.
func dial(dir string) (conn, error) {
	addr, done, err := sockAddr(dir)
	if err != nil {
		return conn{}, err
	}
	defer done()
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: addr, Net: "unixpacket"})
	if err != nil {
		return conn{}, err
	}
	return conn{c}, nil
}

// call sends req over a new connection and returns the answer.
func call(dir string, req request) (*response, error) {
	c, err := dial(dir)
	if err != nil {
		return nil, fmt.Errorf("the sandbox process does not answer: %v", err)
	}
	defer c.c.Close()
	if err := c.send(req); err != nil {
		return nil, err
	}
	var resp response
	if _, err := c.recv(&resp); err != nil {
		return nil, err
	}
	if !resp.OK {
		return &resp, errors.New(resp.Error)
	}
	return &resp, nil
}

// listen makes the control socket in dir, owner-only.
func listen(dir string) (*net.UnixListener, error) {
	addr, done, err := sockAddr(dir)
	if err != nil {
		return nil, err
	}
	defer done()
	old := unix.Umask(0o177)
	l, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: addr, Net: "unixpacket"})
	unix.Umask(old)
	if err != nil {
		return nil, err
	}
	l.SetUnlinkOnClose(false) // the address may be a /proc/self/fd path
	return l, nil
}

// peerAllowed reports whether the connection comes from root or from
// the sandbox's own user.
func peerAllowed(c *net.UnixConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	ok := false
	rc.Control(func(fd uintptr) {
		cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		ok = err == nil && (cred.Uid == 0 || int(cred.Uid) == os.Getuid())
	})
	return ok
}
