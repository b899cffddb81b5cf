package metrics

import (
	"context"
	"time"

	"beerlocker/models"
)

// WrapStore returns a store whose every repository call is timed into the
// database latency histogram, labelled "<repository>.<method>".
func WrapStore(s *models.Store, m *Metrics) *models.Store {
	w := *s
	w.Users = timedUsers{s.Users, m}
	w.Beers = timedBeers{s.Beers, m}
	w.Clients = timedClients{s.Clients, m}
	w.Consents = timedConsents{s.Consents, m}
	w.Codes = timedCodes{s.Codes, m}
	w.Tokens = timedTokens{s.Tokens, m}
	return &w
}

type timedUsers struct {
	models.UserRepository
	m *Metrics
}

func (r timedUsers) Create(ctx context.Context, u *models.User) error {
	defer r.m.ObserveDB("users.create", time.Now())
	return r.UserRepository.Create(ctx, u)
}

func (r timedUsers) Get(ctx context.Context, id string) (*models.User, error) {
	defer r.m.ObserveDB("users.get", time.Now())
	return r.UserRepository.Get(ctx, id)
}

func (r timedUsers) GetByUsername(ctx context.Context, username string) (*models.User, error) {
	defer r.m.ObserveDB("users.getByUsername", time.Now())
	return r.UserRepository.GetByUsername(ctx, username)
}

func (r timedUsers) UpdatePassword(ctx context.Context, id string, passwordHash string, now time.Time) (*models.User, error) {
	defer r.m.ObserveDB("users.updatePassword", time.Now())
	return r.UserRepository.UpdatePassword(ctx, id, passwordHash, now)
}

func (r timedUsers) Delete(ctx context.Context, id string) error {
	defer r.m.ObserveDB("users.delete", time.Now())
	return r.UserRepository.Delete(ctx, id)
}

type timedBeers struct {
	models.BeerRepository
	m *Metrics
}

func (r timedBeers) Create(ctx context.Context, b *models.Beer) error {
	defer r.m.ObserveDB("beers.create", time.Now())
	return r.BeerRepository.Create(ctx, b)
}

func (r timedBeers) Get(ctx context.Context, ownerID string, id string) (*models.Beer, error) {
	defer r.m.ObserveDB("beers.get", time.Now())
	return r.BeerRepository.Get(ctx, ownerID, id)
}

func (r timedBeers) List(ctx context.Context, ownerID string, p models.Page) ([]*models.Beer, string, error) {
	defer r.m.ObserveDB("beers.list", time.Now())
	return r.BeerRepository.List(ctx, ownerID, p)
}

func (r timedBeers) Update(ctx context.Context, ownerID string, id string, u models.BeerUpdate, now time.Time) (*models.Beer, error) {
	defer r.m.ObserveDB("beers.update", time.Now())
	return r.BeerRepository.Update(ctx, ownerID, id, u, now)
}

func (r timedBeers) Delete(ctx context.Context, ownerID string, id string) error {
	defer r.m.ObserveDB("beers.delete", time.Now())
	return r.BeerRepository.Delete(ctx, ownerID, id)
}

type timedClients struct {
	models.ClientRepository
	m *Metrics
}

func (r timedClients) Create(ctx context.Context, c *models.Client) error {
	defer r.m.ObserveDB("clients.create", time.Now())
	return r.ClientRepository.Create(ctx, c)
}

func (r timedClients) Get(ctx context.Context, id string) (*models.Client, error) {
	defer r.m.ObserveDB("clients.get", time.Now())
	return r.ClientRepository.Get(ctx, id)
}

func (r timedClients) GetOwned(ctx context.Context, ownerID string, id string) (*models.Client, error) {
	defer r.m.ObserveDB("clients.getOwned", time.Now())
	return r.ClientRepository.GetOwned(ctx, ownerID, id)
}

func (r timedClients) List(ctx context.Context, ownerID string) ([]*models.Client, error) {
	defer r.m.ObserveDB("clients.list", time.Now())
	return r.ClientRepository.List(ctx, ownerID)
}

func (r timedClients) Update(ctx context.Context, ownerID string, id string, u models.ClientUpdate, now time.Time) (*models.Client, error) {
	defer r.m.ObserveDB("clients.update", time.Now())
	return r.ClientRepository.Update(ctx, ownerID, id, u, now)
}

func (r timedClients) Delete(ctx context.Context, ownerID string, id string) error {
	defer r.m.ObserveDB("clients.delete", time.Now())
	return r.ClientRepository.Delete(ctx, ownerID, id)
}

type timedConsents struct {
	models.ConsentRepository
	m *Metrics
}

func (r timedConsents) Grant(ctx context.Context, userID string, clientID string, scopes []string, now time.Time) (*models.Consent, error) {
	defer r.m.ObserveDB("consents.grant", time.Now())
	return r.ConsentRepository.Grant(ctx, userID, clientID, scopes, now)
}

func (r timedConsents) Get(ctx context.Context, userID string, clientID string) (*models.Consent, error) {
	defer r.m.ObserveDB("consents.get", time.Now())
	return r.ConsentRepository.Get(ctx, userID, clientID)
}

func (r timedConsents) List(ctx context.Context, userID string) ([]*models.Consent, error) {
	defer r.m.ObserveDB("consents.list", time.Now())
	return r.ConsentRepository.List(ctx, userID)
}

func (r timedConsents) Delete(ctx context.Context, userID string, clientID string) error {
	defer r.m.ObserveDB("consents.delete", time.Now())
	return r.ConsentRepository.Delete(ctx, userID, clientID)
}

type timedCodes struct {
	models.CodeRepository
	m *Metrics
}

func (r timedCodes) Create(ctx context.Context, c *models.Code) error {
	defer r.m.ObserveDB("codes.create", time.Now())
	return r.CodeRepository.Create(ctx, c)
}

func (r timedCodes) Get(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	defer r.m.ObserveDB("codes.get", time.Now())
	return r.CodeRepository.Get(ctx, hash, now)
}

func (r timedCodes) Consume(ctx context.Context, hash string, now time.Time) (*models.Code, error) {
	defer r.m.ObserveDB("codes.consume", time.Now())
	return r.CodeRepository.Consume(ctx, hash, now)
}

func (r timedCodes) DeleteUser(ctx context.Context, userID string) error {
	defer r.m.ObserveDB("codes.deleteUser", time.Now())
	return r.CodeRepository.DeleteUser(ctx, userID)
}

func (r timedCodes) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("codes.deleteExpired", time.Now())
	return r.CodeRepository.DeleteExpired(ctx, now)
}

type timedTokens struct {
	models.TokenRepository
	m *Metrics
}

func (r timedTokens) Create(ctx context.Context, tokens ...*models.Token) error {
	defer r.m.ObserveDB("tokens.create", time.Now())
	return r.TokenRepository.Create(ctx, tokens...)
}

func (r timedTokens) Get(ctx context.Context, hash string, now time.Time) (*models.Token, error) {
	defer r.m.ObserveDB("tokens.get", time.Now())
	return r.TokenRepository.Get(ctx, hash, now)
}

func (r timedTokens) Rotate(ctx context.Context, hash string, now time.Time) error {
	defer r.m.ObserveDB("tokens.rotate", time.Now())
	return r.TokenRepository.Rotate(ctx, hash, now)
}

func (r timedTokens) Revoke(ctx context.Context, hash string) error {
	defer r.m.ObserveDB("tokens.revoke", time.Now())
	return r.TokenRepository.Revoke(ctx, hash)
}

func (r timedTokens) RevokeFamily(ctx context.Context, familyID string) error {
	defer r.m.ObserveDB("tokens.revokeFamily", time.Now())
	return r.TokenRepository.RevokeFamily(ctx, familyID)
}

func (r timedTokens) RevokeUser(ctx context.Context, userID string) error {
	defer r.m.ObserveDB("tokens.revokeUser", time.Now())
	return r.TokenRepository.RevokeUser(ctx, userID)
}

func (r timedTokens) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	defer r.m.ObserveDB("tokens.deleteExpired", time.Now())
	return r.TokenRepository.DeleteExpired(ctx, now)
}
