// Package config binds settings to environment variables and command-line
// flags in one declaration: every setting has an env name (KAFKA_BROKERS), a
// flag derived from it (--kafka-brokers) and a default that runs locally.
// Precedence: flag, then environment, then default.
//
// Each command declares its settings on a Set; Set.Vars lists them, which is
// what the README's configuration table is checked against.
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Var describes one setting.
type Var struct {
	Env     string
	Flag    string
	Default string
	Usage   string
}

// Set is a group of settings parsed together, one per command.
type Set struct {
	fs   *flag.FlagSet
	vars []Var
	errs []error
}

// New starts an empty set for the named command.
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Set{fs: fs}
}

// FlagName turns an env name into its flag: KAFKA_BROKERS → kafka-brokers.
func FlagName(env string) string { return strings.ToLower(strings.ReplaceAll(env, "_", "-")) }

// value is what every setting's type provides: flag.Value plus parsing from a
// string, so the env value and the flag go through the same parser.
func (s *Set) bind(v flag.Value, env, def, usage string) {
	name := FlagName(env)
	if err := v.Set(def); err != nil {
		panic(fmt.Sprintf("config: default of %s: %v", env, err)) // a programming error
	}
	if raw, ok := os.LookupEnv(env); ok {
		if err := v.Set(raw); err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s=%q: %w", env, raw, err))
		}
	}
	s.fs.Var(v, name, fmt.Sprintf("%s (env %s)", usage, env))
	s.vars = append(s.vars, Var{Env: env, Flag: "--" + name, Default: def, Usage: usage})
}

// String declares a string setting.
func (s *Set) String(p *string, env, def, usage string) { s.bind((*stringValue)(p), env, def, usage) }

// Int declares an integer setting.
func (s *Set) Int(p *int, env string, def int, usage string) {
	s.bind((*intValue)(p), env, strconv.Itoa(def), usage)
}

// Int64 declares a 64-bit integer setting.
func (s *Set) Int64(p *int64, env string, def int64, usage string) {
	s.bind((*int64Value)(p), env, strconv.FormatInt(def, 10), usage)
}

// Float declares a floating-point setting.
func (s *Set) Float(p *float64, env string, def float64, usage string) {
	s.bind((*floatValue)(p), env, strconv.FormatFloat(def, 'g', -1, 64), usage)
}

// Bool declares a boolean setting.
func (s *Set) Bool(p *bool, env string, def bool, usage string) {
	s.bind((*boolValue)(p), env, strconv.FormatBool(def), usage)
}

// Duration declares a duration setting ("250ms", "5s").
func (s *Set) Duration(p *time.Duration, env string, def time.Duration, usage string) {
	s.bind((*durationValue)(p), env, def.String(), usage)
}

// List declares a comma-separated list setting.
func (s *Set) List(p *[]string, env, def, usage string) { s.bind((*listValue)(p), env, def, usage) }

// Parse applies the command line over the environment. It reports every bad
// environment value at once, naming each variable.
func (s *Set) Parse(args []string) error {
	if err := errors.Join(s.errs...); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	return s.fs.Parse(args)
}

// Args are the positional arguments left after Parse.
func (s *Set) Args() []string { return s.fs.Args() }

// FlagSet exposes the underlying flags, for commands with extra local flags.
func (s *Set) FlagSet() *flag.FlagSet { return s.fs }

// Vars lists the declared settings in declaration order.
func (s *Set) Vars() []Var { return append([]Var(nil), s.vars...) }

type stringValue string

func (v *stringValue) Set(s string) error { *v = stringValue(s); return nil }
func (v *stringValue) String() string     { return string(*v) }

type intValue int

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	*v = intValue(n)
	return err
}
func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

type int64Value int64

func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	*v = int64Value(n)
	return err
}
func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }

type floatValue float64

func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	*v = floatValue(f)
	return err
}
func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }

type boolValue bool

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	*v = boolValue(b)
	return err
}
func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }

type durationValue time.Duration

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	*v = durationValue(d)
	return err
}
func (v *durationValue) String() string { return time.Duration(*v).String() }

type listValue []string

func (v *listValue) Set(s string) error {
	*v = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*v = append(*v, part)
		}
	}
	return nil
}
func (v *listValue) String() string { return strings.Join(*v, ",") }
