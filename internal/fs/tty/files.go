package tty

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// Master is an open /dev/ptmx: reads take the slave's output, writes are
// the slave's input.
type Master struct{ fileBase }

// Slave is an open /dev/pts/N (or /dev/tty naming it).
type Slave struct {
	fileBase
	st vfs.Stat
}

var (
	_ vfs.FileOps  = (*Master)(nil)
	_ vfs.Poller   = (*Master)(nil)
	_ vfs.Ioctler  = (*Master)(nil)
	_ vfs.Stream   = (*Master)(nil)
	_ vfs.FileOps  = (*Slave)(nil)
	_ vfs.Poller   = (*Slave)(nil)
	_ vfs.Ioctler  = (*Slave)(nil)
	_ vfs.Reopener = (*Slave)(nil)
)

// Read implements vfs.FileOps.
func (m *Master) Read(ctx vfs.Ctx, dst [][]byte, _ int64) (int, error) {
	return m.t.masterRead(ctx, dst, m.nonblock())
}

// Write implements vfs.FileOps.
func (m *Master) Write(ctx vfs.Ctx, src [][]byte, _ int64) (int, error) {
	return m.t.masterWrite(ctx, src, m.nonblock())
}

// Stat implements vfs.FileOps: the /dev/ptmx node.
func (m *Master) Stat(vfs.Ctx) (vfs.Stat, error) { return m.t.reg.ptmx, nil }

// Release implements vfs.FileOps.
func (m *Master) Release() {
	if !m.released.Swap(true) {
		m.t.closeMaster()
	}
}

// Readiness implements vfs.Poller.
func (m *Master) Readiness() (uint32, <-chan struct{}) {
	m.t.mu.Lock()
	defer m.t.mu.Unlock()
	return m.t.masterEvents(), m.t.changedLocked()
}

// Ioctl implements vfs.Ioctler.
func (m *Master) Ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64) (uint64, error) {
	return m.t.ioctl(ctx, mem, cmd, arg, true)
}

// Read implements vfs.FileOps.
func (s *Slave) Read(ctx vfs.Ctx, dst [][]byte, _ int64) (int, error) {
	return s.t.slaveRead(ctx, dst, s.nonblock())
}

// Write implements vfs.FileOps.
func (s *Slave) Write(ctx vfs.Ctx, src [][]byte, _ int64) (int, error) {
	return s.t.slaveWrite(ctx, src, s.nonblock())
}

// Stat implements vfs.FileOps: the node it was opened through.
func (s *Slave) Stat(vfs.Ctx) (vfs.Stat, error) { return s.st, nil }

// Release implements vfs.FileOps.
func (s *Slave) Release() {
	if !s.released.Swap(true) {
		s.t.closeSlave()
	}
}

// Readiness implements vfs.Poller.
func (s *Slave) Readiness() (uint32, <-chan struct{}) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.t.slaveEvents(), s.t.changedLocked()
}

// Ioctl implements vfs.Ioctler.
func (s *Slave) Ioctl(ctx vfs.Ctx, mem vfs.Memory, cmd uint32, arg uint64) (uint64, error) {
	return s.t.ioctl(ctx, mem, cmd, arg, false)
}

// Reopen implements vfs.Reopener (/proc/self/fd/N, /dev/stdin of a
// terminal): the slave opened again, without taking it as controlling tty.
func (s *Slave) Reopen(flags int) (vfs.FileOps, error) {
	return s.t.openSlave(nil, flags|unix.O_NOCTTY, s.st)
}
