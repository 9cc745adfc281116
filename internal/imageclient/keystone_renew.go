package imageclient

import (
	"net/http"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
)

// renewer is the transport of a Keystone-authenticated client. Before a
// request that carries the token goes out, it logs in again once two
// thirds of the token's lifetime have passed, so a long-running agent
// never sends a token that expires on the way (gophercloud alone renews
// only after a 401, which fails a request whose body was already sent).
// Requests without a token (the login itself) pass untouched.
type renewer struct {
	next http.RoundTripper
	pc   *gophercloud.ProviderClient

	mu      sync.Mutex
	token   string    // the token renewAt was computed for
	renewAt time.Time // zero: not known yet
}

func (r *renewer) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := req.Header.Get("X-Auth-Token")
	if sent == "" {
		return r.next.RoundTrip(req)
	}
	if tok := r.fresh(req); tok != sent {
		req = req.Clone(req.Context()) // a RoundTripper must not change its request
		req.Header.Set("X-Auth-Token", tok)
	}
	return r.next.RoundTrip(req)
}

// fresh returns a token that is not about to expire. If the login fails
// the current token is used: gophercloud logs in again on a 401 and
// reports that failure.
func (r *renewer) fresh(req *http.Request) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.pc.Token()
	if cur != r.token { // first use, or gophercloud renewed after a 401
		r.note(cur)
	}
	if r.renewAt.IsZero() || time.Now().Before(r.renewAt) {
		return cur
	}
	if err := r.pc.Reauthenticate(req.Context(), cur); err != nil {
		return cur
	}
	r.note(r.pc.Token())
	return r.token
}

// note records tok and when to renew it, from the login's expires_at.
func (r *renewer) note(tok string) {
	r.token, r.renewAt = tok, time.Time{}
	res, ok := r.pc.GetAuthResult().(tokens.CreateResult)
	if !ok {
		return
	}
	t, err := res.ExtractToken()
	if err != nil || t.ExpiresAt.IsZero() {
		return
	}
	now := time.Now()
	r.renewAt = now.Add(t.ExpiresAt.Sub(now) * 2 / 3)
}
