package kafka

import kafkago "github.com/segmentio/kafka-go"

// Header returns the value of the first header named key, and whether there
// was one. Kafka allows repeated header keys; this package never writes them.
func Header(m kafkago.Message, key string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// SetHeader sets header key to value, replacing every earlier header of that
// name so that Header reads back exactly what was set.
func SetHeader(m *kafkago.Message, key, value string) {
	out := m.Headers[:0:0]
	for _, h := range m.Headers {
		if h.Key != key {
			out = append(out, h)
		}
	}
	m.Headers = append(out, kafkago.Header{Key: key, Value: []byte(value)})
}
