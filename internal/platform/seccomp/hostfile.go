package seccomp

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/platform"
)

// Host files mapped straight into a guest address space
// (platform.HostFileMapper).
//
// glassbox sends a file's descriptor to the stub as an SCM_RIGHTS datagram
// on a socket pair whose other end is the stub's fd 1, and the syscall
// thread, in one command, receives it (recvmsg at st_recvmsg: socket,
// buffer and flags are the code's own) and maps it (mmap at st_mmap_file,
// which the base filter allows only with MAP_PRIVATE|MAP_FIXED, a prot
// without PROT_WRITE and a received file's descriptor). Later mappings
// of the same file (by device and inode) reuse the descriptor: one
// command, the mmap alone, or none when it is queued (queue.go: a mapping
// with no protection bit the file was not mapped with before). A stub holds at most maxHostFiles files; a
// forked child's stub starts with none.
//
// The descriptor's number is the lowest free one, which glassbox knows
// without reading anything back: the stub opens descriptors only by these
// receives and never closes one, so while glassbox' count n is right the
// files sit at firstFileFD..firstFileFD+n-1 and the next number is free.
// glassbox queues one datagram and then posts the command; a recvmsg
// takes one datagram and installs at most its one descriptor, at
// firstFileFD+n. The receive area (msghdr and control buffer) must be
// writable and so is guest-writable; a guest writing it meanwhile can make
// the receive install nothing (a short control buffer), fail, or report
// the number somewhere else, never install another file or at another
// number. The mmap that follows names firstFileFD+n: EBADF says nothing
// was installed, any other answer that the file just sent is there.
// A failed receive may leave the datagram queued, so glassbox sends that
// stub no more files (ErrNoHostFile from then on).
//
// A failed mmap kills the stub as a failed Map does, except for the
// errors Linux returns before it touches the address space (a bad
// descriptor, a file that cannot be mapped so): then nothing changed and
// the answer is ErrNoHostFile. A queued mapping is not refused for those
// reasons (one of the same descriptor with those protections was made):
// if it fails, the stub dies as for any queued change.

// fileKey names a host file.
type fileKey struct{ dev, ino uint64 }

// hostFiles is a stub's record of the host files it holds (under cmdMu).
type hostFiles struct {
	fds map[fileKey]int // the stub's descriptor of each
	// prots are the protections each was mapped with: a mapping of a held
	// file with no others may be queued (queue.go), since Linux refuses it
	// only for reasons a successful one with those bits rules out (see
	// refusedMmap).
	prots map[fileKey]int
	// off is set once a receive failed or installed nothing: the queue
	// or the stub's descriptors may not be what glassbox thinks, so no
	// more files are sent.
	off   bool
	sends int // datagrams sent (for tests)
}

// MapHostFile implements platform.HostFileMapper.
func (t *thread) MapHostFile(addr, length uint64, prot int, f platform.HostFile, off uint64) error {
	const page = 0x1000
	if prot&^(unix.PROT_READ|unix.PROT_EXEC) != 0 || (addr|length|off)%page != 0 || length == 0 ||
		addr+length < addr || addr+length > StubBase {
		return unix.EINVAL
	}
	if f.FD < 0 {
		return unix.EBADF
	}
	return t.proc.mapHostFile(t, addr, length, prot, f, off)
}

func (proc *process) mapHostFile(t *thread, addr, length uint64, prot int, f platform.HostFile, off uint64) error {
	queue := t.mayQueue()
	cpu := t.cpu
	proc.cmdMu.Lock()
	defer proc.cmdMu.Unlock()
	if proc.dead.Load() {
		return errGone
	}
	hf := &proc.files
	key := fileKey{f.Dev, f.Ino}
	args := [6]uint64{addr, length, uint64(prot), mapPrivateFixed, 0, off}
	if fd, ok := hf.fds[key]; ok {
		args[4] = uint64(fd)
		proc.patchRegion(addr, length, false)
		if queue && prot&^hf.prots[key] == 0 && len(proc.queue) < cmdQueueMax {
			proc.queue = append(proc.queue, cmdEntry{opMmapFile, args})
			return nil
		}
		err := proc.post(cpu, opMmapFile, args, 0, 0)
		switch {
		case err == nil:
			hf.prots[key] |= prot
			return nil
		case err == errGone:
			return err
		case refusedMmap(err):
			return platform.ErrNoHostFile
		}
		return proc.failed(opMmapFile, err)
	}
	if hf.off || len(hf.fds) >= maxHostFiles {
		return platform.ErrNoHostFile
	}
	if hf.fds == nil {
		hf.fds = make(map[fileKey]int)
		hf.prots = make(map[fileKey]int)
	}
	// A descriptor mmap cannot use (O_PATH: fget refuses it with
	// EBADF; write-only) is not worth a receive.
	if fl, err := unix.FcntlInt(uintptr(f.FD), unix.F_GETFL, 0); err != nil ||
		fl&unix.O_PATH != 0 || fl&unix.O_ACCMODE == unix.O_WRONLY {
		return platform.ErrNoHostFile
	}
	fd := firstFileFD + len(hf.fds)
	proc.writeRx()
	if rxHook != nil {
		rxHook(proc)
	}
	if err := unix.Sendmsg(proc.sock, []byte{0}, unix.UnixRights(f.FD), nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL); err != nil {
		// Nothing was queued (a datagram goes whole or not at all).
		return platform.ErrNoHostFile
	}
	hf.sends++
	args[4] = uint64(fd)
	proc.patchRegion(addr, length, false)
	err := proc.post(cpu, opRecvMmapFile, args, 0, 0)
	switch {
	case err == nil:
		hf.fds[key] = fd
		hf.prots[key] = prot
		return nil
	case err == errGone:
		return err
	case err == recvFailed:
		hf.off = true
		return platform.ErrNoHostFile
	case err == unix.EBADF:
		// Received, but no descriptor was installed: the receive area
		// was written under the call, or the stub is out of descriptors.
		hf.off = true
		return platform.ErrNoHostFile
	case refusedMmap(err):
		hf.fds[key] = fd // installed; this mapping was refused
		return platform.ErrNoHostFile
	}
	return proc.failed(opRecvMmapFile, err)
}

// rxHook, when set (by a test), runs between the receive area's writing
// and the send: where a guest thread may write the area.
var rxHook func(proc *process)

// refusedMmap reports whether mmap failed with an error Linux returns
// before it changes the address space: the file is not readable or its
// file system cannot map it (EACCES), a noexec mount and PROT_EXEC or a
// security module's refusal (EPERM), no mmap for this file (ENODEV), an
// offset past what the file can map (EOVERFLOW).
// Linux: mm/mmap.c (do_mmap, checks made before mmap_region)
func refusedMmap(err error) bool {
	switch err {
	case unix.EACCES, unix.EPERM, unix.ENODEV, unix.EOVERFLOW:
		return true
	}
	return false
}

// writeRx fills the receive area for one recvmsg: no name, no data, a
// control buffer for one descriptor (under cmdMu).
func (proc *process) writeRx() {
	b := proc.ctl[slotOff(rxSlot):]
	clear(b[:rxCtl+rxCtlSize])
	le := binary.LittleEndian
	le.PutUint64(b[rxMsg+32:], slotAddr(rxSlot)+rxCtl) // msg_control
	le.PutUint64(b[rxMsg+40:], rxCtlSize)              // msg_controllen
}
