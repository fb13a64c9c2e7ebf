package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"liveness/internal/auth"
	"liveness/internal/cli"
	"liveness/internal/config"
)

func init() {
	commands["send"] = cli.Command{Summary: "stream captures through the HTTP API and report results and latency", Run: send}
}

type sendConfig struct {
	URL, Token, Channel, RefPrefix, DevKeyFile string
	Concurrency, Count, Wait                   int
}

func (c *sendConfig) register(s *config.Set) {
	s.String(&c.URL, "INGEST_URL", "http://127.0.0.1:8080", "base URL of the ingest service")
	s.String(&c.Token, "INGEST_TOKEN", "", "bearer token (empty: a dev token from the local dev key)")
	s.String(&c.DevKeyFile, auth.EnvDevKeyFile, auth.DefaultDevKeyFile, "dev signing key used when no token is given")
	s.String(&c.Channel, "SEND_CHANNEL", "WEB", "channel of every capture")
	s.String(&c.RefPrefix, "SEND_REFERENCE_PREFIX", "send-", "prefix of each capture's reference")
	s.Int(&c.Concurrency, "SEND_CONCURRENCY", 4, "requests in flight")
	s.Int(&c.Count, "SEND_COUNT", 0, "captures to send, cycling through the files (0: each file once)")
	s.Int(&c.Wait, "SEND_WAIT", 5, "seconds each request waits for its scan (Prefer: wait=N)")
}

func send(ctx context.Context, args []string) error {
	var c sendConfig
	s := config.New("send")
	c.register(s)
	fs := s.FlagSet()
	fs.StringVar(&c.Channel, "channel", c.Channel, "shorthand for --send-channel")
	fs.StringVar(&c.RefPrefix, "reference-prefix", c.RefPrefix, "shorthand for --send-reference-prefix")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "shorthand for --send-concurrency")
	fs.IntVar(&c.Count, "count", c.Count, "shorthand for --send-count")
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	files, err := imageFiles(s.Args())
	if err != nil {
		return err
	}
	if c.Token == "" {
		if c.Token, err = devToken(c.DevKeyFile); err != nil {
			return err
		}
	}
	rep, err := runSend(ctx, c, files)
	if err != nil {
		return err
	}
	rep.print(os.Stdout)
	if rep.failed > 0 {
		return fmt.Errorf("%d of %d requests failed", rep.failed, rep.total)
	}
	return nil
}

// devToken mints a token for the dev company with the write scope.
func devToken(keyFile string) (string, error) {
	return auth.MintDevToken(keyFile, auth.DevClaims{
		CompanyID: uuid.MustParse(devCompany), UserID: "ingest-send", Scopes: []string{"write"}, TTL: time.Hour,
	})
}

// devCompany matches `query token`'s default, so sent captures can be read back.
const devCompany = "00000000-0000-4000-8000-000000000001"

var imageExt = []string{".jpg", ".jpeg", ".png", ".webp", ".bmp"}

// imageFiles expands folders into the images they hold; files named on the
// command line are taken whatever their extension (the server sniffs).
func imageFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: give image files or folders", cli.ErrUsage)
	}
	var out []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (path == p || slices.Contains(imageExt, strings.ToLower(filepath.Ext(path)))) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no images under %v", paths)
	}
	return out, nil
}

type outcome struct {
	status  int
	result  string
	latency time.Duration
	err     error
}

func runSend(ctx context.Context, c sendConfig, files []string) (*report, error) {
	data := make([][]byte, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		data[i] = b
	}
	n := c.Count
	if n <= 0 {
		n = len(files)
	}
	client := &http.Client{Timeout: time.Duration(c.Wait+30) * time.Second}
	bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("sending"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(200*time.Millisecond))
	jobs := make(chan int)
	results := make(chan outcome, n)
	var wg sync.WaitGroup
	start := time.Now()
	for range max(c.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results <- post(ctx, client, c, filepath.Base(files[i%len(files)]), data[i%len(files)], i)
				bar.Add(1)
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(results)
	bar.Finish()
	fmt.Fprintln(os.Stderr)
	rep := newReport(time.Since(start))
	for o := range results {
		rep.add(o)
	}
	return rep, nil
}

func post(ctx context.Context, client *http.Client, c sendConfig, name string, img []byte, i int) outcome {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("channel", c.Channel)
	mw.WriteField("reference", fmt.Sprintf("%s%06d", c.RefPrefix, i))
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(img)
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.URL, "/")+"/face-liveness-sdk/v1/check_liveness", &body)
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Prefer", fmt.Sprintf("wait=%d", c.Wait))
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return outcome{err: err, latency: time.Since(t)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	o := outcome{status: resp.StatusCode, latency: time.Since(t)}
	var v struct{ Result, Error string }
	_ = json.Unmarshal(raw, &v)
	switch {
	case resp.StatusCode == http.StatusOK:
		o.result = v.Result
	case resp.StatusCode == http.StatusAccepted:
		o.result = "(pending: 202)"
	default:
		o.result = fmt.Sprintf("(HTTP %d %s)", resp.StatusCode, v.Error)
	}
	return o
}
