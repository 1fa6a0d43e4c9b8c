package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/headroom-sre/headroom/store"
)

// tokenCmd is `headroom token create|list --db …`: API tokens, made
// straight in the store (for the first one, or scripts).
func tokenCmd(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: headroom token create --db headroom.db --role viewer|operator|admin|agent [--name NAME]")
		fmt.Fprintln(stderr, "       headroom token list --db headroom.db")
	}
	if len(args) == 0 {
		usage()
		return exitUsage
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usage
	dsn := fs.String("db", "headroom.db", "the store: a SQLite file or a postgres:// URL")
	role := fs.String("role", "", "create: viewer (read), operator (start and cancel load), admin (tokens, schedules) or agent (a load agent: the agent protocol only)")
	name := fs.String("name", "", "create: what the token is for (default: the role)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	ctx := context.Background()
	switch args[0] {
	case "create":
		r := store.Role(*role)
		if !r.Valid() {
			fmt.Fprintf(stderr, "headroom token create: --role %q: want viewer, operator, admin or agent\n", *role)
			return exitUsage
		}
		n := strings.TrimSpace(*name)
		if n == "" {
			n = *role
		}
		st, err := store.Open(ctx, *dsn, store.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "headroom token create: %v\n", err)
			return exitFailed
		}
		defer st.Close()
		plain, _, err := st.CreateToken(ctx, n, r)
		if err != nil {
			fmt.Fprintf(stderr, "headroom token create: %v\n", err)
			return exitFailed
		}
		fmt.Fprintln(stdout, plain)
		return exitOK
	case "list":
		st, err := store.Open(ctx, *dsn, store.Options{})
		if err != nil {
			fmt.Fprintf(stderr, "headroom token list: %v\n", err)
			return exitFailed
		}
		defer st.Close()
		ts, err := st.ListTokens(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "headroom token list: %v\n", err)
			return exitFailed
		}
		for _, t := range ts {
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\n", t.ID, t.Role, t.Name, t.Created.Format("2006-01-02T15:04:05Z07:00"))
		}
		return exitOK
	}
	fmt.Fprintf(stderr, "headroom token: unknown subcommand %q\n", args[0])
	usage()
	return exitUsage
}
