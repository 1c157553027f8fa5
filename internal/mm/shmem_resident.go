package mm

// Resident counts the pages of the object that have frames (the rss of a
// System V segment in /proc/sysvipc/shm).
func (s *Shmem) Resident() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return uint64(s.frames.Len())
}
