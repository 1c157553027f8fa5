package epoll

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Epoll files watching epoll files: no loops, and at most maxNests
// levels below the outermost. Linux: fs/eventpoll.c (ep_loop_check,
// EP_MAX_NESTS)
const maxNests = 4

// nestMu serializes the adds of epoll files into epoll files, so two
// adds can't make a loop together. Lock order: nestMu, then one
// Instance.mu at a time.
var nestMu sync.Mutex

// children lists the epoll instances in watches.
func (in *Instance) children() []*Instance {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []*Instance
	for k := range in.entries {
		if c, ok := FromFile(k.file); ok && k.file.Live() {
			out = append(out, c)
		}
	}
	return out
}

// depth is how many levels of epoll files lie below in (0: none), or
// -1 if target is among them.
func (in *Instance) depth(target *Instance, level int) int {
	if in == target {
		return -1
	}
	if level > maxNests+1 {
		return level // deep enough to refuse; stop looking
	}
	d := 0
	for _, c := range in.children() {
		cd := c.depth(target, level+1)
		if cd < 0 {
			return -1
		}
		d = max(d, cd+1)
	}
	return d
}

// loopCheck refuses to add to into ep when to reaches ep (a loop), or
// when the nesting would get too deep. nestMu held.
func loopCheck(ep, to *Instance) error {
	down := to.depth(ep, 0)
	if down < 0 {
		return unix.ELOOP
	}
	if up(ep)+1+down > maxNests {
		return unix.ELOOP
	}
	return nil
}

// registry lists every instance that watches epoll files, for up.
var registry = struct {
	mu sync.Mutex
	m  map[*Instance]bool
}{m: map[*Instance]bool{}}

// up is how many levels of epoll files watch ep (0: none).
func up(ep *Instance) int {
	registry.mu.Lock()
	var all []*Instance
	for in := range registry.m {
		all = append(all, in)
	}
	registry.mu.Unlock()
	best := 0
	for _, p := range all {
		for _, c := range p.children() {
			if c == ep {
				best = max(best, 1+up(p))
			}
		}
	}
	return best
}
