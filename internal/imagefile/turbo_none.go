//go:build !cgo || noturbojpeg

package imagefile

// Without cgo (or with -tags noturbojpeg) every format takes the pure-Go path.
const turboAvailable = false

func decodeTurbo(_ []byte, _, _, _, _ int) (*Image, error) { return nil, ErrUnsupportedFormat }
