package ipc

import (
	"fmt"
	"strings"

	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

// ProcDir returns /proc/sysvipc of namespace ns.
func ProcDir(ns *Namespace, dev uint64) vfs.Inode {
	return ProcDirFor(func(vfs.Ctx) *Namespace { return ns }, dev)
}

// ProcDirFor returns /proc/sysvipc showing the namespace of the reader
// (pick says which it is). Linux: ipc/util.c (sysvipc_proc_open: the
// current task's namespace)
func ProcDirFor(pick func(vfs.Ctx) *Namespace, dev uint64) vfs.Inode {
	gen := func(f func(*Namespace) []byte) vfs.Inode {
		return synth.NewFile(dev, func(ctx vfs.Ctx) ([]byte, error) { return f(pick(ctx)), nil })
	}
	return synth.Static(dev, 0o555, map[string]vfs.Inode{
		"shm": gen((*Namespace).ProcShm),
		"msg": gen((*Namespace).ProcMsg),
		"sem": gen((*Namespace).ProcSem),
	})
}

// Sysctls returns the IPC entries of /proc/sys/kernel: the namespace's
// limits, fixed at a new namespace's defaults.
func Sysctls(dev uint64) map[string]vfs.Inode {
	fixed := func(s string) vfs.Inode {
		return synth.NewFile(dev, func(vfs.Ctx) ([]byte, error) { return []byte(s), nil })
	}
	return map[string]vfs.Inode{
		"msgmax": fixed(fmt.Sprintf("%d\n", MsgMax)),
		"msgmnb": fixed(fmt.Sprintf("%d\n", MsgMnb)),
		"msgmni": fixed(fmt.Sprintf("%d\n", MsgMni)),
		"sem":    fixed(fmt.Sprintf("%d\t%d\t%d\t%d\n", SemMsl, SemMns, SemOpm, SemMni)),
		"shmmax": fixed(fmt.Sprintf("%d\n", ShmMax)),
		"shmall": fixed(fmt.Sprintf("%d\n", ShmAll)),
		"shmmni": fixed(fmt.Sprintf("%d\n", ShmMni)),
	}
}

// ProcMsg renders /proc/sysvipc/msg. Linux: ipc/msg.c (sysvipc_msg_proc_show)
func (ns *Namespace) ProcMsg() []byte {
	var b strings.Builder
	b.WriteString("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n")
	m := &ns.msg
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, q := range m.ids.sorted() {
		fmt.Fprintf(&b, "%10d %10d  %4o  %10d %10d %5d %5d %5d %5d %5d %5d %10d %10d %10d\n",
			q.key, q.id, q.mode, q.cbytes, len(q.msgs), q.lspid, q.lrpid, q.uid, q.gid, q.cuid, q.cgid,
			q.stime, q.rtime, q.ctime)
	}
	return []byte(b.String())
}

// ProcSem renders /proc/sysvipc/sem. Linux: ipc/sem.c (sysvipc_sem_proc_show)
func (ns *Namespace) ProcSem() []byte {
	var b strings.Builder
	b.WriteString("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n")
	s := &ns.sem
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.ids.sorted() {
		fmt.Fprintf(&b, "%10d %10d  %4o %10d %5d %5d %5d %5d %10d %10d\n",
			set.key, set.id, set.mode, len(set.sems), set.uid, set.gid, set.cuid, set.cgid,
			set.otime(), set.ctime)
	}
	return []byte(b.String())
}
