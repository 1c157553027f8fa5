package vfs

import (
	"encoding/hex"

	"golang.org/x/sys/unix"

	"glassbox/internal/hostrand"
)

// openTmpfile is open(O_TMPFILE): an unnamed regular file in directory
// path. glassbox creates it under a random name and removes the name at
// once, so the file lives only through its descriptors; /proc/PID/fd shows
// it as deleted, as Linux does. Linux: fs/namei.c (do_tmpfile)
func (n *Namespace) openTmpfile(ctx Ctx, root, start Path, path string, flags int, mode uint32, w *walkState) (*File, error) {
	acc := flags & unix.O_ACCMODE
	if acc != unix.O_WRONLY && acc != unix.O_RDWR {
		return nil, unix.EINVAL
	}
	dir, err := n.walkFrom(ctx, root, start, path, Follow|MustDir, w)
	if err != nil {
		return nil, err
	}
	cr, ok := dir.Inode().(Creator)
	if !ok || dir.Mount.Flags&unix.MS_RDONLY != 0 {
		return nil, unix.EOPNOTSUPP
	}
	if err := MayAccess(ctx, dir.Inode(), MayWrite|MayExec); err != nil {
		return nil, err
	}
	var b [8]byte
	hostrand.Read(b[:])
	name := ".#tmpfile." + hex.EncodeToString(b[:])
	if _, err := cr.Create(ctx, name, mode&0o7777); err != nil {
		return nil, err
	}
	dir.Dentry.Forget(name)
	p, err := n.Step(ctx, dir, name)
	if err != nil {
		return nil, err
	}
	f, err := OpenPath(ctx, p, flags&^unix.O_TMPFILE, true)
	if err != nil {
		return nil, err
	}
	if u, ok := dir.Inode().(Unlinker); ok {
		if err := u.Unlink(ctx, name); err == nil {
			dir.Dentry.Forget(name)
		}
	}
	return f, nil
}
