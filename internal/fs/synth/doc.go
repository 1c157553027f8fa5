// Package synth is a toolkit for file systems whose contents glassbox
// makes up (procfs, devfs, sysfs): directories with fixed or computed
// children, read-only files whose bytes are generated when opened, and
// symlinks whose targets are computed when read.
//
// Nothing here blocks or holds locks across calls into the generators; a
// generator may take any kernel lock.
package synth
