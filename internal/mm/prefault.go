package mm

import "glassbox/internal/abi"

// Prefault maps the page at addr as the guest's first touch of it would
// (exec: an instruction fetch there), for pages a new program is certain
// to touch first (exec: its entry, its initial stack): one host call each
// now rather than a trap and the same call later. It changes nothing a
// fault there would not, signals nothing (an access the fault would
// refuse is left for the guest to make) and counts no fault; the result
// says what it did. m has no
// userfaultfd and no swapped pages: it is fresh from exec, its Mapper's
// stub not yet running.
func (m *MM) Prefault(mp Mapper, addr uint64, exec bool) (FaultResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p := m.pt.get(abi.PageDown(addr)); p.mapped() || m.hostFiles.has(addr) {
		return FaultResult{}, nil
	}
	faults := m.stats.MinorFaults
	res, err := m.handleFault(mp, addr, abi.SEGV_MAPERR, exec, false)
	m.stats.MinorFaults = faults
	return res, err
}
