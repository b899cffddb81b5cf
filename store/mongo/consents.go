package mongo

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

type consentRepo struct{ d *db }

var _ models.ConsentRepository = (*consentRepo)(nil)

// maxConsentsPerUser bounds List. A user consents to each client at most
// once, so this is far above anything a person does by hand.
const maxConsentsPerUser = 1000

// maxScopesPerConsent bounds the scopes read for one consent; the server
// knows only a handful of scopes.
const maxScopesPerConsent = 64

// Grant sets the consent's head, scopes and end included, with one upsert:
// a single-document write, atomic on every server, and the last of two
// concurrent grants is the one that stays, as it should. The end is unset
// for a grant until revoked, since the latest decision replaces it; the
// last use, kept apart, is left as it is. Scope documents of a consent written by an
// older version (see consentDoc.Scopes) are deleted after it, so they are
// never read again.
func (r *consentRepo) Grant(ctx context.Context, userID, clientID string, scopes []string, until, now time.Time) (*models.Consent, error) {
	scopes = nonNil(slices.Compact(slices.Clone(scopes)))
	filter := bson.D{{Key: "_id", Value: consentID(userID, clientID)}}
	set := bson.D{{Key: "updated_at", Value: now}, {Key: "scopes", Value: scopes}}
	if !until.IsZero() {
		set = append(set, bson.E{Key: "expires_at", Value: until})
	}
	update := bson.D{
		{Key: "$setOnInsert", Value: bson.D{
			{Key: "user_id", Value: userID},
			{Key: "client_id", Value: clientID},
			{Key: "created_at", Value: now},
		}},
		{Key: "$set", Value: set},
	}
	if until.IsZero() {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "expires_at", Value: ""}}})
	}
	var err error
	// Two concurrent first grants can both try to insert the head; the
	// loser then finds it and updates it.
	for range 3 {
		err = func() error {
			ctx, cancel := withTimeout(ctx)
			defer cancel()
			_, err := r.d.consents.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
			return err
		}()
		if !mongo.IsDuplicateKeyError(err) {
			break
		}
	}
	if err != nil {
		return nil, wrap("grant consent", err)
	}
	if err := deleteMany(r.d.scopes, bson.D{{Key: "consent_id", Value: consentID(userID, clientID)}})(ctx); err != nil {
		return nil, wrap("grant consent", err)
	}
	return r.Get(ctx, userID, clientID)
}

// Touch records the hour in a document of its own, not in the consent's:
// FerretDB v1 answers an update by reading the document and writing all
// of it back, so a touch of the consent itself could write back scopes a
// concurrent Grant had just replaced, and a user's narrower decision would
// be undone. The use document is upserted by a filter that matches only
// an earlier hour (or none); a later hour already there makes the insert
// a duplicate key, which is nothing to do. Concurrent touches of different
// hours may, on FerretDB, leave the earlier (the next use moves it on). A
// consent that does not exist is left so, and gets no use.
func (r *consentRepo) Touch(ctx context.Context, userID, clientID string, at time.Time) error {
	cid := consentID(userID, clientID)
	hour := at.Truncate(time.Hour)
	err := func() error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		return r.d.consents.FindOne(ctx, bson.D{{Key: "_id", Value: cid}}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	}()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return wrap("touch consent", err)
	}
	filter := bson.D{
		{Key: "_id", Value: cid},
		{Key: "last_used_at", Value: bson.D{{Key: "$lt", Value: hour}}},
	}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "user_id", Value: userID}, {Key: "client_id", Value: clientID}, {Key: "last_used_at", Value: hour},
	}}}
	err = func() error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		_, err := r.d.uses.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
		return err
	}()
	if mongo.IsDuplicateKeyError(err) {
		return nil // that hour or a later one is recorded already
	}
	return wrap("touch consent", err)
}

// usesOf returns the last use of the consents with the given ids.
func (r *consentRepo) usesOf(ctx context.Context, ids []string) (map[string]time.Time, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	docs, err := findAll[useDoc](ctx, r.d.uses, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetLimit(int64(len(ids))))
	if err != nil {
		return nil, err
	}
	m := make(map[string]time.Time, len(docs))
	for _, d := range docs {
		m[d.ID] = d.LastUsedAt.UTC()
	}
	return m, nil
}

func (r *consentRepo) Get(ctx context.Context, userID, clientID string) (*models.Consent, error) {
	var head consentDoc
	err := func() error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		return r.d.consents.FindOne(ctx, bson.D{{Key: "_id", Value: consentID(userID, clientID)}}).Decode(&head)
	}()
	if err != nil {
		return nil, wrap("get consent", err)
	}
	uses, err := r.usesOf(ctx, []string{head.ID})
	if err != nil {
		return nil, wrap("get consent", err)
	}
	if head.Scopes != nil {
		return head.model(*head.Scopes, uses[head.ID]), nil
	}
	scopes, err := r.scopesOf(ctx, []string{head.ID}, maxScopesPerConsent)
	if err != nil {
		return nil, wrap("get consent", err)
	}
	return head.model(scopes[head.ID], uses[head.ID]), nil
}

// scopesOf returns the scopes of the consents with the given ids.
func (r *consentRepo) scopesOf(ctx context.Context, ids []string, limit int64) (map[string][]string, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	docs, err := findAll[scopeDoc](ctx, r.d.scopes, bson.D{{Key: "consent_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, err
	}
	m := make(map[string][]string, len(ids))
	for _, d := range docs {
		m[d.ConsentID] = append(m[d.ConsentID], d.Scope)
	}
	return m, nil
}

func (r *consentRepo) List(ctx context.Context, userID string) ([]*models.Consent, error) {
	heads, err := func() ([]consentDoc, error) {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		return findAll[consentDoc](ctx, r.d.consents, bson.D{{Key: "user_id", Value: userID}},
			options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(maxConsentsPerUser))
	}()
	if err != nil {
		return nil, wrap("list consents", err)
	}
	consents := make([]*models.Consent, len(heads))
	if len(heads) == 0 {
		return consents, nil
	}
	var legacy []string // heads whose scopes are scope documents
	for _, h := range heads {
		if h.Scopes == nil {
			legacy = append(legacy, h.ID)
		}
	}
	scopes := map[string][]string{}
	if len(legacy) > 0 {
		if scopes, err = r.scopesOf(ctx, legacy, int64(len(legacy))*maxScopesPerConsent); err != nil {
			return nil, wrap("list consents", err)
		}
	}
	ids := make([]string, len(heads))
	for i, h := range heads {
		ids[i] = h.ID
	}
	uses, err := r.usesOf(ctx, ids)
	if err != nil {
		return nil, wrap("list consents", err)
	}
	for i, h := range heads {
		if h.Scopes != nil {
			consents[i] = h.model(*h.Scopes, uses[h.ID])
		} else {
			consents[i] = h.model(scopes[h.ID], uses[h.ID])
		}
	}
	return consents, nil
}

// Delete removes the consent's scopes, then its head, then the client's
// codes and tokens for the user. Scopes go before the head so that an
// interruption never leaves scopes without a head, which a later grant
// would bring back; it leaves at worst a head without scopes, which asks
// again for every scope. The deletes of codes and tokens run even when
// there was no consent, so a retry after an interruption finishes them;
// they only ever touch the user's own grants.
func (r *consentRepo) Delete(ctx context.Context, userID, clientID string) error {
	if userID == "" {
		// Tokens without a user are client_credentials tokens; they are
		// not the user's to revoke.
		return models.ErrNotFound
	}
	cid := consentID(userID, clientID)
	var deleted int64
	delHead := func(ctx context.Context) error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		res, err := r.d.consents.DeleteOne(ctx, bson.D{{Key: "_id", Value: cid}})
		if err == nil {
			deleted = res.DeletedCount
		}
		return err
	}
	grants := bson.D{{Key: "user_id", Value: userID}, {Key: "client_id", Value: clientID}}
	for _, step := range []func(context.Context) error{
		deleteMany(r.d.scopes, bson.D{{Key: "consent_id", Value: cid}}),
		deleteMany(r.d.uses, bson.D{{Key: "_id", Value: cid}}),
		delHead,
		// Approved device codes go before the tokens: a device that
		// redeems one in between has its tokens deleted next.
		deleteMany(r.d.devices, grants),
		deleteMany(r.d.tokens, grants),
		deleteMany(r.d.codes, grants),
	} {
		if err := step(ctx); err != nil {
			return wrap("delete consent", err)
		}
	}
	if deleted == 0 {
		return models.ErrNotFound
	}
	return nil
}
