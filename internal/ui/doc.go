// Package ui is glassbox' live dashboard (`glassbox run --ui=ADDR`): an
// HTTP server whose page shows the sandbox while it runs — the process
// tree, each process's descriptors and memory map, pipes drawn between the
// processes holding their two ends, counters, and a scrolling event log —
// and keeps showing it after the guest has exited.
//
// It owns: the handlers (server.go) and the small HTTP/1.x server under
// them (http.go: one request per connection; net/http is not linked, so
// that glassbox' start does not pay for its packages), the trace sink and
// the ring of recent events (events.go), the merged view of live processes
// and ones that are gone (view.go), and the page itself, plain HTML, JS and
// CSS embedded with go:embed (static/). Nothing here runs unless --ui is
// given: no sink is added to the tracer and no goroutine is started.
//
// Data flow: a goroutine takes kernel.Snapshot every 250 ms (and soon after
// each process event), merges it with what it has seen before, and encodes
// the view as JSON once; server-sent-event clients get that JSON when it
// changes, plus batches of trace events. Events reach the sink on guest
// goroutines, so Emit only appends to a ring and pokes channels.
//
// Lock order: Server.refreshMu (one snapshot at a time; guards the
// history) is outermost: it is held across kernel.Snapshot, which takes
// Kernel.mu, then ThreadGroup.mu, then vfs and mm locks, one at a time
// (see kernel/snapshot.go), and then across eventLog.mu and Server.mu.
// eventLog.mu (the ring), Server.mu (the encoded view) and
// Server.clientsMu are leaves, as is conns.mu (the open connections,
// which Close closes). Server.regMu is held across Tracer.Add
// (Tracer.mu is a leaf). Guest goroutines, which may hold kernel locks
// when they emit, only ever take eventLog.mu, so the dashboard can't
// deadlock with the guest.
package ui
