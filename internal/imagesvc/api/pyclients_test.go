package api

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pyClients drives the service with the real python-glanceclient (what
// Nova, Cinder and the glance CLI use) and openstacksdk. It prints one line
// per check; an exception fails the script.
const pyClients = `
import sys
from glanceclient import Client, exc
import openstack
from openstack import exceptions as sdkexc

url, tok, missing = sys.argv[1], sys.argv[2], sys.argv[3]
gc = Client('2', endpoint=url, token=tok)

img = gc.images.create(name='py', disk_format='raw', container_format='bare')
print('created', img.name, img.disk_format, img.status)
got = gc.images.get(img.id)
# fields the schema lists are attributes, not extra properties
print('schema-model', got.disk_format, got.container_format, got.visibility)
gc.image_tags.update(img.id, 'blue')
print('tags', gc.images.get(img.id).tags)

try:
    gc.images.get(missing)
except exc.HTTPNotFound as e:
    print('glanceclient-404', e.details)
try:
    gc.image_tags.delete(img.id, 'green')
except exc.HTTPNotFound as e:
    print('glanceclient-tag-404', e.details)
try:
    gc.images.update(img.id, status='active')
except exc.HTTPForbidden as e:
    print('glanceclient-403', e.details)

conn = openstack.connection.Connection(auth_type='admin_token',
    auth={'endpoint': url, 'token': tok}, image_endpoint_override=url, image_api_version='2')
try:
    conn.image.get_image(missing)
except sdkexc.NotFoundException as e:
    print('sdk-404', e.details)
`

// TestPythonClientsParseErrors: glanceclient and openstacksdk show the
// service's messages (glanceclient used to print "'str' object has no
// attribute 'get'" for every error) and build their image model from the
// served schema.
func TestPythonClientsParseErrors(t *testing.T) {
	py := "/usr/bin/python3" // python3 on PATH may not see the Debian packages
	if _, err := os.Stat(py); err != nil {
		t.Fatalf("needs %s with python3-glanceclient and python3-openstacksdk: %v", py, err)
	}
	e := newEnv(t, nil)
	script := filepath.Join(t.TempDir(), "clients.py")
	if err := os.WriteFile(script, []byte(pyClients), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := "0f0e0d0c-0b0a-4908-8706-050403020100"
	cmd := exec.Command(py, script, e.srv.URL, tokAlice, missing)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // glanceclient caches schemas in ~/.glanceclient
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python clients: %v\n%s", err, out)
	}
	t.Logf("python clients:\n%s", out)
	for _, want := range []string{
		"created py raw queued",
		"schema-model raw bare shared",
		"tags ['blue']",
		"glanceclient-404 404 Not Found: image " + missing + ": not found",
		`glanceclient-tag-404 404 Not Found: image `, `has no tag "green"`,
		`glanceclient-403 403 Forbidden: attribute "status" is read-only`,
		"sdk-404 ", missing,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "has no attribute") {
		t.Errorf("a client failed to parse an error:\n%s", out)
	}
}
