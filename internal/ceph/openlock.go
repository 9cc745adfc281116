package ceph

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ceph/go-ceph/rbd"
)

// openMu serializes, in this process, the librbd calls that open, close or
// remove an image with exclusive-lock or object-map (at a snapshot or not),
// and the clones of such images (a clone opens its parent). Ceph 16's
// librbd crashes the process (segfaults in rbd_open_read_only, "terminate
// called … std::system_error", pthread assertions) when several threads
// open images with exclusive-lock and object-map — the rbd_default_features
// Glance, Nova and a Ceph-backed image service often use — while clones of
// them are made: the fault suite's load test (16 creates at once, full
// default features) crashed the agent in 6 of 6 runs. Serializing opens and
// clones alone was not enough: a storm of 32 clone/stat/read/remove loops
// on such a parent still aborted in 4 of 6 runs until closes (and removes,
// which open the image inside librbd) took the lock too
// (TestConcurrentClonesOfRiskyImagesSerialized). A lock per image was tried
// and deadlocked inside rbd_clone3.
//
// Taking it for every open cost the clone path most of its parallelism:
// each clone held it for the whole rbd_clone3. Images with layering only
// (cowdisk's default, and the dev cluster's) do not start the lock and
// object-map machinery that crashed, so their calls go free once their
// features are known (openGate). Calls on open images not known safe
// (withImage's, ImageReader's and ImageWriter's) are gated too: with only
// opens, closes, clones and removes gated, the storm aborted once in about
// 19 runs.
var openMu sync.Mutex

// riskyFeatures are the features whose concurrent opens crashed librbd 16
// (fast-diff and journaling need exclusive-lock, so they are covered).
const riskyFeatures = rbd.FeatureExclusiveLock | rbd.FeatureObjectMap

// safeTTL bounds how long an image is trusted to have no risky feature
// after it was seen: features can be enabled on a live image (`rbd feature
// enable`), which this process would not see. It is longer than the
// provisioner's parent cache (one minute), whose refresh opens the parent
// again and so renews the entry before it lapses.
const safeTTL = 2 * time.Minute

// maxSafe bounds the entries; when full, unknown images take the lock.
const maxSafe = 4096

// openGate decides which opens and clones take openMu: those of images not
// known, from an open in the last safeTTL or from their creation here, to
// have no risky feature. Unknown is risky, so the first open of an image
// is serialized and tells its features for the next ones.
type openGate struct {
	mu   sync.Mutex
	safe map[string]time.Time // "pool/name" → when it was seen safe
	now  func() time.Time     // time.Now; tests step it
	// all restores the old rule (every open serialized), for the benchmark
	// that measures what the rule costs.
	all atomic.Bool
	// serialized counts the calls that took openMu (tests watch it).
	serialized atomic.Int64
}

var gate openGate

func imageKey(pool, name string) string { return pool + "/" + name }

// enter takes openMu unless every image in keys is known safe, and returns
// the release.
func (g *openGate) enter(keys ...string) func() {
	if !g.all.Load() && g.knownSafe(keys) {
		return func() {}
	}
	return g.lock()
}

func (g *openGate) lock() func() {
	openMu.Lock()
	g.serialized.Add(1)
	return openMu.Unlock
}

// enterClone is enter for a clone of parent with the child's features: a
// child with risky features is opened by librbd as it is made.
func (g *openGate) enterClone(parent string, childFeatures uint64) func() {
	if childFeatures&riskyFeatures != 0 {
		return g.lock()
	}
	return g.enter(parent)
}

func (g *openGate) knownSafe(keys []string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range keys {
		at, ok := g.safe[k]
		if !ok || g.clock().Sub(at) > safeTTL {
			return false
		}
	}
	return true
}

// learnOpened records the features of an image just opened. Opening a
// clone opens its parent too, so a clone counts as safe only while its
// parent is known safe.
func (g *openGate) learnOpened(key string, img *rbd.Image) {
	f, err := img.GetFeatures() // local reads, no round trip
	if err != nil {
		return
	}
	if p, err := img.GetParent(); err == nil && !g.knownSafe([]string{imageKey(p.Image.PoolName, p.Image.ImageName)}) {
		g.forget(key)
		return
	}
	g.learn(key, f)
}

// learnClone records a child just made from parent with the features it
// was given: safe only if its parent is.
func (g *openGate) learnClone(child, parent string, features uint64) {
	if !g.knownSafe([]string{parent}) {
		g.forget(child)
		return
	}
	g.learn(child, features)
}

// learn records the features of an image known by other means.
func (g *openGate) learn(key string, features uint64) {
	if features&riskyFeatures != 0 {
		g.forget(key)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.safe == nil {
		g.safe = map[string]time.Time{}
	}
	if len(g.safe) >= maxSafe {
		for k, at := range g.safe {
			if g.clock().Sub(at) > safeTTL {
				delete(g.safe, k)
			}
		}
		if len(g.safe) >= maxSafe {
			return
		}
	}
	g.safe[key] = g.clock()
}

// renamed moves what is known of from to to: the image keeps its features.
func (g *openGate) renamed(from, to string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	at, ok := g.safe[from]
	delete(g.safe, from)
	delete(g.safe, to)
	if ok {
		g.safe[to] = at
	}
}

// forget drops what is known of images whose names are removed, renamed
// or made anew: the next image under the name may have other features.
func (g *openGate) forget(keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range keys {
		delete(g.safe, k)
	}
}

func (g *openGate) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}
