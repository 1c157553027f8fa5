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
