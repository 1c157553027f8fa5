package inet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Port publishing (--publish HOSTPORT:GUESTPORT) for the loopback stack:
// glassbox listens on the host's 127.0.0.1:HOSTPORT and, for each host
// connection, connects to 127.0.0.1:GUESTPORT on the sandbox's loopback
// as a client inside would, then copies bytes both ways until both
// directions have ended (a FIN from one side becomes a shutdown of
// sending on the other).

// Publish is one published port.
type Publish struct {
	HostPort, GuestPort uint16
	UDP                 bool
}

// ParsePublish parses HOSTPORT:GUESTPORT, optionally followed by /tcp or
// /udp.
func ParsePublish(v string) (Publish, error) {
	spec, proto, _ := strings.Cut(v, "/")
	if proto != "" && proto != "tcp" && proto != "udp" {
		return Publish{}, fmt.Errorf("--publish %s: want tcp or udp after /", v)
	}
	hp, gp, ok := strings.Cut(spec, ":")
	h, err1 := strconv.ParseUint(hp, 10, 16)
	g, err2 := strconv.ParseUint(gp, 10, 16)
	if !ok || err1 != nil || err2 != nil || g == 0 {
		return Publish{}, fmt.Errorf("--publish %s: want HOSTPORT:GUESTPORT", v)
	}
	return Publish{uint16(h), uint16(g), proto == "udp"}, nil
}

// pubCtx is the vfs.Ctx of the copying goroutines: interrupted when the
// sandbox ends or the connection is torn down.
type pubCtx struct {
	creds *vfs.Creds
	stop  <-chan struct{}
}

func (c pubCtx) Creds() *vfs.Creds          { return c.creds }
func (c pubCtx) Interrupt() <-chan struct{} { return c.stop }
func (c pubCtx) Interrupted() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// Publish starts serving the published ports on the host until done is
// closed. creds own the in-sandbox client sockets.
func (st *Stack) Publish(ps []Publish, creds *vfs.Creds, done <-chan struct{}) error {
	if len(ps) > 0 && st.host {
		return errors.New("--publish needs --net=none (with --net=host guest servers listen on the host)")
	}
	var ls []io.Closer
	for _, p := range ps {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(p.HostPort)))
		var l io.Closer
		var err error
		if p.UDP {
			l, err = net.ListenPacket("udp", addr)
		} else {
			l, err = net.Listen("tcp", addr)
		}
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return err
		}
		ls = append(ls, l)
	}
	for i, l := range ls {
		go func() {
			<-done
			l.Close()
		}()
		if pc, ok := l.(net.PacketConn); ok {
			go st.serveUDP(pc, ps[i].GuestPort, creds, done)
		} else {
			go st.serve(l.(net.Listener), ps[i].GuestPort, creds, done)
		}
	}
	return nil
}

func (st *Stack) serve(l net.Listener, port uint16, creds *vfs.Creds, done <-chan struct{}) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go st.forward(c, port, creds, done)
	}
}

// dial connects a new in-sandbox socket to 127.0.0.1:port, retrying a
// refusal for a short while (the guest server may be starting).
func (st *Stack) dial(ctx pubCtx, port uint16) (*vfs.File, error) {
	sa := make([]byte, sockaddrInLen)
	binary.LittleEndian.PutUint16(sa, unix.AF_INET)
	binary.BigEndian.PutUint16(sa[2:], port)
	copy(sa[4:], []byte{127, 0, 0, 1})
	for try := 0; ; try++ {
		f := st.NewFile(ctx, unix.AF_INET, unix.SOCK_STREAM, 0)
		err := f.Ops().(*Socket).Connect(ctx, sa)
		if err == nil {
			return f, nil
		}
		f.DecRef()
		if err != unix.ECONNREFUSED || try >= 20 || ctx.Interrupted() {
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// forward copies between the host connection c and a new connection to
// the guest's port.
func (st *Stack) forward(c net.Conn, port uint16, creds *vfs.Creds, done <-chan struct{}) {
	stop := make(chan struct{})
	var once sync.Once
	teardown := func() { once.Do(func() { close(stop); c.Close() }) }
	go func() {
		select {
		case <-done:
			teardown()
		case <-stop:
		}
	}()
	defer teardown()
	ctx := pubCtx{creds: creds, stop: stop}
	f, err := st.dial(ctx, port)
	if err != nil {
		return
	}
	defer f.DecRef()
	s := f.Ops().(*Socket)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // host -> guest
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := s.SendTo(ctx, [][]byte{buf[:n]}, nil, 0); werr != nil {
					teardown()
					return
				}
			}
			if err == io.EOF {
				s.Shutdown(unix.SHUT_WR)
				return
			}
			if err != nil {
				teardown()
				return
			}
		}
	}()
	go func() { // guest -> host
		defer wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, _, _, err := s.RecvFrom(ctx, [][]byte{buf}, 0, false)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					teardown()
					return
				}
				continue
			}
			if err == nil { // the guest shut down sending
				if tc, ok := c.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				return
			}
			if err != unix.EINTR || ctx.Interrupted() {
				teardown()
				return
			}
		}
	}()
	wg.Wait()
}
