package vfs

import "golang.org/x/sys/unix"

// Access bits for MayAccess.
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// MayAccess checks the permission bits of in against the caller's file
// system credentials. Linux: fs/namei.c (generic_permission)
func MayAccess(ctx Ctx, in Inode, want int) error {
	if want == 0 {
		return nil
	}
	st, err := in.Stat()
	if err != nil {
		return err
	}
	c := ctx.Creds()
	return CheckMode(c, &st, want)
}

// CheckMode applies the mode bits of st to c.
func CheckMode(c *Creds, st *Stat, want int) error {
	mode := st.Mode
	if c.FSUID == 0 || c.Caps {
		// Root may read and write anything; it may execute a file only if
		// someone may, and search any directory.
		if want&MayExec == 0 || st.IsDir() || mode&0o111 != 0 {
			return nil
		}
		return unix.EACCES
	}
	var bits uint32
	switch {
	case c.FSUID == st.UID:
		bits = mode >> 6
	case c.inGroup(st.GID):
		bits = mode >> 3
	default:
		bits = mode
	}
	if uint32(want)&^(bits&7) != 0 {
		return unix.EACCES
	}
	return nil
}

func (c *Creds) inGroup(gid uint32) bool {
	if c.FSGID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}
