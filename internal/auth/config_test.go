package auth_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"liveness/internal/auth"
	"liveness/internal/config"
)

func TestRegisterEnvThenFlags(t *testing.T) {
	t.Setenv(auth.EnvIssuer, "https://idp.example/realms/liveness")
	t.Setenv(auth.EnvAlgorithms, "ES256, PS256")
	t.Setenv(auth.EnvClockSkew, "10s")
	t.Setenv(auth.EnvDevMode, "true")
	var cfg auth.Config
	s := config.New("t")
	cfg.Register(s)
	if err := s.Parse([]string{"-auth-audience", "api", "-auth-dev-mode=false"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "https://idp.example/realms/liveness" || cfg.Audience != "api" || cfg.ClockSkew != 10*time.Second {
		t.Errorf("cfg = %+v", cfg)
	}
	if !slices.Equal(cfg.Algorithms, []string{"ES256", "PS256"}) {
		t.Errorf("algorithms = %q", cfg.Algorithms)
	}
	if cfg.DevMode {
		t.Error("flag -auth-dev-mode=false did not win over the environment")
	}
	if cfg.CompanyClaim != "company_id" || cfg.ReadScope != "read" || cfg.WriteScope != "write" || cfg.DevKeyFile != ".stack/dev-jwt-key.pem" {
		t.Errorf("defaults lost: %+v", cfg)
	}
	if err := cfg.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestRegisterBadEnv(t *testing.T) {
	t.Setenv(auth.EnvClockSkew, "soon")
	var cfg auth.Config
	s := config.New("t")
	cfg.Register(s)
	if err := s.Parse(nil); err == nil || !strings.Contains(err.Error(), auth.EnvClockSkew) {
		t.Fatalf("err = %v, want one naming %s", err, auth.EnvClockSkew)
	}
}

func TestCheck(t *testing.T) {
	base := auth.DefaultConfig()
	base.Issuer = "https://idp.example"
	for name, mut := range map[string]func(*auth.Config){
		"no issuer":     func(c *auth.Config) { c.Issuer = "" },
		"alg none":      func(c *auth.Config) { c.Algorithms = []string{"none"} },
		"alg HS256":     func(c *auth.Config) { c.Algorithms = []string{"ES256", "HS256"} },
		"no algorithms": func(c *auth.Config) { c.Algorithms = nil },
		"no company":    func(c *auth.Config) { c.CompanyClaim = "" },
		"huge skew":     func(c *auth.Config) { c.ClockSkew = time.Hour },
	} {
		c := base
		mut(&c)
		if err := c.Check(); !errors.Is(err, auth.ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	dev := auth.DefaultConfig()
	dev.DevMode = true
	if err := dev.Check(); err != nil {
		t.Errorf("dev mode without issuer: %v", err)
	}
}
