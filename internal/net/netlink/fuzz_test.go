package netlink

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

type fuzzCtx struct{ creds vfs.Creds }

func (c *fuzzCtx) Creds() *vfs.Creds          { return &c.creds }
func (c *fuzzCtx) Interrupt() <-chan struct{} { return nil }
func (c *fuzzCtx) Interrupted() bool          { return false }

// nlRequest builds one netlink message header and payload.
func nlRequest(typ, flags uint16, payload []byte) []byte {
	b := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(payload))
	binary.LittleEndian.PutUint32(b, uint32(unix.NLMSG_HDRLEN+len(payload)))
	binary.LittleEndian.PutUint16(b[4:], typ)
	binary.LittleEndian.PutUint16(b[6:], flags)
	binary.LittleEndian.PutUint32(b[8:], 1)
	return append(b, payload...)
}

// FuzzNetlinkRoute: whatever bytes a guest sends on a NETLINK_ROUTE
// socket of the private loopback (requests, dumps, attributes, several
// messages in one datagram, short and lying lengths), glassbox answers
// without a panic and everything it queues can be read back.
func FuzzNetlinkRoute(f *testing.F) {
	f.Add(nlRequest(unix.RTM_GETLINK, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, make([]byte, unix.SizeofIfInfomsg)), []byte(nil))
	f.Add(nlRequest(unix.RTM_GETADDR, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, make([]byte, unix.SizeofIfAddrmsg)), []byte(nil))
	f.Add(nlRequest(unix.RTM_GETROUTE, unix.NLM_F_REQUEST|unix.NLM_F_ACK, make([]byte, unix.SizeofRtMsg)), []byte{0x10, 0, 0, 0})
	f.Add(nlRequest(unix.RTM_NEWADDR, unix.NLM_F_REQUEST|unix.NLM_F_ACK, []byte{2, 8, 0, 0, 1, 0, 0, 0, 8, 0, 1, 0, 127, 0, 0, 1}), []byte(nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 18, 0, 1, 3}, []byte(nil))
	f.Fuzz(func(t *testing.T, b, addr []byte) {
		ns := NewNamespace(false)
		ctx := &fuzzCtx{}
		file := ns.NewFile(ctx, unix.SOCK_RAW, unix.NETLINK_ROUTE, unix.O_NONBLOCK)
		defer file.DecRef()
		s, _ := FromFile(file)
		s.Send(ctx, [][]byte{b}, addr, unix.MSG_DONTWAIT, 7)
		s.Send(ctx, [][]byte{b[:len(b)/2], b[len(b)/2:]}, nil, unix.MSG_DONTWAIT, 7)
		buf := make([]byte, 1<<16)
		for i := 0; i < 1000; i++ {
			if _, _, _, err := s.Recv(ctx, [][]byte{buf}, unix.MSG_DONTWAIT); err != nil {
				return
			}
		}
		t.Fatal("the answers never end")
	})
}
