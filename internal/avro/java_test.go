package avro

import (
	"os"
	"reflect"
	"testing"
)

// TestDecodesJavaReferenceBytes reads single-object messages written by the
// Java reference implementation (Apache Avro 1.12.0 BinaryMessageEncoder,
// GenericRecord), which were made by testdata/java/Soe.java: it decoded this
// codec's messages with BinaryMessageDecoder (which checks the fingerprint)
// and wrote them back. Java writes arrays as plain counts where hamba writes
// counts with byte sizes, so this also covers the other array block form.
func TestDecodesJavaReferenceBytes(t *testing.T) {
	c := mustCodec(t)
	b, err := os.ReadFile("testdata/java/ScanResult.bin")
	if err != nil {
		t.Fatal(err)
	}
	want := sampleResult(2)
	up, by := at, "x"
	want.UpdatedDate, want.UpdatedByID = &up, &by
	got, err := c.DecodeResult(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	b, err = os.ReadFile("testdata/java/CaptureEvent.bin")
	if err != nil {
		t.Fatal(err)
	}
	gotC, err := c.DecodeCapture(b)
	if err != nil {
		t.Fatal(err)
	}
	if wantC := sampleCapture(300); !reflect.DeepEqual(gotC, wantC) {
		t.Fatalf("got %+v, want %+v", summary(gotC), summary(wantC))
	}
	ours, err := c.EncodeCapture(sampleCapture(300))
	if err != nil {
		t.Fatal(err)
	}
	if string(ours) != string(b) {
		t.Fatal("Java and this codec frame the same capture differently")
	}
}
