package ipc

import (
	"glassbox/internal/fs/synth"
	"glassbox/internal/vfs"
)

// ProcDir returns /proc/sysvipc: shm from the namespace, msg and sem
// with their headers only (no message queues or semaphores yet).
func ProcDir(ns *Namespace, dev uint64) vfs.Inode {
	fixed := func(s string) vfs.Inode {
		return synth.NewFile(dev, func(vfs.Ctx) ([]byte, error) { return []byte(s), nil })
	}
	return synth.Static(dev, 0o555, map[string]vfs.Inode{
		"shm": synth.NewFile(dev, func(vfs.Ctx) ([]byte, error) { return ns.ProcShm(), nil }),
		"msg": fixed("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"),
		"sem": fixed("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"),
	})
}
