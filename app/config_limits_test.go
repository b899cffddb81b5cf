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
