package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"liveness/internal/cli"
)

// runSend sends every image file once through the load generator, named as
// on disk, and turns bad settings into usage errors.
func TestRunSendPostsEachFileFromDisk(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{} // part file name → bytes
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, h, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(f)
		mu.Lock()
		got[h.Filename] = string(b)
		mu.Unlock()
		fmt.Fprint(w, `{"result":"Real"}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	for _, n := range []string{"a.jpg", "b.png", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("bytes of "+n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	files, err := imageFiles([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	c := sendConfig{URL: srv.URL, Token: "t", Channel: "WEB", Concurrency: 2, Wait: 1}
	rep, err := runSend(context.Background(), c, files)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 2 || rep.ByResult["Real"] != 2 || len(got) != 2 || got["b.png"] != "bytes of b.png" {
		t.Errorf("sent %d results %v; server got %v (want a.jpg and b.png, not notes.txt)", rep.Sent, rep.ByResult, got)
	}
	c.Rate = -1
	if _, err := runSend(context.Background(), c, files); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("negative rate: %v, want a usage error", err)
	}
}
