package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

type codeRepo struct{ d *db }

var _ models.CodeRepository = (*codeRepo)(nil)

func (r *codeRepo) Create(ctx context.Context, c *models.Code) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.codes.InsertOne(ctx, toCodeDoc(c))
	return wrap("create code", err)
}

// Get reads the code without using it. It looks the code up by hash
// alone, so that a used code is a conflict even once it has expired.
func (r *codeRepo) Get(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	if hash == "" {
		return nil, models.ErrNotFound
	}
	var d codeDoc
	if err := r.find(ctx, bson.D{{Key: "_id", Value: hash}}, &d); err != nil {
		return nil, wrap("get code", err)
	}
	switch {
	case d.UsedAt != nil:
		return nil, models.ErrConflict
	case !d.ExpiresAt.After(now):
		return nil, models.ErrNotFound
	}
	return d.model(), nil
}

// DeleteUser removes the user's codes.
func (r *codeRepo) DeleteUser(ctx context.Context, userID string) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.codes.DeleteMany(ctx, bson.D{{Key: "user_id", Value: userID}})
	return wrap("delete codes of user", err)
}

// Consume marks the code used with a FindOneAndUpdate whose filter admits
// only an unused, unexpired code, so of concurrent calls one matches. When
// none matches, a second read, by hash alone, tells a used code
// (ErrConflict, even once expired) from an unknown or expired one
// (ErrNotFound). RFC 6749 §4.1.2: a code is used at most once; the caller
// revokes the tokens issued from a replayed one, and a replay just after
// expiry must not escape that.
func (r *codeRepo) Consume(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	if hash == "" {
		return nil, models.ErrNotFound
	}
	var d codeDoc
	err := r.markUsed(ctx, hash, now, &d)
	if err == nil {
		// The claim decides the race where findAndModify is not atomic
		// (FerretDB v1); see db.claim.
		if err := r.d.claim(ctx, "code/"+hash, d.ExpiresAt); err != nil {
			return nil, wrap("consume code", err)
		}
		return d.model(), nil
	}
	if err = wrap("consume code", err); err != models.ErrNotFound {
		return nil, err
	}
	if err := r.find(ctx, bson.D{{Key: "_id", Value: hash}}, &d); err != nil {
		return nil, wrap("consume code", err)
	}
	if d.UsedAt == nil && !d.ExpiresAt.After(now) {
		return nil, models.ErrNotFound
	}
	// Used, or unexpired and still not matched, which only a use explains.
	return nil, models.ErrConflict
}

func (r *codeRepo) markUsed(ctx context.Context, hash string, now time.Time, d *codeDoc) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return r.d.codes.FindOneAndUpdate(ctx,
		bson.D{
			{Key: "_id", Value: hash},
			{Key: "used_at", Value: nil},
			{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}},
		},
		bson.D{{Key: "$set", Value: bson.D{{Key: "used_at", Value: now}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before),
	).Decode(d)
}

func (r *codeRepo) find(ctx context.Context, filter bson.D, d *codeDoc) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return r.d.codes.FindOne(ctx, filter).Decode(d)
}

// DeleteExpired removes the codes, and the claims of codes, that expired
// before now.
func (r *codeRepo) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	n, err := r.d.deleteExpired(ctx, r.d.codes, now)
	if err != nil {
		return 0, wrap("delete expired codes", err)
	}
	return n, nil
}
