package mongo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
	"beerlocker/store/mongo"
	"beerlocker/store/mongo/mongotest"
	"beerlocker/store/storetest"
)

var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// TestFerretDB runs the conformance suite against an in-process FerretDB,
// always: each subtest gets its own database on one shared server.
func TestFerretDB(t *testing.T) {
	uri := mongotest.Start(t)
	storetest.Run(t, func(t *testing.T) *models.Store { return mongotest.Store(t, uri) })
}

// TestMongoDB runs the conformance suite against the real MongoDB that
// MONGODB_TEST_URI names, each subtest on a fresh database that is dropped
// afterwards.
func TestMongoDB(t *testing.T) {
	uri := os.Getenv(mongotest.EnvURI)
	if uri == "" {
		t.Skip(mongotest.EnvURI + " is not set; skipping the suite against a real MongoDB")
	}
	storetest.Run(t, func(t *testing.T) *models.Store { return mongotest.Store(t, uri) })
}

// TestOpenTwice checks that Open may run again on a database it already
// set up: creating the indexes a second time is a no-op, and the data stays.
func TestOpenTwice(t *testing.T) {
	uri := mongotest.URI(t)
	name := mongotest.DatabaseName()
	t.Cleanup(func() {
		if err := mongotest.DropDatabase(uri, name); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	ctx := context.Background()

	s1, err := mongo.Open(ctx, uri, name)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	u := &models.User{ID: models.NewID(testNow), Username: "alice", PasswordHash: "h", CreatedAt: testNow, UpdatedAt: testNow}
	if err := s1.Users.Create(ctx, u); err != nil {
		t.Fatalf("Users.Create: %v", err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("first Close: %v", err)
	}

	s2, err := mongo.Open(ctx, uri, name)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer s2.Close()
	if err := s2.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := s2.Users.GetByUsername(ctx, "ALICE"); err != nil {
		t.Errorf("Users.GetByUsername after second Open: %v", err)
	}
	// The unique index still holds after the second Open.
	dup := &models.User{ID: models.NewID(testNow), Username: "Alice", PasswordHash: "h", CreatedAt: testNow, UpdatedAt: testNow}
	if err := s2.Users.Create(ctx, dup); err != models.ErrConflict {
		t.Errorf("Users.Create(duplicate) error = %v, want %v", err, models.ErrConflict)
	}
}

// TestTTLRefusalWarnsOncePerStore opens two stores on FerretDB, which
// refuses TTL indexes: each store's own logger gets one warning that names
// every collection concerned, and nothing goes to the default logger.
func TestTTLRefusalWarnsOncePerStore(t *testing.T) {
	uri := mongotest.Start(t)
	var global bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&global, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	for i := range 2 {
		var logs bytes.Buffer
		name := mongotest.DatabaseName()
		s, err := mongo.Open(context.Background(), uri, name, mongo.Options{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
		if err := mongotest.DropDatabase(uri, name); err != nil {
			t.Errorf("drop database: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) != 1 || lines[0] == "" {
			t.Fatalf("store #%d logged %d lines, want one warning:\n%s", i+1, len(lines), logs.String())
		}
		var rec struct {
			Level       string
			Msg         string
			Collections []string
		}
		if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
			t.Fatalf("store #%d: %v in %s", i+1, err, lines[0])
		}
		slices.Sort(rec.Collections)
		want := []string{"claims", "codes", "device_codes", "device_polls", "pending_consents", "sessions", "tokens"}
		if rec.Level != "WARN" || !strings.Contains(rec.Msg, "TTL") || !slices.Equal(rec.Collections, want) {
			t.Errorf("store #%d logged %+v, want a warning about TTL indexes on %v", i+1, rec, want)
		}
	}
	if global.Len() != 0 {
		t.Errorf("the default logger got:\n%s", global.String())
	}
}

// TestConsentsWrittenBeforeGrantsReplaced: a consent stored by an older
// version, its scopes as documents of their own (the merge of every
// grant), reads as it did, and the next grant replaces it whole and
// removes those documents.
func TestConsentsWrittenBeforeGrantsReplaced(t *testing.T) {
	ctx := t.Context()
	uri := mongotest.URI(t)
	name := mongotest.DatabaseName()
	s, err := mongo.Open(ctx, uri, name, mongo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mongotest.DropDatabase(uri, name)
	defer s.Close()
	client, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database(name)
	if _, err := db.Collection("consents").InsertOne(ctx, bson.D{{Key: "_id", Value: "u1/c1"}, {Key: "user_id", Value: "u1"},
		{Key: "client_id", Value: "c1"}, {Key: "created_at", Value: testNow}, {Key: "updated_at", Value: testNow}}); err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{"beers:read", "beers:write"} {
		if _, err := db.Collection("consent_scopes").InsertOne(ctx, bson.D{{Key: "_id", Value: "u1/c1 " + sc}, {Key: "consent_id", Value: "u1/c1"},
			{Key: "user_id", Value: "u1"}, {Key: "client_id", Value: "c1"}, {Key: "scope", Value: sc}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Consents.Get(ctx, "u1", "c1")
	if err != nil || !slices.Equal(got.Scopes, []string{"beers:read", "beers:write"}) {
		t.Fatalf("old consent: %+v, %v", got, err)
	}
	list, err := s.Consents.List(ctx, "u1")
	if err != nil || len(list) != 1 || !slices.Equal(list[0].Scopes, got.Scopes) {
		t.Fatalf("old consent listed: %+v, %v", list, err)
	}
	got, err = s.Consents.Grant(ctx, "u1", "c1", []string{"beers:read"}, time.Time{}, testNow.Add(time.Hour))
	if err != nil || !slices.Equal(got.Scopes, []string{"beers:read"}) || !got.CreatedAt.Equal(testNow) {
		t.Fatalf("grant over the old consent: %+v, %v", got, err)
	}
	if n, err := db.Collection("consent_scopes").CountDocuments(ctx, bson.D{{Key: "consent_id", Value: "u1/c1"}}); err != nil || n != 0 {
		t.Errorf("%d old scope documents left (%v)", n, err)
	}
}
