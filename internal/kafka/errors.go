package kafka

import "errors"

// Sentinel errors. Callers match them with errors.Is; the wrapped message
// carries the detail (which variable, which file).
var (
	// ErrNoBrokers: the configuration names no bootstrap broker.
	ErrNoBrokers = errors.New("kafka: no brokers configured")
	// ErrSASLMechanism: KAFKA_SASL_MECHANISM is not one of the supported names.
	ErrSASLMechanism = errors.New("kafka: unsupported SASL mechanism")
	// ErrSASLCredentials: a SASL mechanism is set without a username or password.
	ErrSASLCredentials = errors.New("kafka: SASL mechanism needs a username and a password")
	// ErrTLSConfig: the TLS files are incomplete or cannot be loaded.
	ErrTLSConfig = errors.New("kafka: invalid TLS configuration")
	// ErrTopicSpec: a TopicSpec cannot be sent to the broker as is.
	ErrTopicSpec = errors.New("kafka: invalid topic spec")
	// ErrTopicCreate: the broker refused to create a topic.
	ErrTopicCreate = errors.New("kafka: topic creation failed")
	// ErrUnreachable: no broker answered a metadata request.
	ErrUnreachable = errors.New("kafka: brokers unreachable")
)
