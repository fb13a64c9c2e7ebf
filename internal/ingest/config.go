package ingest

import (
	"time"

	"liveness/internal/config"
)

// Config bounds what the ingest API accepts and how long it waits.
type Config struct {
	MaxBodyBytes    int           // whole multipart body; larger → 413
	MaxImageBytes   int           // the file part; larger → 413
	MaxPixels       int64         // width×height from the header; larger → 422 (decompression bombs)
	MaxReferenceLen int           // runes in `reference`
	Wait            time.Duration // default wait for the result; past it → 202
	MaxWait         time.Duration // cap on `Prefer: wait=N`
	RatePerSecond   float64       // per company, sustained
	RateBurst       int           // per company, burst
}

// Register declares the ingest settings on a command's configuration set.
func (c *Config) Register(s *config.Set) {
	s.Int(&c.MaxBodyBytes, "INGEST_MAX_BODY_BYTES", 11<<20, "largest multipart body accepted (bytes)")
	s.Int(&c.MaxImageBytes, "INGEST_MAX_IMAGE_BYTES", 10<<20, "largest image file accepted (bytes)")
	s.Int64(&c.MaxPixels, "INGEST_MAX_PIXELS", 40_000_000, "largest image accepted (width × height)")
	s.Int(&c.MaxReferenceLen, "INGEST_MAX_REFERENCE_LEN", 128, "longest reference accepted (characters)")
	s.Duration(&c.Wait, "INGEST_WAIT", 5*time.Second, "how long a request waits for its scan before answering 202")
	s.Duration(&c.MaxWait, "INGEST_MAX_WAIT", 30*time.Second, "upper bound of Prefer: wait=N")
	s.Float(&c.RatePerSecond, "INGEST_RATE_PER_COMPANY", 100, "captures per second per company (sustained)")
	s.Int(&c.RateBurst, "INGEST_RATE_BURST", 200, "captures per company in a burst")
}
