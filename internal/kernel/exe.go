package kernel

import "glassbox/internal/vfs"

// The file a process runs can't be opened for writing while it runs
// (ETXTBSY): the process holds a vfs.DenyWrite on it from exec (or fork,
// which copies the image) until the next exec or its end.
// Linux: kernel/fork.c (set_mm_exe_file, replace_mm_exe_file)

// adoptExe makes img's file the process's image, releasing the old one.
func (tg *ThreadGroup) adoptExe(img *image) {
	tg.mu.Lock()
	old, had := tg.exeKey, tg.exeDenied
	tg.exeKey, tg.exeDenied = vfs.KeyOf(&img.st), img.denied
	img.denied = false
	tg.mu.Unlock()
	if had {
		vfs.AllowWrite(old)
	}
}

// releaseExe lets the image be written again when the process ends.
func (tg *ThreadGroup) releaseExe() {
	tg.mu.Lock()
	k, had := tg.exeKey, tg.exeDenied
	tg.exeDenied = false
	tg.mu.Unlock()
	if had {
		vfs.AllowWrite(k)
	}
}
