package agent_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/ostest"
)

// TestAgentWithKeystone: a real Keystone (Debian's, under uwsgi) issues the
// tokens; the agent and the image service both validate them with
// auth.Keystone. A project's Keystone token boots its own private image and
// one shared with it, and another project's token neither boots that
// private image nor sees the disk; the caller's token is what the image
// service judged, the agent's own service token what read the data.
func TestAgentWithKeystone(t *testing.T) {
	k := ostest.StartKeystone(t, ostest.KeystoneOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	users := map[string]ostest.KeystoneUser{}
	for name, roles := range map[string][]string{"kp1": {auth.Member, auth.Reader}, "kp2": {auth.Member, auth.Reader},
		"ksvc": {auth.Service}} {
		pid, err := k.CreateProject(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if users[name], err = k.CreateUser(ctx, name+"-user", name+"-pw", pid, name, roles...); err != nil {
			t.Fatal(err)
		}
	}
	token := func(name string) string {
		u := users[name]
		tok, err := k.Token(ctx, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: u.ProjectID})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	svc := users["ksvc"]
	validator, err := auth.NewKeystone(auth.KeystoneConfig{Auth: gophercloud.AuthOptions{
		IdentityEndpoint: k.URL, Username: svc.Name, Password: svc.Password, DomainID: "default",
		Scope: &gophercloud.AuthScope{ProjectID: svc.ProjectID}}})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := token("kp1"), token("kp2")
	e := newAuthEnvWith(t, validator, token("ksvc"))
	priv := e.upload(p1, "private")
	shared := e.upload(p2, "shared")
	e.share(p2, shared, users["kp1"].ProjectID)
	defer e.cleanAllAs(token("ksvc"), "kinst-a", "kinst-b", "kinst-c")

	d, _, err := e.as(p1).CreateDisk(ctx, agent.CreateRequest{InstanceID: "kinst-a", ImageID: priv})
	if err != nil || d.Owner != users["kp1"].ProjectID {
		t.Fatalf("kp1 boots its private image: %+v %v", d, err)
	}
	if d, _, err := e.as(p1).CreateDisk(ctx, agent.CreateRequest{InstanceID: "kinst-c", ImageID: shared}); err != nil || d.Owner != users["kp1"].ProjectID {
		t.Fatalf("kp1 boots an image shared with it: %+v %v", d, err)
	}
	before, err := e.c.ListImages(ctx, e.vms)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.as(p2).CreateDisk(ctx, agent.CreateRequest{InstanceID: "kinst-b", ImageID: priv})
	wantStatus(t, "kp2 boots kp1's private image", err, http.StatusNotFound)
	_, err = e.as(p2).GetDisk(ctx, "kinst-a", "disk")
	wantStatus(t, "kp2 reads kp1's disk", err, http.StatusNotFound)
	_, err = e.as("not-a-keystone-token").ListDisks(ctx, "")
	wantStatus(t, "unknown token", err, http.StatusUnauthorized)
	if list, err := e.as(p1).ListDisks(ctx, ""); err != nil || len(list) != 2 {
		t.Errorf("kp1 lists: %+v %v, want its 2 disks", list, err)
	}
	e.assertClean(before...)
}
