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

func token(_ context.Context, args []string) error {
	var company, user, scopes, keyFile string
	var ttl time.Duration
	s := config.New("token")
	s.String(&company, "TOKEN_COMPANY", devCompany, "company id (UUID) of the token")
	s.String(&user, "TOKEN_USER", "dev-user", "user id (sub) of the token")
	s.String(&scopes, "TOKEN_SCOPES", "read write", "space-separated scopes")
	s.Duration(&ttl, "TOKEN_TTL", auth.DefaultDevTTL, "lifetime of the token")
	s.String(&keyFile, auth.EnvDevKeyFile, auth.DefaultDevKeyFile, "PEM file of the local dev signing key (created on first use)")
	fs := s.FlagSet()
	fs.StringVar(&company, "company", company, "shorthand for --token-company")
	fs.StringVar(&user, "user", user, "shorthand for --token-user")
	fs.StringVar(&scopes, "scopes", scopes, "shorthand for --token-scopes")
	if err := s.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
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
