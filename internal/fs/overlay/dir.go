package overlay

import (
	"maps"

	"glassbox/internal/vfs"
)

// ReadDir implements vfs.Dir.
func (d dirNode) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) { return d.readDir(ctx) }

// readDir merges the layers: the upper's entries in its order, then the
// lower's that the upper lacks and no whiteout hides. Each entry carries
// the inode number stat reports. Linux: fs/overlayfs/readdir.c
// (ovl_dir_read_merged)
func (d *node) readDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) {
	fs := d.fs
	fs.mu.RLock()
	dead, hidden := d.dead, maps.Clone(d.whiteouts)
	fs.mu.RUnlock()
	if dead {
		return nil, nil
	}
	var out []vfs.DirEntry
	if up, ok := d.up().(vfs.Dir); ok {
		ents, err := up.ReadDir(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, ents...)
	}
	nUpper := len(out)
	var lowerDev uint64
	if low, ok := d.lower.(vfs.Dir); ok {
		ents, err := low.ReadDir(ctx)
		if err != nil {
			return nil, err
		}
		st, err := low.Stat()
		if err != nil {
			return nil, err
		}
		lowerDev = st.Dev
		seen := make(map[string]bool, nUpper)
		for _, e := range out {
			seen[e.Name] = true
		}
		for _, e := range ents {
			if !seen[e.Name] && !hidden[e.Name] {
				out = append(out, e)
			}
		}
	}
	fs.mu.Lock()
	for i := range out {
		switch c := d.children[out[i].Name]; {
		case c != nil:
			out[i].Ino = c.ino
		case i < nUpper:
			out[i].Ino = fs.upperInoLocked(out[i].Ino)
		default:
			out[i].Ino = fs.lowerInoLocked(lowerDev, out[i].Ino)
		}
	}
	fs.mu.Unlock()
	return out, nil
}

// Open implements vfs.Opener for directories (the vfs refuses writing).
func (d dirNode) Open(ctx vfs.Ctx, flags int) (vfs.FileOps, error) { return &dirOps{d: d}, nil }

type dirOps struct {
	vfs.BaseOps
	d dirNode
}

func (o *dirOps) Stat(vfs.Ctx) (vfs.Stat, error)              { return o.d.Stat() }
func (o *dirOps) ReadDir(ctx vfs.Ctx) ([]vfs.DirEntry, error) { return o.d.readDir(ctx) }
