package overlay

import (
	"bytes"

	"golang.org/x/sys/unix"

	"glassbox/internal/vfs"
)

// copyUp gives n an upper object, copying at most limit bytes of a
// regular file's data (all of it when limit < 0).
func (fs *FS) copyUp(ctx vfs.Ctx, n *node, limit int64) error {
	if n.up() != nil {
		return nil
	}
	fs.wmu.Lock()
	defer fs.wmu.Unlock()
	return fs.copyUpLocked(ctx, n, limit)
}

// copyUpLocked copies n's parents and then n to the upper layer: a
// directory without its entries, a symlink's target, a regular file's
// data, then mode, owner and times. The upper parent's times are put back:
// a copy-up changes nothing the guest can see. Extended attributes go
// along (xattr.go). The node takes the upper
// object only when it is complete, so readers use the lower until then.
// Callers hold fs.wmu. Linux: fs/overlayfs/copy_up.c (ovl_copy_up_flags,
// ovl_copy_up_one, ovl_copy_up_data, ovl_set_attr)
func (fs *FS) copyUpLocked(ctx vfs.Ctx, n *node, limit int64) error {
	if n.up() != nil {
		return nil
	}
	fs.mu.RLock()
	parent, name, dead := n.parent, n.name, n.dead
	fs.mu.RUnlock()
	if dead || parent == nil {
		return unix.ENOENT // an unlinked lower object has no place in the upper
	}
	if err := fs.copyUpLocked(ctx, parent, -1); err != nil {
		return err
	}
	pu, ok := parent.up().(vfs.Dir)
	if !ok {
		return unix.EROFS
	}
	st, err := n.lower.Stat()
	if err != nil {
		return err
	}
	pst, err := pu.Stat()
	if err != nil {
		return err
	}
	u, err := fs.makeUpper(ctx, pu, name, n, &st, limit)
	if err != nil {
		return err
	}
	a := vfs.Attr{Valid: vfs.AttrUID | vfs.AttrGID | vfs.AttrAtime | vfs.AttrMtime,
		UID: st.UID, GID: st.GID, Atime: st.Atime, Mtime: st.Mtime}
	if st.Type() != unix.S_IFLNK {
		a.Valid, a.Mode = a.Valid|vfs.AttrMode, st.Mode&0o7777
	}
	err = copyXattrs(ctx, n.lower, u)
	var ust vfs.Stat
	if err == nil {
		ust, err = u.Stat()
	}
	if err == nil {
		if s, ok := u.(vfs.Setattrer); ok {
			err = s.SetAttr(ctx, &a)
		}
	}
	if err != nil {
		removeUpper(ctx, pu, name, st.IsDir())
		return err
	}
	if s, ok := pu.(vfs.Setattrer); ok {
		s.SetAttr(ctx, &vfs.Attr{Valid: vfs.AttrAtime | vfs.AttrMtime, Atime: pst.Atime, Mtime: pst.Mtime})
	}
	fs.mu.Lock()
	n.upper.Store(&upperRef{u})
	fs.upperInos[ust.Ino] = n.ino
	n.gen++
	parent.gen++
	fs.mu.Unlock()
	return nil
}

// makeUpper makes the upper copy of n (whose lower attributes are st) as
// name in the upper directory pu.
func (fs *FS) makeUpper(ctx vfs.Ctx, pu vfs.Dir, name string, n *node, st *vfs.Stat, limit int64) (vfs.Inode, error) {
	var err error
	switch st.Type() {
	case unix.S_IFDIR:
		mk, ok := pu.(vfs.Mkdirer)
		if !ok {
			return nil, unix.EROFS
		}
		err = mk.Mkdir(ctx, name, 0o700)
	case unix.S_IFLNK:
		sl, ok := pu.(vfs.Symlinker)
		ll, ok2 := n.lower.(vfs.Symlink)
		if !ok || !ok2 {
			return nil, unix.EROFS
		}
		var target string
		if target, err = ll.Readlink(ctx); err != nil {
			return nil, err
		}
		err = sl.Symlink(ctx, name, target)
	case unix.S_IFREG:
		cr, ok := pu.(vfs.Creator)
		if !ok {
			return nil, unix.EROFS
		}
		u, err := cr.Create(ctx, name, 0o600)
		if err != nil {
			return nil, err
		}
		size := st.Size
		if limit >= 0 && limit < size {
			size = limit
		}
		if err := copyData(ctx, n.lower, u, size); err != nil {
			removeUpper(ctx, pu, name, false)
			return nil, err
		}
		return u, nil
	default:
		mk, ok := pu.(vfs.Mknoder)
		if !ok {
			return nil, unix.EPERM
		}
		err = mk.Mknod(ctx, name, st.Mode&(unix.S_IFMT|0o7777), st.Rdev)
	}
	if err != nil {
		return nil, err
	}
	u, err := pu.Lookup(ctx, name)
	if err != nil {
		removeUpper(ctx, pu, name, st.IsDir())
	}
	return u, err
}

// removeUpper undoes a failed copy-up.
func removeUpper(ctx vfs.Ctx, pu vfs.Dir, name string, isDir bool) {
	if u, ok := pu.(vfs.Unlinker); ok {
		if isDir {
			u.Rmdir(ctx, name)
		} else {
			u.Unlink(ctx, name)
		}
	}
}

const (
	copyChunk = 1 << 20
	holeBlock = 4096
)

var zeroBlock [holeBlock]byte

// copyData copies size bytes of from into the empty regular file to.
// Blocks of zeros are skipped, so holes stay holes (and zeros written to
// the lower file become holes, which read the same).
func copyData(ctx vfs.Ctx, from, to vfs.Inode, size int64) error {
	if size > 0 {
		if err := copyBytes(ctx, from, to, size); err != nil {
			return err
		}
	}
	s, ok := to.(vfs.Setattrer)
	if !ok {
		return unix.EROFS
	}
	return s.SetAttr(ctx, &vfs.Attr{Valid: vfs.AttrSize, Size: size})
}

func copyBytes(ctx vfs.Ctx, from, to vfs.Inode, size int64) error {
	fo, ok1 := from.(vfs.Opener)
	to2, ok2 := to.(vfs.Opener)
	if !ok1 || !ok2 {
		return unix.EIO
	}
	src, err := fo.Open(ctx, unix.O_RDONLY)
	if err != nil {
		return err
	}
	defer src.Release()
	dst, err := to2.Open(ctx, unix.O_WRONLY)
	if err != nil {
		return err
	}
	defer dst.Release()
	buf := make([]byte, min(size, copyChunk))
	for off := int64(0); off < size; {
		n, err := src.Read(ctx, [][]byte{buf[:min(int64(len(buf)), size-off)]}, off)
		if n > 0 {
			if err := writeSparse(ctx, dst, buf[:n], off); err != nil {
				return err
			}
			off += int64(n)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // the lower file shrank: copy what there is, zeros after
		}
	}
	return nil
}

// writeSparse writes the runs of non-zero blocks of b at off.
func writeSparse(ctx vfs.Ctx, dst vfs.FileOps, b []byte, off int64) error {
	start := -1
	flush := func(end int) error {
		if start < 0 {
			return nil
		}
		for p := start; p < end; {
			n, err := dst.Write(ctx, [][]byte{b[p:end]}, off+int64(p))
			if err != nil {
				return err
			}
			if n == 0 {
				return unix.EIO
			}
			p += n
		}
		start = -1
		return nil
	}
	for i := 0; i < len(b); i += holeBlock {
		blk := b[i:min(i+holeBlock, len(b))]
		if bytes.Equal(blk, zeroBlock[:len(blk)]) {
			if err := flush(i); err != nil {
				return err
			}
		} else if start < 0 {
			start = i
		}
	}
	return flush(len(b))
}
