package epoll

import (
	"encoding/binary"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// fakePoll is a pollable file whose readiness the fuzz input sets.
type fakePoll struct {
	vfs.BaseOps
	ready uint32
	ch    chan struct{}
}

func (p *fakePoll) Readiness() (uint32, <-chan struct{}) { return p.ready, p.ch }
func (p *fakePoll) Stat(vfs.Ctx) (vfs.Stat, error)       { return vfs.Stat{}, nil }

// ctlOp packs one fuzz step: op, target, events, readiness change.
func ctlOp(op, target byte, events uint32) []byte {
	b := []byte{op, target, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(b[2:], events)
	return b
}

// FuzzEpollCtl: any sequence of epoll_ctl calls (events of any bits) on
// a few pollable files, the epoll file itself and a nested epoll file,
// each followed by a non-blocking epoll_wait, never panics and matches a
// model of the interest list: EEXIST, ENOENT, EINVAL (a bad op, the
// epoll itself, EPOLLEXCLUSIVE where Linux refuses it) as Linux answers,
// and a wait reports at most maxevents events, each for a registered
// entry with its data and only events it asked for (plus EPOLLERR and
// EPOLLHUP) that are ready, a one-shot entry once until re-armed.
func FuzzEpollCtl(f *testing.F) {
	f.Add(append(append(ctlOp(1, 0, unix.EPOLLIN), ctlOp(3, 0, unix.EPOLLOUT)...), ctlOp(2, 0, 0)...), uint8(4))
	f.Add(append(append(ctlOp(1, 1, unix.EPOLLIN|unix.EPOLLEXCLUSIVE), ctlOp(3, 1, unix.EPOLLIN)...), ctlOp(1, 4, unix.EPOLLIN)...), uint8(1))
	f.Add(append(append(ctlOp(1, 2, unix.EPOLLIN|unix.EPOLLONESHOT), ctlOp(9, 2, 0)...), ctlOp(3, 2, unix.EPOLLIN|unix.EPOLLONESHOT)...), uint8(2))
	f.Add(append(ctlOp(1, 5, unix.EPOLLIN|unix.EPOLLEXCLUSIVE), ctlOp(1, 3, unix.EPOLLPRI|unix.EPOLLEXCLUSIVE)...), uint8(8))
	f.Fuzz(func(t *testing.T, prog []byte, max uint8) {
		maxEv := int(max%8) + 1
		epf, in := NewFile()
		defer epf.DecRef()
		inner, _ := NewFile()
		defer inner.DecRef()
		var fakes [4]*fakePoll
		files := make([]*vfs.File, 6)
		for i := range fakes {
			fakes[i] = &fakePoll{ch: make(chan struct{})}
			files[i] = vfs.NewAnonFile(fakes[i], "fake", unix.O_RDWR)
			defer files[i].DecRef()
		}
		files[4], files[5] = epf, inner
		type model struct {
			events   uint32
			data     uint64
			disabled bool
		}
		reg := map[int]*model{}
		for step := 0; len(prog) >= 6 && step < 64; step, prog = step+1, prog[6:] {
			op, target := int(prog[0]%5), int(prog[1]%6)
			events := binary.LittleEndian.Uint32(prog[2:])
			if target < 4 {
				// The low byte of the target also sets the file's readiness.
				fakes[target].ready = uint32(prog[1]>>3) * 0x11
			}
			data := uint64(step)<<8 | uint64(target)
			err := in.Ctl(op, target, files[target], Event{Events: events, Data: data})
			m := reg[target]
			excl := events&unix.EPOLLEXCLUSIVE != 0
			var want error
			switch {
			case target == 4:
				want = unix.EINVAL
			case op == unix.EPOLL_CTL_ADD && excl && (target == 5 || events&^exclusiveOK != 0):
				want = unix.EINVAL
			case op == unix.EPOLL_CTL_MOD && excl:
				want = unix.EINVAL
			case op == unix.EPOLL_CTL_ADD && m != nil:
				want = unix.EEXIST
			case (op == unix.EPOLL_CTL_MOD || op == unix.EPOLL_CTL_DEL) && m == nil:
				want = unix.ENOENT
			case op == unix.EPOLL_CTL_MOD && m.events&unix.EPOLLEXCLUSIVE != 0:
				want = unix.EINVAL
			case op != unix.EPOLL_CTL_ADD && op != unix.EPOLL_CTL_MOD && op != unix.EPOLL_CTL_DEL:
				want = unix.EINVAL
			}
			if err != want {
				t.Fatalf("step %d: op %d on %d events 0x%x: %v, want %v", step, op, target, events, err, want)
			}
			if err == nil {
				switch op {
				case unix.EPOLL_CTL_ADD, unix.EPOLL_CTL_MOD:
					reg[target] = &model{events: events | always, data: data}
				case unix.EPOLL_CTL_DEL:
					delete(reg, target)
				}
			}
			evs, err := in.Wait(ctx{}, maxEv, time.Time{}, true)
			if err != nil || len(evs) > maxEv {
				t.Fatalf("step %d: %d events for maxevents %d, %v", step, len(evs), maxEv, err)
			}
			seen := map[int]bool{}
			for _, e := range evs {
				tg := int(e.Data & 0xff)
				m := reg[tg]
				if m == nil || m.data != e.Data || seen[tg] || m.disabled {
					t.Fatalf("step %d: event %+v for no live entry (%+v)", step, e, m)
				}
				seen[tg] = true
				var ready uint32
				if tg < 4 {
					ready = fakes[tg].ready
				} else {
					ready, _ = vfs.Readiness(files[tg])
				}
				if e.Events == 0 || e.Events&^(m.events&ready) != 0 {
					t.Fatalf("step %d: events 0x%x for an entry asking 0x%x, ready 0x%x", step, e.Events, m.events, ready)
				}
				if m.events&unix.EPOLLONESHOT != 0 {
					m.disabled = true
				}
			}
		}
	})
}
