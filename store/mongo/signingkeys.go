package mongo

import (
	"context"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

// colSigningKeys holds the OpenID Connect signing keys. A key's _id is its
// slot, "<alg>/<generation>", so that of two instances creating the same
// generation at once (a first start, a rotation) exactly one insert
// succeeds on every server: a unique _id is the one guarantee FerretDB v1
// gives as firmly as MongoDB (see db.claim). The kid has a unique index of
// its own.
const colSigningKeys = "signing_keys"

type signingKeyDoc struct {
	Slot       string    `bson:"_id"`
	ID         string    `bson:"kid"` // unique
	Alg        string    `bson:"alg"`
	Generation int64     `bson:"generation"`
	PrivateKey []byte    `bson:"private_key"`
	CreatedAt  time.Time `bson:"created_at"`
	ActiveAt   time.Time `bson:"active_at"`
}

func signingKeySlot(alg string, generation int64) string {
	return alg + "/" + strconv.FormatInt(generation, 10)
}

type signingKeyRepo struct{ d *db }

var _ models.SigningKeyRepository = (*signingKeyRepo)(nil)

func (d *db) signingKeyIndexes() []index {
	return []index{{d.signingKeys, "kid_unique", bson.D{{Key: "kid", Value: 1}}, true}}
}

func (r *signingKeyRepo) Create(ctx context.Context, k *models.SigningKey) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.signingKeys.InsertOne(ctx, signingKeyDoc{
		Slot: signingKeySlot(k.Alg, k.Generation), ID: k.ID, Alg: k.Alg, Generation: k.Generation,
		PrivateKey: k.PrivateKey, CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt,
	})
	return wrap("create signing key", err)
}

func (r *signingKeyRepo) List(ctx context.Context) ([]*models.SigningKey, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	docs, err := findAll[signingKeyDoc](ctx, r.d.signingKeys, bson.D{},
		options.Find().SetSort(bson.D{{Key: "alg", Value: 1}, {Key: "generation", Value: 1}}).SetLimit(models.MaxSigningKeys))
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	out := make([]*models.SigningKey, len(docs))
	for i, d := range docs {
		out[i] = &models.SigningKey{ID: d.ID, Alg: d.Alg, Generation: d.Generation, PrivateKey: d.PrivateKey,
			CreatedAt: d.CreatedAt.UTC(), ActiveAt: d.ActiveAt.UTC()}
	}
	return out, nil
}

func (r *signingKeyRepo) Delete(ctx context.Context, id string) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	res, err := r.d.signingKeys.DeleteOne(ctx, bson.D{{Key: "kid", Value: id}})
	if err != nil {
		return wrap("delete signing key", err)
	}
	if res.DeletedCount == 0 {
		return models.ErrNotFound
	}
	return nil
}
