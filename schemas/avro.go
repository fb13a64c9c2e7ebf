// Package schemas embeds the project's interface contracts so that code and
// tests read the very files that are published (Avro schemas for the Kafka
// topics).
package schemas

import "embed"

//go:embed avro/*.avsc
var avroFS embed.FS

// CaptureEvent is the Avro schema (JSON text) of the captures topic's values.
var CaptureEvent = mustRead("avro/CaptureEvent.avsc")

// ScanResult is the Avro schema (JSON text) of the results topic's values.
var ScanResult = mustRead("avro/ScanResult.avsc")

// mustRead panics only if the embed directive and the file names disagree,
// which the package's own test catches at build time of the tests.
func mustRead(name string) string {
	b, err := avroFS.ReadFile(name)
	if err != nil {
		panic("schemas: " + err.Error())
	}
	return string(b)
}
