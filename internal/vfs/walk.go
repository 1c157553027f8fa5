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

// Walk resolves path starting at start (used when path is relative) inside
// the tree whose top is root. ".." never rises above root, and symlinks are
// resolved here, against root, never by the host.
func (n *Namespace) Walk(ctx Ctx, root, start Path, path string, flags int) (Path, error) {
	links := 0
	p, err := n.walk(ctx, root, start, path, flags&Follow != 0, &links)
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
	if path == "" {
		return Path{}, "", false, unix.ENOENT
	}
	if len(path) >= PathMax {
		return Path{}, "", false, unix.ENAMETOOLONG
	}
	trimmed := strings.TrimRight(path, "/")
	trailing = len(trimmed) != len(path)
	if trimmed == "" {
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
		links := 0
		parent, err = n.walk(ctx, root, start, dir, true, &links)
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

func (n *Namespace) walk(ctx Ctx, root, cur Path, path string, follow bool, links *int) (Path, error) {
	if path == "" {
		return Path{}, unix.ENOENT
	}
	if len(path) >= PathMax {
		return Path{}, unix.ENAMETOOLONG
	}
	if path[0] == '/' {
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
			cur = n.parentOf(root, cur)
			continue
		}
		if len(c) > NameMax {
			return Path{}, unix.ENAMETOOLONG
		}
		next, err := n.Step(ctx, cur, c)
		if err != nil {
			return Path{}, err
		}
		if sl, ok := next.Inode().(Symlink); ok && (!last || follow || trailing) {
			*links++
			if *links > maxSymlinks {
				return Path{}, unix.ELOOP
			}
			if ml, ok := sl.(MagicLink); ok {
				p, err := ml.Resolve(ctx)
				if err != nil {
					return Path{}, err
				}
				cur = p
				continue
			}
			target, err := sl.Readlink(ctx)
			if err != nil {
				return Path{}, err
			}
			p, err := n.walk(ctx, root, cur, target, true, links)
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
