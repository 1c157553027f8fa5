package devfs

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/fs/synth"
	"glassbox/internal/fs/tty"
	"glassbox/internal/hostrand"
	"glassbox/internal/vfs"
)

// Dev is the device number devfs reports for its own inodes.
const Dev = 6

// Options are what a /dev is built from.
type Options struct {
	// PTYs is the set of pseudo-terminals (nil: a new one).
	PTYs *tty.Registry
	// Console opens /dev/console (nil: ENXIO).
	Console func(flags int) (vfs.FileOps, error)
}

// New returns the root of a new /dev.
func New(o Options) vfs.Inode {
	ptys := o.PTYs
	if ptys == nil {
		ptys = tty.NewRegistry(Dev)
	}
	ch := map[string]vfs.Inode{
		"console": newConsole(o.Console),
		"tty":     ptys.Node("tty"),
		"ptmx":    ptys.Node("ptmx"),
		"pts":     ptys.PtsDir(),
		"null":    newChar(1, 3, 0o666, nullOps{}),
		"zero":    newChar(1, 5, 0o666, zeroOps{}),
		"full":    newChar(1, 7, 0o666, fullOps{}),
		"random":  newChar(1, 8, 0o666, randomOps{}),
		"urandom": newChar(1, 9, 0o666, randomOps{}),
		"fd":      synth.NewLink(Dev, "/proc/self/fd"),
		"stdin":   synth.NewLink(Dev, "/proc/self/fd/0"),
		"stdout":  synth.NewLink(Dev, "/proc/self/fd/1"),
		"stderr":  synth.NewLink(Dev, "/proc/self/fd/2"),
		"shm":     synth.Static(Dev, 0o1777, map[string]vfs.Inode{}),
	}
	return synth.Static(Dev, 0o755, ch)
}

// The memory devices also answer device nodes made with mknod(2).
func init() {
	for minor, ops := range map[uint32]vfs.FileOps{3: nullOps{}, 5: zeroOps{}, 7: fullOps{}, 8: randomOps{}, 9: randomOps{}} {
		ops := ops
		vfs.RegisterCharDevice(abi.Makedev(1, minor), func() vfs.FileOps { return ops })
	}
}

// char is a character device node.
type char struct {
	synth.Attr
	ops vfs.FileOps
}

func newChar(major, minor uint32, perm uint32, ops vfs.FileOps) *char {
	a := synth.NewAttr(Dev, unix.S_IFCHR|perm)
	a.Rdev = abi.Makedev(major, minor)
	return &char{Attr: a, ops: ops}
}

func (c *char) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) { return devOps{c.ops, c}, nil }

// devOps gives a device's behaviour the device node's stat.
type devOps struct {
	vfs.FileOps
	c *char
}

func (d devOps) Stat(vfs.Ctx) (vfs.Stat, error) { return d.c.Attr.Stat() }

// The memory devices are positionless in effect: every offset reads the
// same, and lseek succeeds (Linux: drivers/char/mem.c, null_lseek).

type nullOps struct{ vfs.BaseOps }

func (nullOps) Read(vfs.Ctx, [][]byte, int64) (int, error)          { return 0, nil }
func (nullOps) Write(_ vfs.Ctx, src [][]byte, _ int64) (int, error) { return total(src), nil }
func (nullOps) Stat(vfs.Ctx) (vfs.Stat, error)                      { return vfs.Stat{}, nil }

type zeroOps struct{ vfs.BaseOps }

func (zeroOps) Read(_ vfs.Ctx, dst [][]byte, _ int64) (int, error) {
	for _, b := range dst {
		clear(b)
	}
	return total(dst), nil
}
func (zeroOps) Write(_ vfs.Ctx, src [][]byte, _ int64) (int, error) { return total(src), nil }
func (zeroOps) Stat(vfs.Ctx) (vfs.Stat, error)                      { return vfs.Stat{}, nil }

type fullOps struct{ zeroOps }

func (fullOps) Write(vfs.Ctx, [][]byte, int64) (int, error) { return 0, unix.ENOSPC }

type randomOps struct{ vfs.BaseOps }

func (randomOps) Read(_ vfs.Ctx, dst [][]byte, _ int64) (int, error) {
	for _, b := range dst {
		hostrand.Read(b)
	}
	return total(dst), nil
}
func (randomOps) Write(_ vfs.Ctx, src [][]byte, _ int64) (int, error) { return total(src), nil }
func (randomOps) Stat(vfs.Ctx) (vfs.Stat, error)                      { return vfs.Stat{}, nil }

func total(bs [][]byte) int {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return n
}
