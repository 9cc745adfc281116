package strictjson

import (
	"encoding/json"
	"testing"
)

// What strictness costs on a typical request body: the check walks the
// document once before encoding/json decodes it.
var benchBody = []byte(`{"instance_id":"3f0c2a52-1f9b-4a38-9c43-2d1e3f7a9b10","name":"disk",` +
	`"image_id":"a5ced000-0000-4000-8000-000000000001","size_bytes":21474836480}`)

func BenchmarkStrict(b *testing.B) {
	for b.Loop() {
		var v req
		if err := Unmarshal(benchBody, &v, Options{DisallowUnknownFields: false}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodingJSON(b *testing.B) {
	for b.Loop() {
		var v req
		if err := json.Unmarshal(benchBody, &v); err != nil {
			b.Fatal(err)
		}
	}
}
