package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

// colRevocations holds what ends sealed access tokens. A revocation's _id
// is "<kind> <key>", so that one kind and key is one document, updated in
// place by a single atomic upsert. at and expires_at are Unix
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

// Add keeps the later of two times with $max. Two instances upserting one
// new _id at once can both try the insert; the loser's duplicate key
// error is retried, and then finds the document.
func (r *revocationRepo) Add(ctx context.Context, rev *models.Revocation) error {
	filter := bson.D{{Key: "_id", Value: string(rev.Kind) + " " + rev.Key}}
	update := bson.D{
		{Key: "$setOnInsert", Value: bson.D{{Key: "kind", Value: string(rev.Kind)}, {Key: "key", Value: rev.Key}}},
		{Key: "$max", Value: bson.D{{Key: "at", Value: rev.At.UnixMicro()}, {Key: "expires_at", Value: rev.ExpiresAt.UnixMicro()}}},
	}
	var err error
	for range 3 {
		err = func() error {
			ctx, cancel := withTimeout(ctx)
			defer cancel()
			_, err := r.d.revocations.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
			return err
		}()
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
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
