package kernel

import "testing"

func TestMarkSwapped(t *testing.T) {
	const pg = 4096
	walk := func(addrs ...uint64) func(func(uint64)) {
		return func(fn func(uint64)) {
			for _, a := range addrs {
				fn(a)
			}
		}
	}
	// Four cells of two pages: a swapped page in cells 1 and 3; cell 3 is
	// shared and stays 's'; an address outside the range is ignored.
	strip, n := markSwapped(".-#s", 0, 8*pg, walk(2*pg, 7*pg, 9*pg))
	if strip != ".o#s" || n != 2 {
		t.Errorf("markSwapped = %q, %d; want \".o#s\", 2", strip, n)
	}
	if strip, n := markSwapped("", 0, 0, walk()); strip != "" || n != 0 {
		t.Errorf("empty: %q %d", strip, n)
	}
}
