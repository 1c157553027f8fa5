package kernel

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/loader"
	"glassbox/internal/mm"
	"glassbox/internal/platform"
	"glassbox/internal/trace"
	"glassbox/internal/vfs"
)

// maxInterpDepth bounds #! chains. Linux: fs/exec.c (bprm->interp nesting)
const maxInterpDepth = 4

// image adapts an open executable for the loader.
type image struct {
	t    *Task
	f    *vfs.File
	name string
	st   vfs.Stat // the file's attributes when it was opened
	// denied: the image holds a DenyWrite on its file until it is
	// dropped or the process adopts it (exe.go).
	denied bool
}

// drop closes the image and undoes its DenyWrite unless the process
// adopted it.
func (im *image) drop() {
	im.f.DecRef()
	if im.denied {
		im.denied = false
		vfs.AllowWrite(vfs.KeyOf(&im.st))
	}
}

func (im *image) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := im.f.Ops().Read(im.t, [][]byte{p[total:]}, off+int64(total))
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, errShortRead
		}
	}
	return total, nil
}

type kerr string

func (e kerr) Error() string { return string(e) }

const errShortRead = kerr("short read")

func (im *image) Mappable() (mm.Mappable, error) {
	mf, ok := im.f.Ops().(vfs.MappableFile)
	if !ok {
		return nil, unix.EACCES
	}
	return mf.Mappable()
}

func (im *image) Name() string { return im.name }

func (im *image) DevIno() (uint64, uint64) {
	st, err := im.f.Stat(im.t)
	if err != nil {
		return 0, 0
	}
	return st.Dev, st.Ino
}

// openExec opens path for execution: a regular file the caller may
// execute, on a mount that allows it. With AT_EMPTY_PATH an empty path
// names dirfd's own file (fexecve); with AT_SYMLINK_NOFOLLOW a final
// symlink is not followed, and a symlink is never executed (ELOOP).
// Linux: fs/exec.c (do_open_execat)
func (t *Task) openExec(dirfd int, path string, flags int) (*image, vfs.Path, error) {
	var p vfs.Path
	if path == "" && flags&unix.AT_EMPTY_PATH != 0 && dirfd == AtFDCWD {
		p = t.tg.fsc.Cwd()
	} else if path == "" && flags&unix.AT_EMPTY_PATH != 0 {
		f, err := t.tg.fds.Get(dirfd)
		if err != nil {
			return nil, vfs.Path{}, err
		}
		p = f.Path()
		f.DecRef()
		if p.Dentry == nil {
			return nil, vfs.Path{}, unix.EACCES
		}
	} else {
		walk := vfs.Follow
		if flags&unix.AT_SYMLINK_NOFOLLOW != 0 {
			walk = 0
		}
		var err error
		if p, err = t.Walk(dirfd, path, walk); err != nil {
			return nil, vfs.Path{}, err
		}
	}
	st, err := p.Inode().Stat()
	if err != nil {
		return nil, vfs.Path{}, err
	}
	if st.IsDir() {
		return nil, vfs.Path{}, unix.EACCES
	}
	if st.Type() == unix.S_IFLNK {
		return nil, vfs.Path{}, unix.ELOOP
	}
	if st.Type() != unix.S_IFREG {
		return nil, vfs.Path{}, unix.EACCES
	}
	if p.Mount != nil && p.Mount.Flags&unix.MS_NOEXEC != 0 {
		return nil, vfs.Path{}, unix.EACCES // Linux: fs/namei.c (may_open: path_noexec)
	}
	if err := vfs.CheckMode(t.creds, &st, vfs.MayExec); err != nil {
		return nil, vfs.Path{}, err
	}
	if st.Mode&0o111 == 0 {
		return nil, vfs.Path{}, unix.EACCES
	}
	op, ok := p.Inode().(vfs.Opener)
	if !ok {
		return nil, vfs.Path{}, unix.EACCES
	}
	ops, err := op.Open(t, unix.O_RDONLY)
	if err != nil {
		return nil, vfs.Path{}, err
	}
	f := vfs.NewFile(ops, p, unix.O_RDONLY)
	if err := vfs.DenyWrite(vfs.KeyOf(&st)); err != nil {
		f.DecRef()
		return nil, vfs.Path{}, err
	}
	return &image{t: t, f: f, name: t.PathName(p), st: st, denied: true}, p, nil
}

// execve replaces the process image. On error the old image is intact.
func (t *Task) execve(path string, argv, envv []string) error {
	return t.execveAt(AtFDCWD, path, func() ([]string, []string, error) { return argv, envv, nil }, 0)
}

// ExecArgs reads the argument and environment strings of an execve.
type ExecArgs func() (argv, envv []string, err error)

// Execve is execve(2)/execveat(2) for syscall handlers. The strings are
// read once the file is open: a missing file is ENOENT even with a bad
// argv. Linux: fs/exec.c (do_execveat_common: alloc_bprm, then count)
func (t *Task) Execve(dirfd int, path string, args ExecArgs, flags int) error {
	old := t.tid
	err := t.execveAt(dirfd, path, args, flags)
	if err == nil {
		t.ptraceExec(old)
	}
	return err
}

// execveAt runs execve and execveat. A path relative to a descriptor is
// named "/dev/fd/N[/path]" (in AT_EXECFN and a script's argv); a script
// reached that way through a close-on-exec descriptor could not open
// itself: ENOENT. Executing a descriptor itself (fexecve) takes the
// command name from the file's own name. Linux: fs/exec.c (alloc_bprm,
// begin_new_exec), fs/binfmt_script.c (load_script)
func (t *Task) execveAt(dirfd int, path string, args ExecArgs, flags int) error {
	var argv, envv []string
	execfn, fdPath, commFromFile := path, false, false
	if dirfd != AtFDCWD && !strings.HasPrefix(path, "/") {
		fdPath = true
		execfn = "/dev/fd/" + strconv.Itoa(dirfd)
		if path == "" {
			commFromFile = true
		} else {
			execfn += "/" + path
		}
	}
	name := execfn // the name a script's interpreter gets
	var img *image
	var exePath vfs.Path
	for depth := 0; ; depth++ {
		var err error
		img, exePath, err = t.openExec(dirfd, path, flags)
		if err != nil {
			return err
		}
		if depth == 0 {
			if argv, envv, err = args(); err != nil {
				img.drop()
				return err
			}
		}
		var hdr [256]byte
		n, _ := img.f.Ops().Read(t, [][]byte{hdr[:]}, 0)
		if n >= 2 && hdr[0] == '#' && hdr[1] == '!' {
			img.drop()
			if depth >= maxInterpDepth {
				return unix.ELOOP
			}
			if depth == 0 && fdPath {
				if cloexec, _ := t.tg.fds.CloseOnExec(dirfd); cloexec {
					return unix.ENOENT
				}
			}
			interp, arg, ok := parseShebang(hdr[2:n])
			if !ok {
				return unix.ENOEXEC
			}
			// argv becomes: interp [arg] path argv[1:]...
			// Linux: fs/binfmt_script.c
			nargv := []string{interp}
			if arg != "" {
				nargv = append(nargv, arg)
			}
			nargv = append(nargv, name)
			if len(argv) > 1 {
				nargv = append(nargv, argv[1:]...)
			}
			argv = nargv
			path, name = interp, interp
			dirfd, flags = AtFDCWD, 0
			continue
		}
		if !loader.IsELF(hdr[:n]) {
			img.drop()
			return unix.ENOEXEC
		}
		break
	}
	defer img.drop()
	comm := commName(execfn)
	if commFromFile {
		comm = commName(exePath.Dentry.Name())
	}
	return t.load(img, exePath, execfn, comm, argv, envv)
}

// parseShebang splits a "#!" line into interpreter and optional argument.
func parseShebang(b []byte) (string, string, bool) {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	line := strings.TrimLeft(string(b), " \t")
	line = strings.TrimRight(line, " \t\r")
	if line == "" {
		return "", "", false
	}
	interp, arg := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		interp = line[:i]
		arg = strings.TrimLeft(line[i:], " \t")
	}
	return interp, arg, true
}

// load builds the new address space and, once nothing can fail any more,
// switches the task over to it.
func (t *Task) load(img *image, exePath vfs.Path, execfn, comm string, argv, envv []string) error {
	k := t.k
	var rnd [16]byte
	HostRandom(rnd[:])
	nosuid := exePath.Mount != nil && exePath.Mount.Flags&unix.MS_NOSUID != 0
	c, secure := t.execCreds(img.st.Mode, img.st.UID, img.st.GID, nosuid)
	// The interpreter's file is open while it is mapped, like the
	// executable's (its mappings hold what they need).
	var interp *image
	defer func() {
		if interp != nil {
			interp.f.DecRef()
		}
	}()
	// The program is loaded into a fresh mm before the host address space
	// is taken (a fresh mm has no host mappings: the loader needs no
	// Mapper), so that the first exec loads while the platform still
	// makes its first stub. Should the platform's layout then differ
	// from the one loaded for, the program is loaded again. A platform
	// that learns its layout from its first address space (ptrace) has
	// none before it: its address space comes first.
	var th platform.Thread
	take := func() error {
		start := time.Now()
		var err error
		if pl, ok := t.thread.(platform.Placer); ok {
			th, err = pl.ReplacementSpace()
		} else {
			th, err = k.cfg.Platform.NewAddressSpace()
		}
		k.noteFirstStub(time.Since(start))
		if err != nil {
			k.Logf("exec: %v", err)
			return unix.ENOMEM
		}
		return nil
	}
	layout := k.cfg.Platform.Layout()
	if layout.TaskSize == 0 {
		if err := take(); err != nil {
			return err
		}
		layout = k.cfg.Platform.Layout()
	}
	var m *mm.MM
	var res *loader.Result
	for {
		m = mm.New(k.cfg.MemFile, layout)
		m.SetSwap(k.cfg.Swap)
		m.AddUser()
		if interp != nil {
			interp.f.DecRef()
			interp = nil
		}
		var err error
		res, err = loader.Load(loader.Args{
			MM: m, Mapper: th, Exe: img,
			OpenInterp: func(p string) (loader.Image, error) {
				im, _, err := t.openExec(AtFDCWD, p, 0)
				if err != nil {
					return nil, err
				}
				interp = im
				return im, nil
			},
			Argv: argv, Envv: envv, ExecFn: execfn,
			StackSize: t.tg.Rlimit(unix.RLIMIT_STACK).Cur,
			UID:       c.UID, EUID: c.EUID, GID: c.GID, EGID: c.EGID, Secure: secure,
			Random: rnd,
		})
		if err != nil {
			if th != nil {
				th.Release()
			}
			m.DropUser()
			if err == loader.ErrNoExec {
				return unix.ENOEXEC
			}
			return err
		}
		if th != nil {
			break
		}
		if err := take(); err != nil {
			m.DropUser()
			return err
		}
		if l := k.cfg.Platform.Layout(); !sameLayout(l, layout) {
			m.DropUser()
			layout = l
			continue
		}
		break
	}

	// Map what the program touches first now, one host call each rather
	// than a fault each. A failure here leaves the page to its fault.
	for _, a := range res.First {
		r, err := m.Prefault(th, a.Addr, a.Exec)
		k.stats.cowCopies.Add(uint64(r.COW))
		k.stats.hostFileMaps.Add(r.HostFileMaps)
		if err != nil {
			break
		}
		if tr := k.cfg.Tracer; tr.On(trace.Mem) {
			tr.Emit(&trace.Event{Kind: trace.Mem, PID: t.tg.pid, TID: t.tid, Addr: a.Addr,
				Detail: fmt.Sprintf("exec maps %#x before the program runs (%d pages copied, %d host-file runs)", a.Addr, r.COW, r.HostFileMaps)})
		}
	}

	if !t.deThread() {
		// Another thread execs or the process exits: this task is being
		// killed, so its exec ends here.
		th.Release()
		m.DropUser()
		return unix.EINTR
	}
	// Point of no return.
	t.setCreds(c)
	t.dropSpace(true)
	t.waitOthers()
	t.setThread(th)
	t.setMM(m)
	t.regs = platform.Regs{Rip: res.Entry, Rsp: res.SP, Cs: abi.UserCS, Ss: abi.UserDS, Eflags: 0x200}
	tg := t.tg
	tg.adoptExe(img)
	tg.execGen.Add(1)
	tg.mu.Lock()
	tg.exe = exePath
	tg.exeName = img.name
	tg.comm = comm
	tg.argStart, tg.argEnd = res.ArgStart, res.ArgEnd
	tg.auxv = res.Auxv
	tg.envStart, tg.envEnd = res.EnvStart, res.EnvEnd
	tg.mu.Unlock()
	tg.fds.ExecClose(tg.pid)
	tg.mu.Lock()
	tg.sharesVM = false
	tg.attrs.execed = true
	tg.attrs.undumpable = false
	tg.aio.mu.Lock() // a leaf lock
	tg.aio.ctx = nil // the contexts lived in the old address space (exit_aio)
	tg.aio.mu.Unlock()
	tg.mu.Unlock()
	tg.resetHandlersForExec()
	tg.releaseVfork()
	tg.stopPosixTimers()
	t.SetAltStack(SigAltStack{Flags: 2 /* SS_DISABLE */})
	t.clearChildTID = 0
	if tr := k.cfg.Tracer; tr.On(trace.Proc) {
		tr.Emit(&trace.Event{Kind: trace.Proc, PID: tg.pid, TID: t.tid,
			Detail: "exec " + img.name + " " + strings.Join(argv, " ")})
	}
	return nil
}

// sameLayout reports whether an address space of layout a serves one of
// layout b: the same fixed pieces and task size, patching alike.
func sameLayout(a, b platform.Layout) bool {
	if a.TaskSize != b.TaskSize || a.VDSO != b.VDSO || len(a.Pieces) != len(b.Pieces) || (a.Patch == nil) != (b.Patch == nil) {
		return false
	}
	if a.Patch != nil && (a.Patch.Base != b.Patch.Base || a.Patch.Size != b.Patch.Size || a.Patch.Sites != b.Patch.Sites) {
		return false
	}
	for i, p := range a.Pieces {
		q := b.Pieces[i]
		if p.Start != q.Start || p.End != q.End || p.Prot != q.Prot || p.Name != q.Name || !bytes.Equal(p.Data, q.Data) {
			return false
		}
	}
	return true
}

// commName is the first 15 bytes of the file name (TASK_COMM_LEN-1).
func commName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		path = path[i+1:]
	}
	if len(path) > 15 {
		path = path[:15]
	}
	return path
}

// deThread makes the exec'ing task the process's only one: the others are
// told to exit. It reports false if this task was told to exit first (by
// exit_group, a fatal signal or another thread's exec): two threads that
// exec at once must not wait for each other. Linux: fs/exec.c (de_thread)
func (t *Task) deThread() bool {
	tg := t.tg
	tg.mu.Lock()
	t.mu.Lock()
	dying := t.exiting || t.pendingLocked().Has(abi.SIGKILL)
	t.mu.Unlock()
	if dying || tg.exited {
		tg.mu.Unlock()
		return false
	}
	var others []*Task
	for _, o := range tg.tasks {
		if o != t {
			others = append(others, o)
		}
	}
	tg.tasks = []*Task{t}
	tg.dying = others
	for _, o := range others {
		o.mu.Lock()
		o.exiting = true
		o.mu.Unlock()
	}
	tg.mu.Unlock()
	for _, o := range others {
		o.wake()
	}
	return true
}

// waitOthers finishes de_thread once this task has let go of its old
// thread and address space: it waits until every other thread of the
// process is gone, so none of them runs another instruction or system
// call once execve has returned, and then a non-leader takes over the
// process id as its thread id. (The old thread must go first: the
// platform may tie the other threads' teardown to it.)
func (t *Task) waitOthers() {
	tg := t.tg
	tg.mu.Lock()
	others := tg.dying
	tg.dying = nil
	tg.mu.Unlock()
	for _, o := range others {
		<-o.done
	}
	if t.tid != tg.pid {
		k := t.k
		k.mu.Lock()
		if k.tasks[t.tid] == t {
			delete(k.tasks, t.tid)
		}
		t.tid = tg.pid
		k.tasks[t.tid] = t
		k.mu.Unlock()
	}
}
