package imagesvc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// startReplicas runs n image services on one PostgreSQL catalog and one
// RBD pool, as replicas behind a load balancer would.
func startReplicas(t *testing.T, n int, opts ...func(*Config)) ([]*Service, *ceph.Cluster, string, string) {
	t.Helper()
	pg := ostest.StartPostgres(t)
	url, err := pg.CreateDatabase(context.Background(), "images")
	if err != nil {
		t.Fatal(err)
	}
	var svcs []*Service
	var c *ceph.Cluster
	var pool string
	for range n {
		s, cl, p, _ := startRBD(t, append([]func(*Config){func(cfg *Config) { cfg.DB = url }}, opts...)...)
		svcs, c, pool = append(svcs, s), cl, p
	}
	return svcs, c, pool, url
}

// raceLog is what the racing clients were told: the ground truth the
// final state is checked against.
type raceLog struct {
	mu      sync.Mutex
	props   map[string][]string // image -> property keys whose add answered 200
	members map[string][]string // image -> projects whose add answered 200
	gone    map[string][]string // image -> projects added then removed (204)
	deleted map[string]bool     // image -> a delete answered 204
	codes   map[string]int      // "op code" -> count
}

func (l *raceLog) note(op string, code int, apply func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.codes[fmt.Sprintf("%s %d", op, code)]++
	if apply != nil {
		apply()
	}
}

// TestReplicasRace: two replicas on one PostgreSQL catalog take 1,000
// operations at 16 concurrent (property adds, uploads, member adds and
// removes, deletes, reads) on the same few images, each operation sent to
// either replica. No answer is a 5xx; every change a client was told
// succeeded is in the final records (no lost update); every image ends
// queued, active with its RBD image, or deleted without one; the pool
// holds nothing else.
func TestReplicasRace(t *testing.T) {
	svcs, c, pool, url := startReplicas(t, 2)
	const nImages, nOps, workers = 12, 1000, 16
	ids := make([]string, nImages)
	for i := range ids {
		ids[i] = createImage(t, svcs[i%2], fmt.Sprintf("race-%d", i))
	}
	log := &raceLog{props: map[string][]string{}, members: map[string][]string{}, gone: map[string][]string{},
		deleted: map[string]bool{}, codes: map[string]int{}}
	data := storetest.Data(64<<10, 3)
	ops := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ops {
				raceOp(t, svcs[i%2], ids[rand.IntN(nImages)], i, data, log)
			}
		}()
	}
	for i := range nOps {
		ops <- i
	}
	close(ops)
	wg.Wait()
	t.Logf("answers: %v", log.codes)
	allowed := checkRace(t, url, ids, log)
	testcluster.AssertPoolClean(t, c, pool, allowed...)
	for _, id := range ids {
		send(svcs[0], "DELETE", "/v2/images/"+id, "member", "", nil)
	}
	testcluster.AssertPoolClean(t, c, pool)
}

func createImage(t *testing.T, s *Service, name string) string {
	t.Helper()
	code, body := call(t, s, "POST", "/v2/images", "member", "application/json",
		`{"name":"`+name+`","disk_format":"raw","container_format":"bare","visibility":"shared"}`)
	var img struct{ ID string }
	if err := json.Unmarshal([]byte(body), &img); err != nil || code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	return img.ID
}

// raceOp sends operation i on image id and records what it was told.
func raceOp(t *testing.T, s *Service, id string, i int, data []byte, log *raceLog) {
	path := "/v2/images/" + id
	var op string
	var code int
	var err error
	var apply func()
	switch k := i % 20; {
	case k < 8:
		op, key := "patch", fmt.Sprintf("k%04d", i)
		code, _, err = send(s, "PATCH", path, "member", "application/openstack-images-v2.1-json-patch",
			strings.NewReader(`[{"op":"add","path":"/`+key+`","value":"v"}]`))
		apply = func() { log.props[id] = append(log.props[id], key) }
		log.note(op, code, onOK(code, 200, apply))
	case k < 11:
		op = "upload"
		code, _, err = send(s, "PUT", path+"/file", "member", "application/octet-stream", bytes.NewReader(data))
		log.note(op, code, nil)
	case k < 15:
		op, project := "member", fmt.Sprintf("m%04d", i)
		code, _, err = send(s, "POST", path+"/members", "member", "application/json",
			strings.NewReader(`{"member":"`+project+`"}`))
		apply = func() { log.members[id] = append(log.members[id], project) }
		log.note(op, code, onOK(code, 200, apply))
		if code == 200 && k == 14 {
			code, _, err = send(s, "DELETE", path+"/members/"+project, "member", "", nil)
			log.note("unmember", code, onOK(code, 204, func() { log.gone[id] = append(log.gone[id], project) }))
		}
	case k < 16 && i > 500: // deletes late, so most images see every kind of op first
		op = "delete"
		code, _, err = send(s, "DELETE", path, "member", "", nil)
		log.note(op, code, onOK(code, 204, func() { log.deleted[id] = true }))
	default:
		op = "get"
		code, _, err = send(s, "GET", path, "member", "", nil)
		log.note(op, code, nil)
	}
	if err != nil || code >= 500 {
		t.Errorf("%s %s on replica %s: %d %v", op, id, s.Addr(), code, err)
	}
}

func onOK(code, want int, apply func()) func() {
	if code != want {
		return nil
	}
	return apply
}
