package redis

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"beerlocker/models"
)

// personalTokens implements models.PersonalTokenRepository in Redis, for
// a deployment that keeps its tokens there (API.md §11). Users live in
// the primary store, so Create asks it whether the user exists, before
// the insert and again after it (see Create).
//
//	P p:<hash>   personal access token (a Redis hash)   P px  by expiry
//	P pu:<user>  the user's tokens (zset of hashes, scored by expiry)
//
// A token's key lives its lifetime plus the store's grace, so that an
// expired token is still listed, as on the other backends, until the
// sweep (DeleteExpired) removes it.
type personalTokens struct {
	s     *Store
	users models.UserRepository
}

var _ models.PersonalTokenRepository = (*personalTokens)(nil)

var (
	patCreate = script("pat_create")
	patDelete = script("pat_delete")
	patTouch  = script("pat_touch")
)

// patFields are the fields a read takes, in order.
var patFields = []string{"i", "u", "n", "s", "ca", "ea", "lu"}

// Create is one script, which checks the per-user limit and inserts, so
// concurrent creates cannot pass the limit together. The user must exist
// before and after it: Users.Delete (see users.Delete) drops the user's
// tokens before and after it deletes the user, so a token inserted while
// the user goes is either dropped by that second drop or found here, by
// the second look, and dropped again.
func (r *personalTokens) Create(ctx context.Context, t *models.PersonalToken) error {
	if _, err := r.users.Get(ctx, t.UserID); err != nil {
		return err
	}
	life := life(t.CreatedAt, t.ExpiresAt) + r.s.grace.Milliseconds()
	err := status("create personal token", r.s.run(ctx, patCreate, nil, t.Hash, t.ID, t.UserID, t.Name,
		joinScopes(t.Scopes), ms(t.CreatedAt), ms(t.ExpiresAt), life, models.MaxPersonalTokensPerUser))
	if err != nil {
		return err
	}
	if _, err := r.users.Get(ctx, t.UserID); err != nil {
		// Gone, or not known to be there: the caller hears of a failure,
		// so the token must not stay behind, unseen, against the limit.
		if derr := r.Delete(ctx, t.UserID, t.ID); derr != nil && !errors.Is(derr, models.ErrNotFound) {
			return errors.Join(err, derr)
		}
		return err
	}
	return nil
}

func (r *personalTokens) GetByHash(ctx context.Context, hash string, now time.Time) (*models.PersonalToken, error) {
	t, err := r.get(ctx, hash)
	if err != nil {
		return nil, err
	}
	if !t.ExpiresAt.After(now) {
		return nil, models.ErrNotFound
	}
	return t, nil
}

// get is one HMGET: the hot path of a request with a personal token.
func (r *personalTokens) get(ctx context.Context, hash string) (*models.PersonalToken, error) {
	v, err := r.s.client.HMGet(ctx, r.s.key("p:", hash), patFields...).Result()
	if err != nil {
		return nil, translate("get personal token", err)
	}
	return personalToken(hash, v)
}

// personalToken reads an HMGET of patFields; ErrNotFound when the key is gone.
func personalToken(hash string, v []any) (*models.PersonalToken, error) {
	f, ok := strs(v)
	if !ok {
		return nil, models.ErrNotFound
	}
	return &models.PersonalToken{ID: f[0], UserID: f[1], Name: f[2], Hash: hash, Scopes: splitScopes(f[3]),
		CreatedAt: fromMS(atoi(f[4])), ExpiresAt: fromMS(atoi(f[5])), LastUsedAt: fromOptionalMS(f[6])}, nil
}

// List reads the user's index and then each token, in one pipeline; a
// token dropped in between is left out. At most MaxPersonalTokensPerUser
// are listed, which Create enforces.
func (r *personalTokens) List(ctx context.Context, userID string) ([]*models.PersonalToken, error) {
	hashes, err := r.s.client.ZRange(ctx, r.s.key("pu:", userID), 0, -1).Result()
	if err != nil {
		return nil, translate("list personal tokens", err)
	}
	list := []*models.PersonalToken{}
	if len(hashes) == 0 {
		return list, nil
	}
	pipe := r.s.client.Pipeline()
	for _, h := range hashes {
		pipe.HMGet(ctx, r.s.key("p:", h), patFields...)
	}
	cmds, err := pipe.Exec(ctx)
	if err != nil {
		return nil, translate("list personal tokens", err)
	}
	for i, c := range cmds {
		v, err := c.(*goredis.SliceCmd).Result()
		if err != nil {
			return nil, translate("list personal tokens", err)
		}
		t, err := personalToken(hashes[i], v)
		if err != nil || t.UserID != userID { // dropped meanwhile: ErrNotFound
			continue
		}
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b *models.PersonalToken) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	if len(list) > models.MaxPersonalTokensPerUser {
		list = list[:models.MaxPersonalTokensPerUser]
	}
	return list, nil
}

func (r *personalTokens) Delete(ctx context.Context, userID, id string) error {
	if userID == "" || id == "" {
		return models.ErrNotFound
	}
	n, err := r.s.run(ctx, patDelete, nil, userID, id).Int64()
	if err != nil {
		return translate("delete personal token", err)
	}
	if n == 0 {
		return models.ErrNotFound
	}
	return nil
}

func (r *personalTokens) DeleteUser(ctx context.Context, userID string) error {
	_, err := r.s.run(ctx, dropIndex, nil, "p", "pu:"+userID, "").Int64()
	return translate("delete user's personal tokens", err)
}

// Touch is one script, so of concurrent touches the latest hour wins.
func (r *personalTokens) Touch(ctx context.Context, hash string, at time.Time) error {
	hour := strconv.FormatInt(ms(at.Truncate(time.Hour)), 10)
	return translate("touch personal token", r.s.run(ctx, patTouch, nil, hash, hour).Err())
}

func (r *personalTokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.s.deleteExpired(ctx, "p", now)
}
