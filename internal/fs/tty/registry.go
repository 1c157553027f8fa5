package tty

import (
	"sort"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

// Device numbers. Linux: include/uapi/linux/major.h
const (
	ttyMajor   = 5   // /dev/tty (5,0), /dev/console (5,1), /dev/ptmx (5,2)
	ptsMajor   = 136 // UNIX98_PTY_SLAVE_MAJOR
	ttyGroup   = 5   // the tty group devpts gives slaves (gid=5,mode=620)
	maxPtyNums = 4096
)

// Registry is the set of ptys of one /dev and the controlling terminals
// of sessions. Linux: fs/devpts/inode.c, drivers/tty/tty_jobctrl.c
type Registry struct {
	dev uint64 // device number for stat of pts nodes

	mu   sync.Mutex
	ptys map[int]*TTY
	ctty map[int]*TTY // by session id
	ptmx vfs.Stat
	tty  vfs.Stat
	pts  map[int]*ptsNode
}

// NewRegistry returns an empty registry whose nodes report device dev.
func NewRegistry(dev uint64) *Registry {
	r := &Registry{dev: dev, ptys: map[int]*TTY{}, ctty: map[int]*TTY{}, pts: map[int]*ptsNode{}}
	a := synth.NewAttr(dev, unix.S_IFCHR|0o666)
	a.Rdev = abi.Makedev(ttyMajor, 2)
	r.ptmx, _ = a.Stat()
	a = synth.NewAttr(dev, unix.S_IFCHR|0o666)
	a.Rdev = abi.Makedev(ttyMajor, 0)
	r.tty, _ = a.Stat()
	return r
}

// Node returns an inode for /dev/ptmx ("ptmx") or /dev/tty ("tty").
func (r *Registry) Node(name string) vfs.Inode { return &devNode{r: r, name: name} }

type devNode struct {
	r    *Registry
	name string
}

func (n *devNode) Stat() (vfs.Stat, error) {
	if n.name == "ptmx" {
		return n.r.ptmx, nil
	}
	return n.r.tty, nil
}

func (n *devNode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	if n.name == "ptmx" {
		return n.r.OpenMaster(ctx)
	}
	return n.r.OpenCtty(ctx, flags)
}

// OpenMaster allocates the lowest free pty number and returns its master,
// locked until TIOCSPTLCK. Linux: drivers/tty/pty.c (ptmx_open)
func (r *Registry) OpenMaster(ctx vfs.Ctx) (vfs.FileOps, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	idx := 0
	for ; r.ptys[idx] != nil; idx++ {
	}
	if idx >= maxPtyNums {
		return nil, unix.ENOSPC
	}
	t := &TTY{reg: r, index: idx, sess: sessionsOf(ctx), termios: defaultTermios(),
		locked: true, masters: 1}
	if ctx != nil {
		t.uid = ctx.Creds().FSUID
	}
	r.ptys[idx] = t
	a := synth.NewAttr(r.dev, unix.S_IFCHR|0o620)
	a.Rdev = abi.Makedev(ptsMajor, uint32(idx))
	a.Ino = uint64(idx) + 3
	a.UID, a.GID = t.uid, ttyGroup
	r.pts[idx] = &ptsNode{Attr: a, t: t}
	return &Master{fileBase: fileBase{t: t}}, nil
}

// OpenCtty opens the caller's controlling terminal (/dev/tty); ENXIO if
// it has none. Linux: drivers/tty/tty_io.c (tty_open_current_tty)
func (r *Registry) OpenCtty(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	s := sessionsOf(ctx)
	if s == nil {
		return nil, unix.ENXIO
	}
	_, _, sid := s.Caller(ctx)
	r.mu.Lock()
	t := r.ctty[sid]
	r.mu.Unlock()
	if t == nil {
		return nil, unix.ENXIO
	}
	return t.openSlave(ctx, flags|unix.O_NOCTTY, r.tty)
}

// PtsDir returns the /dev/pts directory: one node per open pty.
func (r *Registry) PtsDir() vfs.Inode {
	d := &synth.VolatileDir{Dir: synth.Dir{Attr: synth.NewAttr(r.dev, unix.S_IFDIR|0o755)}}
	d.List = func(vfs.Ctx) map[string]vfs.Inode {
		r.mu.Lock()
		defer r.mu.Unlock()
		m := make(map[string]vfs.Inode, len(r.pts)+1)
		for i, n := range r.pts {
			m[strconv.Itoa(i)] = n
		}
		return m
	}
	return d
}

// Indexes returns the open pty numbers, in order.
func (r *Registry) Indexes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for i := range r.ptys {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// ptsNode is /dev/pts/N.
type ptsNode struct {
	synth.Attr
	t *TTY
}

func (n *ptsNode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) {
	st, _ := n.Attr.Stat()
	return n.t.openSlave(ctx, flags, st)
}

// openSlave opens the slave side. A session leader without a controlling
// terminal acquires this one unless O_NOCTTY. Linux: drivers/tty/tty_io.c
// (tty_open), pty.c (pty_open: EIO while locked or after hangup)
func (t *TTY) openSlave(ctx vfs.Ctx, flags int, st vfs.Stat) (vfs.FileOps, error) {
	t.mu.Lock()
	if t.locked || t.hungup {
		t.mu.Unlock()
		return nil, unix.EIO
	}
	t.slaves++
	t.slaveEver = true
	t.notifyLocked()
	t.mu.Unlock()
	if flags&unix.O_NOCTTY == 0 {
		if s := sessionsOf(ctx); s != nil {
			pid, pgid, sid := s.Caller(ctx)
			if pid == sid {
				t.claimCtty(sid, pgid)
			}
		}
	}
	return &Slave{fileBase: fileBase{t: t}, st: st}, nil
}

// closeMaster hangs the terminal up when the last master closes: slave
// reads see EOF, writes EIO; SIGHUP and SIGCONT go to the session leader
// and the foreground group. Linux: drivers/tty/pty.c (pty_close),
// tty_io.c (__tty_hangup), tty_jobctrl.c (tty_signal_session_leader)
func (t *TTY) closeMaster() {
	r := t.reg
	r.mu.Lock()
	t.mu.Lock()
	t.masters--
	if t.masters > 0 {
		t.mu.Unlock()
		r.mu.Unlock()
		return
	}
	t.hungup = true
	if t.sid != 0 {
		t.sigs = append(t.sigs, pendingSig{-t.sid, abi.SIGHUP}, pendingSig{-t.sid, abi.SIGCONT})
		if t.fg != 0 && t.fg != t.sid {
			t.sigs = append(t.sigs, pendingSig{t.fg, abi.SIGHUP}, pendingSig{t.fg, abi.SIGCONT})
		}
		if r.ctty[t.sid] == t {
			delete(r.ctty, t.sid)
		}
		t.sid, t.fg = 0, 0
	}
	delete(r.ptys, t.index)
	delete(r.pts, t.index)
	r.mu.Unlock()
	t.unlockAndSignal()
}

func (t *TTY) closeSlave() {
	t.mu.Lock()
	t.slaves--
	t.unlockAndSignal()
}
