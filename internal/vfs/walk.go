package vfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// Limits of the path walk. Linux: include/uapi/linux/limits.h, fs/namei.c
const (
	PathMax     = 4096
	NameMax     = 255
	maxSymlinks = 40
)

var (
	errNotDir = unix.ENOTDIR
)

// Walk flags.
const (
	Follow  = 1 << iota // follow a symlink in the last component
	MustDir             // the result must be a directory
)

// walkState is one walk's: the symlinks followed so far and openat2's
// restrictions (unix.RESOLVE_* flags).
type walkState struct {
	links   int
	resolve uint64
}

func (w *walkState) has(flag uint64) bool { return w.resolve&flag != 0 }

// scoped reports RESOLVE_BENEATH or RESOLVE_IN_ROOT: root is the
// directory the walk started at.
func (w *walkState) scoped() bool { return w.has(unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT) }

// Walk resolves path starting at start (used when path is relative) inside
// the tree whose top is root. ".." never rises above root, and symlinks are
// resolved here, against root, never by the host.
func (n *Namespace) Walk(ctx Ctx, root, start Path, path string, flags int) (Path, error) {
	return n.walkFrom(ctx, root, start, path, flags, &walkState{})
}

func (n *Namespace) walkFrom(ctx Ctx, root, start Path, path string, flags int, w *walkState) (Path, error) {
	p, err := n.walk(ctx, root, start, path, flags&Follow != 0, w)
	if err != nil {
		return Path{}, err
	}
	if flags&MustDir != 0 && !isDir(p) {
		return Path{}, unix.ENOTDIR
	}
	return p, nil
}

// WalkParent resolves all but the last component of path and returns the
// parent directory and the last name. The last name is "" for "/" and may
// be "." or ".."; callers reject those as Linux does for their operation.
// trailing reports a trailing slash ("dir/").
func (n *Namespace) WalkParent(ctx Ctx, root, start Path, path string) (parent Path, name string, trailing bool, err error) {
	return n.walkParent(ctx, root, start, path, &walkState{})
}

func (n *Namespace) walkParent(ctx Ctx, root, start Path, path string, w *walkState) (parent Path, name string, trailing bool, err error) {
	if path == "" {
		return Path{}, "", false, unix.ENOENT
	}
	if len(path) >= PathMax {
		return Path{}, "", false, unix.ENAMETOOLONG
	}
	trimmed := strings.TrimRight(path, "/")
	trailing = len(trimmed) != len(path)
	if trimmed == "" {
		if w.has(unix.RESOLVE_BENEATH) {
			return Path{}, "", false, unix.EXDEV
		}
		return root, "", trailing, nil
	}
	dir, name := "", trimmed
	if i := strings.LastIndexByte(trimmed, '/'); i >= 0 {
		dir, name = trimmed[:i+1], trimmed[i+1:]
	}
	if len(name) > NameMax {
		return Path{}, "", false, unix.ENAMETOOLONG
	}
	parent = start
	if dir != "" {
		parent, err = n.walk(ctx, root, start, dir, true, w)
		if err != nil {
			return Path{}, "", false, err
		}
	}
	if !isDir(parent) {
		return Path{}, "", false, unix.ENOTDIR
	}
	if err := MayAccess(ctx, parent.Inode(), MayExec); err != nil {
		return Path{}, "", false, err
	}
	return parent, name, trailing, nil
}

func isDir(p Path) bool {
	_, ok := p.Inode().(Dir)
	return ok
}

// walk resolves path from cur. Under openat2's restrictions an absolute
// name or a ".." above root is EXDEV with RESOLVE_BENEATH, a mount
// crossed EXDEV with RESOLVE_NO_XDEV, a symlink followed ELOOP with
// RESOLVE_NO_SYMLINKS (a magic link with RESOLVE_NO_MAGICLINKS too, and
// EXDEV in a scoped walk). Linux: fs/namei.c (path_init, follow_dotdot,
// traverse_mounts, pick_link, nd_jump_link, nd_jump_root)
func (n *Namespace) walk(ctx Ctx, root, cur Path, path string, follow bool, w *walkState) (Path, error) {
	if path == "" {
		return Path{}, unix.ENOENT
	}
	if len(path) >= PathMax {
		return Path{}, unix.ENAMETOOLONG
	}
	if path[0] == '/' {
		if w.has(unix.RESOLVE_BENEATH) || w.has(unix.RESOLVE_NO_XDEV) && cur.Mount != root.Mount {
			return Path{}, unix.EXDEV
		}
		cur = root
	}
	trailing := strings.HasSuffix(path, "/")
	comps := strings.Split(path, "/")
	// Drop empty components, remembering which one is last.
	k := 0
	for _, c := range comps {
		if c != "" {
			comps[k] = c
			k++
		}
	}
	comps = comps[:k]
	for i, c := range comps {
		last := i == len(comps)-1
		if !isDir(cur) {
			return Path{}, unix.ENOTDIR
		}
		if err := MayAccess(ctx, cur.Inode(), MayExec); err != nil {
			return Path{}, err
		}
		switch c {
		case ".":
			continue
		case "..":
			if cur == root && w.has(unix.RESOLVE_BENEATH) {
				return Path{}, unix.EXDEV
			}
			up := n.parentOf(root, cur)
			if w.has(unix.RESOLVE_NO_XDEV) && up.Mount != cur.Mount {
				return Path{}, unix.EXDEV
			}
			cur = up
			continue
		}
		if len(c) > NameMax {
			return Path{}, unix.ENAMETOOLONG
		}
		next, err := n.Step(ctx, cur, c)
		if err != nil {
			return Path{}, err
		}
		if w.has(unix.RESOLVE_NO_XDEV) && next.Mount != cur.Mount {
			return Path{}, unix.EXDEV
		}
		if sl, ok := next.Inode().(Symlink); ok && (!last || follow || trailing) {
			w.links++
			if w.links > maxSymlinks {
				return Path{}, unix.ELOOP
			}
			_, magic := sl.(MagicLink)
			if w.has(unix.RESOLVE_NO_SYMLINKS) || magic && w.has(unix.RESOLVE_NO_MAGICLINKS) {
				return Path{}, unix.ELOOP
			}
			if ml, ok := sl.(MagicLink); ok {
				if w.scoped() {
					return Path{}, unix.EXDEV
				}
				p, err := ml.Resolve(ctx)
				if err != nil {
					return Path{}, err
				}
				if w.has(unix.RESOLVE_NO_XDEV) && p.Mount != cur.Mount {
					return Path{}, unix.EXDEV
				}
				cur = p
				continue
			}
			target, err := sl.Readlink(ctx)
			if err != nil {
				return Path{}, err
			}
			p, err := n.walk(ctx, root, cur, target, true, w)
			if err != nil {
				return Path{}, err
			}
			cur = p
			continue
		}
		cur = next
	}
	if trailing && !isDir(cur) {
		return Path{}, unix.ENOTDIR
	}
	return cur, nil
}

// Step looks up one name in directory cur and crosses any mounts on it.
func (n *Namespace) Step(ctx Ctx, cur Path, name string) (Path, error) {
	d, err := cur.Dentry.child(ctx, name)
	if err != nil {
		return Path{}, err
	}
	next := Path{cur.Mount, d}
	for {
		m := n.mountedOn(next.Mount, next.Dentry)
		if m == nil {
			return next, nil
		}
		next = Path{m, m.root}
	}
}

// parentOf returns the ".." of cur, never rising above root.
// Linux: fs/namei.c (follow_dotdot)
func (n *Namespace) parentOf(root, cur Path) Path {
	for {
		if cur == root {
			return cur
		}
		if cur.Dentry == cur.Mount.root {
			if cur.Mount.parent == nil {
				return cur
			}
			cur = Path{cur.Mount.parent, cur.Mount.point}
			continue
		}
		p := Path{cur.Mount, cur.Dentry.parent}
		if p.Dentry == nil {
			return cur
		}
		return p
	}
}

// PathName returns the absolute name of p as seen from root, as getcwd and
// /proc/PID/fd report it. A path outside root is reported from the
// namespace root. Linux: fs/d_path.c (d_path)
func (n *Namespace) PathName(root, p Path) string {
	name, _ := n.PathNameReach(root, p)
	return name
}

// PathNameReach is PathName, and whether p is below root (else the name
// is from the namespace root). Linux: fs/d_path.c (prepend_path)
func (n *Namespace) PathNameReach(root, p Path) (string, bool) {
	var parts []string
	reached := true
	for p != root {
		if p.Dentry == p.Mount.root {
			if p.Mount.parent == nil {
				reached = false
				break
			}
			p = Path{p.Mount.parent, p.Mount.point}
			continue
		}
		parts = append(parts, p.Dentry.name)
		p = Path{p.Mount, p.Dentry.parent}
	}
	if len(parts) == 0 {
		return "/", reached
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String(), reached
}
