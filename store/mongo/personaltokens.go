package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

// colPersonalTokens holds users' personal access tokens, one document per
// token, keyed by its id; the hash of its value is a field with a unique
// index. Every field but last_used_at is written once, by Create.
const colPersonalTokens = "personal_tokens"

type personalTokenDoc struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	Name      string    `bson:"name"`
	Hash      string    `bson:"hash"` // unique
	Scopes    []string  `bson:"scopes"`
	CreatedAt time.Time `bson:"created_at"`
	ExpiresAt time.Time `bson:"expires_at"`
	// LastUsedAt is absent until the first use.
	LastUsedAt *time.Time `bson:"last_used_at,omitempty"`
	// Slot is a number in [0, models.MaxPersonalTokensPerUser), unique
	// per user, as a client's is per owner (see clientDoc.Slot).
	Slot int32 `bson:"slot"`
}

func toPersonalTokenDoc(t *models.PersonalToken) personalTokenDoc {
	return personalTokenDoc{
		ID:         t.ID,
		UserID:     t.UserID,
		Name:       t.Name,
		Hash:       t.Hash,
		Scopes:     nonNil(t.Scopes),
		CreatedAt:  t.CreatedAt,
		ExpiresAt:  t.ExpiresAt,
		LastUsedAt: optionalTime(t.LastUsedAt),
	}
}

func (d *personalTokenDoc) model() *models.PersonalToken {
	return &models.PersonalToken{
		ID:         d.ID,
		UserID:     d.UserID,
		Name:       d.Name,
		Hash:       d.Hash,
		Scopes:     d.Scopes,
		CreatedAt:  d.CreatedAt.UTC(),
		ExpiresAt:  d.ExpiresAt.UTC(),
		LastUsedAt: timeOrZero(d.LastUsedAt),
	}
}

type personalTokenRepo struct{ d *db }

var _ models.PersonalTokenRepository = (*personalTokenRepo)(nil)

func (d *db) personalTokenIndexes() []index {
	return []index{
		{d.personalTokens, "hash_unique", bson.D{{Key: "hash", Value: 1}}, true},
		{d.personalTokens, "user_id_slot_unique", bson.D{{Key: "user_id", Value: 1}, {Key: "slot", Value: 1}}, true},
		{d.personalTokens, "user_id_created", bson.D{{Key: "user_id", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}, false},
		{d.personalTokens, "expires_at", bson.D{{Key: "expires_at", Value: 1}}, false},
	}
}

// Create inserts t into a free slot of its user, as Clients.Create does
// for an owner's clients: the unique index on (user_id, slot) makes the
// bound atomic without a transaction, and a create that loses a slot to
// a concurrent one looks again.
//
// The user must exist before and after the insert. Users.Delete removes
// the user document first and the user's tokens after it, so a token
// inserted while the user goes is either removed by that later step or
// seen here, by the second look, and removed again.
func (r *personalTokenRepo) Create(ctx context.Context, t *models.PersonalToken) error {
	if !models.ValidID(t.UserID) {
		return models.ErrNotFound
	}
	if err := r.d.userExists(ctx, t.UserID); err != nil {
		return wrap("create personal token", err)
	}
	doc := toPersonalTokenDoc(t)
	for range 2 * models.MaxPersonalTokensPerUser {
		slot, err := freeSlot(ctx, r.d.personalTokens, "user_id", t.UserID, models.MaxPersonalTokensPerUser)
		if err != nil {
			return wrap("create personal token", err)
		}
		if slot < 0 {
			return models.ErrConflict
		}
		doc.Slot = slot
		err = r.insert(ctx, doc)
		if err == nil {
			return wrap("create personal token", r.keepIfUserExists(ctx, t))
		}
		if !mongo.IsDuplicateKeyError(err) {
			return wrap("create personal token", err)
		}
		// The duplicate is the slot, unless it is the id or the hash.
		if taken, err := r.taken(ctx, t); err != nil || taken {
			if err == nil {
				err = models.ErrConflict
			}
			return wrap("create personal token", err)
		}
	}
	return fmt.Errorf("mongo: create personal token: no free slot found for user after %d attempts", 2*models.MaxPersonalTokensPerUser)
}

func (r *personalTokenRepo) insert(ctx context.Context, doc personalTokenDoc) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.personalTokens.InsertOne(ctx, doc)
	return err
}

// keepIfUserExists removes the token just inserted, and returns
// ErrNotFound, if its user was deleted meanwhile; and removes it too when
// that cannot be told, since the caller then hears of a failure and the
// token must not stay behind, unseen, against the limit.
func (r *personalTokenRepo) keepIfUserExists(ctx context.Context, t *models.PersonalToken) error {
	err := r.d.userExists(ctx, t.UserID)
	if err == nil {
		return nil
	}
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = models.ErrNotFound
	}
	dctx, cancel := withTimeout(ctx)
	defer cancel()
	if _, derr := r.d.personalTokens.DeleteOne(dctx, bson.D{{Key: "_id", Value: t.ID}}); derr != nil {
		return errors.Join(err, derr)
	}
	return err
}

// taken reports whether a token with t's id or hash exists.
func (r *personalTokenRepo) taken(ctx context.Context, t *models.PersonalToken) (bool, error) {
	for _, filter := range []bson.D{{{Key: "_id", Value: t.ID}}, {{Key: "hash", Value: t.Hash}}} {
		err := func() error {
			ctx, cancel := withTimeout(ctx)
			defer cancel()
			return r.d.personalTokens.FindOne(ctx, filter, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		}()
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return false, err
		}
	}
	return false, nil
}

// userExists returns nil if the user exists, else mongo.ErrNoDocuments
// (or the error of the lookup).
func (d *db) userExists(ctx context.Context, userID string) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	return d.users.FindOne(ctx, bson.D{{Key: "_id", Value: userID}}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
}

func (r *personalTokenRepo) GetByHash(ctx context.Context, hash string, now time.Time) (*models.PersonalToken, error) {
	if hash == "" {
		return nil, models.ErrNotFound
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d personalTokenDoc
	err := r.d.personalTokens.FindOne(ctx, bson.D{
		{Key: "hash", Value: hash},
		{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}},
	}).Decode(&d)
	if err != nil {
		return nil, wrap("get personal token", err)
	}
	return d.model(), nil
}

// List is bounded by the slots: a user never has more than
// MaxPersonalTokensPerUser tokens.
func (r *personalTokenRepo) List(ctx context.Context, userID string) ([]*models.PersonalToken, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	docs, err := findAll[personalTokenDoc](ctx, r.d.personalTokens, bson.D{{Key: "user_id", Value: userID}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(models.MaxPersonalTokensPerUser))
	if err != nil {
		return nil, wrap("list personal tokens", err)
	}
	list := make([]*models.PersonalToken, len(docs))
	for i := range docs {
		list[i] = docs[i].model()
	}
	return list, nil
}

func (r *personalTokenRepo) Delete(ctx context.Context, userID, id string) error {
	if !models.ValidID(id) || userID == "" {
		return models.ErrNotFound
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	res, err := r.d.personalTokens.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "user_id", Value: userID}})
	if err != nil {
		return wrap("delete personal token", err)
	}
	if res.DeletedCount == 0 {
		return models.ErrNotFound
	}
	return nil
}

func (r *personalTokenRepo) DeleteUser(ctx context.Context, userID string) error {
	return wrap("delete user's personal tokens", deleteMany(r.d.personalTokens, bson.D{{Key: "user_id", Value: userID}})(ctx))
}

// Touch is one conditional update that matches only a token whose last
// use is absent or an earlier hour, so on MongoDB the hour never moves
// back. FerretDB v1 answers an update by reading the document and then
// writing all of it back by _id, and that is safe here for two reasons.
// Every field but last_used_at is written once, by Create, so what a
// touch writes back is what is there. And a token deleted between the
// read and the write stays deleted: the write replaces a document that
// exists, it does not insert one. Concurrent touches of different hours
// may, on FerretDB, leave the earlier one; the next use moves it on, as
// with Consents.Touch.
func (r *personalTokenRepo) Touch(ctx context.Context, hash string, at time.Time) error {
	if hash == "" {
		return nil
	}
	hour := at.Truncate(time.Hour)
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.personalTokens.UpdateOne(ctx,
		bson.D{
			{Key: "hash", Value: hash},
			{Key: "$or", Value: bson.A{
				bson.D{{Key: "last_used_at", Value: bson.D{{Key: "$exists", Value: false}}}},
				bson.D{{Key: "last_used_at", Value: bson.D{{Key: "$lt", Value: hour}}}},
			}},
		},
		bson.D{{Key: "$set", Value: bson.D{{Key: "last_used_at", Value: hour}}}})
	return wrap("touch personal token", err)
}

func (r *personalTokenRepo) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	res, err := r.d.personalTokens.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}})
	if err != nil {
		return 0, wrap("delete expired personal tokens", err)
	}
	return res.DeletedCount, nil
}
