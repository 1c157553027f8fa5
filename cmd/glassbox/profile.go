//go:build pprof

package main

import (
	"io"
	"runtime/pprof"
)

func init() {
	cpuProfile = func(out io.Writer) (func(), error) {
		if err := pprof.StartCPUProfile(out); err != nil {
			return nil, err
		}
		return pprof.StopCPUProfile, nil
	}
}
