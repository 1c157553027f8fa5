package vfs

import "golang.org/x/sys/unix"

// Owner is a file's F_SETOWN owner: a thread, a process or a process
// group (Type is F_OWNER_TID, F_OWNER_PID or F_OWNER_PGRP).
// Linux: fs/fcntl.c (f_setown, f_getown_ex)
type Owner struct {
	Type int
	PID  int
	// UID and EUID are the setter's, which decide whether the owner may
	// be signalled. Linux: fs/fcntl.c (f_modown, sigio_perm)
	UID, EUID uint32
}

// fileExtra is the fcntl state few files use: owner, signal, lease.
type fileExtra struct {
	owner  Owner
	sig    int
	lease  int // F_RDLCK or F_WRLCK, when leased
	leased bool
	ls     leaseState  // lease.go
	async  *asyncWatch // O_ASYNC's watcher (async.go)
	urg    func(Owner) // sends SIGURG to an owner (Urgent)
}

// Owner returns the file's owner ({F_OWNER_TID, 0} when none is set).
func (f *File) Owner() Owner {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.extra.owner
}

// SetOwner sets it; urg is how SIGURG reaches the owner when
// out-of-band data arrives (Urgent), nil when nothing is to be sent.
func (f *File) SetOwner(o Owner, urg func(Owner)) {
	f.mu.Lock()
	f.extra.owner, f.extra.urg = o, urg
	f.mu.Unlock()
}

// Urgent is a socket's news that out-of-band data arrived: the file's
// owner gets SIGURG (the default way, O_ASYNC or not) and, when O_ASYNC
// is set with an F_SETSIG signal, that signal with POLL_PRI as well.
// Nothing is sent without an owner. It must be called without the
// socket's locks held. Linux: net/core/sock.c (sk_send_sigurg),
// fs/fcntl.c (send_sigurg, kill_fasync_rcu)
func (f *File) Urgent() {
	f.mu.Lock()
	o, urg, sig := f.extra.owner, f.extra.urg, f.extra.sig
	w := f.extra.async
	f.mu.Unlock()
	if o.PID == 0 || urg == nil {
		return
	}
	urg(o)
	if w != nil && sig != 0 {
		w.notify(PollPri, unix.POLLPRI|pollRdBand, w.fd)
	}
}

// Sig returns F_GETSIG's value.
func (f *File) Sig() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.extra.sig
}

// SetSig records F_SETSIG.
func (f *File) SetSig(s int) {
	f.mu.Lock()
	f.extra.sig = s
	f.mu.Unlock()
}

// Lease returns F_GETLEASE's value.
func (f *File) Lease() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leaseNow()
}
