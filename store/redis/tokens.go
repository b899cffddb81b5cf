package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"beerlocker/models"
)

// tokens implements models.TokenRepository. A revoked token is deleted,
// and every instance is told to drop it from its bearer cache (see
// revocations).
type tokens struct{ s *Store }

var _ models.TokenRepository = (*tokens)(nil)

var (
	tokenCreate = script("token_create")
	tokenRotate = script("token_rotate")
	tokenRevoke = script("token_revoke")
	dropIndex   = script("drop_index")
	dropExpired = script("expire")
)

// tokenFields are the fields Get reads, in order.
var tokenFields = []string{"k", "c", "u", "s", "f", "ca", "ea", "r", "ga", "at", "au", "ge"}

func (r *tokens) Create(ctx context.Context, list ...*models.Token) error {
	if len(list) == 0 {
		return nil
	}
	args := make([]any, 0, 12*len(list))
	for _, t := range list {
		granted := "" // the zero time
		if !t.GrantedAt.IsZero() {
			granted = strconv.FormatInt(ms(t.GrantedAt), 10)
		}
		args = append(args, t.Hash, string(t.Kind), t.ClientID, t.UserID, joinScopes(t.Scopes),
			t.FamilyID, ms(t.CreatedAt), ms(t.ExpiresAt), granted, optionalMS(t.AuthTime), int(t.Audience),
			optionalMS(t.GrantEndsAt))
	}
	return status("create tokens", r.s.run(ctx, tokenCreate, nil, args...))
}

// Get is one HMGET: the hot path of every bearer request the cache misses.
func (r *tokens) Get(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	v, err := r.s.client.HMGet(ctx, r.s.key("t:", hash), tokenFields...).Result()
	if err != nil {
		return nil, translate("get token", err)
	}
	f, ok := strs(v)
	if !ok {
		return nil, models.ErrNotFound
	}
	t := &models.Token{Hash: hash, Kind: models.TokenKind(f[0]), ClientID: f[1], UserID: f[2],
		Scopes: splitScopes(f[3]), FamilyID: f[4], CreatedAt: fromMS(atoi(f[5])),
		ExpiresAt: fromMS(atoi(f[6]))}
	// r: "0" until rotated, then the time it was; "1" in tokens rotated
	// before the time was kept.
	if f[7] != "" && f[7] != "0" {
		t.Rotated = true
		if f[7] != "1" {
			t.RotatedAt = fromMS(atoi(f[7]))
		}
	}
	if f[8] != "" { // "" for the zero time, and in tokens written before ga existed
		t.GrantedAt = fromMS(atoi(f[8]))
	}
	t.AuthTime = fromOptionalMS(f[9])
	t.Audience = audience(f[10]) // "" in tokens written before audiences
	t.GrantEndsAt = fromOptionalMS(f[11])
	if !t.ExpiresAt.After(now) {
		return nil, models.ErrNotFound
	}
	return t, nil
}

// Rotate tells every instance, so that none keeps a cached copy that
// still says "not rotated" (introspection would call it active).
func (r *tokens) Rotate(ctx context.Context, hash string, now time.Time) error {
	if err := status("rotate token", r.s.run(ctx, tokenRotate, []string{r.s.key("t:", hash)}, ms(now))); err != nil {
		return err
	}
	return r.s.revoked.publish(ctx, evictHash(hash))
}

func (r *tokens) Revoke(ctx context.Context, hash string) error {
	if err := r.s.run(ctx, tokenRevoke, nil, hash).Err(); err != nil {
		return translate("revoke token", err)
	}
	// Published even when Redis held no such token: a sealed access
	// token is in no store, and every instance must read its revocation.
	return r.s.revoked.publish(ctx, evictHash(hash))
}

func (r *tokens) RevokeFamily(ctx context.Context, familyID string) error {
	if familyID == "" {
		return nil // not a family: "" must not match every token without one
	}
	return r.s.drop(ctx, "revoke token family", []dropSpec{{"t", "tf:" + familyID, ""}}, evictFamily(familyID))
}

// RevokeUser tells every instance even when the user had no token: a
// password change calls it, and the event also drops the credentials each
// instance verified for the user (see app.Caches), which would otherwise
// accept the old password there for up to a minute. It returns once every
// instance has (see revocations).
func (r *tokens) RevokeUser(ctx context.Context, userID string) error {
	if err := r.s.drop(ctx, "revoke user tokens", []dropSpec{{"t", "tu:" + userID, ""}}); err != nil {
		return err
	}
	return r.s.revoked.publish(ctx, evictUser(userID))
}

func (r *tokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.s.deleteExpired(ctx, "t", now)
}

// dropSpec names the objects of one kind ("t", "c" or "d") an index lists,
// only those of client when it is not empty.
type dropSpec struct{ kind, index, client string }

// drop deletes what specs name, in one script, and then tells every
// instance's cache about the tokens among them.
func (s *Store) drop(ctx context.Context, op string, specs []dropSpec, events ...string) error {
	args := make([]any, 0, 3*len(specs))
	for _, d := range specs {
		args = append(args, d.kind, d.index, d.client)
	}
	n, err := s.run(ctx, dropIndex, nil, args...).Int64()
	if err != nil {
		return translate(op, err)
	}
	if n == 0 {
		return nil
	}
	return s.revoked.publish(ctx, events...)
}

// expireBatch bounds the work of one expiry script, so a sweep never
// blocks Redis for long; deleteExpired runs as many as it takes.
const expireBatch = 500

func (s *Store) deleteExpired(ctx context.Context, kind string, now time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.run(ctx, dropExpired, nil, kind, ms(now), expireBatch).Int64()
		if err != nil {
			return total, translate("delete expired", err)
		}
		total += n
		if n < expireBatch {
			return total, nil
		}
	}
}

// status turns a script's status reply into an error.
func status(op string, cmd *goredis.Cmd) error {
	v, err := cmd.Text()
	if err != nil {
		return translate(op, err)
	}
	return statusErr(op, v)
}

func statusErr(op, v string) error {
	switch v {
	case "OK":
		return nil
	case "NOTFOUND":
		return models.ErrNotFound
	case "CONFLICT":
		return models.ErrConflict
	}
	return fmt.Errorf("redis: %s: unexpected script reply %q", op, v)
}

// fields reads a script's reply that is either a status (turned into an
// error) or an array of fields.
func fields(op string, cmd *goredis.Cmd) ([]any, error) {
	v, err := cmd.Result()
	if err != nil {
		return nil, translate(op, err)
	}
	if st, ok := v.(string); ok {
		return nil, statusErr(op, st)
	}
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("redis: %s: unexpected script reply %T", op, v)
	}
	return a, nil
}

// strs converts an HMGET reply to strings; ok is false when the key does
// not exist (every field nil).
func strs(v []any) (out []string, ok bool) {
	out = make([]string, len(v))
	for i, x := range v {
		switch x := x.(type) {
		case string:
			out[i], ok = x, true
		case int64:
			out[i], ok = strconv.FormatInt(x, 10), true
		}
	}
	return out, ok
}

// audience reads a stored audience; "" (written before audiences) and
// anything unknown read as 0, the REST API.
func audience(s string) models.Audience {
	a := models.Audience(atoi(s))
	if !a.Valid() {
		return 0
	}
	return a
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
