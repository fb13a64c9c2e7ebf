//go:build integration

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"

	"liveness/internal/scan"
)

// Two ingest replicas on the same topics, as behind one load balancer:
// requests alternate between them, and each gets its own scan (200), never
// another request's, although both replicas read every result.
func TestIngestReplicas(t *testing.T) {
	s := newStack(t, localKafka(t))
	s.processor()
	_, a := s.ingest()
	_, b := s.ingest()
	tok := s.token()
	imgs := [][]byte{
		readFace(t, s.paths, "real/r11_tom_cruise_closeup.jpg"),
		readFace(t, s.paths, "spoof/s01_sfas_F1_print.jpg"),
		readFace(t, s.paths, "real/r124_selfie_man_glasses_frontal_indoor.jpg"),
	}
	const n = 24
	replies := make([]reply, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			base := []string{a, b}[i%2]
			replies[i] = post(t, base, tok, 120, field("channel", "MOBILE"),
				field("reference", fmt.Sprintf("replica-%02d", i)), file("c.jpg", imgs[i%len(imgs)]))
		}()
	}
	wg.Wait()
	ids := map[uuid.UUID]int{}
	for i, r := range replies {
		if r.Status != http.StatusOK {
			t.Errorf("request %d (replica %d): want 200, got %s", i, i%2, r)
			continue
		}
		var sc scan.Scan
		if err := json.Unmarshal(r.Body, &sc); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := fmt.Sprintf("replica-%02d", i); sc.Reference != want {
			t.Errorf("request %d got the scan of %q", i, sc.Reference)
		}
		if prev, dup := ids[sc.ID]; dup {
			t.Errorf("requests %d and %d got the same scan id %s", prev, i, sc.ID)
		}
		ids[sc.ID] = i
	}
}
