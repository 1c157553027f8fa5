// Package epoll implements epoll instances: an interest list of (file,
// descriptor) pairs and a wait that reports the ready ones, level- or
// edge-triggered, optionally one-shot.
//
// Readiness comes from vfs.Readiness (vfs.Poller); there is no ready list
// kept up to date by callbacks: a wait scans the interest list and sleeps
// on the change channels of the files it watches.
//
// No wake-up is lost: a waiter sleeps on the channels it took during its
// scan, each taken under its file's lock together with the events it
// reported (vfs.Poller), so a change after the scan closes one of them.
// The interest list itself is the one thing those channels don't cover:
// an epoll_ctl ADD or MOD from another thread (Go's netpoller registers
// new descriptors while a thread sleeps in epoll_wait) must wake the
// sleeper so it scans the new entry, whose readiness may already hold
// (Linux reports it at once, even for EPOLLET). So scan also takes the
// instance's own change channel (Instance.changes) under Instance.mu, and
// Ctl notifies it under Instance.mu after changing the list.
//
// Only epoll_wait consumes events (an edge-triggered entry's edge, a
// one-shot entry): poll, select or an outer epoll asking whether the
// epoll file is readable (Instance.Readiness) leaves them for the wait
// it announces. Its change channel merges the entries' channels in a
// goroutine that lives until one of them (or the interest list) changes.
//
// Lock order: Instance.mu, then whatever vfs.Readiness takes (file locks).
package epoll
