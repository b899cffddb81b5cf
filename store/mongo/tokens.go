package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

type tokenRepo struct{ d *db }

var _ models.TokenRepository = (*tokenRepo)(nil)

func (r *tokenRepo) Create(ctx context.Context, tokens ...*models.Token) error {
	if len(tokens) == 0 {
		return nil
	}
	docs := make([]any, len(tokens))
	for i, t := range tokens {
		docs[i] = toTokenDoc(t)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.tokens.InsertMany(ctx, docs)
	return wrap("create tokens", err)
}

func (r *tokenRepo) Get(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	if hash == "" {
		return nil, models.ErrNotFound
	}
	var d tokenDoc
	if err := r.find(ctx, bson.D{{Key: "_id", Value: hash}, unexpired(now)}, &d); err != nil {
		return nil, wrap("get token", err)
	}
	return d.model(), nil
}

func unexpired(now time.Time) bson.E {
	return bson.E{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}}
}

func (r *tokenRepo) find(ctx context.Context, filter bson.D, d *tokenDoc) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return r.d.tokens.FindOne(ctx, filter).Decode(d)
}

// Rotate marks the refresh token rotated with a FindOneAndUpdate whose
// filter admits only an unrotated, unexpired refresh token, so of
// concurrent calls one matches; when none does, a second read tells a
// rotated token (ErrConflict) from an unknown, revoked or expired one
// (ErrNotFound). RFC 6819 §5.2.2.3: the caller revokes the family on
// ErrConflict, so the rotated token is kept until it expires. FerretDB
// applies an update by reading and writing the document back, so two
// racers may both match; the claim then picks the one winner, and
// rotated_at holds one of the racers' times, which differ by the race's
// length (the refresh reuse grace counts from it).
func (r *tokenRepo) Rotate(ctx context.Context, hash string, now time.Time) error {
	if hash == "" {
		return models.ErrNotFound
	}
	refresh := bson.E{Key: "kind", Value: string(models.RefreshToken)}
	var d tokenDoc
	err := func() error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		return r.d.tokens.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: hash}, refresh, {Key: "rotated_at", Value: nil}, unexpired(now)},
			bson.D{{Key: "$set", Value: bson.D{{Key: "rotated_at", Value: now}}}},
			options.FindOneAndUpdate().SetReturnDocument(options.Before),
		).Decode(&d)
	}()
	if err == nil {
		// The claim decides the race where findAndModify is not atomic
		// (FerretDB v1); see db.claim.
		return wrap("rotate token", r.d.claim(ctx, "token/"+hash, d.ExpiresAt))
	}
	if err = wrap("rotate token", err); err != models.ErrNotFound {
		return err
	}
	if err := r.find(ctx, bson.D{{Key: "_id", Value: hash}, refresh, unexpired(now)}, &d); err != nil {
		return wrap("rotate token", err)
	}
	// The refresh token exists and is unexpired, so it was rotated.
	return models.ErrConflict
}

func (r *tokenRepo) Revoke(ctx context.Context, hash string) error {
	return wrap("revoke token", deleteMany(r.d.tokens, bson.D{{Key: "_id", Value: hash}})(ctx))
}

func (r *tokenRepo) RevokeFamily(ctx context.Context, familyID string) error {
	if familyID == "" {
		return nil
	}
	return wrap("revoke token family", deleteMany(r.d.tokens, bson.D{{Key: "family_id", Value: familyID}})(ctx))
}

func (r *tokenRepo) RevokeUser(ctx context.Context, userID string) error {
	if userID == "" {
		// "" is the user of every client_credentials token.
		return nil
	}
	return wrap("revoke user's tokens", deleteMany(r.d.tokens, bson.D{{Key: "user_id", Value: userID}})(ctx))
}

func (r *tokenRepo) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	n, err := r.d.deleteExpired(ctx, r.d.tokens, now)
	if err != nil {
		return 0, wrap("delete expired tokens", err)
	}
	return n, nil
}
