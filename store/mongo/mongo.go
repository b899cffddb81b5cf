// Package mongo stores Beer Locker's data in MongoDB (or a server that
// speaks its protocol, such as FerretDB): Open returns a models.Store whose
// repositories use one collection per aggregate.
//
// BSON exists only in this package: private document structs (docs.go) are
// converted to and from the models. Every write is a single-document atomic
// operation, because the backend must not depend on multi-document
// transactions, which FerretDB v1 does not have:
//
//   - one-shot operations (Codes.Consume, Tokens.Rotate) are a
//     FindOneAndUpdate whose filter requires the object to be unused, backed
//     up by the insert of a claim document with a unique _id (see claim);
//   - the bounds on clients and on personal access tokens per user are
//     unique (owner_id, slot) and (user_id, slot) indexes;
//   - a consent's scopes are documents of their own, so that granting more
//     scopes is a set of inserts (see consentRepo.Grant);
//   - a signing key's _id is its slot, algorithm and generation, so that
//     one insert decides which instance's key a generation gets;
//   - cascading deletes are ordered sequences of single-collection deletes
//     that are safe to interrupt and retry (see Users.Delete).
//
// Expired codes, tokens and sessions carry a TTL index where the server
// supports one, but no query relies on it: every read filters on
// expires_at itself.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"beerlocker/models"
)

// opTimeout bounds every database call, so a stalled server answers a
// request with an error instead of holding it until the client gives up.
const opTimeout = 5 * time.Second

// Unless the URI sets them (serverSelectionTimeoutMS, connectTimeoutMS),
// the driver waits at most selectTimeout for a server to become available
// (its default is 30 s) and connectTimeout to open a connection. Together
// with opTimeout they bound how long a request waits while the server is
// down: it gets models.ErrUnavailable after about 5 s, never hangs.
const (
	selectTimeout  = 5 * time.Second
	connectTimeout = 5 * time.Second
)

// Collection names.
const (
	colUsers    = "users"
	colBeers    = "beers"
	colClients  = "clients"
	colConsents = "consents"
	colScopes   = "consent_scopes"
	colUses     = "consent_uses"
	colCodes    = "codes"
	colTokens   = "tokens"
	colClaims   = "claims"
)

// Options configure Open.
type Options struct {
	// Log receives the store's warnings, such as a server that refuses
	// TTL indexes; nil discards them.
	Log *slog.Logger
}

// db is the connection every repository shares.
type db struct {
	client   *mongo.Client
	log      *slog.Logger
	users    *mongo.Collection
	beers    *mongo.Collection
	clients  *mongo.Collection
	consents *mongo.Collection
	scopes   *mongo.Collection
	uses     *mongo.Collection // consents' last use, apart (see consentRepo.Touch)
	codes    *mongo.Collection
	tokens   *mongo.Collection
	claims   *mongo.Collection

	devices     *mongo.Collection // see devices.go
	devicePolls *mongo.Collection
	sessions    *mongo.Collection // see sessions.go
	pending     *mongo.Collection
	signingKeys *mongo.Collection // see signingkeys.go
	revocations *mongo.Collection // see revocations.go

	personalTokens *mongo.Collection // see personaltokens.go
}

var _ models.Database = (*db)(nil)

// Open connects to the MongoDB server at uri, checks that it answers,
// creates the indexes of the named database if they are missing, and
// returns the store. Close the store to disconnect. It takes at most one
// Options; without one, the store logs nothing.
func Open(ctx context.Context, uri, database string, opts ...Options) (*models.Store, error) {
	var opt Options
	switch len(opts) {
	case 0:
	case 1:
		opt = opts[0]
	default:
		return nil, errors.New("mongo: open: more than one Options")
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The defaults come first, so that the URI's own settings win.
	//
	// Consistency for scale-out: every write waits for a majority of the
	// replica set (users, consents, codes and tokens must survive a
	// failover), and every read goes to the primary, so the reads that decide
	// a grant see the request's own writes and every other instance's
	// acknowledged ones. A URI that sets w= or readPreference= overrides this.
	copts := options.Client().
		SetServerSelectionTimeout(selectTimeout).
		SetConnectTimeout(connectTimeout).
		SetWriteConcern(writeconcern.Majority()).
		SetReadPreference(readpref.Primary()).
		ApplyURI(uri)
	// Connect does not wait for the server; the Ping below does, for at
	// most opTimeout, so Open fails with ErrUnavailable when it is down.
	client, err := mongo.Connect(copts)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	d := &db{client: client, log: log}
	mdb := client.Database(database)
	d.users = mdb.Collection(colUsers)
	d.beers = mdb.Collection(colBeers)
	d.clients = mdb.Collection(colClients)
	d.consents = mdb.Collection(colConsents)
	d.scopes = mdb.Collection(colScopes)
	d.uses = mdb.Collection(colUses)
	d.codes = mdb.Collection(colCodes)
	d.tokens = mdb.Collection(colTokens)
	d.claims = mdb.Collection(colClaims)
	d.devices, d.devicePolls = mdb.Collection(colDevices), mdb.Collection(colDevicePolls)
	d.sessions, d.pending = mdb.Collection(colSessions), mdb.Collection(colPending)
	d.signingKeys = mdb.Collection(colSigningKeys)
	d.revocations = mdb.Collection(colRevocations)
	d.personalTokens = mdb.Collection(colPersonalTokens)

	if err := d.Ping(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	if err := d.createIndexes(ctx); err != nil {
		_ = d.Close()
		return nil, err
	}
	return &models.Store{
		Users:    &userRepo{d},
		Beers:    &beerRepo{d},
		Clients:  &clientRepo{d},
		Consents: &consentRepo{d},
		Codes:    &codeRepo{d},
		Tokens:   &tokenRepo{d},
		DB:       d,

		DeviceCodes: &deviceRepo{d},
		Sessions:    &sessionRepo{d},
		SigningKeys: &signingKeyRepo{d},
		Revocations: &revocationRepo{d},

		PersonalTokens: &personalTokenRepo{d},
	}, nil
}

// Ping returns nil when the server answers.
func (d *db) Ping(ctx context.Context) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return wrap("ping", d.client.Ping(ctx, nil))
}

// Close disconnects from the server.
func (d *db) Close() error {
	ctx, cancel := withTimeout(context.Background())
	defer cancel()
	if err := d.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

// withTimeout gives one database call its own deadline.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, opTimeout)
}

// index is one index to create; every index is named so that creating it
// again is a no-op.
type index struct {
	coll   *mongo.Collection
	name   string
	keys   bson.D
	unique bool
}

// createIndexes creates the indexes every query relies on. It is
// idempotent: an index that already exists with the same name and keys is
// left alone.
func (d *db) createIndexes(ctx context.Context) error {
	indexes := []index{
		{d.users, "username_key_unique", bson.D{{Key: "username_key", Value: 1}}, true},
		// Keyset pagination, newest first: filter _id < after, sort _id desc.
		{d.beers, "owner_id_newest", bson.D{{Key: "owner_id", Value: 1}, {Key: "_id", Value: -1}}, false},
		{d.clients, "owner_id_created", bson.D{{Key: "owner_id", Value: 1}, {Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, false},
		{d.clients, "owner_id_slot_unique", bson.D{{Key: "owner_id", Value: 1}, {Key: "slot", Value: 1}}, true},
		{d.consents, "user_id_created_at", bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: 1}}, false},
		{d.consents, "client_id", bson.D{{Key: "client_id", Value: 1}}, false},
		{d.scopes, "consent_id", bson.D{{Key: "consent_id", Value: 1}}, false},
		{d.scopes, "user_id", bson.D{{Key: "user_id", Value: 1}}, false},
		{d.scopes, "client_id", bson.D{{Key: "client_id", Value: 1}}, false},
		{d.uses, "user_id", bson.D{{Key: "user_id", Value: 1}}, false},
		{d.uses, "client_id", bson.D{{Key: "client_id", Value: 1}}, false},
		{d.codes, "user_id", bson.D{{Key: "user_id", Value: 1}}, false},
		{d.codes, "client_id", bson.D{{Key: "client_id", Value: 1}}, false},
		{d.tokens, "user_id", bson.D{{Key: "user_id", Value: 1}}, false},
		{d.tokens, "client_id", bson.D{{Key: "client_id", Value: 1}}, false},
		{d.tokens, "family_id", bson.D{{Key: "family_id", Value: 1}}, false},
	}
	indexes = append(indexes, d.deviceIndexes()...)
	indexes = append(indexes, d.sessionIndexes()...)
	indexes = append(indexes, d.signingKeyIndexes()...)
	indexes = append(indexes, d.revocationIndexes()...)
	indexes = append(indexes, d.personalTokenIndexes()...)
	for _, ix := range indexes {
		opts := options.Index().SetName(ix.name)
		if ix.unique {
			opts.SetUnique(true)
		}
		if err := d.createIndex(ctx, ix.coll, mongo.IndexModel{Keys: ix.keys, Options: opts}); err != nil {
			return fmt.Errorf("mongo: create index %s.%s: %w", ix.coll.Name(), ix.name, err)
		}
	}
	var refused []string
	var cause error
	for _, c := range []*mongo.Collection{d.codes, d.tokens, d.claims, d.devices, d.devicePolls, d.sessions, d.pending} {
		refusal, err := d.createTTLIndex(ctx, c)
		if err != nil {
			return err
		}
		if refusal != nil {
			refused, cause = append(refused, c.Name()), refusal
		}
	}
	if len(refused) > 0 {
		// One warning per store, naming every collection, rather than one
		// per collection.
		d.log.WarnContext(ctx, "mongo: the server refused TTL indexes; expired codes and tokens stay until DeleteExpired removes them",
			slog.Any("collections", refused), slog.String("err", cause.Error()))
	}
	return nil
}

func (d *db) createIndex(ctx context.Context, c *mongo.Collection, m mongo.IndexModel) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := c.Indexes().CreateOne(ctx, m)
	return err
}

// createTTLIndex asks the server to remove documents once expires_at has
// passed. A server that refuses TTL indexes (FerretDB v1 answers
// NotImplemented) gets a plain index on expires_at instead, for
// DeleteExpired, and its refusal is returned for the caller to report:
// correctness never depends on the TTL monitor, which runs only once a
// minute even on MongoDB, because every read filters out expired
// documents itself.
func (d *db) createTTLIndex(ctx context.Context, c *mongo.Collection) (refusal, err error) {
	keys := bson.D{{Key: "expires_at", Value: 1}}
	refusal = d.createIndex(ctx, c, mongo.IndexModel{
		Keys:    keys,
		Options: options.Index().SetName("expires_at_ttl").SetExpireAfterSeconds(0),
	})
	if refusal == nil {
		return nil, nil
	}
	var se mongo.ServerError
	if !errors.As(refusal, &se) {
		return nil, fmt.Errorf("mongo: create index %s.expires_at_ttl: %w", c.Name(), refusal)
	}
	if err := d.createIndex(ctx, c, mongo.IndexModel{Keys: keys, Options: options.Index().SetName("expires_at")}); err != nil {
		return nil, fmt.Errorf("mongo: create index %s.expires_at: %w", c.Name(), err)
	}
	return refusal, nil
}

// claim records that the one-shot object key was used, and returns
// models.ErrConflict if it already was.
//
// On MongoDB the FindOneAndUpdate with "unused" in its filter that precedes
// every claim is atomic by itself. FerretDB v1 is different: its
// findAndModify reads the matching document and then writes it back by _id
// in a separate step, so two concurrent calls can both match and both
// "win". An insert, however, is atomic on every server, because _id is
// unique. The claim therefore decides the race wherever the
// FindOneAndUpdate cannot; on MongoDB it is one more small insert that
// always succeeds for the caller that won.
func (d *db) claim(ctx context.Context, key string, expiresAt time.Time) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := d.claims.InsertOne(ctx, claimDoc{ID: key, ExpiresAt: expiresAt})
	if mongo.IsDuplicateKeyError(err) {
		return models.ErrConflict
	}
	return err
}

// wrap translates a driver error at the edge of the store: no document is
// models.ErrNotFound, a unique index violation models.ErrConflict, a server
// that cannot be reached or does not answer in time models.ErrUnavailable
// (with the driver's error kept in the chain), and anything else is
// wrapped with what was being done.
func wrap(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return models.ErrNotFound
	case mongo.IsDuplicateKeyError(err):
		return models.ErrConflict
	case errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrConflict), errors.Is(err, models.ErrUnavailable):
		return err
	case unavailable(err):
		return fmt.Errorf("mongo: %s: %w: %w", what, models.ErrUnavailable, err)
	}
	return fmt.Errorf("mongo: %s: %w", what, err)
}

// unavailable reports whether err means the server could not be reached or
// did not answer in time: no server could be selected (it is down, or the
// driver has not yet seen it come back), a network error on the
// connection, or a timeout, including the deadline of opTimeout. A caller
// that went away (context.Canceled) is not an outage.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	return errors.As(err, new(topology.ServerSelectionError)) ||
		errors.As(err, new(topology.ConnectionError)) ||
		mongo.IsNetworkError(err) ||
		mongo.IsTimeout(err)
}

// findAll decodes every document of a bounded query.
func findAll[T any](ctx context.Context, c *mongo.Collection, filter any, opts *options.FindOptionsBuilder) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []T
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// deleteMany returns a cascade step that deletes every document filter
// matches in c.
func deleteMany(c *mongo.Collection, filter any) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		_, err := c.DeleteMany(ctx, filter)
		return err
	}
}

// deleteExpired deletes the documents of c that expired before now and
// returns how many, and removes expired claims with them (of codes and
// tokens alike: an expired claim guards nothing, because its object no
// longer passes the expiry filter of any read).
func (d *db) deleteExpired(ctx context.Context, c *mongo.Collection, now time.Time) (int64, error) {
	expired := bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}}
	n, err := func() (int64, error) {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		res, err := c.DeleteMany(ctx, expired)
		if err != nil {
			return 0, err
		}
		return res.DeletedCount, nil
	}()
	if err != nil {
		return 0, err
	}
	return n, deleteMany(d.claims, expired)(ctx)
}
