package mm

import (
	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
)

// AddressLimits are the caller's RLIMIT_AS and RLIMIT_DATA soft limits
// in bytes (RLIM_INFINITY for none): what mmap, brk and mremap may add.
// Linux: mm/mmap.c (may_expand_vm)
type AddressLimits struct {
	AS, Data uint64
}

// NoAddressLimits lets everything through.
var NoAddressLimits = AddressLimits{AS: unix.RLIM_INFINITY, Data: unix.RLIM_INFINITY}

func (l AddressLimits) none() bool {
	return l.AS == unix.RLIM_INFINITY && l.Data == unix.RLIM_INFINITY
}

// isData is is_data_mapping: private writable memory that is not a stack.
func isData(prot int, shared bool, flags VMFlags, name string) bool {
	return prot&unix.PROT_WRITE != 0 && !shared && flags&VMGrowsDown == 0 && name != "[stack]"
}

// mayExpandLocked is may_expand_vm: whether add more bytes of a mapping
// (data or not) fit in the limits, after the mappings in [start, end),
// which the new one replaces, are gone. Called with m.mu held.
func (m *MM) mayExpandLocked(lim AddressLimits, add uint64, data bool, start, end uint64) bool {
	if lim.none() {
		return true
	}
	var total, dataVM uint64
	for _, v := range m.vmas.v {
		if v.Name == "[stack]" {
			// The main stack is mapped whole (8 MiB) where Linux's grows
			// and counts only what it has grown to: left out, so that a
			// limit a program fits in natively still fits it here.
			continue
		}
		n := v.End - v.Start
		if lo, hi := max(v.Start, start), min(v.End, end); lo < hi {
			n -= hi - lo
		}
		total += n
		if isData(v.Prot, v.Shared, v.Flags, v.Name) {
			dataVM += n
		}
	}
	if (total+add)>>abi.PageShift > lim.AS>>abi.PageShift {
		return false
	}
	return !data || (dataVM+add)>>abi.PageShift <= lim.Data>>abi.PageShift
}
