package kafka

import (
	"strconv"

	kafkago "github.com/segmentio/kafka-go"
)

// Dead-letter headers, added to the original message's own headers. The
// ingest service reads HeaderDLQReason to answer a client waiting for a
// capture the processor refused.
const (
	HeaderDLQReason    = "dlq-reason"    // why the message was not processed
	HeaderDLQTopic     = "dlq-topic"     // where it came from
	HeaderDLQPartition = "dlq-partition" // its partition there
	HeaderDLQOffset    = "dlq-offset"    // its offset there
)

// DeadLetter copies m (value and headers, as it came, for investigation)
// under key, with the reason and its origin in headers. topic names the
// source when m.Topic is empty (messages from a group reader carry it).
func DeadLetter(m kafkago.Message, key []byte, topic, reason string) kafkago.Message {
	if m.Topic != "" {
		topic = m.Topic
	}
	d := kafkago.Message{Key: key, Value: m.Value, Headers: append([]kafkago.Header(nil), m.Headers...)}
	SetHeader(&d, HeaderDLQReason, reason)
	SetHeader(&d, HeaderDLQTopic, topic)
	SetHeader(&d, HeaderDLQPartition, strconv.Itoa(m.Partition))
	SetHeader(&d, HeaderDLQOffset, strconv.FormatInt(m.Offset, 10))
	return d
}
