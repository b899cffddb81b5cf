package mongo

import (
	"context"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

// colRevocations holds what ends sealed access tokens, one document per
// Add, never updated: its _id is "<kind> <key> <at>", so that adding the
// same revocation again is a duplicate key, and concurrent revocations of
// one key each insert their own (an upsert with $max is not atomic on
// FerretDB v1; a unique _id is, see db.claim). at and expires_at are Unix
// microseconds: a BSON date keeps only milliseconds.
const colRevocations = "revocations"

type revocationDoc struct {
	ID        string `bson:"_id"`
	Kind      string `bson:"kind"`
	Key       string `bson:"key"`
	At        int64  `bson:"at"`
	ExpiresAt int64  `bson:"expires_at"`
}

type revocationRepo struct{ d *db }

var _ models.RevocationRepository = (*revocationRepo)(nil)

func (d *db) revocationIndexes() []index {
	return []index{
		{d.revocations, "at", bson.D{{Key: "at", Value: 1}}, false},
		{d.revocations, "expires_at", bson.D{{Key: "expires_at", Value: 1}}, false},
	}
}

func (r *revocationRepo) Add(ctx context.Context, rev *models.Revocation) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	at := rev.At.UnixMicro()
	_, err := r.d.revocations.InsertOne(ctx, revocationDoc{
		ID: string(rev.Kind) + " " + rev.Key + " " + strconv.FormatInt(at, 10), Kind: string(rev.Kind), Key: rev.Key,
		At: at, ExpiresAt: rev.ExpiresAt.UnixMicro(),
	})
	if mongo.IsDuplicateKeyError(err) {
		return nil // this very revocation is stored already
	}
	return wrap("add revocation", err)
}

func (r *revocationRepo) ListSince(ctx context.Context, since, now time.Time) ([]*models.Revocation, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	filter := bson.D{
		{Key: "at", Value: bson.D{{Key: "$gte", Value: since.UnixMicro()}}},
		{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now.UnixMicro()}}},
	}
	docs, err := findAll[revocationDoc](ctx, r.d.revocations, filter, options.Find().SetSort(bson.D{{Key: "at", Value: 1}}))
	if err != nil {
		return nil, wrap("list revocations", err)
	}
	out := make([]*models.Revocation, len(docs))
	for i, d := range docs {
		out[i] = &models.Revocation{Kind: models.RevocationKind(d.Kind), Key: d.Key,
			At: time.UnixMicro(d.At).UTC(), ExpiresAt: time.UnixMicro(d.ExpiresAt).UTC()}
	}
	return out, nil
}

func (r *revocationRepo) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	res, err := r.d.revocations.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now.UnixMicro()}}}})
	if err != nil {
		return 0, wrap("delete expired revocations", err)
	}
	return res.DeletedCount, nil
}
