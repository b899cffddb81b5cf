package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

type userRepo struct{ d *db }

var _ models.UserRepository = (*userRepo)(nil)

func (r *userRepo) Create(ctx context.Context, u *models.User) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.users.InsertOne(ctx, toUserDoc(u))
	return wrap("create user", err)
}

func (r *userRepo) Get(ctx context.Context, id string) (*models.User, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	return r.findOne(ctx, "get user", bson.D{{Key: "_id", Value: id}})
}

func (r *userRepo) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	if username == "" {
		return nil, models.ErrNotFound
	}
	return r.findOne(ctx, "get user by username", bson.D{{Key: "username_key", Value: models.UsernameKey(username)}})
}

func (r *userRepo) findOne(ctx context.Context, what string, filter bson.D) (*models.User, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d userDoc
	if err := r.d.users.FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, wrap(what, err)
	}
	return d.model(), nil
}

func (r *userRepo) UpdatePassword(ctx context.Context, id, passwordHash string, now time.Time) (*models.User, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d userDoc
	err := r.d.users.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "password_hash", Value: passwordHash},
			{Key: "updated_at", Value: now},
		}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&d)
	if err != nil {
		return nil, wrap("update password", err)
	}
	return d.model(), nil
}

// Delete removes the user and everything they own without a transaction,
// as a sequence of single-collection deletes in an order that is safe to
// interrupt:
//
//  1. The user document goes first, so the user can no longer sign in or
//     be granted anything new, and the username is free again.
//  2. Then every browser session, token, personal access token, code and
//     consent of the user (a consent's scopes before its head; see
//     consentRepo.Delete).
//  3. Then the user's clients, each through deleteClient: marked, stripped
//     of the tokens, codes and consents others hold through it, removed.
//  4. Then the user's beers.
//
// Every step after the first is idempotent and keyed by the user's id, and
// runs even when the user document is already gone, so calling Delete again
// after an interruption finishes the job (and then reports ErrNotFound).
// No step leaves a token behind that an earlier step would have removed.
func (r *userRepo) Delete(ctx context.Context, id string) error {
	if !models.ValidID(id) {
		return models.ErrNotFound
	}
	byUser := bson.D{{Key: "user_id", Value: id}}
	var deleted int64
	steps := []struct {
		what string
		fn   func(ctx context.Context) error
	}{
		{"delete user", func(ctx context.Context) error {
			ctx, cancel := withTimeout(ctx)
			defer cancel()
			res, err := r.d.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
			if err == nil {
				deleted = res.DeletedCount
			}
			return err
		}},
		{"delete user's sessions", func(ctx context.Context) error { return r.d.deleteUserSessions(ctx, id) }},
		{"delete user's tokens", deleteMany(r.d.tokens, byUser)},
		{"delete user's personal tokens", deleteMany(r.d.personalTokens, byUser)},
		{"delete user's codes", deleteMany(r.d.codes, byUser)},
		{"delete user's device codes", deleteMany(r.d.devices, byUser)},
		{"delete user's consent scopes", deleteMany(r.d.scopes, byUser)},
		{"delete user's consent uses", deleteMany(r.d.uses, byUser)},
		{"delete user's consents", deleteMany(r.d.consents, byUser)},
		{"delete user's clients", func(ctx context.Context) error { return r.d.deleteOwnedClients(ctx, id) }},
		{"delete user's beers", deleteMany(r.d.beers, bson.D{{Key: "owner_id", Value: id}})},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return wrap(s.what, err)
		}
	}
	if deleted == 0 {
		return models.ErrNotFound
	}
	return nil
}
