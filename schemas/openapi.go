// Package schemas holds the project's contracts as files: the OpenAPI
// document of the HTTP APIs, the Avro schemas of the events and the
// ClickHouse migrations, embedded so that every binary carries the exact
// contract it was built with.
package schemas

import _ "embed"

// OpenAPI is the OpenAPI 3 document of the ingest and query HTTP APIs.
//
//go:embed openapi.yaml
var OpenAPI []byte
