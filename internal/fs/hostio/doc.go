// Package hostio gives the guest the host descriptors glassbox was handed
// for its standard input, output and error: reads and writes go straight
// to the host descriptor; terminal ioctls pass through when the host
// descriptor is a terminal. Nothing else about the host is reachable
// through it.
//
// No locks.
package hostio
