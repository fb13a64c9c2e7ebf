//go:build cgo && !noturbojpeg

package imagefile

/*
#cgo LDFLAGS: -lturbojpeg
#include <turbojpeg.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// turboAvailable: this build links libjpeg-turbo (Debian libturbojpeg0-dev).
// Build with -tags noturbojpeg (or CGO_ENABLED=0) for the pure-Go decoder.
const turboAvailable = true

// turboFlags: LIMITSCANS refuses progressive JPEGs with absurd scan counts
// (a CPU bomb); FASTDCT and FASTUPSAMPLE trade invisible accuracy (about 1
// level per channel against image/jpeg on the labelled faces) for speed:
// BenchmarkTurboFlags measured ~20% less CPU at 1/4 scale on a 12 MP JPEG and
// no clear change at full size.
const turboFlags = flagLimitScans | flagFastDCT | flagFastUpsample

// TurboJPEG flags as Go ints, so the benchmarks (test files cannot use cgo)
// can compare them.
const (
	flagLimitScans   = int(C.TJFLAG_LIMITSCANS)
	flagFastDCT      = int(C.TJFLAG_FASTDCT)
	flagFastUpsample = int(C.TJFLAG_FASTUPSAMPLE)
)

// errTurboWarning marks a libjpeg warning (e.g. "Premature end of JPEG
// file"): TurboJPEG returns -1 for it but has written an image, with grey
// where data was missing. It must not pass as success.
var errTurboWarning = errors.New("warning")

// decodeTurbo decodes a JPEG of stored size sw×sh with libjpeg-turbo at the
// smallest DCT scale (1/8, 1/4, 1/2 or 1) that still covers tw×th. A handle
// per call keeps it safe for concurrent use; creating one costs microseconds
// against milliseconds of decoding.
func decodeTurbo(data []byte, sw, sh, tw, th int) (*Image, error) {
	return decodeTurboFlags(data, sw, sh, tw, th, turboFlags)
}

func decodeTurboFlags(data []byte, sw, sh, tw, th, flags int) (*Image, error) {
	if len(data) == 0 {
		return nil, errors.New("empty input")
	}
	h := C.tjInitDecompress()
	if h == nil {
		return nil, errors.New("tjInitDecompress failed")
	}
	defer C.tjDestroy(h)

	src := (*C.uchar)(unsafe.Pointer(&data[0]))
	var w, ht, subsamp, colorspace C.int
	if C.tjDecompressHeader3(h, src, C.ulong(len(data)), &w, &ht, &subsamp, &colorspace) != 0 {
		return nil, turboErr(h)
	}
	if int(w) != sw || int(ht) != sh {
		return nil, fmt.Errorf("header says %dx%d, Go's reader says %dx%d", w, ht, sw, sh)
	}
	denom := scaleDenom(sw, sh, tw, th)
	ow, oh := (sw+denom-1)/denom, (sh+denom-1)/denom // TJSCALED
	img := newImage(ow, oh)
	if C.tjDecompress2(h, src, C.ulong(len(data)), (*C.uchar)(unsafe.Pointer(&img.Pix[0])),
		C.int(ow), C.int(img.Stride), C.int(oh), C.TJPF_RGB, C.int(flags)) != 0 {
		return nil, turboErr(h)
	}
	return img, nil
}

// scaleDenom picks the largest DCT reduction that keeps at least tw×th.
func scaleDenom(sw, sh, tw, th int) int {
	for _, d := range []int{8, 4, 2} {
		if (sw+d-1)/d >= tw && (sh+d-1)/d >= th {
			return d
		}
	}
	return 1
}

func turboErr(h C.tjhandle) error {
	msg := C.GoString(C.tjGetErrorStr2(h))
	if C.tjGetErrorCode(h) == C.TJERR_WARNING {
		return fmt.Errorf("%w: %s", errTurboWarning, msg)
	}
	return errors.New(msg)
}
