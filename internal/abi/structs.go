package abi

import "encoding/binary"

var le = binary.LittleEndian

// StatFields are the values struct stat and statx carry.
type StatFields struct {
	Dev, Ino, Nlink uint64
	Mode, UID, GID  uint32
	Rdev            uint64
	Size            int64
	Blksize, Blocks int64
	Atime, Mtime    Timespec
	Ctime, Btime    Timespec
	MountID         uint64
}

// Timespec is struct timespec.
type Timespec struct{ Sec, Nsec int64 }

// StatSize is sizeof(struct stat) on x86-64.
const StatSize = 144

// EncodeStat lays out struct stat. Linux: arch/x86/include/uapi/asm/stat.h
func EncodeStat(s *StatFields) []byte {
	b := make([]byte, StatSize)
	le.PutUint64(b[0:], s.Dev)
	le.PutUint64(b[8:], s.Ino)
	le.PutUint64(b[16:], s.Nlink)
	le.PutUint32(b[24:], s.Mode)
	le.PutUint32(b[28:], s.UID)
	le.PutUint32(b[32:], s.GID)
	le.PutUint64(b[40:], s.Rdev)
	le.PutUint64(b[48:], uint64(s.Size))
	le.PutUint64(b[56:], uint64(s.Blksize))
	le.PutUint64(b[64:], uint64(s.Blocks))
	putTS(b[72:], s.Atime)
	putTS(b[88:], s.Mtime)
	putTS(b[104:], s.Ctime)
	return b
}

func putTS(b []byte, t Timespec) {
	le.PutUint64(b, uint64(t.Sec))
	le.PutUint64(b[8:], uint64(t.Nsec))
}

// Dev_t helpers (the kernel's new_encode_dev split).
func Major(dev uint64) uint32 { return uint32((dev>>8)&0xfff | (dev>>32)&^0xfff) }
func Minor(dev uint64) uint32 { return uint32(dev&0xff | (dev>>12)&^0xff) }

// Makedev builds a dev_t.
func Makedev(major, minor uint32) uint64 {
	return uint64(minor&0xff) | uint64(major&0xfff)<<8 | uint64(minor&^0xff)<<12 | uint64(major&^0xfff)<<32
}

// statx constants.
const (
	STATX_BASIC_STATS = 0x7ff
	STATX_BTIME       = 0x800
	STATX_MNT_ID      = 0x1000
	StatxSize         = 256
)

// EncodeStatx lays out struct statx. Linux: include/uapi/linux/stat.h
func EncodeStatx(s *StatFields, mask uint32) []byte {
	b := make([]byte, StatxSize)
	le.PutUint32(b[0:], mask)
	le.PutUint32(b[4:], uint32(s.Blksize))
	le.PutUint32(b[16:], uint32(s.Nlink))
	le.PutUint32(b[20:], s.UID)
	le.PutUint32(b[24:], s.GID)
	le.PutUint16(b[28:], uint16(s.Mode))
	le.PutUint64(b[32:], s.Ino)
	le.PutUint64(b[40:], uint64(s.Size))
	le.PutUint64(b[48:], uint64(s.Blocks))
	putSTS(b[64:], s.Atime)
	putSTS(b[80:], s.Btime)
	putSTS(b[96:], s.Ctime)
	putSTS(b[112:], s.Mtime)
	le.PutUint32(b[128:], Major(s.Rdev))
	le.PutUint32(b[132:], Minor(s.Rdev))
	le.PutUint32(b[136:], Major(s.Dev))
	le.PutUint32(b[140:], Minor(s.Dev))
	le.PutUint64(b[144:], s.MountID)
	return b
}

func putSTS(b []byte, t Timespec) {
	le.PutUint64(b, uint64(t.Sec))
	le.PutUint32(b[8:], uint32(t.Nsec))
}

// Utsname lays out struct new_utsname (six 65-byte fields).
func Utsname(sysname, nodename, release, version, machine, domain string) []byte {
	b := make([]byte, 6*65)
	for i, s := range []string{sysname, nodename, release, version, machine, domain} {
		copy(b[i*65:i*65+64], s)
	}
	return b
}

// Dirent64 appends one struct linux_dirent64 to b and returns the new
// slice, or false if it does not fit in max bytes.
func Dirent64(b []byte, max int, ino, off uint64, typ uint8, name string) ([]byte, bool) {
	reclen := (19 + len(name) + 1 + 7) &^ 7
	if len(b)+reclen > max {
		return b, false
	}
	start := len(b)
	b = append(b, make([]byte, reclen)...)
	r := b[start:]
	le.PutUint64(r[0:], ino)
	le.PutUint64(r[8:], off)
	le.PutUint16(r[16:], uint16(reclen))
	r[18] = typ
	copy(r[19:], name)
	return b, true
}

// Dirent appends one (old) struct linux_dirent, with its type in the last
// byte, or returns false if it does not fit.
func Dirent(b []byte, max int, ino, off uint64, typ uint8, name string) ([]byte, bool) {
	reclen := (18 + len(name) + 2 + 7) &^ 7
	if len(b)+reclen > max {
		return b, false
	}
	start := len(b)
	b = append(b, make([]byte, reclen)...)
	r := b[start:]
	le.PutUint64(r[0:], ino)
	le.PutUint64(r[8:], off)
	le.PutUint16(r[16:], uint16(reclen))
	copy(r[18:], name)
	r[reclen-1] = typ
	return b, true
}
