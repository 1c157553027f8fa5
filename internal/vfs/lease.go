package vfs

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// File leases (F_SETLEASE). A lease is held by an open file description
// on a regular file. An open by anyone that conflicts with it (any open
// against a write lease, a write or truncating open against a read one)
// breaks it: the holder is told (its notify: the lease signal to its
// owner), the opener waits until the holder has released or downgraded
// the lease, or until LeaseBreakTime has passed (then the lease goes by
// force), and an O_NONBLOCK opener gets EWOULDBLOCK at once. While a
// lease is being broken F_GETLEASE reports what it must become.
// Lock order: leases.mu, then File.mu.
// Linux: fs/locks.c (__break_lease, generic_setlease, time_out_leases)

// LeaseBreakTime is how long a lease holder has to let go (lease-break-time).
const LeaseBreakTime = 45 * time.Second

var leases struct {
	mu      sync.Mutex
	n       atomic.Int32 // files holding a lease, for a cheap check on open
	byKey   map[fileKey][]*File
	changes Changes // a lease released, downgraded or removed
}

// leaseState is a file's lease, in fileExtra (guarded by File.mu).
type leaseState struct {
	key      fileKey
	notify   func() // tells the holder its lease is being broken
	breaking bool
	breakTo  int       // F_UNLCK or F_RDLCK: what the lease must become
	deadline time.Time // when it goes by force
}

// SetLease records F_SETLEASE's type on the file whose identity st gives;
// F_UNLCK drops the lease (EAGAIN when there is none). notify is how the
// holder hears that its lease is being broken.
// Linux: fs/locks.c (generic_setlease, generic_delete_lease)
func (f *File) SetLease(typ int, st *Stat, notify func()) error {
	leases.mu.Lock()
	defer leases.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	x := &f.extra
	if typ == unix.F_UNLCK {
		if !x.leased {
			return unix.EAGAIN
		}
		x.leased = false
		dropLeaseLocked(f, x.ls.key)
		return nil
	}
	k := fileKey{st.Dev, st.Ino}
	if !x.leased {
		if leases.byKey == nil {
			leases.byKey = map[fileKey][]*File{}
		}
		leases.byKey[k] = append(leases.byKey[k], f)
		leases.n.Add(1)
	}
	x.lease, x.leased = typ, true
	x.ls = leaseState{key: k, notify: notify}
	leases.changes.Notify() // a downgrade may let a breaker go on
	return nil
}

// dropLeaseLocked takes f off its file's leases; leases.mu and f.mu held.
func dropLeaseLocked(f *File, k fileKey) {
	l := leases.byKey[k]
	if i := slices.Index(l, f); i >= 0 {
		leases.byKey[k] = slices.Delete(l, i, i+1)
		leases.n.Add(-1)
	}
	if len(leases.byKey[k]) == 0 {
		delete(leases.byKey, k)
	}
	f.extra.ls = leaseState{}
	leases.changes.Notify()
}

// releaseLease drops the lease of a file being closed.
func releaseLease(f *File) {
	leases.mu.Lock()
	defer leases.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.extra.leased {
		f.extra.leased = false
		dropLeaseLocked(f, f.extra.ls.key)
	}
}

// leaseNow is F_GETLEASE's answer: the lease, or while it is being broken
// what it must become. f.mu held.
func (f *File) leaseNow() int {
	if !f.extra.leased {
		return unix.F_UNLCK
	}
	if f.extra.ls.breaking {
		return f.extra.ls.breakTo
	}
	return f.extra.lease
}

// breakLeases is an open's lease check on the file k names: write is a
// write or truncating open. It returns when no lease conflicts.
func breakLeases(ctx Ctx, k fileKey, write, nonblock bool) error {
	for {
		leases.mu.Lock()
		var notify []func()
		var next time.Time
		now := time.Now()
		conflicts := false
		for _, h := range slices.Clone(leases.byKey[k]) {
			h.mu.Lock()
			x := &h.extra
			if !x.leased || !write && x.lease == unix.F_RDLCK {
				h.mu.Unlock()
				continue
			}
			if !x.ls.breaking {
				x.ls.breaking, x.ls.deadline = true, now.Add(LeaseBreakTime)
				x.ls.breakTo = unix.F_RDLCK
				if write {
					x.ls.breakTo = unix.F_UNLCK
				}
				if x.ls.notify != nil {
					notify = append(notify, x.ls.notify)
				}
			}
			if !now.Before(x.ls.deadline) {
				// Time is up: the lease becomes what it had to.
				if x.ls.breakTo == unix.F_UNLCK {
					x.leased = false
					dropLeaseLocked(h, k)
				} else {
					x.lease, x.ls.breaking = unix.F_RDLCK, false
				}
				h.mu.Unlock()
				continue
			}
			conflicts = true
			if next.IsZero() || x.ls.deadline.Before(next) {
				next = x.ls.deadline
			}
			h.mu.Unlock()
		}
		ch := leases.changes.Chan()
		leases.mu.Unlock()
		for _, n := range notify {
			n()
		}
		if !conflicts {
			return nil
		}
		if nonblock {
			return unix.EWOULDBLOCK
		}
		tm := time.NewTimer(time.Until(next))
		select {
		case <-ch:
		case <-tm.C:
		case <-ctx.Interrupt():
			if ctx.Interrupted() {
				tm.Stop()
				return unix.EINTR
			}
		}
		tm.Stop()
	}
}
