package syscalls

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/ipc"
	"glassbox/internal/kernel"
	"glassbox/internal/vfs"
)

func init() {
	reg(unix.SYS_MQ_OPEN, sysMqOpen)
	reg(unix.SYS_MQ_UNLINK, sysMqUnlink)
	reg(unix.SYS_MQ_TIMEDSEND, sysMqTimedsend)
	reg(unix.SYS_MQ_TIMEDRECEIVE, sysMqTimedreceive)
	reg(unix.SYS_MQ_NOTIFY, sysMqNotify, "SIGEV_SIGNAL and SIGEV_NONE; SIGEV_THREAD (a netlink socket) is EINVAL")
	reg(unix.SYS_MQ_GETSETATTR, sysMqGetsetattr)
}

// POSIX message queues. Linux: ipc/mqueue.c

// mqName reads a queue name (glibc has taken its leading '/').
func mqName(t *kernel.Task, addr uint64) (string, error) {
	name, err := t.ReadString(addr, unix.PathMax)
	if err != nil {
		return "", err
	}
	return name, ipc.CheckName(name)
}

// mqAttr is struct mq_attr's first four longs.
func mqAttr(t *kernel.Task, addr uint64) ([4]int64, error) {
	var b [64]byte
	var v [4]int64
	if err := t.CopyIn(addr, b[:]); err != nil {
		return v, err
	}
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

func sysMqOpen(t *kernel.Task, a kernel.Args) (uint64, error) {
	oflag, mode := a.Int(1), uint32(a[2])
	var attr *[4]int64
	if a[3] != 0 {
		v, err := mqAttr(t, a[3])
		if err != nil {
			return 0, err
		}
		attr = &v
	}
	name, err := mqName(t, a[0])
	if err != nil {
		return 0, err
	}
	acc := oflag & unix.O_ACCMODE
	access := map[int]int{unix.O_RDONLY: vfs.MayRead, unix.O_WRONLY: vfs.MayWrite, unix.O_RDWR: vfs.MayRead | vfs.MayWrite}[acc]
	if acc == unix.O_ACCMODE {
		return 0, unix.EINVAL
	}
	maxMsg, msgSize := ipc.MQDefaultMaxMsg, ipc.MQDefaultMsgSize
	create := oflag&unix.O_CREAT != 0
	if create && attr != nil {
		// Linux: ipc/mqueue.c (mqueue_attr_ok)
		mm, ms := attr[1], attr[2]
		if mm <= 0 || ms <= 0 {
			return 0, unix.EINVAL
		}
		limMsg, limSize := int64(ipc.MQDefaultMaxMsg), int64(ipc.MQDefaultMsgSize)
		if t.Creds().HasCap(unix.CAP_SYS_RESOURCE) {
			limMsg, limSize = ipc.MQHardMaxMsg, ipc.MQHardMsgSize
		}
		if mm > limMsg || ms > limSize {
			return 0, unix.EINVAL
		}
		maxMsg, msgSize = int(mm), int(ms)
	}
	q, err := t.IPC().MQ().Open(name, create, oflag&unix.O_EXCL != 0, mode&^t.FS().Umask(), t.Creds(),
		maxMsg, msgSize, access)
	if err != nil {
		return 0, err
	}
	f := vfs.NewAnonFile(ipc.NewMQFile(q), name, acc|oflag&unix.O_NONBLOCK)
	return installNew(t, f, oflag&unix.O_CLOEXEC != 0)
}

func sysMqUnlink(t *kernel.Task, a kernel.Args) (uint64, error) {
	name, err := mqName(t, a[0])
	if err != nil {
		return 0, err
	}
	return 0, t.IPC().MQ().Unlink(name, t.Creds())
}

// mqFD returns the queue behind fd (EBADF: not a queue).
func mqFD(t *kernel.Task, fd int) (*vfs.File, *ipc.MQueue, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, nil, unix.EBADF
	}
	m, ok := f.Ops().(*ipc.MQFile)
	if !ok {
		f.DecRef()
		return nil, nil, unix.EBADF
	}
	return f, m.Queue(), nil
}

// mqWait is a wait until an absolute CLOCK_REALTIME timeout (addr 0:
// none); EINVAL for a bad timespec, before anything else is looked at.
func mqWait(t *kernel.Task, addr uint64) (func(<-chan struct{}) error, error) {
	var deadline time.Time
	if addr != 0 {
		var b [16]byte
		if err := t.CopyIn(addr, b[:]); err != nil {
			return nil, err
		}
		sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || nsec < 0 || nsec >= 1e9 {
			return nil, unix.EINVAL
		}
		deadline = time.Unix(sec, nsec)
	}
	return func(ch <-chan struct{}) error {
		err := vfs.WaitAny(t, []<-chan struct{}{ch}, deadline)
		if err == unix.EINTR {
			return abi.ERESTARTSYS
		}
		return err
	}, nil
}

// mqIO checks a send's or receive's timeout (first, as Linux) and finds
// its queue, open for writing or reading (EBADF).
func mqIO(t *kernel.Task, fd int, timeout uint64, write bool) (*vfs.File, *ipc.MQueue, func(<-chan struct{}) error, error) {
	wait, err := mqWait(t, timeout)
	if err != nil {
		return nil, nil, nil, err
	}
	f, q, err := mqFD(t, fd)
	if err != nil {
		return nil, nil, nil, err
	}
	if write && !f.Writable() || !write && !f.Readable() {
		f.DecRef()
		return nil, nil, nil, unix.EBADF
	}
	return f, q, wait, nil
}

func sysMqTimedsend(t *kernel.Task, a kernel.Args) (uint64, error) {
	if a[3] >= ipc.MQPrioMax {
		return 0, unix.EINVAL
	}
	f, q, wait, err := mqIO(t, a.Int(0), a[4], true)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	if _, size, _ := q.Attr(); int64(a[2]) > int64(size) {
		return 0, unix.EMSGSIZE
	}
	msg := make([]byte, a[2])
	if err := t.CopyIn(a[1], msg); err != nil {
		return 0, err
	}
	nonblock := f.Flags()&unix.O_NONBLOCK != 0
	return 0, q.Send(msg, uint32(a[3]), nonblock, int32(t.PID()), t.Creds().UID, wait)
}

func sysMqTimedreceive(t *kernel.Task, a kernel.Args) (uint64, error) {
	f, q, wait, err := mqIO(t, a.Int(0), a[4], false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	msg, prio, err := q.Receive(int(min(a[2], 1<<31)), f.Flags()&unix.O_NONBLOCK != 0, wait)
	if err != nil {
		return 0, err
	}
	if err := t.CopyOut(a[1], msg); err != nil {
		return 0, err
	}
	if a[3] != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], prio)
		if err := t.CopyOut(a[3], b[:]); err != nil {
			return 0, err
		}
	}
	return uint64(len(msg)), nil
}

// sigevent notify kinds. Linux: include/uapi/asm-generic/siginfo.h
const (
	sigevSignal = 0
	sigevNone   = 1
)

func sysMqNotify(t *kernel.Task, a kernel.Args) (uint64, error) {
	var ev [64]byte
	if a[1] != 0 {
		if err := t.CopyIn(a[1], ev[:]); err != nil {
			return 0, err
		}
	}
	le := binary.LittleEndian
	value, signo, notify := le.Uint64(ev[:]), int(int32(le.Uint32(ev[8:]))), int(int32(le.Uint32(ev[12:])))
	if a[1] != 0 {
		switch notify {
		case sigevNone:
		case sigevSignal:
			if signo <= 0 || signo > abi.NSIG {
				return 0, unix.EINVAL
			}
		default:
			return 0, unix.EINVAL
		}
	}
	f, q, err := mqFD(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	tg := t.ThreadGroup()
	if a[1] == 0 {
		return 0, q.SetNotify(nil, tg)
	}
	n := &ipc.MQNotify{Owner: tg, Fire: func(pid int32, uid uint32) {
		if notify == sigevSignal {
			tg.SignalInfo(kernel.SigInfo{Signo: int32(signo), Code: siMesgq, PID: pid, UID: uid, Value: value})
		}
	}}
	return 0, q.SetNotify(n, tg)
}

// siMesgq is si_code for a message queue notification.
const siMesgq = -3

func sysMqGetsetattr(t *kernel.Task, a kernel.Args) (uint64, error) {
	var newFlags int64
	if a[1] != 0 {
		v, err := mqAttr(t, a[1])
		if err != nil {
			return 0, err
		}
		if v[0]&^unix.O_NONBLOCK != 0 {
			return 0, unix.EINVAL
		}
		newFlags = v[0]
	}
	f, q, err := mqFD(t, a.Int(0))
	if err != nil {
		return 0, err
	}
	defer f.DecRef()
	maxMsg, size, cur := q.Attr()
	old := [4]int64{int64(f.Flags() & unix.O_NONBLOCK), int64(maxMsg), int64(size), int64(cur)}
	if a[2] != 0 {
		b := make([]byte, 64)
		for i, v := range old {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		if err := t.CopyOut(a[2], b); err != nil {
			return 0, err
		}
	}
	if a[1] != 0 {
		f.SetStatusFlags(f.Flags()&^unix.O_NONBLOCK | int(newFlags))
	}
	return 0, nil
}
