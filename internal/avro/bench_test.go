//go:build unix

package avro

import (
	"syscall"
	"testing"

	"liveness/schemas"
)

// BenchmarkScanResult measures the product path (domain type -> framed bytes
// and back) for a ScanResult with one face and 68 landmarks, with each
// library: hamba through the Codec, goavro through its native map form with
// the same single-object header prepended. Besides wall-clock ns/op it reports
// cpu-ns/op (process user+system CPU time per op, GC included), which stays
// comparable when the machine is shared and wall time is not. Run:
//
//	go test -run x -bench ScanResult -benchmem -count 5 -benchtime 0.3s ./internal/avro/
func BenchmarkScanResult(b *testing.B) {
	in := sampleResult(1)
	c := mustCodec(b)
	msg, err := c.EncodeResult(in)
	if err != nil {
		b.Fatal(err)
	}
	g := goavroCodec(b, schemas.ScanResult)
	header := c.result.soe

	b.Run("hamba/encode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := c.EncodeResult(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hamba/decode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		defer cpuPerOp(b)()
		for b.Loop() {
			if _, err := c.DecodeResult(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goavro/encode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		defer cpuPerOp(b)()
		for b.Loop() {
			buf := append(make([]byte, 0, len(msg)), header[:]...)
			if _, err := g.BinaryFromNative(buf, goavroNativeResult(b, in)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goavro/decode", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		defer cpuPerOp(b)()
		for b.Loop() {
			native, rest, err := g.NativeFromBinary(msg[soeLen:])
			if err != nil || len(rest) != 0 {
				b.Fatal(err)
			}
			if _, err := fromGoavroResult(native); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuPerOp starts a CPU-time measurement; the returned func reports it.
func cpuPerOp(b *testing.B) func() {
	start := cpuNanos(b)
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuNanos(b)-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuNanos(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
