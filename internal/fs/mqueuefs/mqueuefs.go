package mqueuefs

import (
	"slices"

	"golang.org/x/sys/unix"

	"glassbox/internal/fs/synth"
	"glassbox/internal/ipc"
	"glassbox/internal/vfs"
)

// Root is the file system's only directory.
type Root struct {
	attr synth.Attr
	mq   *ipc.MQRegistry
}

// New returns the root of an mqueue file system of ns: sticky and
// writable by all, as Linux makes it.
func New(ns *ipc.Namespace) *Root {
	return &Root{attr: synth.NewAttr(ipc.MQueueDev, unix.S_IFDIR|0o1777), mq: ns.MQ()}
}

func (r *Root) Stat() (vfs.Stat, error) { return r.attr.Stat() }

// Lookup implements vfs.Dir.
func (r *Root) Lookup(_ vfs.Ctx, name string) (vfs.Inode, error) {
	if q := r.mq.Lookup(name); q != nil {
		return &queue{q: q}, nil
	}
	return nil, unix.ENOENT
}

// ReadDir implements vfs.Dir.
func (r *Root) ReadDir(vfs.Ctx) ([]vfs.DirEntry, error) {
	names := r.mq.Names()
	slices.Sort(names)
	out := make([]vfs.DirEntry, 0, len(names))
	for _, n := range names {
		if q := r.mq.Lookup(n); q != nil {
			out = append(out, vfs.DirEntry{Name: n, Ino: q.Stat().Ino, Type: unix.DT_REG})
		}
	}
	return out, nil
}

// Create implements vfs.Creator: a queue with the default sizes.
func (r *Root) Create(ctx vfs.Ctx, name string, mode uint32) (vfs.Inode, error) {
	if err := ipc.CheckName(name); err != nil {
		return nil, err
	}
	q, err := r.mq.Open(name, true, true, mode, ctx.Creds(), ipc.MQDefaultMaxMsg, ipc.MQDefaultMsgSize, 0)
	if err != nil {
		return nil, err
	}
	return &queue{q: q}, nil
}

// Unlink implements vfs.Unlinker.
func (r *Root) Unlink(ctx vfs.Ctx, name string) error { return r.mq.Unlink(name, ctx.Creds()) }

// Rmdir implements vfs.Unlinker: there are no directories to remove.
func (r *Root) Rmdir(_ vfs.Ctx, name string) error {
	if r.mq.Lookup(name) != nil {
		return unix.ENOTDIR
	}
	return unix.ENOENT
}

// The directory has no other operations: Linux's answers EPERM for them.
func (r *Root) Mkdir(vfs.Ctx, string, uint32) error         { return unix.EPERM }
func (r *Root) Mknod(vfs.Ctx, string, uint32, uint64) error { return unix.EPERM }
func (r *Root) Symlink(vfs.Ctx, string, string) error       { return unix.EPERM }
func (r *Root) Link(vfs.Ctx, string, vfs.Inode) error       { return unix.EPERM }
func (r *Root) Rename(vfs.Ctx, string, vfs.Inode, string, int) error {
	return unix.EPERM
}

// Open implements vfs.Opener for listing the directory.
func (r *Root) Open(vfs.Ctx, int) (vfs.FileOps, error) { return &dirOps{r: r}, nil }

type dirOps struct {
	vfs.BaseOps
	r *Root
}

func (o *dirOps) Stat(vfs.Ctx) (vfs.Stat, error)              { return o.r.Stat() }
func (o *dirOps) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) { return o.r.ReadDir(ctx) }

// queue is a queue's name in the directory.
type queue struct{ q *ipc.MQueue }

func (q *queue) Stat() (vfs.Stat, error) { return q.q.Stat(), nil }

// Open implements vfs.Opener: the queue's descriptor (the VFS has checked
// the access against the queue's mode).
func (q *queue) Open(vfs.Ctx, int) (vfs.FileOps, error) { return ipc.NewMQFile(q.q), nil }
