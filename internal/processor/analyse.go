package processor

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"liveness/inference"
	"liveness/internal/kafka"
	"liveness/internal/scan"
	"liveness/internal/tracing"
)

// Dead-letter kinds, the metric label and the prefix of the reason.
const (
	deadDecode  = "decode"  // not a CaptureEvent (bad Avro, wrong schema)
	deadAnalyse = "analyse" // the image could not be analysed (corrupt, too large, not an image)
	deadEncode  = "encode"  // the result could not be encoded (breaks the contract)
)

// resultVersion is the version of a scan as the processor first publishes
// it; analysts' updates grow it.
const resultVersion = 1

// analyse turns the batch's messages into result and dead-letter messages.
func (p *Processor) analyse(ctx context.Context, j *job) {
	t0 := time.Now()
	caps := make([]*scan.Capture, 0, j.b.Len())
	srcs := make([]kafkago.Message, 0, j.b.Len())
	for _, f := range j.b.Items {
		c, err := p.codec.DecodeCapture(f.msg.Value)
		if err != nil {
			j.dead = append(j.dead, p.deadLetter(f.msg, string(f.msg.Key), deadDecode, err))
			continue
		}
		caps = append(caps, c)
		srcs = append(srcs, f.msg)
	}
	p.m.stage("avro_decode", t0)
	if len(caps) == 0 {
		return
	}
	res, err := p.run(ctx, caps)
	if err != nil {
		j.err = err
		return
	}
	t1 := time.Now()
	version := p.engine.ModelVersion()
	for i, c := range caps {
		if res[i].Err != nil {
			j.dead = append(j.dead, p.deadLetter(srcs[i], c.ID.String(), deadAnalyse, res[i].Err))
			continue
		}
		sr := p.result(c, res[i], version)
		v, err := p.codec.EncodeResult(sr)
		if err != nil {
			j.dead = append(j.dead, p.deadLetter(srcs[i], c.ID.String(), deadEncode, err))
			continue
		}
		m := kafkago.Message{Key: []byte(c.ID.String()), Value: v}
		// The result continues the capture's trace (a new span of it).
		tp, _ := kafka.Header(srcs[i], tracing.Header)
		kafka.SetHeader(&m, tracing.Header, tracing.Continue(tp).String())
		j.results = append(j.results, m)
		p.m.result(string(sr.Result))
	}
	p.m.stage("avro_encode", t1)
}

// run analyses the batch's images in one engine call. A failure of the whole
// call that is not the context's end is retried image by image, so that one
// image that breaks a model fails alone and its batch goes on.
func (p *Processor) run(ctx context.Context, caps []*scan.Capture) ([]inference.Result, error) {
	images := make([][]byte, len(caps))
	for i, c := range caps {
		images[i] = c.Image
	}
	t0 := time.Now()
	res, err := p.engine.Analyze(ctx, images)
	p.m.stage("analyse", t0)
	if err == nil && len(res) == len(images) {
		return res, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("processor: analyse: %w", ctx.Err())
	}
	p.log.Warn("engine failed on a batch; analysing its images one by one", "images", len(images), "err", err)
	res = make([]inference.Result, len(images))
	for i := range images {
		one, err := p.engine.Analyze(ctx, images[i:i+1])
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("processor: analyse: %w", ctx.Err())
		case err != nil:
			res[i].Err = err
		case len(one) != 1:
			res[i].Err = fmt.Errorf("engine returned %d results for one image", len(one))
		default:
			res[i] = one[0]
		}
	}
	return res, nil
}

// result builds the ScanResult of one capture: identity and tenancy from
// the capture, the analysis and image size from the engine.
func (p *Processor) result(c *scan.Capture, r inference.Result, modelVersion string) *scan.ScanResult {
	elapsed := p.now().Sub(c.ReceivedAt).Seconds()
	if elapsed < 0 {
		elapsed = 0 // a receivedAt ahead of our clock (skew) is not a negative duration
	}
	a := r.Analysis
	if a.Faces == nil {
		a.Faces = []scan.Face{}
	}
	return &scan.ScanResult{
		Scan: scan.Scan{
			ID:           c.ID,
			CompanyID:    c.CompanyID,
			CreatedDate:  c.ReceivedAt,
			CreatedByID:  c.CreatedByID,
			Reference:    c.Reference,
			ElapsedTime:  elapsed,
			SalesChannel: c.SalesChannel,
			Analysis:     a,
		},
		ModelVersion: modelVersion,
		ImageWidth:   r.Width,
		ImageHeight:  r.Height,
		Version:      resultVersion,
	}
}

// deadLetter copies m (value and headers: the capture as it came, for
// investigation) with the reason and origin in headers. key is the capture
// id when known, so that the ingest replica waiting for it can answer.
func (p *Processor) deadLetter(m kafkago.Message, key, kind string, cause error) kafkago.Message {
	d := kafka.DeadLetter(m, []byte(key), p.topic, kind+": "+cause.Error())
	p.m.deadLetter(kind)
	p.log.Warn("capture dead-lettered", "id", key, "kind", kind, "reason", cause.Error(),
		"partition", m.Partition, "offset", m.Offset)
	return d
}

// errNotDelivered wraps the cause of a batch left undelivered.
var errNotDelivered = errors.New("processor: batch not delivered; its offsets are not committed")
