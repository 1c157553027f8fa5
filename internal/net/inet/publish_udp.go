package inet

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// serveUDP publishes a UDP port: each host client (by address) gets its
// own in-sandbox UDP socket connected to 127.0.0.1:port, whose replies go
// back to that client. The sockets last until the sandbox ends.
func (st *Stack) serveUDP(pc net.PacketConn, port uint16, creds *vfs.Creds, done <-chan struct{}) {
	ctx := pubCtx{creds: creds, stop: done}
	sa := make([]byte, sockaddrInLen)
	binary.LittleEndian.PutUint16(sa, unix.AF_INET)
	binary.BigEndian.PutUint16(sa[2:], port)
	copy(sa[4:], []byte{127, 0, 0, 1})
	var mu sync.Mutex
	clients := map[string]*Socket{}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range clients {
			s.file.Load().DecRef()
		}
	}()
	buf := make([]byte, maxUDP4)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		mu.Lock()
		s := clients[from.String()]
		if s == nil {
			f := st.NewFile(ctx, unix.AF_INET, unix.SOCK_DGRAM, 0)
			s = f.Ops().(*Socket)
			if err := s.Connect(ctx, sa); err != nil {
				mu.Unlock()
				f.DecRef()
				continue
			}
			clients[from.String()] = s
			f.IncRef() // the reply goroutine's
			go replies(ctx, s, pc, from)
		}
		mu.Unlock()
		s.SendTo(ctx, [][]byte{buf[:n]}, nil, unix.MSG_DONTWAIT)
	}
}

// replies sends what the guest answers on s back to the host client.
func replies(ctx pubCtx, s *Socket, pc net.PacketConn, to net.Addr) {
	defer s.file.Load().DecRef()
	buf := make([]byte, maxUDP4)
	for !ctx.Interrupted() {
		n, _, _, err := s.RecvFrom(ctx, [][]byte{buf}, 0, false)
		if err == nil {
			pc.WriteTo(buf[:n], to)
		} else if err != unix.EINTR {
			time.Sleep(10 * time.Millisecond) // a refusal: don't spin
		}
	}
}
