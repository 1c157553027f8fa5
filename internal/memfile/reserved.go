package memfile

// Reserved is the most bytes the file can ever hold (its reservation):
// /proc/meminfo's MemTotal when smaller than the host's memory.
func (f *File) Reserved() uint64 { return f.max }
