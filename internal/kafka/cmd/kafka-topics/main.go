// Command kafka-topics creates the project's topics (internal/kafka.Topics)
// and checks broker readiness; scripts/kafka.sh runs it, so the topic specs
// live in one place, in Go.
//
//	kafka-topics [flags] ensure   create missing topics, leave existing ones alone
//	kafka-topics [flags] ping     one metadata round trip; exit 1 when it fails
//	kafka-topics [flags] list     print the specs
//
// Connection settings come from the KAFKA_* variables or their flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"liveness/internal/config"
	"liveness/internal/kafka"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log, os.Args[1:]); err != nil {
		log.Error("kafka-topics failed", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, args []string) error {
	var cfg kafka.Config
	set := config.New("kafka-topics")
	cfg.Bind(set)
	timeout := set.FlagSet().Duration("timeout", 30*time.Second, "deadline for the whole command")
	if err := set.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	switch cmd := set.FlagSet().Arg(0); cmd {
	case "ensure":
		created, err := kafka.EnsureTopics(ctx, cfg, kafka.Topics...)
		for _, name := range created {
			log.Info("topic created", "topic", name)
		}
		if err == nil {
			log.Info("topics ready", "count", len(kafka.Topics), "created", len(created))
		}
		return err
	case "ping":
		n, err := kafka.Ping(ctx, cfg)
		if err == nil {
			log.Info("kafka answers", "brokers", strings.Join(cfg.Brokers, ","), "cluster_brokers", n)
		}
		return err
	case "list":
		for _, t := range kafka.Topics {
			keys := make([]string, 0, len(t.Configs))
			for k, v := range t.Configs {
				keys = append(keys, k+"="+v)
			}
			sort.Strings(keys)
			fmt.Printf("%s\tpartitions=%d\t%s\n", t.Name, t.Partitions, strings.Join(keys, " "))
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q: want ensure, ping or list", cmd)
	}
}
