package avro

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"liveness/schemas"
)

func TestRegistryFraming(t *testing.T) {
	reg := newFakeRegistry(t)
	producer := mustCodec(t, WithRegistry(reg.URL+"/", reg.Client()))
	in := sampleResult(1)
	var b []byte
	for range 3 {
		var err error
		if b, err = producer.EncodeResult(in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := producer.EncodeCapture(sampleCapture(10)); err != nil {
		t.Fatal(err)
	}
	if n := reg.posts.Load(); n != 2 {
		t.Fatalf("%d registrations, want 2 (one per schema, then cached)", n)
	}
	if b[0] != 0 {
		t.Fatalf("magic byte %#x, want 0", b[0])
	}
	id := binary.BigEndian.Uint32(b[1:5])
	reg.mu.Lock()
	subjects := reg.subjects
	text := reg.schemas[id-1]
	reg.mu.Unlock()
	if got := subjects["com.faceliveness.v1.ScanResult"]; !reflect.DeepEqual(got, []int{int(id)}) {
		t.Fatalf("subject versions %v, want [%d] (subjects %v)", got, id, subjects)
	}
	if text != schemas.ScanResult {
		t.Fatal("registered text differs from the published schema")
	}

	// A fresh consumer knows no ids: it fetches each once, then decodes from cache.
	consumer := mustCodec(t, WithRegistry(reg.URL, nil))
	for range 3 {
		out, err := consumer.DecodeResult(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("decoded %+v, want %+v", out, in)
		}
	}
	if n := reg.gets.Load(); n != 1 {
		t.Fatalf("%d schema fetches, want 1", n)
	}
	// The producer registered the id itself and needs no fetch.
	if _, err := producer.DecodeResult(b); err != nil || reg.gets.Load() != 1 {
		t.Fatalf("producer decode: err %v, fetches %d", err, reg.gets.Load())
	}
	// A consumer without a registry still reads single-object messages of a registry codec.
	plain := mustCodec(t)
	soe, err := plain.EncodeResult(in)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := consumer.DecodeResult(soe); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("registry codec reading single-object: %v", err)
	}
}

func TestRegistryUnknownID(t *testing.T) {
	reg := newFakeRegistry(t)
	c := mustCodec(t, WithRegistry(reg.URL, reg.Client()))
	b := append([]byte{0, 0, 0, 0, 42}, 0)
	for range 2 {
		if _, err := c.DecodeResult(b); !errors.Is(err, ErrUnknownSchema) {
			t.Fatalf("err = %v, want ErrUnknownSchema", err)
		}
	}
	// A missing id may appear later, so a 404 is not cached.
	if n := reg.gets.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// evolve returns the ScanResult schema with one more field appended.
func evolve(t *testing.T, field string) string {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal([]byte(schemas.ScanResult), &s); err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal([]byte(field), &f); err != nil {
		t.Fatal(err)
	}
	s["fields"] = append(s["fields"].([]any), f)
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestRegistryIncompatibleWriter(t *testing.T) {
	reg := newFakeRegistry(t)
	c := mustCodec(t, WithRegistry(reg.URL, reg.Client()))
	cases := map[string]int{
		"not avro json":  reg.add("x", `{"type":"record","name":"com.faceliveness.v1.ScanResult","fields":[{"name":"id","type":"uuid-ish"}]}`),
		"other record":   reg.add("y", `{"type":"record","name":"Other","fields":[{"name":"a","type":"int"}]}`),
		"missing fields": reg.add("z", `{"type":"record","name":"com.faceliveness.v1.ScanResult","fields":[{"name":"id","type":"string"}]}`),
		"protobuf":       reg.add("p", `syntax = "proto3";`),
	}
	reg.extra[cases["protobuf"]] = map[string]string{"schemaType": "PROTOBUF"}
	for name, id := range cases {
		t.Run(name, func(t *testing.T) {
			b := binary.BigEndian.AppendUint32([]byte{0}, uint32(id))
			before := reg.gets.Load()
			for range 3 {
				_, err := c.DecodeResult(append(b, 0, 0))
				if !errors.Is(err, ErrIncompatible) {
					t.Fatalf("err = %v, want ErrIncompatible", err)
				}
			}
			if n := reg.gets.Load() - before; n != 1 {
				t.Fatalf("%d fetches, want 1 (the verdict is cached)", n)
			}
		})
	}
}

// TestRegistryEvolvedWriter: a newer producer added a field; this codec reads
// its messages through Avro schema resolution, skipping the new field.
func TestRegistryEvolvedWriter(t *testing.T) {
	reg := newFakeRegistry(t)
	writerText := evolve(t, `{"name":"region","type":"string","default":"eu","doc":"new"}`)
	id := reg.add("com.faceliveness.v1.ScanResult", writerText)
	in := sampleResult(2)
	native := goavroNativeResult(t, in)
	native["region"] = "us-east"
	body := goavroBinary(t, writerText, native)
	msg := append(binary.BigEndian.AppendUint32([]byte{0}, uint32(id)), body...)

	c := mustCodec(t, WithRegistry(reg.URL, reg.Client()))
	out, err := c.DecodeResult(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("decoded %+v, want %+v", out, in)
	}
	if _, err := c.DecodeCapture(msg); !errors.Is(err, ErrWrongRecord) {
		t.Fatalf("as capture: err = %v, want ErrWrongRecord", err)
	}
}

func TestRegistryDown(t *testing.T) {
	reg := newFakeRegistry(t)
	url := reg.URL
	reg.Close()
	c := mustCodec(t, WithRegistry(url, nil))
	if _, err := c.EncodeCapture(sampleCapture(1)); !errors.Is(err, ErrRegistry) {
		t.Fatalf("err = %v, want ErrRegistry", err)
	}
	if _, err := c.DecodeResult([]byte{0, 0, 0, 0, 1, 0}); !errors.Is(err, ErrRegistry) {
		t.Fatalf("err = %v, want ErrRegistry", err)
	}
}

func TestRegistryRejectsRegistration(t *testing.T) {
	srv := newFakeRegistry(t)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error_code":409,"message":"Schema being registered is incompatible"}`, http.StatusConflict)
	})
	c := mustCodec(t, WithRegistry(srv.URL, nil))
	_, err := c.EncodeResult(sampleResult(0))
	if !errors.Is(err, ErrRegistry) || !strings.Contains(err.Error(), "incompatible") {
		t.Fatalf("err = %v, want ErrRegistry naming the registry's reason", err)
	}
}

// TestConcurrentUse: one codec shared by goroutines, registering and
// fetching at the same time (run with -race).
func TestConcurrentUse(t *testing.T) {
	reg := newFakeRegistry(t)
	producer := mustCodec(t, WithRegistry(reg.URL, reg.Client()))
	msg, err := producer.EncodeResult(sampleResult(1))
	if err != nil {
		t.Fatal(err)
	}
	c := mustCodec(t, WithRegistry(reg.URL, reg.Client()))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := c.EncodeCapture(sampleCapture(100)); err != nil {
					errs <- err
					return
				}
				if _, err := c.DecodeResult(msg); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if reg.gets.Load() != 1 || reg.posts.Load() != 2 {
		t.Fatalf("fetches %d (want 1), registrations %d (want 2)", reg.gets.Load(), reg.posts.Load())
	}
}
