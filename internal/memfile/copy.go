package memfile

import "golang.org/x/sys/unix"

// iovMax is the host's limit on one pwritev's vector (IOV_MAX).
const iovMax = 1024

// CopyInto fills the frames dst, dst+1, ... (freshly allocated: holes in
// the file) with the contents of the frames src[0], src[1], ... with
// one pwritev of glassbox' view of the sources into the file. The host
// allocates each destination page as it is written, whole: unlike a
// write through the mapping, which first faults in a zeroed page, it
// neither clears the page nor maps it in glassbox. If the host refuses
// (it is out of memory itself), the copy is made through the mapping.
// Every frame must be allocated (or pinned) for the duration.
func (f *File) CopyInto(dst Frame, src []Frame) {
	iov := make([][]byte, 0, len(src))
	for i := 0; i < len(src); {
		j := i + 1
		for j < len(src) && src[j] == src[j-1]+1 {
			j++
		}
		iov = append(iov, f.Bytes(src[i], uint64(j-i)))
		i = j
	}
	off := int64(dst.Offset())
	for len(iov) > 0 {
		n, err := unix.Pwritev(f.fd, iov[:min(len(iov), iovMax)], off)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		off += int64(n)
		for n > 0 {
			if n < len(iov[0]) {
				iov[0] = iov[0][n:]
				break
			}
			n -= len(iov[0])
			iov = iov[1:]
		}
	}
	if len(iov) > 0 {
		// What is left, through the mapping (a short write ends on a page
		// boundary or inside one; either way the rest is copied).
		at := off
		for _, b := range iov {
			copy(f.mem[at:at+int64(len(b))], b)
			at += int64(len(b))
		}
	}
}
