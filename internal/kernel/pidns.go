package kernel

import (
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/userns"
)

// PID namespaces. The kernel's own numbers (Task.tid, ThreadGroup.pid)
// are those of the sandbox's initial namespace; a task made in a nested
// namespace also gets a number in each namespace from its own up to the
// first nested one (its pidChain, fixed at creation). System calls
// translate with VPID (a kernel pid as the caller sees it, 0 if it cannot
// see it) and KPID (a number the caller gave, back to the kernel's).
// Linux: kernel/pid.c, kernel/pid_namespace.c

// pidNS is a PID namespace; the initial one has level 0 and is not
// numbered through pidChain.
type pidNS struct {
	nsBase
	parent *pidNS
	level  int

	mu   sync.Mutex
	next int // the last number given
	// kpid and local map kernel tids to this namespace's numbers and
	// back; kept after a task ends (numbers are never reused), so a
	// reaped child's pid still translates.
	kpid  map[int]int
	local map[int]int
	init  *ThreadGroup // the first process (its number 1); nil until made
	dead  bool         // init has exited: no new process may enter
}

// pidChain is a task's numbers: nr[i] in namespace ns[i], innermost first.
type pidChain struct {
	ns []*pidNS
	nr []int
}

// nrIn returns the task's number in ns (0: not visible there).
func (c *pidChain) nrIn(ns *pidNS) int {
	if c == nil {
		return 0
	}
	for i, n := range c.ns {
		if n == ns {
			return c.nr[i]
		}
	}
	return 0
}

// activePIDNS is the namespace the task's pid belongs to.
func (t *Task) activePIDNS() *pidNS {
	if c := t.pidc.Load(); c != nil {
		return c.ns[0]
	}
	return t.k.rootNS().pid
}

// assignPIDs numbers t in ns and its ancestors (below the initial one);
// a first process of ns becomes its init.
func (t *Task) assignPIDs(ns *pidNS, newProcess bool) error {
	if ns.level == 0 {
		return nil
	}
	c := &pidChain{}
	for n := ns; n.level > 0; n = n.parent {
		n.mu.Lock()
		if n.dead && (newProcess || n == ns) {
			n.mu.Unlock()
			return unix.ENOMEM // Linux: alloc_pid on a namespace whose init is gone
		}
		n.next++
		nr := n.next
		if n == ns && nr == 1 {
			n.init = t.tg
			t.tg.unkillable.Store(true)
		}
		if n.kpid == nil {
			n.kpid, n.local = map[int]int{}, map[int]int{}
		}
		n.kpid[t.tid], n.local[nr] = nr, t.tid
		n.mu.Unlock()
		c.ns = append(c.ns, n)
		c.nr = append(c.nr, nr)
	}
	t.pidc.Store(c)
	if t.tid == t.tg.pid {
		t.tg.pidc.Store(c)
	}
	return nil
}

// VPID returns how the task sees kernel pid (or tid) pid: its number in
// the task's PID namespace, 0 if it is not in it.
func (t *Task) VPID(pid int) int {
	view := t.activePIDNS()
	if view.level == 0 || pid <= 0 {
		return pid
	}
	view.mu.Lock()
	defer view.mu.Unlock()
	return view.kpid[pid]
}

// KPID turns a pid the task names into the kernel's number (-1 if no
// process of the task's namespace has it).
func (t *Task) KPID(nr int) int {
	view := t.activePIDNS()
	if view.level == 0 || nr <= 0 {
		return nr
	}
	return view.kernelPID(nr)
}

func (n *pidNS) kernelPID(nr int) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if k, ok := n.local[nr]; ok {
		return k
	}
	return -1
}

// PPIDSeen is getppid(2): the parent's pid as the task sees it (0 when
// the parent is outside the task's namespace).
func (t *Task) PPIDSeen() int { return t.VPID(t.tg.PPID()) }

// newPIDNS returns a child namespace of the task's for its children.
func (t *Task) newPIDNS(owner *userns.NS) (*pidNS, error) {
	parent := t.namespaces().pid
	if parent.level >= 32 {
		return nil, unix.ENOSPC
	}
	return &pidNS{nsBase: nsBase{userns.NewInode(), owner}, parent: parent, level: parent.level + 1}, nil
}

// pidReaperLocked is the init of tg's PID namespace when tg is not it
// (nil: the sandbox's init applies). Kernel.mu held.
func (k *Kernel) pidReaperLocked(tg *ThreadGroup) *ThreadGroup {
	c := tg.pidc.Load()
	if c == nil {
		return nil
	}
	for _, ns := range c.ns {
		ns.mu.Lock()
		init, dead := ns.init, ns.dead
		ns.mu.Unlock()
		if init != nil && init != tg && !dead && !init.zombie {
			return init
		}
	}
	return nil
}

// pidNSInitExited ends a PID namespace whose init has exited: every
// other process in it is killed. Linux: kernel/pid_namespace.c (zap_pid_ns_processes)
func (k *Kernel) pidNSInitExited(tg *ThreadGroup) {
	c := tg.pidc.Load()
	if c == nil || c.nr[0] != 1 {
		return
	}
	ns := c.ns[0]
	ns.mu.Lock()
	ns.dead = true
	ns.mu.Unlock()
	for _, pid := range k.PIDs() {
		if o := k.ThreadGroupByPID(pid); o != nil && o != tg && o.pidc.Load().nrIn(ns) != 0 {
			o.SignalInfo(SigInfo{Signo: int32(abi.SIGKILL), Code: abi.SI_KERNEL})
		}
	}
}

// PIDView is the numbering a /proc instance shows: that of a PID
// namespace.
type PIDView struct{ ns *pidNS }

// PIDView returns the task's namespace, for a /proc mounted by it.
func (t *Task) PIDView() PIDView { return PIDView{t.activePIDNS()} }

func (v PIDView) root() bool { return v.ns == nil || v.ns.level == 0 }

// nrOf is tg's number in the view (0: not visible).
func (v PIDView) nrOf(tg *ThreadGroup) int {
	if v.root() {
		return tg.pid
	}
	return tg.pidc.Load().nrIn(v.ns)
}

// taskNr is t's thread number in the view.
func (v PIDView) taskNr(t *Task) int {
	if v.root() {
		return t.tid
	}
	return t.pidc.Load().nrIn(v.ns)
}

// hostPIDMax is the host's kernel.pid_max: a pid a process asks for must
// be below it.
var hostPIDMax = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		return 1 << 22
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 1 << 22
	}
	return n
})

// CheckSetTID applies clone3's checks on set_tid, the pids a new process
// asks for in the namespaces its children go to, innermost first: not
// more than there are namespaces, each in range (EINVAL), the caller
// privileged over each namespace (EPERM) and each pid free (EEXIST).
// Linux: kernel/pid.c (alloc_pid)
func (t *Task) CheckSetTID(tids []int) error {
	ns := t.namespaces().pid
	if len(tids) > ns.level+1 {
		return unix.EINVAL
	}
	for i, n := 0, ns; i < len(tids); i, n = i+1, n.parent {
		tid := tids[i]
		n.mu.Lock()
		reaper := n.level == 0 || n.init != nil
		taken := n.local[tid]
		n.mu.Unlock()
		if tid < 1 || tid >= hostPIDMax() || tid != 1 && !reaper {
			return unix.EINVAL
		}
		if !t.creds.NSCapable(n.owner, unix.CAP_CHECKPOINT_RESTORE) && !t.creds.NSCapable(n.owner, unix.CAP_SYS_ADMIN) {
			return unix.EPERM
		}
		if n.level == 0 {
			taken = tid
		}
		if taken != 0 && (t.k.TaskByTID(taken) != nil || t.k.ProcessByPID(taken) != nil) {
			return unix.EEXIST
		}
	}
	return nil
}
