package ceph

import "sync"

// openMu serializes, in this process, the librbd calls that open an image
// (at a snapshot or not) and the clones (a clone opens its parent). Ceph
// 16's librbd crashes the process (segfaults in rbd_open_read_only,
// "terminate called … std::system_error", pthread assertions) when several
// threads open images with exclusive-lock and object-map — the
// rbd_default_features Glance, Nova and now cowdisk's image service use —
// while clones of them are made: the fault suite's load test (16 creates at
// once) crashed the agent in 6 of 6 runs, and passed with these calls taken
// one at a time. A lock per image was tried and deadlocked inside
// rbd_clone3. Opens take milliseconds; I/O on open images is not
// serialized.
var openMu sync.Mutex
