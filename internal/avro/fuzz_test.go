package avro

import (
	"bytes"
	"reflect"
	"testing"
)

// fuzzCodec reads both framings: the registry knows the codec's two schemas
// (ids 1 and 2), any other id is a real 404 from a real HTTP server.
func fuzzCodec(f *testing.F) (*Codec, [][]byte) {
	reg := newFakeRegistry(f)
	c := mustCodec(f, WithRegistry(reg.URL, reg.Client()))
	plain := mustCodec(f)
	var seeds [][]byte
	for _, enc := range []*Codec{c, plain} {
		for _, n := range []int{0, 1, 3} {
			b, err := enc.EncodeResult(sampleResult(n))
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, b)
		}
		for _, n := range []int{0, 64} {
			b, err := enc.EncodeCapture(sampleCapture(n))
			if err != nil {
				f.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	for _, s := range seeds {
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	return c, seeds
}

// FuzzDecodeResult: any input is an error or a ScanResult whose canonical
// encoding is stable; never a panic, never a hang.
func FuzzDecodeResult(f *testing.F) {
	c, _ := fuzzCodec(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := c.DecodeResult(b)
		if err != nil {
			if v != nil {
				t.Fatal("value with error")
			}
			return
		}
		e1, err := c.EncodeResult(v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		v2, err := c.DecodeResult(e1)
		if err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		e2, err := c.EncodeResult(v2)
		if err != nil || !bytes.Equal(e1, e2) {
			t.Fatalf("encoding not stable: %v", err)
		}
	})
}

// FuzzDecodeCapture: as FuzzDecodeResult, for CaptureEvent.
func FuzzDecodeCapture(f *testing.F) {
	c, _ := fuzzCodec(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := c.DecodeCapture(b)
		if err != nil {
			if v != nil {
				t.Fatal("value with error")
			}
			return
		}
		e, err := c.EncodeCapture(v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		v2, err := c.DecodeCapture(e)
		if err != nil || !reflect.DeepEqual(v, v2) {
			t.Fatalf("round trip of a decoded capture differs: %v", err)
		}
	})
}
