//go:build integration

package e2e

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"testing"
)

// Invalid input gets its documented 4xx and an error naming the field, and
// nothing reaches the captures topic; a valid capture afterwards moves the
// topic by exactly one, so the check can see a publish.
func TestInvalidInputsPublishNothing(t *testing.T) {
	cfg := localKafka(t)
	s := newStack(t, cfg)
	// No processor: nothing here should need one. Small limits, so "too
	// large" needs no large upload.
	_, base := s.ingest("INGEST_MAX_IMAGE_BYTES=300000", "INGEST_MAX_BODY_BYTES=600000")
	tok := s.token()
	small := readFace(t, s.paths, "real/r11_tom_cruise_closeup.jpg") // 66 KB
	big := readFace(t, s.paths, "real/r04_apk_glasses.jpeg")         // 307 KB: over the image limit, under the body limit
	huge := readFace(t, s.paths, "real/r01_astronaut.png")           // 792 KB: over the body limit
	text := readFace(t, s.paths, "edge/e14_not_an_image.jpg")

	cases := []struct {
		name   string
		parts  []part
		raw    []byte // sent as is, with a multipart content type, when set
		status int
		code   string
		field  string
		head   int // when set: only the head of a request declaring this many body bytes
	}{
		{"missing channel", []part{field("reference", "r"), file("a.jpg", small)}, nil, 400, "missing_field", "channel", 0},
		{"missing reference", []part{field("channel", "WEB"), file("a.jpg", small)}, nil, 400, "missing_field", "reference", 0},
		{"missing file", []part{field("channel", "WEB"), field("reference", "r")}, nil, 400, "missing_field", "file", 0},
		{"unknown channel", []part{field("channel", "FAX"), field("reference", "r"), file("a.jpg", small)}, nil, 400, "invalid_field", "channel", 0},
		{"empty reference", []part{field("channel", "WEB"), field("reference", "  "), file("a.jpg", small)}, nil, 400, "invalid_field", "reference", 0},
		{"control character in reference", []part{field("channel", "WEB"), field("reference", "a\x00b"), file("a.jpg", small)}, nil, 400, "invalid_field", "reference", 0},
		{"not an image", capture("licence.jpg", text), nil, 415, "unsupported_media_type", "file", 0},
		{"image over the limit", capture("big.jpg", big), nil, 413, "too_large", "file", 0},
		// The server refuses by the declared length before reading the body;
		// sending the head only keeps the answer from racing a reset of the
		// half-sent body.
		{"body over the limit", nil, nil, 413, "too_large", "", len(huge) + 512},
		{"pixel bomb", capture("bomb.png", pixelBomb(t, 50_000, 50_000)), nil, 422, "too_many_pixels", "file", 0},
		{"malformed multipart", nil, []byte("--boundary\r\nnot a part header\r\n\r\n"), 400, "malformed_multipart", "", 0},
	}
	before := endOffsets(t, cfg, s.topics.Captures)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r reply
			switch {
			case tc.head > 0:
				r = postHead(t, base, tok, tc.head)
			case tc.raw != nil:
				r = postRaw(t, base, tok, 0, "multipart/form-data; boundary=boundary", tc.raw)
			default:
				r = post(t, base, tok, 0, tc.parts...)
			}
			e := r.apiError()
			if r.Status != tc.status || e.Error != tc.code || e.Field != tc.field {
				t.Errorf("want %d %s (field %q), got %s", tc.status, tc.code, tc.field, r)
			}
			if e.Message == "" {
				t.Errorf("error without a message: %s", r)
			}
		})
	}
	if after := endOffsets(t, cfg, s.topics.Captures); after != before {
		t.Fatalf("invalid inputs published %d captures", after-before)
	}

	// The control: a valid capture is published (202: no processor runs).
	r := post(t, base, tok, 0, capture("ok.jpg", small)...)
	if r.Status != http.StatusAccepted || r.Header.Get("Location") == "" {
		t.Fatalf("valid capture: want 202 with a Location, got %s", r)
	}
	if after := endOffsets(t, cfg, s.topics.Captures); after != before+1 {
		t.Fatalf("a valid capture moved the captures topic by %d, want 1", after-before)
	}
}

// pixelBomb is a PNG whose header claims w×h pixels of 8-bit grey, with a
// tiny compressed body: what a decompression bomb looks like to a sniffer.
func pixelBomb(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&out, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		_ = binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth; colour type 0 (grey), deflate, no filter, no interlace
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 1<<16)) // the first rows of zeros
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}
