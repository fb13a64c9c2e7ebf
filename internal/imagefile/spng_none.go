//go:build !cgo || nospng

package imagefile

// Without cgo (or with -tags nospng) PNG takes Go's image/png alone.
const spngAvailable = false

func decodeSPNG(_ []byte, _, _ int) (*Image, error) { return nil, errSPNGSkip }
