package unix

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// /proc/net/unix: every socket of the namespace with a file (accepted
// connections included). Kernel pointers print as zeros, as Linux prints
// them for readers without CAP_SYSLOG. Linux: net/unix/af_unix.c
// (unix_seq_show)

// Socket states of struct socket. Linux: include/uapi/linux/net.h
const (
	ssUnconnected = 1
	ssConnected   = 3
	soAcceptCon   = 1 << 16 // __SO_ACCEPTCON: a listener
)

// register and unregister keep ns.all, the sockets /proc/net/unix lists.
func (ns *Namespace) register(s *Socket) {
	ns.mu.Lock()
	if ns.all == nil {
		ns.all = map[*Socket]struct{}{}
	}
	if !s.dead {
		ns.all[s] = struct{}{}
	}
	ns.mu.Unlock()
}

// Proc renders /proc/net/unix.
func (ns *Namespace) Proc() []byte {
	type row struct {
		ino  uint64
		line string
	}
	ns.mu.Lock()
	rows := make([]row, 0, len(ns.all))
	for s := range ns.all {
		flags, st := 0, ssUnconnected
		switch s.state {
		case stateListening:
			flags = soAcceptCon
		case stateConnected:
			st = ssConnected
		}
		line := fmt.Sprintf("0000000000000000: %08X %08X %08X %04X %02X %5d", 2, 0, flags, s.typ, st, s.ino)
		if len(s.addr) > 2 {
			line += " " + procPath(s.addr[2:])
		}
		rows = append(rows, row{s.ino, line})
	}
	ns.mu.Unlock()
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(a.ino, b.ino) })
	var b strings.Builder
	b.WriteString("Num       RefCount Protocol Flags    Type St Inode Path\n")
	for _, r := range rows {
		b.WriteString(r.line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// procPath is a sun_path as the table shows it: an abstract name with a
// leading '@', every NUL byte as '@', a pathname up to its NUL.
func procPath(p []byte) string {
	if len(p) > 0 && p[0] == 0 {
		return strings.ReplaceAll(string(p), "\x00", "@")
	}
	if i := slices.Index(p, 0); i >= 0 {
		p = p[:i]
	}
	return string(p)
}
