package schemas

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"liveness/internal/scan"
)

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestOpenAPIParsesAndHasEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	for path, methods := range map[string][]string{
		"/face-liveness-sdk/v1/check_liveness": {"POST"},
		"/v1/face-liveness":                    {"GET"},
		"/v1/face-liveness/stats":              {"GET"},
		"/v1/face-liveness/{id}":               {"GET", "PUT"},
	} {
		item := doc.Paths.Find(path)
		if item == nil {
			t.Errorf("missing path %s", path)
			continue
		}
		for _, m := range methods {
			if item.GetOperation(m) == nil {
				t.Errorf("missing %s %s", m, path)
			}
		}
	}
}

// The Scan schema must accept the JSON our Go types produce, so the document
// and the code cannot drift apart silently.
func TestScanSchemaAcceptsTheDomainJSON(t *testing.T) {
	doc := loadOpenAPI(t)
	s := scan.Scan{
		SalesChannel: scan.ChannelWeb,
		CreatedByID:  "user-1",
		Reference:    "contract-42",
		Analysis: scan.Analysis{
			Result: scan.ResultReal, Quality: scan.QualityHigh, Luminance: scan.LuminanceNormal,
			LivenessScore: 0.93,
			Faces:         []scan.Face{{X2: 10, Y2: 10, Liveness: 0.93, Landmarks68: make([]float32, scan.LandmarkCount)}},
		},
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas["Scan"].Value
	if err := schema.VisitJSON(v); err != nil {
		t.Fatalf("Scan JSON does not match the OpenAPI schema: %v", err)
	}
	// And the schema is strict enough to refuse a wrong enum.
	v.(map[string]any)["result"] = "Maybe"
	if err := schema.VisitJSON(v); err == nil {
		t.Fatal("schema accepted result=Maybe")
	}
}
