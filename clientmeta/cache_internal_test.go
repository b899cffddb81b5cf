package clientmeta

import (
	"net/http"
	"testing"
	"time"
)

func TestCacheTTL(t *testing.T) {
	tests := []struct {
		cacheControl []string
		want         time.Duration
	}{
		{nil, minTTL},
		{[]string{"max-age=600"}, 10 * time.Minute},
		{[]string{"public, max-age=600"}, 10 * time.Minute},
		{[]string{"Max-Age=600"}, 10 * time.Minute},
		{[]string{`max-age="600"`}, 10 * time.Minute},
		{[]string{"max-age=0"}, minTTL},
		{[]string{"max-age=1"}, minTTL},
		{[]string{"max-age=86400"}, maxTTL},
		{[]string{"max-age=999999"}, maxTTL},
		{[]string{"max-age=99999999999999999999999"}, maxTTL},
		{[]string{"max-age=-1"}, minTTL},
		{[]string{"max-age=1h"}, minTTL},
		{[]string{"max-age="}, minTTL},
		{[]string{"max-age=600, max-age=700"}, minTTL},
		{[]string{"max-age=600", "max-age=700"}, minTTL},
		{[]string{"max-age=3600, no-cache"}, minTTL},
		{[]string{"private", "no-store"}, minTTL},
		{[]string{"s-maxage=3600"}, minTTL},
	}
	for _, tc := range tests {
		h := http.Header{"Cache-Control": tc.cacheControl}
		if got := cacheTTL(h); got != tc.want {
			t.Errorf("cacheTTL(%q) = %v, want %v", tc.cacheControl, got, tc.want)
		}
	}
}

func TestCacheEvictsOldest(t *testing.T) {
	c := newCache(2)
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	fetches := 0
	fetch := func() (*Document, time.Duration, *Error) {
		fetches++
		return &Document{}, time.Hour, nil
	}
	for _, url := range []string{"a", "b", "c", "b", "a"} {
		<-c.join(url, now, fetch).done
	}
	// a, b, c fetched; c evicted a; b still cached; a fetched again,
	// evicting b.
	if fetches != 4 {
		t.Errorf("fetches = %d, want 4", fetches)
	}
	if got := c.order.Len(); got != 2 {
		t.Errorf("entries = %d, want 2", got)
	}
	if _, ok := c.entries["b"]; ok {
		t.Error(`"b" is cached, want it evicted as the oldest`)
	}
}
