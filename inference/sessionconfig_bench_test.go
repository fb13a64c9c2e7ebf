package inference

import (
	"testing"

	"liveness/inference/models"
	"liveness/inference/onnx"
)

// BenchmarkSessionConfig feeds each model the engine's tensors for a
// 640×480 capture through the engine's session (rewritten graph, one
// thread, arena) and through copies of it with one ONNX Runtime session
// setting changed, all in turn within one loop, in thread CPU ms per
// image. "again" is a second engine session: the noise floor.
// go test -run '^$' -bench SessionConfig ./inference/
func BenchmarkSessionConfig(b *testing.B) {
	rw := models.CPURewrites()
	vs := []sessionVariant{
		{name: "engine", engine: true, opts: rw},
		{name: "again", engine: true, opts: rw},
		{name: "daz", engine: true, opts: append(rw[:len(rw):len(rw)], onnx.WithConfig("session.set_denormal_as_zero", "1"))},
		{name: "noprepack", engine: true, opts: append(rw[:len(rw):len(rw)], onnx.WithConfig("session.disable_prepacking", "1"))},
		{name: "nomempattern", engine: true, opts: append(rw[:len(rw):len(rw)], onnx.WithMemPattern(false))},
	}
	benchVariants(b, vs)
}
