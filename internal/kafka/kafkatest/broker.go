// Package kafkatest starts short-lived, single-node KRaft brokers for tests,
// from the jars scripts/kafka.sh installs ($STACK_DIR/kafka/libs), with the
// project's broker template (scripts/kafka/server.properties.tmpl).
//
// A test that needs its own broker (TLS and SASL listeners, or a broker it
// may kill and restart) uses this; tests that only need a broker use the
// local stack. It does not import liveness/internal/kafka, so that package's
// own tests can use it. A broker that cannot start fails the test: never a skip.
package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// StartTimeout bounds a broker's start (the JVM is slow on a busy machine).
const StartTimeout = 120 * time.Second

// Broker is one running (or stopped) test broker. Its ports and data
// folder stay the same across Kill and Restart, so clients configured with
// Addr reconnect to the same cluster.
type Broker struct {
	Addr           string // PLAINTEXT listener, 127.0.0.1:port
	Port           int
	ControllerPort int
	Dir            string // config, data and log

	t       testing.TB
	root    string
	libs    string
	conf    string
	logFile string
	cmd     *exec.Cmd
	exited  chan error
}

type options struct {
	port, controllerPort int
	properties           string
	formatArgs           []string
}

// Option adjusts Start.
type Option func(*options)

// WithPorts fixes the PLAINTEXT and controller ports (default: free ones).
func WithPorts(broker, controller int) Option {
	return func(o *options) { o.port, o.controllerPort = broker, controller }
}

// WithProperties appends lines to server.properties; later keys win in Java
// properties, so these override the template's.
func WithProperties(lines string) Option {
	return func(o *options) { o.properties += "\n" + lines + "\n" }
}

// WithFormatArgs adds arguments to the storage format step (e.g. --add-scram,
// since SCRAM credentials live in the cluster metadata).
func WithFormatArgs(args ...string) Option {
	return func(o *options) { o.formatArgs = append(o.formatArgs, args...) }
}

// Start formats a fresh data folder, starts the broker and waits until it
// answers a metadata request. The broker is stopped when the test ends.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.port == 0 {
		p := FreePorts(t, 2)
		o.port, o.controllerPort = p[0], p[1]
	}
	root := RepoRoot(t)
	b := &Broker{
		Addr: fmt.Sprintf("127.0.0.1:%d", o.port), Port: o.port, ControllerPort: o.controllerPort,
		Dir: t.TempDir(), t: t, root: root, libs: libsDir(t, root),
	}
	b.conf = filepath.Join(b.Dir, "server.properties")
	b.logFile = filepath.Join(b.Dir, "broker.log")
	b.writeConfig(t, o.properties)
	args := append([]string{"kafka.tools.StorageTool", "format", "-t", ClusterID(), "-c", b.conf}, o.formatArgs...)
	if out, err := b.java(args...).CombinedOutput(); err != nil {
		t.Fatalf("format broker storage: %v\n%s", err, Tail(string(out), 2000))
	}
	t.Cleanup(b.stop)
	b.Restart(t)
	return b
}

// Restart starts the broker again on the same ports and data folder (after
// Kill, or the first time from Start) and waits until it answers.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	if b.cmd != nil {
		t.Fatal("kafkatest: Restart of a running broker")
	}
	logf, err := os.OpenFile(b.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := b.java("kafka.Kafka", b.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // own group: stopped by PID with its children
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	b.cmd, b.exited = cmd, exited

	deadline := time.Now().Add(StartTimeout)
	for {
		err := Ping(b.Addr, 3*time.Second)
		if err == nil {
			break
		}
		select {
		case werr := <-exited:
			b.cmd = nil
			t.Fatalf("test broker exited (%v):\n%s", werr, b.LogTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("test broker did not answer in %s: %v\n%s", StartTimeout, err, b.LogTail())
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("test broker up on %s (pid %d)", b.Addr, cmd.Process.Pid)
}

// Kill stops the broker with SIGKILL, as a crash or a lost node would: no
// controlled shutdown, connections reset. Restart brings it back.
func (b *Broker) Kill(t testing.TB) {
	t.Helper()
	if b.cmd == nil {
		t.Fatal("kafkatest: Kill of a stopped broker")
	}
	_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.exited
	b.cmd = nil
}

// stop ends the broker at cleanup: SIGTERM, then SIGKILL after 30 s.
func (b *Broker) stop() {
	if b.cmd == nil {
		return
	}
	pid := b.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		b.t.Logf("test broker %d ignored SIGTERM; killing", pid)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-b.exited
	}
	b.cmd = nil
}

// LogTail is the broker log's ERROR and FATAL lines and its end, for
// failure messages (a shutdown's INFO lines bury the cause otherwise).
func (b *Broker) LogTail() string {
	data, _ := os.ReadFile(b.logFile)
	var errs []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "] ERROR ") || strings.Contains(line, "] FATAL ") {
			errs = append(errs, line)
		}
	}
	return "errors:\n" + Tail(strings.Join(errs, "\n"), 4000) + "\nend:\n" + Tail(string(data), 2000)
}

func (b *Broker) java(args ...string) *exec.Cmd {
	return exec.Command("java", append([]string{"-Xms256m", "-Xmx256m",
		"-Dlog4j.configuration=file:" + filepath.Join(b.root, "scripts/kafka/log4j.properties"),
		"-cp", filepath.Join(b.libs, "*")}, args...)...)
}

func (b *Broker) writeConfig(t testing.TB, extra string) {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join(b.root, "scripts/kafka/server.properties.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("@BROKER_PORT@", fmt.Sprint(b.Port), "@CONTROLLER_PORT@", fmt.Sprint(b.ControllerPort),
		"@DATA_DIR@", filepath.Join(b.Dir, "data")).Replace(string(tmpl))
	if err := os.WriteFile(b.conf, []byte(s+extra), 0o600); err != nil {
		t.Fatal(err)
	}
}

func libsDir(t testing.TB, root string) string {
	t.Helper()
	stack := os.Getenv("STACK_DIR")
	if stack == "" {
		stack = filepath.Join(root, ".stack")
	}
	libs := filepath.Join(stack, "kafka", "libs")
	if jars, _ := filepath.Glob(filepath.Join(libs, "kafka_2.13-*.jar")); len(jars) == 0 {
		t.Fatalf("no Kafka jars in %s: run scripts/kafka.sh install", libs)
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Fatalf("java not found: %v", err)
	}
	return libs
}

// Ping is one metadata round trip to addr, without TLS or SASL.
func Ping(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tr := &kafkago.Transport{DialTimeout: timeout}
	defer tr.CloseIdleConnections()
	cl := &kafkago.Client{Addr: kafkago.TCP(addr), Transport: tr}
	md, err := cl.Metadata(ctx, &kafkago.MetadataRequest{})
	if err != nil {
		return err
	}
	if len(md.Brokers) == 0 {
		return errors.New("kafkatest: no broker in metadata")
	}
	return nil
}

// RepoRoot is the folder of go.mod above the working directory (a test runs
// in its package's folder).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("kafkatest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// FreePorts reserves n loopback ports by listening on :0, then releases them
// for the caller. A race with another process is possible but unlikely.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// ClusterID is a random Kafka Uuid: 16 bytes, base64url without padding.
func ClusterID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	// Top bit clear: the id cannot start with '-', which the storage tool's
	// command line would take for an option (Kafka's own generator avoids it too).
	b[0] &= 0x7f
	return base64.RawURLEncoding.EncodeToString(b)
}

// Tail is the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
