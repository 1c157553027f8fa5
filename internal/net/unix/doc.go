// Package unix implements AF_UNIX sockets inside the sandbox (man 7 unix):
// SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET sockets, socketpair, bind
// (abstract names, autobind, pathnames), listen, connect, accept,
// shutdown, the send and receive paths with their flags, ancillary data
// (SCM_RIGHTS carrying any open file, SCM_CREDENTIALS), SO_PEERCRED, the
// SOL_SOCKET options, readiness for poll/select/epoll, SIOCINQ/SIOCOUTQ and
// the sockfs inode a socket file stats as. No host socket is ever used.
// Linux: net/unix/af_unix.c, net/core/sock.c, net/core/scm.c.
//
// Ownership. A Namespace is one sandbox's AF_UNIX world: its abstract
// names (one namespace per socket type, as Linux hashes them) and its
// PathBinder, which publishes pathname sockets: Registry makes them
// S_IFSOCK files where the file system can, and otherwise keeps them in a
// table keyed by the parent directory's dentry and the last name (see
// Registry). A Socket is one socket; it is the vfs.FileOps of its file,
// so read, write, readv, writev, fstat, ioctl and poll reach it through the
// vfs. Accepted sockets exist before accept as "embryos" queued on their
// listener, as in Linux.
//
// Buffers follow Linux's accounting: a message charges its sender the
// skb's true size (data plus the kernel's per-skb overhead) until the
// receiver frees it, a sender blocks while its charges reach SO_SNDBUF,
// and a datagram receiver that is not connected back to the sender
// accepts at most max_dgram_qlen+1 queued messages. So the byte counts
// where writes start to block match Linux's.
//
// Files in flight (SCM_RIGHTS) hold a reference each; the receiver's
// syscall layer installs them, or they are dropped with the message
// (read(2), no control buffer, a socket released with unread messages).
// Cycles of sockets carried in their own queues are not collected (Linux's
// unix_gc); they leak until the sandbox ends.
//
// Lock order: Namespace.mu guards the state of every socket of the
// namespace and the set of its sockets with files (/proc/net/unix) (one lock, since nearly every operation touches two sockets:
// sender and receiver, or a socket and its listener). The PathBinder is
// always called without it (it takes file system locks and Registry.mu,
// a leaf). vfs.File locks (the status flags) are taken before
// Namespace.mu, never while it is held; files are released (DecRef) only
// after it is dropped, because releasing a socket file takes it; no lock
// is held while waiting. Callers above (epoll) may hold their own locks
// when they call Readiness.
package unix
