package mongo

import (
	"context"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

type clientRepo struct{ d *db }

var _ models.ClientRepository = (*clientRepo)(nil)

// notDeleting excludes clients whose Delete has begun.
var notDeleting = bson.E{Key: "deleting", Value: bson.D{{Key: "$ne", Value: true}}}

// Create inserts c into a free slot of its owner. The unique index on
// (owner_id, slot), with slots numbered 0 to MaxClientsPerUser-1, makes the
// bound atomic: two concurrent creates that pick the same free slot cannot
// both insert, and the loser looks again. Every lost race is a slot another
// create took, so the loop ends once the owner's slots are full.
//
// A client without an owner (owner_id "") takes a random slot above the
// owners' range instead: the index then only keeps two such clients from
// drawing the same one, and a collision draws again.
func (r *clientRepo) Create(ctx context.Context, c *models.Client) error {
	doc := toClientDoc(c)
	if c.SelfRegistered() {
		for range 8 {
			doc.Slot = models.MaxClientsPerUser + mrand.Int32N(math.MaxInt32-models.MaxClientsPerUser)
			err := r.insert(ctx, doc)
			if err == nil || !mongo.IsDuplicateKeyError(err) {
				return wrap("create client", err)
			}
			if _, err := r.get(ctx, "create client", bson.D{{Key: "_id", Value: c.ID}}); err == nil {
				return models.ErrConflict
			}
		}
		return errors.New("mongo: create client: no free slot for a client without an owner after 8 draws")
	}
	for range 2 * models.MaxClientsPerUser {
		slot, err := r.freeSlot(ctx, c.OwnerID)
		if err != nil {
			return wrap("create client", err)
		}
		if slot < 0 {
			return models.ErrConflict
		}
		doc.Slot = slot
		err = r.insert(ctx, doc)
		if err == nil || !mongo.IsDuplicateKeyError(err) {
			return wrap("create client", err)
		}
		// The duplicate is the slot, unless it is the id itself.
		if _, err := r.get(ctx, "create client", bson.D{{Key: "_id", Value: c.ID}}); err == nil {
			return models.ErrConflict
		}
	}
	return fmt.Errorf("mongo: create client: no free slot found for owner after %d attempts", 2*models.MaxClientsPerUser)
}

func (r *clientRepo) insert(ctx context.Context, doc clientDoc) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.clients.InsertOne(ctx, doc)
	return err
}

// freeSlot returns the lowest slot the owner does not use, or -1 if every
// slot is taken (by clients being deleted, too: they free theirs when gone).
func (r *clientRepo) freeSlot(ctx context.Context, ownerID string) (int32, error) {
	return freeSlot(ctx, r.d.clients, "owner_id", ownerID, models.MaxClientsPerUser)
}

// freeSlot returns the lowest slot in [0, n) that no document of c whose
// field is owner uses, or -1 if every one is taken.
func freeSlot(ctx context.Context, c *mongo.Collection, field, owner string, n int) (int32, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	type slotDoc struct {
		Slot int32 `bson:"slot"`
	}
	docs, err := findAll[slotDoc](ctx, c, bson.D{{Key: field, Value: owner}},
		options.Find().SetProjection(bson.D{{Key: "slot", Value: 1}}).SetLimit(int64(n)))
	if err != nil {
		return 0, err
	}
	used := make([]bool, n)
	for _, d := range docs {
		if d.Slot >= 0 && int(d.Slot) < n {
			used[d.Slot] = true
		}
	}
	for i, u := range used {
		if !u {
			return int32(i), nil
		}
	}
	return -1, nil
}

func (r *clientRepo) Get(ctx context.Context, id string) (*models.Client, error) {
	if !models.ValidClientID(id) {
		return nil, models.ErrNotFound
	}
	return r.get(ctx, "get client", bson.D{{Key: "_id", Value: id}, notDeleting})
}

func (r *clientRepo) GetOwned(ctx context.Context, ownerID, id string) (*models.Client, error) {
	if !models.ValidClientID(id) || ownerID == "" {
		return nil, models.ErrNotFound
	}
	return r.get(ctx, "get client", bson.D{{Key: "_id", Value: id}, {Key: "owner_id", Value: ownerID}, notDeleting})
}

func (r *clientRepo) get(ctx context.Context, what string, filter bson.D) (*models.Client, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d clientDoc
	if err := r.d.clients.FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, wrap(what, err)
	}
	return d.model(), nil
}

// List is bounded by the slots: an owner never has more than
// MaxClientsPerUser clients.
func (r *clientRepo) List(ctx context.Context, ownerID string) ([]*models.Client, error) {
	if ownerID == "" { // the clients without an owner are nobody's
		return []*models.Client{}, nil
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	docs, err := findAll[clientDoc](ctx, r.d.clients, bson.D{{Key: "owner_id", Value: ownerID}, notDeleting},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(models.MaxClientsPerUser))
	if err != nil {
		return nil, wrap("list clients", err)
	}
	clients := make([]*models.Client, len(docs))
	for i := range docs {
		clients[i] = docs[i].model()
	}
	return clients, nil
}

func (r *clientRepo) Update(ctx context.Context, ownerID, id string, u models.ClientUpdate, now time.Time) (*models.Client, error) {
	if !models.ValidClientID(id) || ownerID == "" {
		return nil, models.ErrNotFound
	}
	set := bson.D{{Key: "updated_at", Value: now}}
	if u.Name != nil {
		set = append(set, bson.E{Key: "name", Value: *u.Name})
	}
	if u.RedirectURIs != nil {
		set = append(set, bson.E{Key: "redirect_uris", Value: u.RedirectURIs})
	}
	if u.PostLogoutRedirectURIs != nil {
		set = append(set, bson.E{Key: "post_logout_redirect_uris", Value: u.PostLogoutRedirectURIs})
	}
	if u.SecretHash != nil {
		set = append(set, bson.E{Key: "secret_hash", Value: *u.SecretHash})
	}
	if u.IDTokenSignedResponseAlg != nil {
		set = append(set, bson.E{Key: "id_token_signed_response_alg", Value: *u.IDTokenSignedResponseAlg})
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d clientDoc
	err := r.d.clients.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "owner_id", Value: ownerID}, notDeleting},
		bson.D{{Key: "$set", Value: set}},
		options.FindOneAndUpdate().SetReturnDocument(options.After),
	).Decode(&d)
	if err != nil {
		return nil, wrap("update client", err)
	}
	return d.model(), nil
}

// Delete marks the client first, which hides it from every read so no new
// code or token is issued to it, then removes its tokens, codes and
// consents, and the client document last. An interrupted Delete leaves a
// marked client that a retry (which matches marked clients too) finishes.
func (r *clientRepo) Delete(ctx context.Context, ownerID, id string) error {
	if !models.ValidClientID(id) || ownerID == "" {
		return models.ErrNotFound
	}
	res, err := r.d.mark(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner_id", Value: ownerID}}, false)
	if err != nil {
		return wrap("delete client", err)
	}
	if res == 0 {
		return models.ErrNotFound
	}
	return wrap("delete client", r.d.deleteClients(ctx, []string{id}))
}

// unapprovedBatch bounds one DeleteUnapproved pass; the sweep runs again
// a minute later.
const unapprovedBatch = 1000

// DeleteUnapproved finds the old clients without an owner, keeps those a
// consent names, and deletes the rest as Delete does: marked first, so
// that a user cannot approve one while it goes (a marked client is no
// client to the authorization endpoint).
func (r *clientRepo) DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error) {
	old := bson.D{{Key: "owner_id", Value: ""}, {Key: "created_at", Value: bson.D{{Key: "$lt", Value: registeredBefore}}}}
	ids, err := r.d.clientIDs(ctx, old, unapprovedBatch)
	if err != nil || len(ids) == 0 {
		return 0, wrap("delete unapproved clients", err)
	}
	approved, err := r.d.approvedClients(ctx, ids)
	if err != nil {
		return 0, wrap("delete unapproved clients", err)
	}
	var doomed []string
	for _, id := range ids {
		if !approved[id] {
			doomed = append(doomed, id)
		}
	}
	if len(doomed) == 0 {
		return 0, nil
	}
	if _, err := r.d.mark(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: doomed}}}, {Key: "owner_id", Value: ""}}, true); err != nil {
		return 0, wrap("delete unapproved clients", err)
	}
	// A consent granted between the look and the mark keeps its client.
	if approved, err = r.d.approvedClients(ctx, doomed); err != nil {
		return 0, wrap("delete unapproved clients", err)
	}
	var gone, kept []string
	for _, id := range doomed {
		if approved[id] {
			kept = append(kept, id)
		} else {
			gone = append(gone, id)
		}
	}
	if len(kept) > 0 {
		ctx, cancel := withTimeout(ctx)
		_, err := r.d.clients.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: kept}}}},
			bson.D{{Key: "$unset", Value: bson.D{{Key: "deleting", Value: ""}}}})
		cancel()
		if err != nil {
			return 0, wrap("delete unapproved clients", err)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	return int64(len(gone)), wrap("delete unapproved clients", r.d.deleteClients(ctx, gone))
}

// approvedClients tells which of ids a consent names.
func (d *db) approvedClients(ctx context.Context, ids []string) (map[string]bool, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	type consentDoc struct {
		ClientID string `bson:"client_id"`
	}
	docs, err := findAll[consentDoc](ctx, d.consents, bson.D{{Key: "client_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "client_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	approved := make(map[string]bool, len(docs))
	for _, doc := range docs {
		approved[doc.ClientID] = true
	}
	return approved, nil
}

// mark sets the deleting flag on the clients filter matches and returns how
// many matched.
func (d *db) mark(ctx context.Context, filter bson.D, many bool) (int64, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "deleting", Value: true}}}}
	var res *mongo.UpdateResult
	var err error
	if many {
		res, err = d.clients.UpdateMany(ctx, filter, update)
	} else {
		res, err = d.clients.UpdateOne(ctx, filter, update)
	}
	if err != nil {
		return 0, err
	}
	return res.MatchedCount, nil
}

// deleteOwnedClients deletes every client of the owner as Delete does.
func (d *db) deleteOwnedClients(ctx context.Context, ownerID string) error {
	byOwner := bson.D{{Key: "owner_id", Value: ownerID}}
	if _, err := d.mark(ctx, byOwner, true); err != nil {
		return err
	}
	for {
		ids, err := d.clientIDs(ctx, byOwner, models.MaxClientsPerUser)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := d.deleteClients(ctx, ids); err != nil {
			return err
		}
	}
}

func (d *db) clientIDs(ctx context.Context, filter bson.D, limit int64) ([]string, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	type idDoc struct {
		ID string `bson:"_id"`
	}
	docs, err := findAll[idDoc](ctx, d.clients, filter,
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(limit))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(docs))
	for i, doc := range docs {
		ids[i] = doc.ID
	}
	return ids, nil
}

// deleteClients removes what is held through the (already marked) clients,
// tokens first, and then the clients themselves.
func (d *db) deleteClients(ctx context.Context, ids []string) error {
	byClient := bson.D{{Key: "client_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	for _, step := range []func(context.Context) error{
		deleteMany(d.tokens, byClient),
		deleteMany(d.codes, byClient),
		deleteMany(d.devices, byClient),
		deleteMany(d.scopes, byClient),
		deleteMany(d.uses, byClient),
		deleteMany(d.consents, byClient),
		deleteMany(d.clients, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}),
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}
