package avro

import (
	cfg "liveness/internal/config"
)

// Settings picks the framing of every service's codec: the Confluent wire
// format when a schema registry is configured, single-object encoding
// otherwise.
type Settings struct {
	RegistryURL string
}

// Register declares SCHEMA_REGISTRY_URL on a command's configuration set.
func (s *Settings) Register(cs *cfg.Set) {
	cs.String(&s.RegistryURL, "SCHEMA_REGISTRY_URL", "", "Confluent schema registry URL (empty: Avro single-object encoding)")
}

// Codec builds the codec these settings describe.
func (s Settings) Codec() (*Codec, error) {
	if s.RegistryURL == "" {
		return New()
	}
	return New(WithRegistry(s.RegistryURL, nil))
}
