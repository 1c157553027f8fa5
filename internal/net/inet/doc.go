// Package inet implements AF_INET and AF_INET6 sockets for the sandbox's
// default network policy, --net=none (issue 7): a private loopback on
// which 127.0.0.0/8 and ::1 exist (0.0.0.0 and :: as wildcard binds and,
// as in Linux, as connect targets meaning "this host"). Nothing ever
// reaches the host: no host socket is created, and a connect or send to
// any other address fails with ENETUNREACH, as on a Linux host whose only
// interface is lo.
//
// SOCK_STREAM (TCP as programs see it) and SOCK_DGRAM (UDP) are provided,
// with the ports of one sandbox in one Stack: bind and its EADDRINUSE rules
// (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY dual-stack overlap), ephemeral
// ports 32768-60999, getsockname/getpeername as sockaddr_in or sockaddr_in6
// (v4-mapped for dual-stack IPv6 sockets), the SOL_SOCKET, IPPROTO_TCP,
// IPPROTO_IP and IPPROTO_IPV6 options programs use, and the interface
// ioctls (SIOCGIFCONF and friends) that list "lo". TIME_WAIT does not
// exist: a closed connection's port is free at once.
//
// Design. A TCP connection is a pair of internal/net/unix SOCK_STREAM
// sockets (unix.Namespace.NewPair of a namespace private to the Stack)
// with inet addresses on top: the connecting Socket holds one end, the
// accepted Socket the other. The byte stream, its buffering and blocking,
// MSG_PEEK/WAITALL/DONTWAIT, EOF after shutdown or close, EPIPE, and
// ECONNRESET when a socket is closed with unread data (Linux sends a RST
// then too) are those of AF_UNIX streams, which behave as TCP does on
// loopback. Only the inner send buffer is TCP's: megabytes, as Linux's
// autotuning grows it, or SO_SNDBUF plus a receive window once set. The inet Socket owns everything before the connection exists
// (bind, listen, the accept queue, connect, refusals) and the addresses.
// The inner files are never installed in an fd table; the inet Socket's
// file status flags (O_NONBLOCK) become MSG_DONTWAIT on each inner call,
// and the timeouts (SO_RCVTIMEO, SO_SNDTIMEO, SO_RCVLOWAT) are replayed on
// the inner socket. UDP is implemented here (udp.go): unlike AF_UNIX
// datagrams it never blocks the sender and drops what does not fit the
// receive buffer.
//
// Ownership. A Stack is one sandbox's inet world: its port table and the
// private unix namespace of its connections. A Socket is one socket and
// the vfs.FileOps of its file. An accepted connection exists as an
// "embryo" Socket queued on its listener before accept attaches a file.
// A Socket owns its inner unix file (one reference) and releases it when
// its own file is released.
//
// Lock order: vfs.File locks (status flags) before Stack.mu; Stack.mu
// (guards every Socket's state and the port table) before the private
// unix namespace's lock, which is taken by the non-blocking inner calls
// made under Stack.mu (SetOption, SetError, Shutdown). Blocking inner
// calls (Send, Recv, Readiness) are made without Stack.mu; no lock is
// held while waiting; files are released (DecRef) only after Stack.mu is
// dropped.
//
// Other policies. Port publishing (publish.go, publish_udp.go) serves a
// loopback port on the host's 127.0.0.1: glassbox accepts host
// connections and connects, as a client inside would, to the guest's
// port, copying both ways (half-close aware). A stack made by
// NewHostStack (--net=host, host.go, hostwait.go) backs every Socket by
// a real, non-blocking host socket (Socket.h): each exported method
// hands over to it first. Guest sockaddrs are parsed and re-encoded,
// options pass through an allow-list of plain values, blocking calls
// poll the host fd in short slices checking vfs.Ctx.Interrupted, and
// SO_RCVTIMEO/SO_SNDTIMEO are kept here since the waiting is glassbox's.
//
// Linux: net/ipv4/af_inet.c, net/ipv4/inet_connection_sock.c,
// net/ipv4/tcp.c, net/ipv4/udp.c, net/ipv6/af_inet6.c, net/core/sock.c.
package inet
