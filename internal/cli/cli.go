// Package cli runs a binary made of subcommands (`query migrate`, `query
// serve`, `processor scan`...): it picks the subcommand, gives it a context
// cancelled on SIGTERM/SIGINT, and turns its error into an exit status.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"liveness/internal/service"
)

// Command is one subcommand. Run gets the arguments after its name.
type Command struct {
	Summary string
	Run     func(ctx context.Context, args []string) error
}

// ErrUsage marks a usage error: the message is printed without a stack of
// context and the exit status is 2.
var ErrUsage = errors.New("usage")

// Main dispatches os.Args to cmds and exits.
func Main(binary string, cmds map[string]Command) {
	os.Exit(run(binary, cmds, os.Args[1:], os.Stderr))
}

func run(binary string, cmds map[string]Command, args []string, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(binary, cmds, stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown command %q\n\n", binary, args[0])
		usage(binary, cmds, stderr)
		return 2
	}
	ctx, stop := service.SignalContext(context.Background())
	defer stop()
	if err := cmd.Run(ctx, args[1:]); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", binary, args[0], err)
		if errors.Is(err, ErrUsage) {
			return 2
		}
		return 1
	}
	return 0
}

func usage(binary string, cmds map[string]Command, w io.Writer) {
	fmt.Fprintf(w, "usage: %s COMMAND [flags] [args]\n\ncommands:\n", binary)
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].Summary)
	}
	fmt.Fprintf(w, "\n'%s COMMAND --help' lists a command's flags and their environment variables.\n", binary)
}
