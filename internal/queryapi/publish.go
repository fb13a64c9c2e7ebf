package queryapi

import (
	"context"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/internal/kafka"
	"liveness/internal/scan"
)

// HeaderEvent names the kind of event on the updates topic.
const HeaderEvent = "event"

// Encoder encodes a scan result (*avro.Codec).
type Encoder interface {
	EncodeResult(v *scan.ScanResult) ([]byte, error)
}

// KafkaPublisher publishes updates as Avro ScanResult events (the results
// topic's schema, so a consumer of both reads one type), keyed by scan id so
// that a scan's versions stay in order on one partition.
type KafkaPublisher struct {
	W   *kafkago.Writer // kafka.NewWriter: acks=all, synchronous
	Enc Encoder
}

// PublishUpdate implements Publisher.
func (p KafkaPublisher) PublishUpdate(ctx context.Context, sr scan.ScanResult) error {
	b, err := p.Enc.EncodeResult(&sr)
	if err != nil {
		return fmt.Errorf("queryapi: encode update: %w", err)
	}
	m := kafkago.Message{Key: []byte(sr.ID.String()), Value: b}
	kafka.SetHeader(&m, HeaderEvent, "scan-updated")
	if err := p.W.WriteMessages(ctx, m); err != nil {
		return fmt.Errorf("queryapi: publish update: %w", err)
	}
	return nil
}
