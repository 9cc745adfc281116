package ceph

// #include <malloc.h>
import "C"

// TrimMemory hands memory that librados and librbd freed back to the
// system. glibc keeps freed blocks in its per-thread arenas (librados runs
// dozens of threads), so after an import of a few GiB the process would stay
// at its peak; malloc_trim releases the free pages of every arena.
func TrimMemory() { C.malloc_trim(0) }
