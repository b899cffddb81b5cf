package redis

import (
	"context"
	"strconv"
	"time"

	"beerlocker/models"
)

// codes implements models.CodeRepository.
type codes struct{ s *Store }

var _ models.CodeRepository = (*codes)(nil)

var (
	codeCreate  = script("code_create")
	codeConsume = script("code_consume")
)

// codeFields are the fields a code is read from, in order.
var codeFields = []string{"c", "u", "ru", "s", "cc", "ca", "ea", "used", "ro", "n", "at", "au", "ge"}

func (r *codes) Create(ctx context.Context, c *models.Code) error {
	return status("create code", r.s.run(ctx, codeCreate, []string{r.s.key("c:", c.Hash)},
		c.Hash, c.ClientID, c.UserID, c.RedirectURI, joinScopes(c.Scopes), c.CodeChallenge,
		ms(c.CreatedAt), ms(c.ExpiresAt), r.s.grace.Milliseconds(), bit(c.RedirectURIOmitted),
		c.Nonce, optionalMS(c.AuthTime), int(c.Audience), optionalMS(c.GrantEndsAt)))
}

func (r *codes) Get(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	v, err := r.s.client.HMGet(ctx, r.s.key("c:", hash), codeFields...).Result()
	if err != nil {
		return nil, translate("get code", err)
	}
	c, used, err := decodeCode(hash, v)
	switch {
	case err != nil:
		return nil, err
	case used: // detected even once expired, as Consume does
		return nil, models.ErrConflict
	case !c.ExpiresAt.After(now):
		return nil, models.ErrNotFound
	}
	return c, nil
}

func (r *codes) Consume(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	v, err := fields("consume code", r.s.run(ctx, codeConsume, []string{r.s.key("c:", hash)}, ms(now)))
	if err != nil {
		return nil, err
	}
	c, _, err := decodeCode(hash, v)
	return c, err
}

func (r *codes) DeleteUser(ctx context.Context, userID string) error {
	return r.s.drop(ctx, "delete codes of user", []dropSpec{{"c", "cu:" + userID, ""}})
}

func (r *codes) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.s.deleteExpired(ctx, "c", now)
}

func decodeCode(hash string, v []any) (c *models.Code, used bool, err error) {
	f, ok := strs(v)
	if !ok {
		return nil, false, models.ErrNotFound
	}
	// ro is "" in codes written before it existed: false, the strict value.
	c = &models.Code{Hash: hash, ClientID: f[0], UserID: f[1], RedirectURI: f[2], RedirectURIOmitted: f[8] == "1",
		Scopes: splitScopes(f[3]), CodeChallenge: f[4],
		CreatedAt: fromMS(atoi(f[5])), ExpiresAt: fromMS(atoi(f[6])),
		Nonce: f[9], AuthTime: fromOptionalMS(f[10]), // "" in codes written before they existed
		Audience: audience(f[11]), GrantEndsAt: fromOptionalMS(f[12])}
	return c, f[7] == "1", nil
}

// bit is a boolean as the scripts store it.
func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// optionalMS is a time as the scripts store it, "" for the zero time.
func optionalMS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(ms(t), 10)
}

// fromOptionalMS reads what optionalMS wrote.
func fromOptionalMS(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	return fromMS(atoi(s))
}
