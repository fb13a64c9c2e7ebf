//go:build cgo && !nospng

package imagefile

/*
#cgo LDFLAGS: -lspng
#include <spng.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"runtime"
	"unsafe"
)

// spngAvailable: this build links libspng (Debian libspng-dev). Build with
// -tags nospng (or CGO_ENABLED=0) for Go's image/png alone.
const spngAvailable = true

// spngChunkCache bounds the memory libspng may spend on ancillary chunks.
const spngChunkCache = 16 << 20

// decodeSPNG decodes a PNG of stored size sw×sh with libspng into the pixels
// Go's decoder and toRGB give, bit for bit: 8-bit grey and RGB as they are,
// alpha (and tRNS) composited on white by toRGB's formula. 16-bit and
// palette images return errSPNGSkip: Go's path converts those through
// premultiplied 16-bit colour, which this one would not match to the bit.
func decodeSPNG(data []byte, sw, sh int) (*Image, error) {
	if len(data) == 0 {
		return nil, errors.New("empty input")
	}
	ctx := C.spng_ctx_new(0)
	if ctx == nil {
		return nil, errors.New("spng_ctx_new failed")
	}
	defer C.spng_ctx_free(ctx)
	// libspng reads the buffer across calls: pinned for the context's life.
	var pin runtime.Pinner
	pin.Pin(&data[0])
	defer pin.Unpin()
	// Ancillary chunks are parsed too (text, ICC profiles): their inflated
	// size is bounded, so a compressed-text bomb costs at most that.
	if err := spngErr(C.spng_set_chunk_limits(ctx, C.size_t(len(data)), spngChunkCache)); err != nil {
		return nil, err
	}
	// Go's decoder refuses a bad CRC on any chunk; so does this one.
	if err := spngErr(C.spng_set_crc_action(ctx, C.SPNG_CRC_ERROR, C.SPNG_CRC_ERROR)); err != nil {
		return nil, err
	}
	if err := spngErr(C.spng_set_png_buffer(ctx, unsafe.Pointer(&data[0]), C.size_t(len(data)))); err != nil {
		return nil, err
	}
	var ihdr C.struct_spng_ihdr
	if err := spngErr(C.spng_get_ihdr(ctx, &ihdr)); err != nil {
		return nil, err
	}
	if int(ihdr.width) != sw || int(ihdr.height) != sh {
		return nil, fmt.Errorf("header says %dx%d, Go's reader says %dx%d", ihdr.width, ihdr.height, sw, sh)
	}
	if ihdr.bit_depth > 8 || ihdr.color_type == C.SPNG_COLOR_TYPE_INDEXED {
		return nil, errSPNGSkip
	}
	var trns C.struct_spng_trns
	alpha := ihdr.color_type == C.SPNG_COLOR_TYPE_GRAYSCALE_ALPHA || ihdr.color_type == C.SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ||
		C.spng_get_trns(ctx, &trns) == 0
	format, channels := C.int(C.SPNG_FMT_RGB8), 3
	if alpha {
		format, channels = C.SPNG_FMT_RGBA8, 4
	}
	img := newImage(sw, sh)
	out := img.Pix
	if alpha {
		out = make([]byte, channels*sw*sh)
	}
	if err := spngErr(C.spng_decode_image(ctx, unsafe.Pointer(&out[0]), C.size_t(len(out)), format, C.SPNG_DECODE_TRNS)); err != nil {
		return nil, err
	}
	// The chunks after the image, through IEND, as Go's decoder reads them:
	// a file it would refuse is not accepted here either.
	if err := spngErr(C.spng_decode_chunks(ctx)); err != nil {
		return nil, err
	}
	if err := pngChunksIntact(data); err != nil {
		return nil, err
	}
	if alpha {
		for y := range sh {
			compositeNRGBA(img.Pix[y*img.Stride:y*img.Stride+3*sw], out[4*sw*y:4*sw*(y+1)])
		}
	}
	return img, nil
}

// pngChunksIntact walks the chunks as image/png does, every CRC checked,
// through a complete IEND: libspng let a file cut inside IEND's CRC pass
// (found by FuzzDecode). It costs well under a millisecond for 1 MB.
func pngChunksIntact(data []byte) error {
	for off := 8; ; {
		if len(data)-off < 12 {
			return errors.New("truncated chunk")
		}
		n := int64(binary.BigEndian.Uint32(data[off:]))
		if n > int64(len(data)-off-12) {
			return errors.New("truncated chunk")
		}
		end := off + 8 + int(n)
		if crc32.ChecksumIEEE(data[off+4:end]) != binary.BigEndian.Uint32(data[end:]) {
			return errors.New("chunk CRC mismatch")
		}
		if string(data[off+4:off+8]) == "IEND" {
			return nil
		}
		off = end + 4
	}
}

func spngErr(rc C.int) error {
	if rc == 0 {
		return nil
	}
	return errors.New(C.GoString(C.spng_strerror(rc)))
}
