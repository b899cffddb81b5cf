package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
)

// Browser sessions live in the collection sessions, and the consent pages
// open in them in pending_consents, each a document of its own keyed by
// the hash of its transaction id, so that parking one page never rewrites
// another (FerretDB v1 writes a whole document back on every update).
// Take changes a pending consent only after winning its claim (see
// db.claim), "consent/<hash>", so exactly one decision gets through on
// every server.
const (
	colSessions = "sessions"
	colPending  = "pending_consents"
)

type sessionDoc struct {
	Hash      string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func (d *sessionDoc) model() *models.Session {
	return &models.Session{Hash: d.Hash, UserID: d.UserID, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}
}

type pendingDoc struct {
	TxHash      string     `bson:"_id"`
	SessionHash string     `bson:"session_hash"`
	Kind        string     `bson:"kind"`
	Request     string     `bson:"request"`
	CreatedAt   time.Time  `bson:"created_at"`
	ExpiresAt   time.Time  `bson:"expires_at"`
	TakenAt     *time.Time `bson:"taken_at"` // null until Take
}

func (d *pendingDoc) model() *models.PendingConsent {
	return &models.PendingConsent{TxHash: d.TxHash, SessionHash: d.SessionHash, Kind: d.Kind, Request: d.Request,
		CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}
}

// sessionIndexes are the indexes of the session collections, created by
// createIndexes.
func (d *db) sessionIndexes() []index {
	return []index{
		{d.sessions, "user_id", bson.D{{Key: "user_id", Value: 1}}, false},
		{d.pending, "session_hash_created", bson.D{{Key: "session_hash", Value: 1}, {Key: "created_at", Value: -1}}, false},
	}
}

type sessionRepo struct{ d *db }

var _ models.SessionRepository = (*sessionRepo)(nil)

func (r *sessionRepo) Create(ctx context.Context, s *models.Session) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.sessions.InsertOne(ctx, sessionDoc{Hash: s.Hash, UserID: s.UserID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt})
	return wrap("create session", err)
}

func (r *sessionRepo) Get(ctx context.Context, hash string, now time.Time) (*models.Session, error) {
	if hash == "" {
		return nil, models.ErrNotFound
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var d sessionDoc
	err := r.d.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: hash}, unexpired(now)}).Decode(&d)
	if err != nil {
		return nil, wrap("get session", err)
	}
	return d.model(), nil
}

// Delete removes the session first, which ends it, then its pending
// consents; an interrupted Delete leaves consents that nobody can take,
// since taking one needs the session, until they expire.
func (r *sessionRepo) Delete(ctx context.Context, hash string) error {
	if err := deleteMany(r.d.sessions, bson.D{{Key: "_id", Value: hash}})(ctx); err != nil {
		return wrap("delete session", err)
	}
	return wrap("delete session", deleteMany(r.d.pending, bson.D{{Key: "session_hash", Value: hash}})(ctx))
}

// DeleteUser removes the user's sessions, then the pending consents of
// the sessions it found, as Delete does for one.
func (r *sessionRepo) DeleteUser(ctx context.Context, userID string) error {
	return wrap("delete sessions of user", r.d.deleteUserSessions(ctx, userID))
}

func (d *db) deleteUserSessions(ctx context.Context, userID string) error {
	byUser := bson.D{{Key: "user_id", Value: userID}}
	docs, err := func() ([]sessionDoc, error) {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		return findAll[sessionDoc](ctx, d.sessions, byUser, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	}()
	if err != nil {
		return err
	}
	if err := deleteMany(d.sessions, byUser)(ctx); err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	hashes := make([]string, len(docs))
	for i, s := range docs {
		hashes[i] = s.Hash
	}
	return deleteMany(d.pending, bson.D{{Key: "session_hash", Value: bson.D{{Key: "$in", Value: hashes}}}})(ctx)
}

// Park inserts p, then deletes what its session holds beyond the newest
// MaxPendingConsents. The two steps are not atomic: two pages parked at
// once may both survive a moment longer, which bounds the session just
// the same.
func (r *sessionRepo) Park(ctx context.Context, p *models.PendingConsent) error {
	err := func() error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		_, err := r.d.pending.InsertOne(ctx, pendingDoc{TxHash: p.TxHash, SessionHash: p.SessionHash, Kind: p.Kind,
			Request: p.Request, CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt})
		return err
	}()
	if err != nil {
		return wrap("park consent", err)
	}
	bySession := bson.D{{Key: "session_hash", Value: p.SessionHash}}
	old, err := func() ([]pendingDoc, error) {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		return findAll[pendingDoc](ctx, r.d.pending, bySession, options.Find().
			SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).
			SetSkip(models.MaxPendingConsents).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	}()
	if err != nil || len(old) == 0 {
		return wrap("park consent", err)
	}
	ids := make([]string, len(old))
	for i, o := range old {
		ids[i] = o.TxHash
	}
	return wrap("park consent", deleteMany(r.d.pending, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})(ctx))
}

// Take reads the pending consent, wins its claim, then marks it taken:
// the claim, an insert with a unique _id, is what lets exactly one of
// concurrent decisions through on every server.
func (r *sessionRepo) Take(ctx context.Context, sessionHash, txHash, kind string, now time.Time) (*models.PendingConsent, error) {
	if txHash == "" || sessionHash == "" {
		return nil, models.ErrNotFound
	}
	var d pendingDoc
	err := func() error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		return r.d.pending.FindOne(ctx, bson.D{
			{Key: "_id", Value: txHash}, {Key: "session_hash", Value: sessionHash}, {Key: "kind", Value: kind},
		}).Decode(&d)
	}()
	switch {
	case err != nil:
		return nil, wrap("take consent", err)
	case d.TakenAt != nil:
		return nil, models.ErrConflict
	case !d.ExpiresAt.After(now):
		return nil, models.ErrNotFound
	}
	if err := r.d.claim(ctx, "consent/"+txHash, d.ExpiresAt); err != nil {
		return nil, wrap("take consent", err)
	}
	err = func() error {
		ctx, cancel := withTimeout(ctx)
		defer cancel()
		_, err := r.d.pending.UpdateOne(ctx, bson.D{{Key: "_id", Value: txHash}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "taken_at", Value: now}}}})
		return err
	}()
	if err != nil {
		return nil, wrap("take consent", err)
	}
	return d.model(), nil
}

// DeleteExpired removes the expired sessions and pending consents (with
// the claims of the consents), and returns how many of both went.
func (r *sessionRepo) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, c := range []struct {
		what string
		fn   func() (int64, error)
	}{
		{"delete expired pending consents", func() (int64, error) { return r.d.deleteExpired(ctx, r.d.pending, now) }},
		{"delete expired sessions", func() (int64, error) { return r.d.deleteExpired(ctx, r.d.sessions, now) }},
	} {
		n, err := c.fn()
		if err != nil {
			return total, wrap(c.what, err)
		}
		total += n
	}
	return total, nil
}
