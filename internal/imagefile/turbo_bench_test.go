//go:build cgo && !noturbojpeg

package imagefile

import (
	"fmt"
	"testing"
)

// BenchmarkTurboFlags measures what FASTDCT and FASTUPSAMPLE buy at each DCT
// scale (decodeTurbo alone: no resize, no orientation).
func BenchmarkTurboFlags(b *testing.B) {
	data := benchInputs(b)["12MP"]
	flags := map[string]int{
		"accurate":      flagLimitScans,
		"fastdct":       flagLimitScans | flagFastDCT,
		"fastupsample":  flagLimitScans | flagFastUpsample,
		"fastdct+fastu": flagLimitScans | flagFastDCT | flagFastUpsample,
	}
	for _, d := range []int{1, 2, 4, 8} {
		for _, name := range []string{"accurate", "fastdct", "fastupsample", "fastdct+fastu"} {
			b.Run(fmt.Sprintf("1of%d/%s", d, name), func(b *testing.B) {
				loop(b, func() error {
					_, err := decodeTurboFlags(data, 4000, 3000, 4000/d, 3000/d, flags[name])
					return err
				})
			})
		}
	}
}
