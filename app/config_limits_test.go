package app_test

import (
	"beerlocker/app"
	"beerlocker/limits"
	"io"
	"strings"
	"testing"
)

// TestConfigLimits: the RATE_LIMIT_* settings are read from the
// environment and flags, and a bad one is a one-line error naming it.
func TestConfigLimits(t *testing.T) {
	env := map[string]string{
		"RATE_LIMIT_ADDRESS_BURST": "50", "RATE_LIMIT_ADDRESS_PER_MINUTE": "30",
		"RATE_LIMIT_ACCOUNT_BURST": "5", "RATE_LIMIT_ACCOUNT_PER_MINUTE": "2.5", "RATE_LIMIT_MAX_KEYS": "20000",
		"RATE_LIMIT_REGISTER_BURST": "3", "RATE_LIMIT_REGISTER_PER_MINUTE": "0.5",
	}
	cfg, err := app.ParseConfig([]string{"-rate-limit-account-burst", "7"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := limits.Limits{Address: limits.Rate{Burst: 50, PerMinute: 30},
		Account: limits.Rate{Burst: 7, PerMinute: 2.5}, Register: limits.Rate{Burst: 3, PerMinute: 0.5}, MaxKeys: 20000}
	if cfg.Limits != want {
		t.Errorf("Limits = %+v, want %+v", cfg.Limits, want)
	}

	for _, tc := range []struct{ key, value string }{
		{"RATE_LIMIT_ADDRESS_BURST", "0"},
		{"RATE_LIMIT_ADDRESS_BURST", "ten"},
		{"RATE_LIMIT_ADDRESS_PER_MINUTE", "0"},
		{"RATE_LIMIT_ADDRESS_PER_MINUTE", "NaN"},
		{"RATE_LIMIT_ACCOUNT_BURST", "100000"},
		{"RATE_LIMIT_ACCOUNT_PER_MINUTE", "-1"},
		{"RATE_LIMIT_ACCOUNT_PER_MINUTE", "1/min"},
		{"RATE_LIMIT_MAX_KEYS", "10"},
		{"RATE_LIMIT_REGISTER_BURST", "0"},
		{"RATE_LIMIT_REGISTER_BURST", "many"},
		{"RATE_LIMIT_REGISTER_PER_MINUTE", "0.01"}, // one every 100 minutes: over 10 minutes' Retry-After
		{"RATE_LIMIT_REGISTER_PER_MINUTE", "Inf"},
		// Two bursts must refill within 10 minutes (API.md §8).
		{"RATE_LIMIT_ADDRESS_BURST", "200"},
		{"RATE_LIMIT_ADDRESS_PER_MINUTE", "1"},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			_, err := app.ParseConfig(nil, func(k string) string {
				if k == tc.key {
					return tc.value
				}
				return ""
			}, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.key) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %v, want one line naming %s", err, tc.key)
			}
		})
	}
}

// TestConfigTrustedProxies: TRUSTED_PROXIES (or -trusted-proxies) is a
// comma-separated list of CIDRs, or addresses standing for themselves,
// with host bits cleared; empty trusts none; anything else is a one-line
// error naming the setting.
func TestConfigTrustedProxies(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"", nil},
		{"10.213.0.0/24", []string{"10.213.0.0/24"}},
		{" 10.0.0.0/8 , 192.0.2.7,2001:db8::/32 ", []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}},
		{"172.18.0.5/16", []string{"172.18.0.0/16"}},
		{"::1", []string{"::1/128"}},
	} {
		cfg, err := app.ParseConfig(nil, func(k string) string {
			if k == "TRUSTED_PROXIES" {
				return tc.value
			}
			return ""
		}, io.Discard)
		if err != nil {
			t.Errorf("TRUSTED_PROXIES=%q: %v", tc.value, err)
			continue
		}
		got, _ := cfg.Proxies()
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if strings.Join(s, " ") != strings.Join(tc.want, " ") {
			t.Errorf("TRUSTED_PROXIES=%q: %q, want %q", tc.value, s, tc.want)
		}
	}
	cfg, err := app.ParseConfig([]string{"-trusted-proxies", "10.1.0.0/16"}, func(k string) string {
		if k == "TRUSTED_PROXIES" {
			return "10.2.0.0/16"
		}
		return ""
	}, io.Discard)
	if err != nil || cfg.TrustedProxies != "10.1.0.0/16" {
		t.Errorf("flag over env: %q, %v; want the flag's 10.1.0.0/16", cfg.TrustedProxies, err)
	}
	for _, bad := range []string{"caddy", "10.0.0.0/33", "10.0.0.0/8;192.0.2.1", "fe80::1%eth0", "300.1.1.1"} {
		_, err := app.ParseConfig(nil, func(k string) string {
			if k == "TRUSTED_PROXIES" {
				return bad
			}
			return ""
		}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "TRUSTED_PROXIES") || strings.Contains(err.Error(), "\n") {
			t.Errorf("TRUSTED_PROXIES=%q: error = %v, want one line naming TRUSTED_PROXIES", bad, err)
		}
	}
}
