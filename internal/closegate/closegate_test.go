package closegate

import "testing"

func TestGate(t *testing.T) {
	var g Gate
	if !g.Enter() {
		t.Fatal("a new gate refused a call")
	}
	closed := make(chan struct{})
	go func() { g.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with a call inside")
	default:
	}
	g.Leave()
	<-closed
	if g.Enter() {
		t.Fatal("a closed gate let a call in")
	}
}
