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

// CheckMode applies the mode bits of st to c, then the capabilities that
// override them. Linux: fs/namei.c (generic_permission)
func CheckMode(c *Creds, st *Stat, want int) error {
	mode := st.Mode
	var bits uint32
	switch {
	case c.FSUID == st.UID:
		bits = mode >> 6
	case c.inGroup(st.GID):
		bits = mode >> 3
	default:
		bits = mode
	}
	if uint32(want)&^(bits&7) == 0 {
		return nil
	}
	if st.IsDir() {
		if want&MayWrite == 0 && c.CapableWrt(unix.CAP_DAC_READ_SEARCH, st.UID, st.GID) {
			return nil
		}
		if c.CapableWrt(unix.CAP_DAC_OVERRIDE, st.UID, st.GID) {
			return nil
		}
		return unix.EACCES
	}
	// A file may be executed only if someone may.
	if (want&MayExec == 0 || mode&0o111 != 0) && c.CapableWrt(unix.CAP_DAC_OVERRIDE, st.UID, st.GID) {
		return nil
	}
	if want == MayRead && c.CapableWrt(unix.CAP_DAC_READ_SEARCH, st.UID, st.GID) {
		return nil
	}
	return unix.EACCES
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
