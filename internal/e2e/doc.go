// Package e2e holds the end-to-end tests of the capture pipeline (build tag
// `integration`): the real `ingest` and `processor` binaries, built once per
// run and started as subprocesses on free loopback ports, against the real
// Kafka broker of scripts/stack.sh (KAFKA_BROKERS) on fresh, uniquely named
// topics, with the real models ($MODELS_DIR) and faces ($FACES_DIR).
//
//	go test -tags integration -count=1 ./internal/e2e/
//
// The broker-outage test starts its own broker (internal/kafka/kafkatest),
// which it kills and restarts. Without the stack, the tests fail: never a skip.
package e2e
