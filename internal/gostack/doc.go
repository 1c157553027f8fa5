// Package gostack sizes a goroutine's stack up front.
//
// A goroutine starts on a 2 KiB stack that Go doubles each time a call
// would overflow it, copying the stack each time: every frame on it is
// unwound and its pointers adjusted, which on a cold start means reading
// the binary's pc tables for the first time. A goroutine known to go
// deep soon (the main goroutine building the sandbox, a task's goroutine
// running exec) calls Grow first, while its stack is shallow: one copy of
// one frame instead of several of deep ones. Go only shrinks stacks at a
// garbage collection, so the size stays for the goroutine's early work.
package gostack
