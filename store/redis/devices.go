package redis

import (
	"context"
	"errors"
	"time"

	"beerlocker/models"
)

// devices implements models.DeviceCodeRepository: every method is one
// script, so each is atomic on its device code.
type devices struct{ s *Store }

var _ models.DeviceCodeRepository = (*devices)(nil)

var (
	deviceCreate = script("device_create")
	deviceGet    = script("device_get")
	deviceDecide = script("device_decide")
	devicePoll   = script("device_poll")
	deviceRedeem = script("device_redeem")
)

func (r *devices) key(hash string) []string { return []string{r.s.key("d:", hash)} }

func (r *devices) Create(ctx context.Context, d *models.DeviceCode) error {
	return status("create device code", r.s.run(ctx, deviceCreate, r.key(d.Hash),
		d.Hash, d.UserCodeHash, d.ClientID, joinScopes(d.Scopes), d.Interval.Milliseconds(),
		ms(d.CreatedAt), ms(d.ExpiresAt), r.s.grace.Milliseconds(), int(d.Audience)))
}

func (r *devices) GetByUserCode(ctx context.Context, userCodeHash string, now time.Time) (*models.DeviceCode, error) {
	v, err := fields("get device code", r.s.run(ctx, deviceGet, nil, userCodeHash))
	if err != nil {
		return nil, err
	}
	h, _ := v[0].(string)
	d, err := decodeDevice(h, v[1:])
	if err != nil {
		return nil, err
	}
	if d.Expired(now) {
		return nil, models.ErrNotFound
	}
	return d, nil
}

func (r *devices) Decide(ctx context.Context, hash string, d models.DeviceDecision, now time.Time) error {
	if d.Status != models.DeviceApproved && d.Status != models.DeviceDenied {
		return errors.New("redis: decide device code: status must be approved or denied")
	}
	return status("decide device code", r.s.run(ctx, deviceDecide, r.key(hash), hash, d.UserID, string(d.Status), ms(now),
		optionalMS(d.AuthTime), joinScopes(d.Scopes), optionalMS(d.GrantEndsAt)))
}

func (r *devices) Poll(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, bool, error) {
	v, err := fields("poll device code", r.s.run(ctx, devicePoll, r.key(hash),
		clientID, ms(now), models.SlowDownStep.Milliseconds()))
	if err != nil {
		return nil, false, err
	}
	soon, _ := v[0].(int64)
	d, err := decodeDevice(hash, v[1:])
	if err != nil {
		return nil, false, err
	}
	return d, soon == 1, nil
}

func (r *devices) Redeem(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, error) {
	v, err := fields("redeem device code", r.s.run(ctx, deviceRedeem, r.key(hash), clientID, ms(now)))
	if err != nil {
		return nil, err
	}
	return decodeDevice(hash, v)
}

// DeleteUser drops what the user's index du:<user> lists: Decide adds
// every decided code to it.
func (r *devices) DeleteUser(ctx context.Context, userID string) error {
	return r.s.drop(ctx, "delete device codes of user", []dropSpec{{"d", "du:" + userID, ""}})
}

func (r *devices) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	return r.s.deleteExpired(ctx, "d", now)
}

// decodeDevice reads the fields n c s st u iv lp ca ea used at au ge.
func decodeDevice(hash string, v []any) (*models.DeviceCode, error) {
	f, ok := strs(v)
	if !ok || len(f) != 13 {
		return nil, models.ErrNotFound
	}
	d := &models.DeviceCode{Hash: hash, UserCodeHash: f[0], ClientID: f[1], Scopes: splitScopes(f[2]),
		Status: models.DeviceStatus(f[3]), UserID: f[4],
		Interval:  time.Duration(atoi(f[5])) * time.Millisecond,
		CreatedAt: fromMS(atoi(f[7])), ExpiresAt: fromMS(atoi(f[8])), Used: f[9] == "1",
		AuthTime: fromOptionalMS(f[10]), // "" in codes decided before it was kept
		Audience: audience(f[11]), GrantEndsAt: fromOptionalMS(f[12])}
	if lp := atoi(f[6]); lp != 0 {
		d.LastPollAt = fromMS(lp)
	}
	return d, nil
}
