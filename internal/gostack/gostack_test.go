package gostack

import (
	"testing"
	"unsafe"
)

// deep makes n nested calls of about 256 bytes of frame each.
//
//go:noinline
func deep(n int) byte {
	var pad [256]byte
	pad[n%256] = byte(n)
	if n == 0 {
		return pad[0]
	}
	return deep(n-1) + pad[n%256]
}

// stackMoves reports whether a new goroutine's stack moves (is copied to
// a larger one) under about 10 KiB of calls, with or without Grow first.
func stackMoves(grow bool) bool {
	moved := make(chan bool)
	go func() {
		if grow {
			Grow()
		}
		var marker byte
		before := uintptr(unsafe.Pointer(&marker))
		deep(40)
		moved <- uintptr(unsafe.Pointer(&marker)) != before
	}()
	return <-moved
}

func TestGrowAvoidsLaterCopies(t *testing.T) {
	if !stackMoves(false) {
		t.Fatal("a new goroutine's stack did not move under 10 KiB of calls: the test sees nothing")
	}
	if stackMoves(true) {
		t.Error("the stack moved under calls Grow made room for")
	}
}
