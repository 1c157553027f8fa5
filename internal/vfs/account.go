package vfs

// IOAccount is implemented by contexts (the kernel's tasks) that count the
// bytes moving through pipes and sockets, for --stats.
type IOAccount interface {
	AccountIO(pipe bool, n int)
}

// Account records n bytes written to a pipe (or a socket) by ctx.
func Account(ctx Ctx, pipe bool, n int) {
	if a, ok := ctx.(IOAccount); ok && n > 0 {
		a.AccountIO(pipe, n)
	}
}

// Noter is implemented by contexts that show file events in the trace
// (a pipe filling up and its writer waiting).
type Noter interface {
	NoteIO(detail string)
}

// Note reports an I/O event for --trace=fd.
func Note(ctx Ctx, detail string) {
	if n, ok := ctx.(Noter); ok {
		n.NoteIO(detail)
	}
}
