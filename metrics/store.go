package metrics

import (
	"context"
	"time"

	"beerlocker/models"
)

// WrapStore returns a store whose every repository call is timed into the
// database latency histogram, labelled "<repository>.<method>" (the
// Store field and the method, in lower camel case: "deviceCodes.redeem").
//
// The wrappers write every method out rather than embed the interface
// they wrap, so that a method added to an interface is a compile error
// here until it is timed, instead of a call that silently goes untimed.
func WrapStore(s *models.Store, m *Metrics) *models.Store {
	w := *s
	w.Users = timedUsers{s.Users, m}
	w.Beers = timedBeers{s.Beers, m}
	w.Clients = timedClients{s.Clients, m}
	w.Consents = timedConsents{s.Consents, m}
	w.Codes = timedCodes{s.Codes, m}
	w.Tokens = timedTokens{s.Tokens, m}
	w.DeviceCodes = timedDeviceCodes{s.DeviceCodes, m}
	w.Sessions = timedSessions{s.Sessions, m}
	w.SigningKeys = timedSigningKeys{s.SigningKeys, m}
	w.Revocations = timedRevocations{s.Revocations, m}
	w.PersonalTokens = timedPersonalTokens{s.PersonalTokens, m}
	return &w
}

var (
	_ models.UserRepository       = timedUsers{}
	_ models.BeerRepository       = timedBeers{}
	_ models.ClientRepository     = timedClients{}
	_ models.ConsentRepository    = timedConsents{}
	_ models.CodeRepository       = timedCodes{}
	_ models.TokenRepository      = timedTokens{}
	_ models.DeviceCodeRepository = timedDeviceCodes{}
	_ models.SessionRepository    = timedSessions{}
	_ models.SigningKeyRepository = timedSigningKeys{}
	_ models.RevocationRepository = timedRevocations{}

	_ models.PersonalTokenRepository = timedPersonalTokens{}
)

type timedUsers struct {
	next models.UserRepository
	m    *Metrics
}

func (r timedUsers) Create(ctx context.Context, u *models.User) error {
	defer r.m.ObserveDB("users.create", time.Now())
	return r.next.Create(ctx, u)
}

func (r timedUsers) Get(ctx context.Context, id string) (*models.User, error) {
	defer r.m.ObserveDB("users.get", time.Now())
	return r.next.Get(ctx, id)
}

func (r timedUsers) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	defer r.m.ObserveDB("users.getByUsername", time.Now())
	return r.next.GetByUsername(ctx, username)
}

func (r timedUsers) UpdatePassword(ctx context.Context, id string, passwordHash string, now time.Time) (*models.User, error) {
	defer r.m.ObserveDB("users.updatePassword", time.Now())
	return r.next.UpdatePassword(ctx, id, passwordHash, now)
}

func (r timedUsers) Delete(ctx context.Context, id string) error {
	defer r.m.ObserveDB("users.delete", time.Now())
	return r.next.Delete(ctx, id)
}

type timedBeers struct {
	next models.BeerRepository
	m    *Metrics
}

func (r timedBeers) Create(ctx context.Context, b *models.Beer) error {
	defer r.m.ObserveDB("beers.create", time.Now())
	return r.next.Create(ctx, b)
}

func (r timedBeers) Get(ctx context.Context, ownerID string, id string) (*models.Beer, error) {
	defer r.m.ObserveDB("beers.get", time.Now())
	return r.next.Get(ctx, ownerID, id)
}

func (r timedBeers) List(ctx context.Context, ownerID string, p models.Page) ([]*models.Beer, string, error) {
	defer r.m.ObserveDB("beers.list", time.Now())
	return r.next.List(ctx, ownerID, p)
}

func (r timedBeers) Update(ctx context.Context, ownerID string, id string, u models.BeerUpdate, now time.Time) (*models.Beer, error) {
	defer r.m.ObserveDB("beers.update", time.Now())
	return r.next.Update(ctx, ownerID, id, u, now)
}

func (r timedBeers) Delete(ctx context.Context, ownerID string, id string) error {
	defer r.m.ObserveDB("beers.delete", time.Now())
	return r.next.Delete(ctx, ownerID, id)
}

type timedClients struct {
	next models.ClientRepository
	m    *Metrics
}

func (r timedClients) Create(ctx context.Context, c *models.Client) error {
	defer r.m.ObserveDB("clients.create", time.Now())
	return r.next.Create(ctx, c)
}

func (r timedClients) Get(ctx context.Context, id string) (*models.Client, error) {
	defer r.m.ObserveDB("clients.get", time.Now())
	return r.next.Get(ctx, id)
}

func (r timedClients) GetOwned(ctx context.Context, ownerID string, id string) (*models.Client, error) {
	defer r.m.ObserveDB("clients.getOwned", time.Now())
	return r.next.GetOwned(ctx, ownerID, id)
}

func (r timedClients) List(ctx context.Context, ownerID string) ([]*models.Client, error) {
	defer r.m.ObserveDB("clients.list", time.Now())
	return r.next.List(ctx, ownerID)
}

func (r timedClients) Update(ctx context.Context, ownerID string, id string, u models.ClientUpdate, now time.Time) (*models.Client, error) {
	defer r.m.ObserveDB("clients.update", time.Now())
	return r.next.Update(ctx, ownerID, id, u, now)
}

func (r timedClients) Delete(ctx context.Context, ownerID string, id string) error {
	defer r.m.ObserveDB("clients.delete", time.Now())
	return r.next.Delete(ctx, ownerID, id)
}

func (r timedClients) DeleteUnapproved(ctx context.Context, registeredBefore time.Time) (int64, error) {
	defer r.m.ObserveDB("clients.deleteUnapproved", time.Now())
	return r.next.DeleteUnapproved(ctx, registeredBefore)
}

type timedConsents struct {
	next models.ConsentRepository
	m    *Metrics
}

func (r timedConsents) Grant(ctx context.Context, userID string, clientID string, scopes []string, until, now time.Time) (*models.Consent, error) {
	defer r.m.ObserveDB("consents.grant", time.Now())
	return r.next.Grant(ctx, userID, clientID, scopes, until, now)
}

func (r timedConsents) Touch(ctx context.Context, userID string, clientID string, at time.Time) error {
	defer r.m.ObserveDB("consents.touch", time.Now())
	return r.next.Touch(ctx, userID, clientID, at)
}

func (r timedConsents) Get(ctx context.Context, userID string, clientID string) (*models.Consent, error) {
	defer r.m.ObserveDB("consents.get", time.Now())
	return r.next.Get(ctx, userID, clientID)
}

func (r timedConsents) List(ctx context.Context, userID string) ([]*models.Consent, error) {
	defer r.m.ObserveDB("consents.list", time.Now())
	return r.next.List(ctx, userID)
}

func (r timedConsents) Delete(ctx context.Context, userID string, clientID string) error {
	defer r.m.ObserveDB("consents.delete", time.Now())
	return r.next.Delete(ctx, userID, clientID)
}

type timedCodes struct {
	next models.CodeRepository
	m    *Metrics
}

func (r timedCodes) Create(ctx context.Context, c *models.Code) error {
	defer r.m.ObserveDB("codes.create", time.Now())
	return r.next.Create(ctx, c)
}

func (r timedCodes) Get(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	defer r.m.ObserveDB("codes.get", time.Now())
	return r.next.Get(ctx, hash, now)
}

func (r timedCodes) Consume(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	defer r.m.ObserveDB("codes.consume", time.Now())
	return r.next.Consume(ctx, hash, now)
}

func (r timedCodes) DeleteUser(ctx context.Context, userID string) error {
	defer r.m.ObserveDB("codes.deleteUser", time.Now())
	return r.next.DeleteUser(ctx, userID)
}

func (r timedCodes) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("codes.deleteExpired", time.Now())
	return r.next.DeleteExpired(ctx, now)
}

type timedTokens struct {
	next models.TokenRepository
	m    *Metrics
}

func (r timedTokens) Create(ctx context.Context, tokens ...*models.Token) error {
	defer r.m.ObserveDB("tokens.create", time.Now())
	return r.next.Create(ctx, tokens...)
}

func (r timedTokens) Get(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	defer r.m.ObserveDB("tokens.get", time.Now())
	return r.next.Get(ctx, hash, now)
}

func (r timedTokens) Rotate(ctx context.Context, hash string, now time.Time) error {
	defer r.m.ObserveDB("tokens.rotate", time.Now())
	return r.next.Rotate(ctx, hash, now)
}

func (r timedTokens) Revoke(ctx context.Context, hash string) error {
	defer r.m.ObserveDB("tokens.revoke", time.Now())
	return r.next.Revoke(ctx, hash)
}

func (r timedTokens) RevokeFamily(ctx context.Context, familyID string) error {
	defer r.m.ObserveDB("tokens.revokeFamily", time.Now())
	return r.next.RevokeFamily(ctx, familyID)
}

func (r timedTokens) RevokeUser(ctx context.Context, userID string) error {
	defer r.m.ObserveDB("tokens.revokeUser", time.Now())
	return r.next.RevokeUser(ctx, userID)
}

func (r timedTokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("tokens.deleteExpired", time.Now())
	return r.next.DeleteExpired(ctx, now)
}

type timedDeviceCodes struct {
	next models.DeviceCodeRepository
	m    *Metrics
}

func (r timedDeviceCodes) Create(ctx context.Context, d *models.DeviceCode) error {
	defer r.m.ObserveDB("deviceCodes.create", time.Now())
	return r.next.Create(ctx, d)
}

func (r timedDeviceCodes) GetByUserCode(ctx context.Context, userCodeHash string, now time.Time) (*models.DeviceCode, error) {
	defer r.m.ObserveDB("deviceCodes.getByUserCode", time.Now())
	return r.next.GetByUserCode(ctx, userCodeHash, now)
}

func (r timedDeviceCodes) Decide(ctx context.Context, hash string, d models.DeviceDecision, now time.Time) error {
	defer r.m.ObserveDB("deviceCodes.decide", time.Now())
	return r.next.Decide(ctx, hash, d, now)
}

func (r timedDeviceCodes) Poll(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, bool, error) {
	defer r.m.ObserveDB("deviceCodes.poll", time.Now())
	return r.next.Poll(ctx, hash, clientID, now)
}

func (r timedDeviceCodes) Redeem(ctx context.Context, hash, clientID string, now time.Time) (*models.DeviceCode, error) {
	defer r.m.ObserveDB("deviceCodes.redeem", time.Now())
	return r.next.Redeem(ctx, hash, clientID, now)
}

func (r timedDeviceCodes) DeleteUser(ctx context.Context, userID string) error {
	defer r.m.ObserveDB("deviceCodes.deleteUser", time.Now())
	return r.next.DeleteUser(ctx, userID)
}

func (r timedDeviceCodes) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("deviceCodes.deleteExpired", time.Now())
	return r.next.DeleteExpired(ctx, now)
}

type timedSessions struct {
	next models.SessionRepository
	m    *Metrics
}

func (r timedSessions) Create(ctx context.Context, s *models.Session) error {
	defer r.m.ObserveDB("sessions.create", time.Now())
	return r.next.Create(ctx, s)
}

func (r timedSessions) Get(ctx context.Context, hash string, now time.Time) (*models.Session, error) {
	defer r.m.ObserveDB("sessions.get", time.Now())
	return r.next.Get(ctx, hash, now)
}

func (r timedSessions) Delete(ctx context.Context, hash string) error {
	defer r.m.ObserveDB("sessions.delete", time.Now())
	return r.next.Delete(ctx, hash)
}

func (r timedSessions) DeleteUser(ctx context.Context, userID string) error {
	defer r.m.ObserveDB("sessions.deleteUser", time.Now())
	return r.next.DeleteUser(ctx, userID)
}

func (r timedSessions) Park(ctx context.Context, p *models.PendingConsent) error {
	defer r.m.ObserveDB("sessions.park", time.Now())
	return r.next.Park(ctx, p)
}

func (r timedSessions) Take(ctx context.Context, sessionHash, txHash, kind string, now time.Time) (*models.PendingConsent, error) {
	defer r.m.ObserveDB("sessions.take", time.Now())
	return r.next.Take(ctx, sessionHash, txHash, kind, now)
}

func (r timedSessions) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("sessions.deleteExpired", time.Now())
	return r.next.DeleteExpired(ctx, now)
}

type timedSigningKeys struct {
	next models.SigningKeyRepository
	m    *Metrics
}

func (r timedSigningKeys) Create(ctx context.Context, k *models.SigningKey) error {
	defer r.m.ObserveDB("signingKeys.create", time.Now())
	return r.next.Create(ctx, k)
}

func (r timedSigningKeys) List(ctx context.Context) ([]*models.SigningKey, error) {
	defer r.m.ObserveDB("signingKeys.list", time.Now())
	return r.next.List(ctx)
}

func (r timedSigningKeys) Delete(ctx context.Context, id string) error {
	defer r.m.ObserveDB("signingKeys.delete", time.Now())
	return r.next.Delete(ctx, id)
}

type timedRevocations struct {
	next models.RevocationRepository
	m    *Metrics
}

func (r timedRevocations) Add(ctx context.Context, rev *models.Revocation) error {
	defer r.m.ObserveDB("revocations.add", time.Now())
	return r.next.Add(ctx, rev)
}

func (r timedRevocations) ListSince(ctx context.Context, since, now time.Time) ([]*models.Revocation, error) {
	defer r.m.ObserveDB("revocations.listSince", time.Now())
	return r.next.ListSince(ctx, since, now)
}

func (r timedRevocations) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("revocations.deleteExpired", time.Now())
	return r.next.DeleteExpired(ctx, now)
}

type timedPersonalTokens struct {
	next models.PersonalTokenRepository
	m    *Metrics
}

func (r timedPersonalTokens) Create(ctx context.Context, t *models.PersonalToken) error {
	defer r.m.ObserveDB("personalTokens.create", time.Now())
	return r.next.Create(ctx, t)
}

func (r timedPersonalTokens) GetByHash(ctx context.Context, hash string, now time.Time) (*models.PersonalToken, error) {
	defer r.m.ObserveDB("personalTokens.getByHash", time.Now())
	return r.next.GetByHash(ctx, hash, now)
}

func (r timedPersonalTokens) List(ctx context.Context, userID string) ([]*models.PersonalToken, error) {
	defer r.m.ObserveDB("personalTokens.list", time.Now())
	return r.next.List(ctx, userID)
}

func (r timedPersonalTokens) Delete(ctx context.Context, userID, id string) error {
	defer r.m.ObserveDB("personalTokens.delete", time.Now())
	return r.next.Delete(ctx, userID, id)
}

func (r timedPersonalTokens) DeleteUser(ctx context.Context, userID string) error {
	defer r.m.ObserveDB("personalTokens.deleteUser", time.Now())
	return r.next.DeleteUser(ctx, userID)
}

func (r timedPersonalTokens) Touch(ctx context.Context, hash string, at time.Time) error {
	defer r.m.ObserveDB("personalTokens.touch", time.Now())
	return r.next.Touch(ctx, hash, at)
}

func (r timedPersonalTokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("personalTokens.deleteExpired", time.Now())
	return r.next.DeleteExpired(ctx, now)
}
