package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"beerlocker/models"
)

// Device authorizations (RFC 8628) live in two collections:
//
//   - device_codes holds the authorization itself. Only Decide and Redeem
//     change it, and each does so only after winning a claim (see
//     db.claim): "device/decide/<hash>" and "device/redeem/<hash>". Two
//     writers of one document therefore never overlap, which matters on
//     FerretDB v1, whose updates read the document and write all of it
//     back, so that two concurrent updates of different fields can undo
//     each other.
//   - device_polls holds the polling state (last poll, interval), the one
//     part that changes on every poll. Keeping it apart means a poll can
//     never write back a stale status over a decision. Polls are recorded
//     by compare-and-swap on last_poll_at.
const (
	colDevices     = "device_codes"
	colDevicePolls = "device_polls"
)

// maxPollCAS bounds the compare-and-swap retries of one poll. A poll that
// keeps losing to concurrent polls of the same code is too soon by
// definition.
const maxPollCAS = 3

type deviceDoc struct {
	Hash         string     `bson:"_id"`
	UserCodeHash string     `bson:"user_code_hash"` // unique
	ClientID     string     `bson:"client_id"`
	Scopes       []string   `bson:"scopes"`
	Status       string     `bson:"status"`
	UserID       string     `bson:"user_id"`     // "" until decided
	IntervalMS   int64      `bson:"interval_ms"` // as created; the current one is in the poll document
	CreatedAt    time.Time  `bson:"created_at"`
	ExpiresAt    time.Time  `bson:"expires_at"`
	UsedAt       *time.Time `bson:"used_at"` // null until Redeem
	// AuthTime is set by Decide; absent on documents written before it.
	AuthTime *time.Time `bson:"auth_time,omitempty"`
	// Absent (0, the REST API) in documents written before audiences.
	Audience models.Audience `bson:"audience,omitempty"`
	// GrantEndsAt is set by Decide when the user chose an end; absent for
	// until revoked.
	GrantEndsAt *time.Time `bson:"grant_ends_at,omitempty"`
}

// devicePollDoc is the polling state of a device code, created by its
// first poll.
type devicePollDoc struct {
	Hash       string    `bson:"_id"`
	LastPollAt time.Time `bson:"last_poll_at"`
	IntervalMS int64     `bson:"interval_ms"`
	ExpiresAt  time.Time `bson:"expires_at"`
}

func toDeviceDoc(d *models.DeviceCode) deviceDoc {
	return deviceDoc{
		Hash:         d.Hash,
		UserCodeHash: d.UserCodeHash,
		ClientID:     d.ClientID,
		Scopes:       nonNil(d.Scopes),
		Status:       string(models.DevicePending),
		IntervalMS:   d.Interval.Milliseconds(),
		CreatedAt:    d.CreatedAt,
		ExpiresAt:    d.ExpiresAt,
		Audience:     d.Audience,
	}
}

// model joins the device document with its polling state, if any.
func (d *deviceDoc) model(poll *devicePollDoc) *models.DeviceCode {
	m := &models.DeviceCode{
		Hash:         d.Hash,
		UserCodeHash: d.UserCodeHash,
		ClientID:     d.ClientID,
		Scopes:       d.Scopes,
		Status:       models.DeviceStatus(d.Status),
		UserID:       d.UserID,
		Interval:     time.Duration(d.IntervalMS) * time.Millisecond,
		CreatedAt:    d.CreatedAt.UTC(),
		ExpiresAt:    d.ExpiresAt.UTC(),
		Used:         d.UsedAt != nil,
		Audience:     d.Audience,
		GrantEndsAt:  timeOrZero(d.GrantEndsAt),
	}
	if d.AuthTime != nil {
		m.AuthTime = d.AuthTime.UTC()
	}
	if poll != nil {
		m.LastPollAt = poll.LastPollAt.UTC()
		m.Interval = time.Duration(poll.IntervalMS) * time.Millisecond
	}
	return m
}

// deviceIndexes are the indexes of the device collections, created by
// createIndexes.
func (d *db) deviceIndexes() []index {
	return []index{
		{d.devices, "user_code_hash_unique", bson.D{{Key: "user_code_hash", Value: 1}}, true},
		{d.devices, "client_id", bson.D{{Key: "client_id", Value: 1}}, false},
		{d.devices, "user_id", bson.D{{Key: "user_id", Value: 1}}, false},
	}
}

type deviceRepo struct{ d *db }

var _ models.DeviceCodeRepository = (*deviceRepo)(nil)

// Create first deletes an expired code holding the same user code, so that
// only live codes collide on the unique user_code_hash.
func (r *deviceRepo) Create(ctx context.Context, dc *models.DeviceCode) error {
	stale := bson.D{
		{Key: "user_code_hash", Value: dc.UserCodeHash},
		{Key: "expires_at", Value: bson.D{{Key: "$lte", Value: dc.CreatedAt}}},
	}
	if err := deleteMany(r.d.devices, stale)(ctx); err != nil {
		return wrap("create device code", err)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.devices.InsertOne(ctx, toDeviceDoc(dc))
	return wrap("create device code", err)
}

func (r *deviceRepo) GetByUserCode(ctx context.Context, userCodeHash string, now time.Time) (*models.DeviceCode, error) {
	doc, err := r.find(ctx, bson.D{{Key: "user_code_hash", Value: userCodeHash}, unexpired(now)})
	if err != nil {
		return nil, wrap("get device code", err)
	}
	poll, err := r.findPoll(ctx, doc.Hash)
	if err != nil {
		return nil, wrap("get device code", err)
	}
	return doc.model(poll), nil
}

// Decide wins the decision claim before it writes, so that of concurrent
// decisions exactly one is recorded on every server.
func (r *deviceRepo) Decide(ctx context.Context, hash string, d models.DeviceDecision, now time.Time) error {
	if d.Status != models.DeviceApproved && d.Status != models.DeviceDenied {
		return errors.New("mongo: decide device code: status must be approved or denied")
	}
	doc, err := r.find(ctx, bson.D{{Key: "_id", Value: hash}, unexpired(now)})
	if err != nil {
		return wrap("decide device code", err)
	}
	if doc.Status != string(models.DevicePending) {
		return models.ErrConflict
	}
	if err := r.d.claim(ctx, "device/decide/"+hash, doc.ExpiresAt); err != nil {
		return wrap("decide device code", err)
	}
	set := bson.D{{Key: "status", Value: string(d.Status)}, {Key: "user_id", Value: d.UserID}}
	if !d.AuthTime.IsZero() {
		set = append(set, bson.E{Key: "auth_time", Value: d.AuthTime})
	}
	if d.Scopes != nil {
		set = append(set, bson.E{Key: "scopes", Value: d.Scopes})
	}
	if !d.GrantEndsAt.IsZero() {
		set = append(set, bson.E{Key: "grant_ends_at", Value: d.GrantEndsAt})
	}
	return wrap("decide device code", r.set(ctx, hash, set))
}

// Poll records the poll by compare-and-swap on the polling state: the
// write succeeds only if no other poll was recorded since this one read
// it, and is retried otherwise.
func (r *deviceRepo) Poll(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, bool, error) {
	doc, err := r.find(ctx, bson.D{{Key: "_id", Value: hash}, {Key: "client_id", Value: clientID}})
	if err != nil {
		return nil, false, wrap("poll device code", err)
	}
	var dc *models.DeviceCode
	for range maxPollCAS {
		poll, err := r.findPoll(ctx, hash)
		if err != nil {
			return nil, false, wrap("poll device code", err)
		}
		dc = doc.model(poll)
		if dc.Used || dc.Expired(now) {
			return dc, false, nil
		}
		tooSoon := dc.PollTooSoon(now)
		if tooSoon {
			dc.Interval += models.SlowDownStep
		}
		next := devicePollDoc{Hash: hash, LastPollAt: now, IntervalMS: dc.Interval.Milliseconds(), ExpiresAt: doc.ExpiresAt}
		swapped, err := r.swapPoll(ctx, poll, next)
		if err != nil {
			return nil, false, wrap("poll device code", err)
		}
		if swapped {
			dc.LastPollAt = now
			return dc, tooSoon, nil
		}
	}
	// Every attempt lost to another poll of this code at the same moment.
	return dc, true, nil
}

// swapPoll replaces the polling state prev (nil: none yet) with next, and
// reports false if another poll changed it first.
func (r *deviceRepo) swapPoll(ctx context.Context, prev *devicePollDoc, next devicePollDoc) (bool, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	if prev == nil {
		_, err := r.d.devicePolls.InsertOne(ctx, next)
		if mongo.IsDuplicateKeyError(err) {
			return false, nil
		}
		return err == nil, err
	}
	res, err := r.d.devicePolls.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: next.Hash}, {Key: "last_poll_at", Value: prev.LastPollAt}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "last_poll_at", Value: next.LastPollAt},
			{Key: "interval_ms", Value: next.IntervalMS},
		}}})
	if err != nil {
		return false, err
	}
	return res.MatchedCount == 1, nil
}

// Redeem wins the redemption claim before it marks the code used: the
// claim, an insert with a unique _id, is what lets exactly one of
// concurrent redemptions through on every server.
func (r *deviceRepo) Redeem(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, error) {
	doc, err := r.find(ctx, bson.D{{Key: "_id", Value: hash}, {Key: "client_id", Value: clientID}})
	if err != nil {
		return nil, wrap("redeem device code", err)
	}
	dc := doc.model(nil)
	switch {
	case dc.Used: // detected even once expired
		return nil, models.ErrConflict
	case dc.Expired(now) || dc.Status != models.DeviceApproved:
		return nil, models.ErrNotFound
	}
	if err := r.d.claim(ctx, "device/redeem/"+hash, doc.ExpiresAt); err != nil {
		return nil, wrap("redeem device code", err)
	}
	if err := r.set(ctx, hash, bson.D{{Key: "used_at", Value: now}}); err != nil {
		return nil, wrap("redeem device code", err)
	}
	dc.Used = true
	return dc, nil
}

// DeleteUser removes the codes the user decided. Their polling state and
// claims stay until they expire: both are keyed by the code's hash and
// mean nothing without the code.
func (r *deviceRepo) DeleteUser(ctx context.Context, userID string) error {
	if userID == "" {
		return nil // "" is every pending code's user_id
	}
	return wrap("delete device codes of user", deleteMany(r.d.devices, bson.D{{Key: "user_id", Value: userID}})(ctx))
}

// DeleteExpired removes the device codes, their polling state and their
// claims that expired before now, and returns how many codes went.
func (r *deviceRepo) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	n, err := r.d.deleteExpired(ctx, r.d.devices, now)
	if err != nil {
		return 0, wrap("delete expired device codes", err)
	}
	expired := bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now}}}}
	if err := deleteMany(r.d.devicePolls, expired)(ctx); err != nil {
		return 0, wrap("delete expired device codes", err)
	}
	return n, nil
}

func (r *deviceRepo) find(ctx context.Context, filter bson.D) (*deviceDoc, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var doc deviceDoc
	if err := r.d.devices.FindOne(ctx, filter).Decode(&doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// findPoll returns the polling state of the code, or nil before its first poll.
func (r *deviceRepo) findPoll(ctx context.Context, hash string) (*devicePollDoc, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var poll devicePollDoc
	err := r.d.devicePolls.FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&poll)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &poll, nil
}

// set writes fields of the device document; callers hold the claim that
// makes them its only writer.
func (r *deviceRepo) set(ctx context.Context, hash string, fields bson.D) error {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	_, err := r.d.devices.UpdateOne(ctx, bson.D{{Key: "_id", Value: hash}}, bson.D{{Key: "$set", Value: fields}})
	return err
}
