package gostack

// size is what Grow makes room for: what building a sandbox or a first
// exec uses (each grew its goroutine's stack to 16 KiB, in three copies).
const size = 14 << 10

// Grow makes the calling goroutine's stack hold at least size bytes more
// than it uses now.
//
//go:noinline
func Grow() {
	var frame [size]byte
	use(&frame)
}

//go:noinline
func use(b *[size]byte) { b[0] = 1 }
