// Package glassbox is the embedding API: build a Config, call Run, get the
// guest's exit status. Everything the guest does is answered by glassbox'
// own kernel (internal/kernel); see docs/ARCHITECTURE.md.
package glassbox
