// Command benchpipeline is `make bench-pipeline`: it pushes captures sampled
// from $FACES_DIR through ingest → Kafka → processor → results on this
// machine, and measures, in the same run on the same images, the inference
// engine alone. It prints:
//
//   - engine alone: throughput (batches of the processor's batch size) and
//     single-image latency;
//   - pipeline at maximum load (closed loop, BENCH_CONCURRENCY requests in
//     flight): throughput, sync latency p50/p99, mean batch size (from the
//     processor's metrics);
//   - pipeline at half that throughput (open loop, constant arrival rate):
//     sync latency p50/p99;
//   - the ratios against the targets: pipeline ≥ 0.85 × engine throughput,
//     p99 at half load ≤ 3 × the engine's single-image latency, read two
//     ways: against its p50 (the strict reading, the issue's), and against
//     its p99 (the same percentile on both sides). The images alone spread
//     ~2.5× from p50 to p99 (the large phone photos), which the p50
//     reading charges to the pipeline.
//
// Images are the manifest's real, spoof and edge files that the engine
// accepts, sent as they are (JPEG and PNG, 25 KB to 1.1 MB, up to 1280 px
// long sides after decoding), sampled with replacement with a fixed seed.
// The services are the real binaries (go build), on fresh topics of the
// local broker, in dev auth mode; their logs go to $STACK_DIR/bench-pipeline.
// The load is internal/loadgen, the generator of `ingest send`, in this
// process.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	kafkago "github.com/segmentio/kafka-go"

	"liveness/inference"
	"liveness/internal/auth"
	"liveness/internal/config"
	"liveness/internal/faceset"
	"liveness/internal/kafka"
	"liveness/internal/loadgen"
	"liveness/internal/processor"
)

type settings struct {
	Count, Concurrency, HalfCount, SingleCount, BatchItems, InFlight, Seed int
	ModelsDir, FacesDir, OrtLib, StackDir, EngineProfile, ProcessorEnv     string
	Kafka                                                                  kafka.Config
}

func (c *settings) register(s *config.Set) {
	s.Int(&c.Count, "BENCH_COUNT", 2000, "captures pushed at maximum load (and analysed by the engine alone)")
	s.Int(&c.Concurrency, "BENCH_CONCURRENCY", 32, "requests in flight at maximum load")
	s.Int(&c.HalfCount, "BENCH_HALF_COUNT", 400, "captures sent at half the maximum throughput")
	s.Int(&c.SingleCount, "BENCH_SINGLE_COUNT", 100, "single-image engine calls timed")
	s.Int(&c.BatchItems, "PROCESSOR_BATCH_MAX_ITEMS", 16, "the processor's batch size, also the engine-alone batch")
	s.Int(&c.InFlight, processor.EnvInFlight, processor.DefaultBatchesInFlight, "batches the processor analyses at once, also the engine-alone batches in flight")
	s.Int(&c.Seed, "BENCH_SEED", 1, "sampling seed")
	s.String(&c.ModelsDir, "MODELS_DIR", "../shared/models", "folder of the ONNX models")
	s.String(&c.FacesDir, "FACES_DIR", "../shared/faces", "labelled images with MANIFEST.tsv")
	s.String(&c.OrtLib, "ONNXRUNTIME_LIB", ".stack/onnxruntime/libonnxruntime.so.1", "ONNX Runtime library")
	s.String(&c.StackDir, "STACK_DIR", ".stack", "local stack folder (service logs go under bench-pipeline/)")
	s.String(&c.EngineProfile, "BENCH_ENGINE_CPUPROFILE", "", "write a CPU profile of the engine-alone run to this file (compare with the processor's, PROCESSOR_PPROF_ADDR)")
	s.String(&c.ProcessorEnv, "BENCH_PROCESSOR_ENV", "", "extra environment of the processor only, space-separated (experiments: \"GOGC=200 PROCESSOR_PPROF_ADDR=127.0.0.1:6060\")")
	c.Kafka.Bind(s)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var c settings
	s := config.New("bench-pipeline")
	c.register(s)
	if err := s.Parse(os.Args[1:]); err != nil {
		fatal(err)
	}
	if err := run(ctx, c); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench-pipeline:", err)
	os.Exit(1)
}

func run(ctx context.Context, c settings) error {
	for _, p := range []*string{&c.ModelsDir, &c.FacesDir, &c.OrtLib, &c.StackDir} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	fmt.Printf("machine: %d CPUs, load average at start %s\n", runtime.NumCPU(), loadAvg())
	pool, err := readManifest(c.FacesDir)
	if err != nil {
		return err
	}
	eng, err := inference.New(inference.Config{ModelsDir: c.ModelsDir, LibraryPath: c.OrtLib,
		// The defaults of `processor run` (cmd/processor engineFlags).
		IntraOpThreads: 1, DecodeMaxSide: 1280, DetectMaxSide: 640, MaxPixels: 40_000_000, MinScore: 0.5})
	if err != nil {
		return err
	}
	pool, err = engineAccepts(ctx, eng, pool)
	if err != nil {
		eng.Close()
		return err
	}
	rng := rand.New(rand.NewPCG(uint64(c.Seed), 0))
	sample := make([]loadgen.Image, c.Count)
	for i := range sample {
		sample[i] = pool[rng.IntN(len(pool))]
	}
	fmt.Printf("images: %d accepted by the engine of %d in the manifest; %d captures sampled (seed %d), as they are\n",
		len(pool), manifestLen, len(sample), c.Seed)

	single, single99, err := singleLatency(ctx, eng, sample, c.SingleCount)
	if err != nil {
		eng.Close()
		return err
	}
	stopProfile, err := startCPUProfile(c.EngineProfile)
	if err != nil {
		eng.Close()
		return err
	}
	use0 := procStat(os.Getpid())
	engineRate, err := engineThroughput(ctx, eng, sample, c.BatchItems, c.InFlight)
	engineUse := procStat(os.Getpid()).minus(use0)
	stopProfile()
	eng.Close() // the pipeline's processor loads its own
	if err != nil {
		return err
	}
	fmt.Printf("engine alone: %.2f captures/s (batches of %d, %d at a time); single image p50 %s\n",
		engineRate, c.BatchItems, c.InFlight, single.Round(time.Millisecond))

	p, err := startPipeline(ctx, c, sample[0])
	if err != nil {
		return err
	}
	defer p.close()
	full, err := p.maxLoad(ctx, sample, c.Concurrency)
	if err != nil {
		return err
	}
	half, err := p.rateLoad(ctx, sample, c.HalfCount, full.rate/2)
	if err != nil {
		return err
	}

	fmt.Printf("\n== bench-pipeline (%d CPUs; load average now %s) ==\n", runtime.NumCPU(), loadAvg())
	fmt.Printf("engine alone          %8.2f captures/s   single-image latency p50 %s  p99 %s (n=%d)\n",
		engineRate, single.Round(time.Millisecond), single99.Round(time.Millisecond), c.SingleCount)
	fmt.Printf("pipeline, max load    %8.2f captures/s   sync p50 %s  p99 %s  (n=%d, %d failed, concurrency %d)\n",
		full.rate, full.p50.Round(time.Millisecond), full.p99.Round(time.Millisecond), full.ok, full.failed, c.Concurrency)
	fmt.Printf("mean batch size       %8.2f              (processor_batch_size over the max-load run; batches closed by %s)\n",
		full.meanBatch, closedBy(full.closed))
	fmt.Printf("pipeline, half load   %8.2f captures/s   sync p50 %s  p99 %s  (n=%d, %d failed, offered %.2f/s, latest start %s late)\n",
		half.rate, half.p50.Round(time.Millisecond), half.p99.Round(time.Millisecond), half.ok, half.failed, full.rate/2,
		half.lag.Round(time.Millisecond))
	fmt.Printf("CPU at max load       ")
	for _, u := range full.cpu {
		fmt.Printf("%s %s  ", u.name, u.use.perCapture(len(sample)))
	}
	fmt.Printf("\nCPU of the engine alone  %s (this process)\n", engineUse.perCapture(len(sample)))
	r1 := full.rate / engineRate
	r2 := half.p99.Seconds() / single.Seconds()
	r3 := half.p99.Seconds() / single99.Seconds()
	fmt.Printf("throughput ratio      %8.3f  (target >= 0.85: %s)\n", r1, verdict(r1 >= 0.85))
	// With both cores saturated the throughput ratio is about this one, and
	// CPU time is not charged for the time the VM or a neighbour takes the
	// core, so it moves less between runs (the two throughputs are measured
	// minutes apart).
	var pipeCPU float64
	for _, u := range full.cpu {
		pipeCPU += u.use.seconds()
	}
	if pipeCPU > 0 {
		fmt.Printf("CPU ratio             %8.3f  (engine-alone CPU per capture / the pipeline's, every process above)\n",
			engineUse.seconds()/pipeCPU)
	}
	fmt.Printf("p99 / single p50      %8.3f  (target <= 3: %s)\n", r2, verdict(r2 <= 3))
	fmt.Printf("p99 / single p99      %8.3f  (the same percentile on both sides: %s)\n", r3, verdict(r3 <= 3))
	return nil
}

// startCPUProfile profiles this process into path until stop; no path, no
// profile.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func closedBy(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

var manifestLen int

func readManifest(dir string) ([]loadgen.Image, error) {
	entries, err := faceset.Read(dir)
	if err != nil {
		return nil, err
	}
	manifestLen = len(entries)
	var out []loadgen.Image
	for _, e := range entries {
		switch e.Group {
		case faceset.GroupReal, faceset.GroupSpoof, faceset.GroupEdge:
		default:
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			return nil, err
		}
		out = append(out, loadgen.Image{Name: filepath.Base(e.File), Data: b})
	}
	return out, nil
}

// engineAccepts keeps the images the engine analyses (not the truncated or
// non-image files: they would be dead letters, not scans). It also warms
// the engine up.
func engineAccepts(ctx context.Context, eng *inference.Engine, pool []loadgen.Image) ([]loadgen.Image, error) {
	data := make([][]byte, len(pool))
	for i, im := range pool {
		data[i] = im.Data
	}
	res, err := eng.Analyze(ctx, data)
	if err != nil {
		return nil, err
	}
	var ok []loadgen.Image
	for i, r := range res {
		if r.Err == nil {
			ok = append(ok, pool[i])
		}
	}
	if len(ok) == 0 {
		return nil, errors.New("the engine accepts none of the images")
	}
	return ok, nil
}

func bar(n int, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionThrottle(250*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(os.Stderr) }))
}

// singleLatency is the p50 and p99 of Analyze on one image at a time. The
// p99 says how much of the pipeline's tail the images themselves make (the
// large phone photos), before any queueing or transport.
func singleLatency(ctx context.Context, eng *inference.Engine, sample []loadgen.Image, n int) (p50, p99 time.Duration, err error) {
	b := bar(n, "engine, one image at a time")
	lat := make([]time.Duration, 0, n)
	for i := range n {
		t := time.Now()
		if _, err := eng.Analyze(ctx, [][]byte{sample[i%len(sample)].Data}); err != nil {
			return 0, 0, err
		}
		lat = append(lat, time.Since(t))
		_ = b.Add(1)
	}
	slices.Sort(lat)
	return loadgen.Percentile(lat, 50), loadgen.Percentile(lat, 99), nil
}

// engineThroughput analyses the sample in the processor's batch size,
// inFlight batches at a time, as the processor's analyse stage does: one
// batch after another would leave a core idle at the end of every batch
// (its last image on one worker), a handicap the processor does not have.
func engineThroughput(ctx context.Context, eng *inference.Engine, sample []loadgen.Image, batch, inFlight int) (float64, error) {
	b := bar(len(sample), "engine alone")
	var next atomic.Int64
	errs := make([]error, inFlight)
	var wg sync.WaitGroup
	start := time.Now()
	for k := range inFlight {
		wg.Go(func() {
			for {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= len(sample) {
					return
				}
				chunk := sample[lo:min(lo+batch, len(sample))]
				data := make([][]byte, len(chunk))
				for i, im := range chunk {
					data[i] = im.Data
				}
				if _, err := eng.Analyze(ctx, data); err != nil {
					errs[k] = err
					return
				}
				_ = b.Add(len(chunk))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(len(sample)) / time.Since(start).Seconds(), nil
}

// pipeline is the running services.
type pipeline struct {
	kafka       kafka.Config
	topics      []string
	procs       []*exec.Cmd
	exited      []chan struct{}
	url         string
	token       string
	client      *http.Client
	logDir      string
	binDir      string
	procMetrics string
	stackDir    string
	topicsBy    map[string]string // platform topic name → this run's
}

func startPipeline(ctx context.Context, c settings, warm loadgen.Image) (*pipeline, error) {
	p := &pipeline{kafka: c.Kafka, stackDir: c.StackDir, logDir: filepath.Join(c.StackDir, "bench-pipeline"),
		client: &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	if err := os.MkdirAll(p.logDir, 0o755); err != nil {
		return nil, err
	}
	bin, err := os.MkdirTemp("", "bench-pipeline-bin-")
	if err != nil {
		return nil, err
	}
	p.binDir = bin
	fmt.Fprintln(os.Stderr, "building ingest and processor ...")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin+"/", "./cmd/ingest", "./cmd/processor").CombinedOutput(); err != nil {
		p.close()
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	if err := p.createTopics(ctx); err != nil {
		p.close()
		return nil, err
	}
	if err := p.startServices(ctx, c, warm); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *pipeline) createTopics(ctx context.Context) error {
	suffix := uuid.NewString()[:8]
	names := map[string]string{}
	var specs []kafka.TopicSpec
	for _, s := range kafka.Topics {
		switch s.Name {
		case kafka.TopicCaptures, kafka.TopicResults, kafka.TopicCapturesDLQ:
			names[s.Name] = "bench." + s.Name + "." + suffix
			s.Name = names[s.Name]
			specs = append(specs, s)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	created, err := kafka.EnsureTopics(tctx, p.kafka, specs...)
	p.topics = created
	if err != nil {
		return fmt.Errorf("create bench topics on %v: %w", p.kafka.Brokers, err)
	}
	p.topicsBy = names
	return waitLeaders(tctx, p.kafka, created)
}

// waitLeaders waits until every partition of the new topics has a leader:
// a service started earlier fails on "Not Leader For Partition".
func waitLeaders(ctx context.Context, cfg kafka.Config, topics []string) error {
	cl, err := cfg.Client()
	if err != nil {
		return err
	}
	defer kafka.CloseIdle(cl)
	for {
		err := partitionsReady(ctx, cl, topics)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench topics not ready: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func partitionsReady(ctx context.Context, cl *kafkago.Client, topics []string) error {
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{Topics: topics})
	if err != nil {
		return err
	}
	req := map[string][]kafkago.OffsetRequest{}
	for _, t := range md.Topics {
		if t.Error != nil {
			return t.Error
		}
		for _, p := range t.Partitions {
			req[t.Name] = append(req[t.Name], kafkago.LastOffsetOf(p.ID))
		}
	}
	lo, err := cl.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: req})
	if err != nil {
		return err
	}
	for _, parts := range lo.Topics {
		for _, po := range parts {
			if po.Error != nil {
				return po.Error
			}
		}
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func (p *pipeline) startServices(ctx context.Context, c settings, warm loadgen.Image) error {
	var addrs [3]string
	for i := range addrs {
		a, err := freeAddr()
		if err != nil {
			return err
		}
		addrs[i] = a
	}
	httpAddr, ingestAdmin, procAdmin := addrs[0], addrs[1], addrs[2]
	devKey := filepath.Join(p.logDir, "dev-jwt-key.pem")
	tok, err := auth.MintDevToken(devKey, auth.DevClaims{CompanyID: uuid.MustParse("00000000-0000-4000-8000-0000000be4c0"),
		UserID: "bench-pipeline", Scopes: []string{"write"}})
	if err != nil {
		return err
	}
	p.token = tok
	common := []string{kafka.EnvBrokers + "=" + strings.Join(p.kafka.Brokers, ","), "MODELS_DIR=" + c.ModelsDir,
		"ONNXRUNTIME_LIB=" + c.OrtLib, "LOG_LEVEL=warn"}
	t := p.topicsBy
	procEnv := append(slices.Clone(common),
		"PROCESSOR_GROUP=bench-"+uuid.NewString()[:8], "PROCESSOR_ADMIN_ADDR="+procAdmin,
		"PROCESSOR_BATCH_MAX_ITEMS="+strconv.Itoa(c.BatchItems), processor.EnvInFlight+"="+strconv.Itoa(c.InFlight),
		"PROCESSOR_CAPTURES_TOPIC="+t[kafka.TopicCaptures], "PROCESSOR_RESULTS_TOPIC="+t[kafka.TopicResults],
		"PROCESSOR_DLQ_TOPIC="+t[kafka.TopicCapturesDLQ])
	if err := p.start("processor", append(procEnv, strings.Fields(c.ProcessorEnv)...), "run"); err != nil {
		return err
	}
	if err := p.start("ingest", append(common,
		"INGEST_HTTP_ADDR="+httpAddr, "INGEST_ADMIN_ADDR="+ingestAdmin,
		"INGEST_CAPTURES_TOPIC="+t[kafka.TopicCaptures], "INGEST_RESULTS_TOPIC="+t[kafka.TopicResults],
		"INGEST_DLQ_TOPIC="+t[kafka.TopicCapturesDLQ],
		"AUTH_DEV_MODE=true", auth.EnvDevKeyFile+"="+devKey,
		// The benchmark is one company at full speed: no rate limit, and a
		// wait long enough that every answer is synchronous.
		"INGEST_RATE_PER_COMPANY=1000000", "INGEST_RATE_BURST=1000000", "INGEST_WAIT=120s", "INGEST_MAX_WAIT=120s"), "serve"); err != nil {
		return err
	}
	p.url, p.procMetrics = "http://"+httpAddr, "http://"+procAdmin+"/metrics"
	for i, u := range []string{"http://" + procAdmin + "/healthz", "http://" + ingestAdmin + "/healthz"} {
		if err := waitOK(ctx, u, p.exited[i], 2*time.Minute); err != nil {
			return fmt.Errorf("%w (logs in %s)", err, p.logDir)
		}
	}
	if err := waitTCP(ctx, httpAddr, 30*time.Second); err != nil {
		return err
	}
	// Warm-up: the group join and the first batches are not measured.
	fmt.Fprintln(os.Stderr, "warming up the pipeline ...")
	rep, err := loadgen.Run(ctx, p.loadOptions(1, 4, 0), []loadgen.Image{warm}, nil)
	if err != nil {
		return err
	}
	if rep.OK() != 4 {
		return fmt.Errorf("warm-up captures: %v (logs in %s)", rep.ByResult, p.logDir)
	}
	return nil
}

func (p *pipeline) start(name string, env []string, args ...string) error {
	logf, err := os.Create(filepath.Join(p.logDir, name+".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(p.binDir, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	p.procs = append(p.procs, cmd)
	p.exited = append(p.exited, exited)
	return nil
}

func (p *pipeline) close() {
	for _, cmd := range slices.Backward(p.procs) {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(30 * time.Second)
	for i, cmd := range p.procs {
		select {
		case <-p.exited[i]:
		case <-time.After(time.Until(deadline)):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited[i]
		}
	}
	if len(p.topics) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if cl, err := p.kafka.Client(); err == nil {
			_, _ = cl.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: p.topics})
			kafka.CloseIdle(cl)
		}
	}
	if p.binDir != "" {
		os.RemoveAll(p.binDir)
	}
}

// loadOptions are the load generator's settings against the pipeline: a
// wait long enough that every answer is synchronous (ingest runs with
// INGEST_MAX_WAIT=120s), on the pipeline's client (its idle connections
// kept for the whole run).
func (p *pipeline) loadOptions(concurrency, count int, rate float64) loadgen.Options {
	return loadgen.Options{URL: p.url, Token: p.token, Channel: "WEB", RefPrefix: "bench-",
		Concurrency: concurrency, Count: count, Rate: rate, Wait: 120, Client: p.client}
}

// send runs the load generator with a progress bar.
func (p *pipeline) send(ctx context.Context, what string, sample []loadgen.Image, o loadgen.Options) (*loadgen.Report, error) {
	b := bar(o.Count, what)
	return loadgen.Run(ctx, o, sample, func(loadgen.Outcome) { _ = b.Add(1) })
}

// load is what a run measured: 200s only in the latencies.
type load struct {
	rate, meanBatch float64
	p50, p99        time.Duration
	ok, failed      int                // 200s and the other answers (or none)
	lag             time.Duration      // paced run: the latest start behind its due time
	cpu             []cpuUse           // CPU seconds per component over the run
	closed          map[string]float64 // batches by why they closed
}

// cpuUse is what a component spent during a run (procUse).
type cpuUse struct {
	name string
	use  procUse
}

// cpuTimes reads the CPU seconds of each service, the Kafka broker of the
// local stack (when its pid file is there) and this process (the load
// generator), so the report can say where the pipeline's CPU goes.
func (p *pipeline) cpuTimes() []cpuUse {
	out := []cpuUse{{"ingest", procStat(p.procs[1].Process.Pid)}, {"processor", procStat(p.procs[0].Process.Pid)}}
	if b, err := os.ReadFile(filepath.Join(p.stackDir, "run", "kafka.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			out = append(out, cpuUse{"kafka broker (all its clients)", procStat(pid)})
		}
	}
	return append(out, cpuUse{"load generator", procStat(os.Getpid())})
}

// procUse is what a process has spent so far, from /proc/PID/stat: CPU
// seconds in user and kernel mode (clock ticks of 1/100 s, Linux's
// USER_HZ) and minor page faults. Faults show the kernel's share apart:
// each first touch of memory the Go runtime gave back to the OS (its
// scavenger) costs one, with the page zeroed in kernel mode. Zero when it
// cannot be read.
type procUse struct{ user, sys, faults float64 }

func (u procUse) seconds() float64 { return u.user + u.sys }

func (u procUse) minus(v procUse) procUse {
	return procUse{u.user - v.user, u.sys - v.sys, u.faults - v.faults}
}

// perCapture formats u spread over n captures.
func (u procUse) perCapture(n int) string {
	f := float64(n)
	return fmt.Sprintf("%.1f ms/capture (sys %.1f, %.0f faults)", 1000*u.seconds()/f, 1000*u.sys/f, u.faults/f)
}

func procStat(pid int) procUse {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procUse{}
	}
	// The command name may hold spaces: fields count from its closing ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procUse{}
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procUse{}
	}
	mf, _ := strconv.ParseFloat(f[7], 64)
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return procUse{user: ut / 100, sys: st / 100, faults: mf}
}

func cpuDelta(before, after []cpuUse) []cpuUse {
	out := make([]cpuUse, len(after))
	for i := range after {
		out[i] = cpuUse{after[i].name, after[i].use.minus(before[i].use)}
	}
	return out
}

func summarise(r *loadgen.Report) load {
	return load{rate: r.Throughput(), p50: r.Percentile(50), p99: r.Percentile(99), ok: r.OK(),
		failed: r.Sent - r.OK(), lag: r.MaxLag}
}

// maxLoad keeps `concurrency` requests in flight until the sample is sent
// (closed loop).
func (p *pipeline) maxLoad(ctx context.Context, sample []loadgen.Image, concurrency int) (load, error) {
	before, reasonsBefore, err := p.batchSizes(ctx)
	if err != nil {
		return load{}, err
	}
	cpuBefore := p.cpuTimes()
	rep, err := p.send(ctx, "pipeline, max load", sample, p.loadOptions(concurrency, len(sample), 0))
	if err != nil {
		return load{}, err
	}
	after, reasonsAfter, err := p.batchSizes(ctx)
	if err != nil {
		return load{}, err
	}
	l := summarise(rep)
	l.cpu = cpuDelta(cpuBefore, p.cpuTimes())
	l.closed = map[string]float64{}
	for r, n := range reasonsAfter {
		l.closed[r] = n - reasonsBefore[r]
	}
	if n := after[1] - before[1]; n > 0 {
		l.meanBatch = (after[0] - before[0]) / n
	}
	return l, nil
}

// rateLoad sends n captures at a constant rate (open loop: a slow answer
// does not slow the arrivals; the bound of n in flight never holds one back).
func (p *pipeline) rateLoad(ctx context.Context, sample []loadgen.Image, n int, rate float64) (load, error) {
	if rate <= 0 {
		return load{}, errors.New("no throughput measured at max load")
	}
	rep, err := p.send(ctx, fmt.Sprintf("pipeline, half load (%.2f/s)", rate), sample, p.loadOptions(n, n, rate))
	if err != nil {
		return load{}, err
	}
	return summarise(rep), nil
}

// batchSizes reads processor_batch_size's sum and count, and the batches
// by the reason they closed (processor_batches_total).
func (p *pipeline) batchSizes(ctx context.Context) ([2]float64, map[string]float64, error) {
	var out [2]float64
	reasons := map[string]float64{}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.procMetrics, nil)
	resp, err := p.client.Do(req)
	if err != nil {
		return out, nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	found := 0
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `processor_batches_total{reason="`); ok {
			if reason, n, ok := strings.Cut(v, `"} `); ok {
				reasons[reason], _ = strconv.ParseFloat(n, 64)
			}
		}
		for i, name := range []string{"processor_batch_size_sum ", "processor_batch_size_count "} {
			if v, ok := strings.CutPrefix(sc.Text(), name); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return out, nil, err
				}
				out[i] = f
				found++
			}
		}
	}
	if found != 2 {
		return out, nil, errors.New("processor_batch_size not in the processor's metrics")
	}
	return out, reasons, sc.Err()
}

func waitOK(ctx context.Context, url string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("the service of %s exited", url)
		default:
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func waitTCP(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not listening: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
