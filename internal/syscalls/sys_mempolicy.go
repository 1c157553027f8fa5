package syscalls

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"glassbox/internal/abi"
	"glassbox/internal/kernel"
)

// NUMA memory policies on a machine of one node (node 0): the calls
// check their arguments in Linux's order, set_mempolicy's policy is
// recorded and read back by get_mempolicy, mbind's is checked and
// dropped (all memory is on node 0 whatever the policy).
// Linux: mm/mempolicy.c

func init() {
	reg(unix.SYS_GET_MEMPOLICY, sysGetMempolicy, "one node; mbind's policies are not recorded")
	reg(unix.SYS_SET_MEMPOLICY, sysSetMempolicy, "recorded; all memory is on node 0")
	reg(unix.SYS_MBIND, sysMbind, "checked, not recorded; all memory is on node 0")
}

// Policy modes and flags. Linux: include/uapi/linux/mempolicy.h
const (
	mpolDefault       = 0
	mpolPreferred     = 1
	mpolBind          = 2
	mpolInterleave    = 3
	mpolLocal         = 4
	mpolPreferredMany = 5
	mpolWeightedIntlv = 6
	mpolMax           = 7

	mpolFStaticNodes   = 1 << 15
	mpolFRelativeNodes = 1 << 14
	mpolFNumaBalancing = 1 << 13
	mpolModeFlags      = mpolFStaticNodes | mpolFRelativeNodes | mpolFNumaBalancing

	mpolFNode        = 1 << 0
	mpolFAddr        = 1 << 1
	mpolFMemsAllowed = 1 << 2

	mpolMFStrict  = 1 << 0
	mpolMFMove    = 1 << 1
	mpolMFMoveAll = 1 << 2

	maxNumNodes = 1024 // the host's CONFIG_NODES_SHIFT=10
)

// sanitizeMpol splits mode into mode and flags and checks them.
// Linux: mm/mempolicy.c (sanitize_mpol_flags)
func sanitizeMpol(mode uint64) (int, int, error) {
	flags := int(mode & mpolModeFlags)
	m := uint32(mode &^ mpolModeFlags)
	if m >= mpolMax {
		return 0, 0, unix.EINVAL
	}
	if flags&mpolFStaticNodes != 0 && flags&mpolFRelativeNodes != 0 {
		return 0, 0, unix.EINVAL
	}
	if flags&mpolFNumaBalancing != 0 && m != mpolBind && m != mpolPreferredMany {
		return 0, 0, unix.EINVAL
	}
	return int(m), flags, nil
}

// getNodes reads a node mask of maxnode-1 bits: bits past MAX_NUMNODES
// must be zero. Linux: mm/mempolicy.c (get_nodes)
func getNodes(t *kernel.Task, addr, maxnode uint64) ([16]uint64, error) {
	var nodes [16]uint64
	maxnode--
	if maxnode == 0 || addr == 0 {
		return nodes, nil
	}
	if maxnode > abi.PageSize*8 {
		return nodes, unix.EINVAL
	}
	nlongs := (maxnode + 63) / 64
	endmask := ^uint64(0)
	if maxnode%64 != 0 {
		endmask = 1<<(maxnode%64) - 1
	}
	if nlongs > maxNumNodes/64 {
		for k := uint64(maxNumNodes / 64); k < nlongs; k++ {
			var b [8]byte
			if err := t.CopyIn(addr+8*k, b[:]); err != nil {
				return nodes, err
			}
			w := binary.LittleEndian.Uint64(b[:])
			if k == nlongs-1 && w&endmask != 0 || k < nlongs-1 && w != 0 {
				return nodes, unix.EINVAL
			}
		}
		nlongs, endmask = maxNumNodes/64, ^uint64(0)
	}
	b := make([]byte, 8*nlongs)
	if err := t.CopyIn(addr, b); err != nil {
		return nodes, err
	}
	for i := range nlongs {
		nodes[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	nodes[nlongs-1] &= endmask
	return nodes, nil
}

func nodesEmpty(n *[16]uint64) bool { return *n == [16]uint64{} }

// newMpol checks a policy as mpol_new and mpol_set_nodemask do, on a
// machine whose only node is 0, and returns the policy to record.
// Linux: mm/mempolicy.c (mpol_new, mpol_set_nodemask)
func newMpol(mode, flags int, nodes [16]uint64) (kernel.MemPolicy, error) {
	p := kernel.MemPolicy{Mode: mode, Flags: flags, Nodes: nodes}
	switch {
	case mode == mpolDefault:
		if !nodesEmpty(&nodes) {
			return p, unix.EINVAL
		}
		return kernel.MemPolicy{}, nil
	case mode == mpolPreferred && nodesEmpty(&nodes):
		if flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0 {
			return p, unix.EINVAL
		}
		p.Mode = mpolLocal
		return p, nil
	case mode == mpolLocal:
		if !nodesEmpty(&nodes) || flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0 {
			return p, unix.EINVAL
		}
		return p, nil
	case nodesEmpty(&nodes):
		return p, unix.EINVAL
	}
	// The nodes the policy may use: those given among the allowed ones
	// (node 0); relative node numbers fold onto the allowed nodes.
	if flags&mpolFRelativeNodes == 0 && nodes[0]&1 == 0 {
		return p, unix.EINVAL
	}
	return p, nil
}

// sysSetMempolicy. Linux: mm/mempolicy.c (kernel_set_mempolicy)
func sysSetMempolicy(t *kernel.Task, a kernel.Args) (uint64, error) {
	mode, flags, err := sanitizeMpol(a[0])
	if err != nil {
		return 0, err
	}
	nodes, err := getNodes(t, a[1], a[2])
	if err != nil {
		return 0, err
	}
	p, err := newMpol(mode, flags, nodes)
	if err != nil {
		return 0, err
	}
	t.ThreadGroup().SetMemPolicy(p)
	return 0, nil
}

// sysMbind. Linux: mm/mempolicy.c (kernel_mbind, do_mbind,
// queue_pages_test_walk)
func sysMbind(t *kernel.Task, a kernel.Args) (uint64, error) {
	start, length, mflags := a[0], a[1], a[5]
	mode, flags, err := sanitizeMpol(a[2])
	if err != nil {
		return 0, err
	}
	nodes, err := getNodes(t, a[3], a[4])
	if err != nil {
		return 0, err
	}
	if mflags&^(mpolMFStrict|mpolMFMove|mpolMFMoveAll) != 0 {
		return 0, unix.EINVAL
	}
	if mflags&mpolMFMoveAll != 0 && !t.CapableInit(unix.CAP_SYS_NICE) {
		return 0, unix.EPERM
	}
	if start%abi.PageSize != 0 {
		return 0, unix.EINVAL
	}
	length = (length + abi.PageSize - 1) &^ (abi.PageSize - 1)
	end := start + length
	if end < start {
		return 0, unix.EINVAL
	}
	if end == start {
		return 0, nil
	}
	if _, err := newMpol(mode, flags, nodes); err != nil {
		return 0, err
	}
	// Every page of the range must be mapped (no hole: EFAULT).
	at := start
	for _, v := range t.MM().VMAs() {
		if v.End <= at {
			continue
		}
		if v.Start > at {
			break
		}
		at = v.End
		if at >= end {
			return 0, nil
		}
	}
	return 0, unix.EFAULT
}

// sysGetMempolicy reports the recorded policy, or the node of memory
// (always 0). Linux: mm/mempolicy.c (kernel_get_mempolicy,
// do_get_mempolicy, copy_nodes_to_user)
func sysGetMempolicy(t *kernel.Task, a kernel.Args) (uint64, error) {
	policyAddr, nmask, maxnode, addr, flags := a[0], a[1], a[2], a[3], a[4]
	if flags&^(mpolFNode|mpolFAddr|mpolFMemsAllowed) != 0 {
		return 0, unix.EINVAL
	}
	if nmask != 0 && maxnode < 1 { // maxnode below nr_node_ids
		return 0, unix.EINVAL
	}
	var pval uint32
	var nodes [16]uint64
	p := t.ThreadGroup().MemPolicy()
	switch {
	case flags&mpolFMemsAllowed != 0:
		if flags&(mpolFNode|mpolFAddr) != 0 {
			return 0, unix.EINVAL
		}
		nodes[0] = 1
	default:
		if flags&mpolFAddr != 0 {
			if !addrMapped(t, addr) {
				return 0, unix.EFAULT
			}
			p = kernel.MemPolicy{} // mbind's policies are not kept: the default
		} else if addr != 0 {
			return 0, unix.EINVAL
		}
		if flags&mpolFNode != 0 {
			// The node of the page at addr, or the next interleave node.
			if flags&mpolFAddr == 0 && p.Mode != mpolInterleave && p.Mode != mpolWeightedIntlv {
				return 0, unix.EINVAL
			}
		} else {
			pval = uint32(p.Mode | p.Flags)
		}
		switch {
		case p.Flags&(mpolFStaticNodes|mpolFRelativeNodes) != 0:
			nodes = p.Nodes
		case p.Mode != mpolDefault && p.Mode != mpolLocal:
			nodes[0] = 1
		}
	}
	if policyAddr != 0 {
		if err := putU32s(t, []uint64{policyAddr}, []uint32{pval}); err != nil {
			return 0, err
		}
	}
	if nmask == 0 {
		return 0, nil
	}
	// ALIGN(maxnode-1, 64)/8 bytes, computed without wrapping; past
	// nr_node_ids bits they are zero. Linux: mm/mempolicy.c (copy_nodes_to_user)
	n := (maxnode - 1) / 64 * 8
	if (maxnode-1)%64 != 0 {
		n += 8
	}
	if n > abi.PageSize {
		return 0, unix.EINVAL
	}
	b := make([]byte, n)
	for i := 0; i < len(nodes) && 8*i+8 <= len(b); i++ {
		binary.LittleEndian.PutUint64(b[8*i:], nodes[i])
	}
	if n == 0 {
		return 0, nil
	}
	return 0, t.CopyOut(nmask, b)
}

// addrMapped reports whether addr lies in a mapping.
func addrMapped(t *kernel.Task, addr uint64) bool {
	for _, v := range t.MM().VMAs() {
		if v.Start <= addr && addr < v.End {
			return true
		}
	}
	return false
}
