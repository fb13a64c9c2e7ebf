package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"liveness/internal/auth"
	"liveness/internal/cli"
	"liveness/internal/config"
)

func init() {
	commands["token"] = cli.Command{Summary: "print a short-lived dev token signed by the local dev key", Run: token}
}

// devCompany is the company of `make token` when none is given, so that a
// local run and its curl command agree without any setup.
const devCompany = "00000000-0000-4000-8000-000000000001"

// tokenConfig is every setting of query token.
type tokenConfig struct {
	company, user, scopes, keyFile string
	ttl                            time.Duration
}

func (c *tokenConfig) register(s *config.Set) {
	s.String(&c.company, "TOKEN_COMPANY", devCompany, "company id (UUID) of the token")
	s.String(&c.user, "TOKEN_USER", "dev-user", "user id (sub) of the token")
	s.String(&c.scopes, "TOKEN_SCOPES", "read write", "space-separated scopes")
	s.Duration(&c.ttl, "TOKEN_TTL", auth.DefaultDevTTL, "lifetime of the token")
	s.String(&c.keyFile, auth.EnvDevKeyFile, auth.DefaultDevKeyFile, "PEM file of the local dev signing key (created on first use)")
	fs := s.FlagSet()
	fs.StringVar(&c.company, "company", c.company, "shorthand for --token-company")
	fs.StringVar(&c.user, "user", c.user, "shorthand for --token-user")
	fs.StringVar(&c.scopes, "scopes", c.scopes, "shorthand for --token-scopes")
}

func token(_ context.Context, args []string) error {
	var c tokenConfig
	s := config.New("token")
	c.register(s)
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	company, user, scopes, keyFile, ttl := c.company, c.user, c.scopes, c.keyFile, c.ttl
	id, err := uuid.Parse(company)
	if err != nil {
		return fmt.Errorf("%w: company %q is not a UUID", cli.ErrUsage, company)
	}
	tok, err := auth.MintDevToken(keyFile, auth.DevClaims{CompanyID: id, UserID: user, Scopes: strings.Fields(scopes), TTL: ttl})
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
