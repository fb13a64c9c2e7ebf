package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"liveness/internal/auth"
	"liveness/internal/cli"
	"liveness/internal/config"
	"liveness/internal/loadgen"
)

func init() {
	commands["send"] = cli.Command{Summary: "stream captures through the HTTP API and report results and latency", Run: send}
}

type sendConfig struct {
	URL, Token, Channel, RefPrefix, DevKeyFile string
	Concurrency, Count, Wait                   int
	Rate                                       float64
}

func (c *sendConfig) register(s *config.Set) {
	s.String(&c.URL, "INGEST_URL", "http://127.0.0.1:8080", "base URL of the ingest service")
	s.String(&c.Token, "INGEST_TOKEN", "", "bearer token (empty: a dev token from the local dev key)")
	s.String(&c.DevKeyFile, auth.EnvDevKeyFile, auth.DefaultDevKeyFile, "dev signing key used when no token is given")
	s.String(&c.Channel, "SEND_CHANNEL", "WEB", "channel of every capture")
	s.String(&c.RefPrefix, "SEND_REFERENCE_PREFIX", "send-", "prefix of each capture's reference")
	s.Int(&c.Concurrency, "SEND_CONCURRENCY", 4, "requests in flight")
	s.Float(&c.Rate, "SEND_RATE", 0, "captures started per second whatever the answers take, at most SEND_CONCURRENCY in flight (0: as fast as the concurrency allows)")
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
	fs.Float64Var(&c.Rate, "rate", c.Rate, "shorthand for --send-rate")
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
	printReport(os.Stdout, rep)
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d requests failed", rep.Failed, rep.Sent)
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

// runSend reads the files into memory (the load generator sends from
// memory, so disk reads do not pace it) and runs the load generator with a
// progress bar on stderr.
func runSend(ctx context.Context, c sendConfig, files []string) (*loadgen.Report, error) {
	images := make([]loadgen.Image, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		images[i] = loadgen.Image{Name: filepath.Base(f), Data: b}
	}
	opts := loadgen.Options{URL: c.URL, Token: c.Token, Channel: c.Channel, RefPrefix: c.RefPrefix,
		Concurrency: c.Concurrency, Count: c.Count, Rate: c.Rate, Wait: c.Wait}
	n := c.Count
	if n <= 0 {
		n = len(images)
	}
	bar := progressbar.NewOptions(n, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription("sending"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(200*time.Millisecond))
	rep, err := loadgen.Run(ctx, opts, images, func(loadgen.Outcome) { _ = bar.Add(1) })
	_ = bar.Finish()
	fmt.Fprintln(os.Stderr)
	if errors.Is(err, loadgen.ErrOptions) {
		return nil, fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	// Interrupted: the report of what was sent is still worth printing.
	if err != nil && !errors.Is(err, ctx.Err()) {
		return nil, err
	}
	return rep, nil
}
