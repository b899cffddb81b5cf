package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

type beerRepo struct{ d *db }

var _ models.BeerRepository = (*beerRepo)(nil)

// maxPageLimit is the largest page List returns (models.Page allows 1–100).
const maxPageLimit = 100

func (r *beerRepo) Create(ctx context.Context, b *models.Beer) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.beers.InsertOne(ctx, toBeerDoc(b))
	return wrap("create beer", err)
}

func (r *beerRepo) Get(ctx context.Context, ownerID, id string) (*models.Beer, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d beerDoc
	err := r.d.beers.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner_id", Value: ownerID}}).Decode(&d)
	if err != nil {
		return nil, wrap("get beer", err)
	}
	return d.model(), nil
}

// List pages by keyset: ids sort by creation time, so the page after a
// cursor is the owner's beers with a smaller id, in descending id order.
// It asks for one more than the limit to learn whether a next page exists.
func (r *beerRepo) List(ctx context.Context, ownerID string, p models.Page) ([]*models.Beer, string, error) {
	limit := min(max(p.Limit, 1), maxPageLimit)
	filter := bson.D{{Key: "owner_id", Value: ownerID}}
	if p.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: p.After}}})
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	docs, err := findAll[beerDoc](ctx, r.d.beers, filter,
		options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit+1)))
	if err != nil {
		return nil, "", wrap("list beers", err)
	}
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		next = docs[limit-1].ID
	}
	beers := make([]*models.Beer, len(docs))
	for i := range docs {
		beers[i] = docs[i].model()
	}
	return beers, next, nil
}

func (r *beerRepo) Update(ctx context.Context, ownerID, id string, u models.BeerUpdate, now time.Time) (*models.Beer, error) {
	if !models.ValidID(id) {
		return nil, models.ErrNotFound
	}
	set := bson.D{{Key: "updated_at", Value: now}}
	if u.Name != nil {
		set = append(set, bson.E{Key: "name", Value: *u.Name})
	}
	if u.Type != nil {
		set = append(set, bson.E{Key: "type", Value: *u.Type})
	}
	if u.Quantity != nil {
		set = append(set, bson.E{Key: "quantity", Value: int64(*u.Quantity)})
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d beerDoc
	err := r.d.beers.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "owner_id", Value: ownerID}},
		bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&d)
	if err != nil {
		return nil, wrap("update beer", err)
	}
	return d.model(), nil
}

func (r *beerRepo) Delete(ctx context.Context, ownerID, id string) error {
	if !models.ValidID(id) {
		return models.ErrNotFound
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	res, err := r.d.beers.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner_id", Value: ownerID}})
	if err != nil {
		return wrap("delete beer", err)
	}
	if res.DeletedCount == 0 {
		return models.ErrNotFound
	}
	return nil
}
