package middleware

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// slogLine is the line slog's JSON handler writes for the same record.
func slogLine(t time.Time, method, route string, status int, d time.Duration, requestID, remote string) []byte {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, nil)
	r := slog.NewRecord(t, slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", method), slog.String("route", route), slog.Int("status", status),
		slog.Duration("duration", d), slog.String("request_id", requestID), slog.String("remote", remote))
	if err := h.Handle(nil, r); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// FuzzAccessLineIsSlogs: whatever the strings, the access line is
// byte for byte the line slog's JSON handler writes, and valid JSON.
func FuzzAccessLineIsSlogs(f *testing.F) {
	for _, s := range []string{"GET", "/api/beers/:id", "(unmatched)", "a\"b\\c\n\r\t\x00\x1f", "\u2028\u2029<>&", "\xff\xfe", "é€😀", ""} {
		f.Add(s, s, s, 200, int64(1500))
	}
	at := time.Date(2026, 12, 3, 12, 0, 0, 123456789, time.UTC)
	f.Fuzz(func(t *testing.T, method, route, rid string, status int, d int64) {
		got := appendAccessLine(nil, at, method, route, status, time.Duration(d), rid, "192.0.2.1")
		want := slogLine(at, method, route, status, time.Duration(d), rid, "192.0.2.1")
		if !bytes.Equal(got, want) {
			t.Fatalf("access line\n%s\nslog's\n%s", got, want)
		}
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, got)
		}
	})
}

func TestAccessLineFields(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 5e6, time.UTC)
	var m map[string]any
	if err := json.Unmarshal(appendAccessLine(nil, at, "GET", "/api/beers", 200, 1500*time.Microsecond, "rid-1", "127.0.0.1"), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"time": "2026-12-03T12:00:00.005Z", "level": "INFO", "msg": "request", "method": "GET",
		"route": "/api/beers", "status": 200.0, "duration": 1.5e6, "request_id": "rid-1", "remote": "127.0.0.1"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("line = %v\nwant %v", m, want)
	}
}

func BenchmarkAccessLine(b *testing.B) {
	at := time.Now()
	b.Run("appendAccessLine", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256)
		for b.Loop() {
			buf = appendAccessLine(buf[:0], at, "GET", "/api/beers", 200, 1500*time.Microsecond, "01JF8ZK4Q3W2X9V7B5N6M1P0R8", "127.0.0.1")
		}
	})
	b.Run("slog JSON handler", func(b *testing.B) {
		b.ReportAllocs()
		l := slog.New(slog.NewJSONHandler(discard{}, nil))
		for b.Loop() {
			l.LogAttrs(nil, slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("route", "/api/beers"),
				slog.Int("status", 200), slog.Duration("duration", 1500*time.Microsecond),
				slog.String("request_id", "01JF8ZK4Q3W2X9V7B5N6M1P0R8"), slog.String("remote", "127.0.0.1"))
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
