package metrics_test

import (
	"context"
	"reflect"
	"testing"
	"unicode"
	"unicode/utf8"

	"beerlocker/metrics"
	"beerlocker/models"
	"beerlocker/store/sqlite"
	"beerlocker/store/storetest"
)

// TestWrapStoreConforms runs the conformance suite through the timing
// wrappers, which must not change what any method returns, and then checks
// that every method of every repository in models.Store was timed under
// its own label: a repository WrapStore leaves unwrapped, or a method
// timed under the wrong name, fails here.
func TestWrapStoreConforms(t *testing.T) {
	m := metrics.New()
	storetest.Run(t, func(t *testing.T) *models.Store {
		s, err := sqlite.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return metrics.WrapStore(s, m)
	})

	seen := timedOperations(t, m)
	store := reflect.TypeFor[models.Store]()
	for i := range store.NumField() {
		f := store.Field(i)
		if f.Type.Kind() != reflect.Interface || f.Type == reflect.TypeFor[models.Database]() {
			continue
		}
		for j := range f.Type.NumMethod() {
			op := lowerFirst(f.Name) + "." + lowerFirst(f.Type.Method(j).Name)
			if seen[op] == 0 {
				t.Errorf("no call of %s.%s was timed as %q", f.Name, f.Type.Method(j).Name, op)
			}
		}
	}
}

// timedOperations returns how many calls the database latency histogram
// holds, by operation.
func timedOperations(t *testing.T, m *metrics.Metrics) map[string]uint64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "beerlocker_db_operation_duration_seconds" {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "operation" {
					seen[l.GetValue()] += mt.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	return seen
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
