package kernel

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/vfs"
)

// SignalFD is a signalfd(2) file: reading it takes pending signals in its
// mask from the reading thread. Linux: fs/signalfd.c
type SignalFD struct {
	vfs.BaseOps
	mu    sync.Mutex
	mask  abi.SigSet
	owner *Task // for readiness: Linux polls the caller; glassbox polls the creator
	file  *vfs.File
	ino   uint64
}

var signalfdIno atomic.Uint64

// NewSignalFD returns a signalfd file for mask (flags: SFD_NONBLOCK).
func (t *Task) NewSignalFD(mask abi.SigSet, flags int) *vfs.File {
	s := &SignalFD{mask: mask &^ abi.Unblockable, owner: t, ino: signalfdIno.Add(1)}
	f := vfs.NewAnonFile(s, "anon_inode:[signalfd]", unix.O_RDWR|flags&unix.O_NONBLOCK)
	s.file = f
	return f
}

// SignalFDOf returns the signalfd behind f.
func SignalFDOf(f *vfs.File) (*SignalFD, bool) {
	s, ok := f.Ops().(*SignalFD)
	return s, ok
}

// SetMask replaces the mask (signalfd4 on an existing signalfd).
func (s *SignalFD) SetMask(m abi.SigSet) {
	s.mu.Lock()
	s.mask = m &^ abi.Unblockable
	s.mu.Unlock()
}

func (s *SignalFD) getMask() abi.SigSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mask
}

// IsStream implements vfs.Stream.
func (s *SignalFD) IsStream() {}

// Read implements vfs.FileOps: one 128-byte signalfd_siginfo per signal.
func (s *SignalFD) Read(ctx vfs.Ctx, dst [][]byte, off int64) (int, error) {
	t, ok := ctx.(*Task)
	if !ok {
		return 0, unix.EINVAL
	}
	total := 0
	for _, b := range dst {
		total += len(b)
	}
	if total < 128 {
		return 0, unix.EINVAL
	}
	var out []byte
	for len(out)+128 <= total {
		info, ok := t.dequeueFrom(s.getMask())
		if !ok {
			break
		}
		info = t.LocalSigInfo(info)
		out = append(out, encodeSignalfdInfo(&info)...)
	}
	if len(out) == 0 {
		if s.file.Flags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		for {
			ch := t.signalChanged()
			if info, ok := t.dequeueFrom(s.getMask()); ok {
				info = t.LocalSigInfo(info)
				out = encodeSignalfdInfo(&info)
				break
			}
			if err := vfs.WaitAny(ctx, []<-chan struct{}{ch}, time.Time{}); err != nil {
				return 0, err
			}
		}
	}
	src := out
	for _, b := range dst {
		src = src[copy(b, src):]
	}
	return len(out), nil
}

// Readiness implements vfs.Poller.
func (s *SignalFD) Readiness() (uint32, <-chan struct{}) {
	ch := s.owner.signalChanged()
	if s.owner.Pending()&s.getMask() != 0 {
		return unix.POLLIN, ch
	}
	return 0, ch
}

// Stat implements vfs.FileOps.
func (s *SignalFD) Stat(vfs.Ctx) (vfs.Stat, error) {
	return vfs.Stat{Dev: 0xd, Ino: s.ino, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// dequeueFrom takes the lowest pending signal in mask.
func (t *Task) dequeueFrom(mask abi.SigSet) (SigInfo, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.takeSignalLocked(mask)
}

// signalChanged returns a channel closed when a signal is next sent to t.
func (t *Task) signalChanged() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sigArrived == nil {
		t.sigArrived = make(chan struct{})
	}
	return t.sigArrived
}

// noteSignalLocked wakes signalChanged waiters. t.mu held.
func (t *Task) noteSignalLocked() {
	if t.sigArrived != nil {
		close(t.sigArrived)
		t.sigArrived = nil
	}
}

// encodeSignalfdInfo lays out struct signalfd_siginfo (128 bytes).
func encodeSignalfdInfo(si *SigInfo) []byte {
	b := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(si.Signo))
	le.PutUint32(b[4:], uint32(si.Errno))
	le.PutUint32(b[8:], uint32(si.Code))
	le.PutUint32(b[12:], uint32(si.PID))
	le.PutUint32(b[16:], si.UID)
	le.PutUint32(b[40:], uint32(si.Status))
	le.PutUint32(b[44:], uint32(si.Value)) // ssi_int
	le.PutUint64(b[48:], si.Value)         // ssi_ptr
	le.PutUint64(b[72:], si.Addr)
	if si.Signo == abi.SIGSYS && si.Code == sysSeccomp {
		le.PutUint32(b[84:], uint32(si.Syscall)) // ssi_syscall
		le.PutUint64(b[88:], si.Addr)            // ssi_call_addr
		le.PutUint32(b[96:], si.Arch)            // ssi_arch
	}
	return b
}
