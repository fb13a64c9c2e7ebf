package avro

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	havro "github.com/hamba/avro/v2"
)

// Avro single-object encoding (Avro spec, "Single-object encoding").
const (
	soeMagic0 = 0xC3
	soeMagic1 = 0x01
	soeLen    = 10 // 2 magic bytes + 8-byte fingerprint
)

// Confluent wire format (Confluent Schema Registry, "Wire format").
const (
	confluentMagic = 0x00
	confluentLen   = 5 // magic byte + 4-byte schema id
)

// rabin returns the CRC-64-AVRO (Rabin) fingerprint of the Parsing Canonical
// Form of a schema text, as a number; single-object encoding writes it
// little-endian.
//
// The spec's canonical form keeps only type, name, fields, symbols, items,
// values and size, and writes primitives in their simple form ("long", not
// {"type":"long","logicalType":"timestamp-millis"}). That is what the Java
// reference (SchemaNormalization) fingerprints, but neither Go library does it
// for logical types: hamba keeps logicalType, goavro keeps {"type":"long"}.
// So the text is first stripped of the attributes the spec drops, and only
// then handed to hamba for the rest of the normalisation (full names, field
// order, whitespace).
func rabin(text string) (uint64, error) {
	s, err := canonical(text)
	if err != nil {
		return 0, err
	}
	b, err := s.FingerprintUsing(havro.CRC64AvroLE)
	if err != nil || len(b) != 8 {
		return 0, fmt.Errorf("avro: fingerprint: %v", err)
	}
	return binary.LittleEndian.Uint64(b), nil
}

// canonical parses text with the attributes outside the Parsing Canonical
// Form removed; the result's String() is the canonical form.
func canonical(text string) (havro.Schema, error) {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return nil, fmt.Errorf("avro: canonical form: %w", err)
	}
	stripped, err := json.Marshal(stripForPCF(v))
	if err != nil {
		return nil, fmt.Errorf("avro: canonical form: %w", err)
	}
	s, err := havro.ParseBytesWithCache(stripped, "", &havro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("avro: canonical form: %w", err)
	}
	return s, nil
}

// pcfKeys are the attributes the Parsing Canonical Form keeps ([STRIP]), plus
// namespace, which hamba needs to form the full names ([FULLNAMES]).
var pcfKeys = map[string]bool{
	"type": true, "name": true, "namespace": true, "fields": true,
	"symbols": true, "items": true, "values": true, "size": true,
}

func stripForPCF(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if pcfKeys[k] {
				out[k] = stripForPCF(e)
			}
		}
		// [PRIMITIVES]: {"type":"long"} is "long".
		if t, ok := out["type"].(string); ok && len(out) == 1 && isPrimitive(t) {
			return t
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = stripForPCF(e)
		}
		return out
	default:
		return v
	}
}

func isPrimitive(t string) bool {
	switch t {
	case "null", "boolean", "int", "long", "float", "double", "bytes", "string":
		return true
	}
	return false
}

func soeHeader(fp uint64) [soeLen]byte {
	var h [soeLen]byte
	h[0], h[1] = soeMagic0, soeMagic1
	binary.LittleEndian.PutUint64(h[2:], fp)
	return h
}

// soeFingerprint reads the fingerprint of a message known to be >= soeLen long.
func soeFingerprint(b []byte) uint64 { return binary.LittleEndian.Uint64(b[2:soeLen]) }

func confluentHeader(id uint32) [confluentLen]byte {
	var h [confluentLen]byte
	h[0] = confluentMagic
	binary.BigEndian.PutUint32(h[1:], id)
	return h
}

// confluentID reads the schema id of a message known to be >= confluentLen long.
func confluentID(b []byte) uint32 { return binary.BigEndian.Uint32(b[1:confluentLen]) }
