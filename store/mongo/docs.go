package mongo

import (
	"time"

	"beerlocker/models"
)

// The document structs below are the only shapes that reach the database.
// Ids are models.NewID strings stored as _id, so the primary index orders
// by creation time; hashes of codes and tokens are the _id of their
// documents. Times are BSON datetimes (millisecond precision) and come
// back in UTC.

type userDoc struct {
	ID           string    `bson:"_id"`
	Username     string    `bson:"username"`
	UsernameKey  string    `bson:"username_key"` // models.UsernameKey(Username), unique
	PasswordHash string    `bson:"password_hash"`
	CreatedAt    time.Time `bson:"created_at"`
	UpdatedAt    time.Time `bson:"updated_at"`
}

func toUserDoc(u *models.User) userDoc {
	return userDoc{
		ID:           u.ID,
		Username:     u.Username,
		UsernameKey:  models.UsernameKey(u.Username),
		PasswordHash: u.PasswordHash,
		CreatedAt:    u.CreatedAt,
		UpdatedAt:    u.UpdatedAt,
	}
}

func (d *userDoc) model() *models.User {
	return &models.User{
		ID:           d.ID,
		Username:     d.Username,
		PasswordHash: d.PasswordHash,
		CreatedAt:    d.CreatedAt.UTC(),
		UpdatedAt:    d.UpdatedAt.UTC(),
	}
}

type beerDoc struct {
	ID        string    `bson:"_id"`
	OwnerID   string    `bson:"owner_id"`
	Name      string    `bson:"name"`
	Type      string    `bson:"type"`
	Quantity  int64     `bson:"quantity"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
}

func toBeerDoc(b *models.Beer) beerDoc {
	return beerDoc{
		ID:        b.ID,
		OwnerID:   b.OwnerID,
		Name:      b.Name,
		Type:      b.Type,
		Quantity:  int64(b.Quantity),
		CreatedAt: b.CreatedAt,
		UpdatedAt: b.UpdatedAt,
	}
}

func (d *beerDoc) model() *models.Beer {
	return &models.Beer{
		ID:        d.ID,
		OwnerID:   d.OwnerID,
		Name:      d.Name,
		Type:      d.Type,
		Quantity:  int(d.Quantity),
		CreatedAt: d.CreatedAt.UTC(),
		UpdatedAt: d.UpdatedAt.UTC(),
	}
}

type clientDoc struct {
	ID           string   `bson:"_id"`
	OwnerID      string   `bson:"owner_id"`
	Name         string   `bson:"name"`
	SecretHash   string   `bson:"secret_hash"`
	RedirectURIs []string `bson:"redirect_uris"`
	// PostLogoutRedirectURIs is absent on documents written before it.
	PostLogoutRedirectURIs []string `bson:"post_logout_redirect_uris,omitempty"`
	GrantTypes             []string `bson:"grant_types"`
	Public                 bool     `bson:"public"`
	// IDTokenAlg is absent for the default, RS256.
	IDTokenAlg string    `bson:"id_token_signed_response_alg,omitempty"`
	CreatedAt  time.Time `bson:"created_at"`
	UpdatedAt  time.Time `bson:"updated_at"`
	// Slot is a number in [0, models.MaxClientsPerUser), unique per owner:
	// the unique index on (owner_id, slot) is what bounds how many clients
	// one user has, atomically and without a transaction.
	Slot int32 `bson:"slot"`
	// Deleting marks a client whose Delete has begun: it is invisible to
	// every read, so no new grant uses it, while its codes, tokens and
	// consents are removed. The document itself goes last, so an
	// interrupted Delete can be retried.
	Deleting bool `bson:"deleting,omitempty"`
}

func toClientDoc(c *models.Client) clientDoc {
	return clientDoc{
		ID:                     c.ID,
		OwnerID:                c.OwnerID,
		Name:                   c.Name,
		SecretHash:             c.SecretHash,
		RedirectURIs:           nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		GrantTypes:             nonNil(c.GrantTypes),
		Public:                 c.Public,
		IDTokenAlg:             c.IDTokenSignedResponseAlg,
		CreatedAt:              c.CreatedAt,
		UpdatedAt:              c.UpdatedAt,
	}
}

func (d *clientDoc) model() *models.Client {
	return &models.Client{
		ID:                       d.ID,
		OwnerID:                  d.OwnerID,
		Name:                     d.Name,
		SecretHash:               d.SecretHash,
		RedirectURIs:             d.RedirectURIs,
		PostLogoutRedirectURIs:   d.PostLogoutRedirectURIs,
		GrantTypes:               d.GrantTypes,
		Public:                   d.Public,
		IDTokenSignedResponseAlg: d.IDTokenAlg,
		CreatedAt:                d.CreatedAt.UTC(),
		UpdatedAt:                d.UpdatedAt.UTC(),
	}
}

// consentDoc is the head of a consent, keyed by consentID(user, client),
// which makes the pair unique without another index. Its scopes are
// separate scopeDocs: see consentRepo.Grant for why.
type consentDoc struct {
	ID       string `bson:"_id"`
	UserID   string `bson:"user_id"`
	ClientID string `bson:"client_id"`
	// Scopes are the consent's scopes, set whole by each Grant. nil in a
	// consent written before grants replaced scopes: its scopes are then
	// the scopeDocs (the merge of every grant).
	Scopes    *[]string `bson:"scopes,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
	UpdatedAt time.Time `bson:"updated_at"`
	// Absent for a consent until revoked, and in documents written before
	// grants had an end.
	ExpiresAt *time.Time `bson:"expires_at,omitempty"`
}

// useDoc is a consent's last use, kept apart from the consent (see
// consentRepo.Touch); absent until the first use.
type useDoc struct {
	ID         string    `bson:"_id"` // the consent's
	UserID     string    `bson:"user_id"`
	ClientID   string    `bson:"client_id"`
	LastUsedAt time.Time `bson:"last_used_at"`
}

func consentID(userID, clientID string) string { return userID + "/" + clientID }

func (d *consentDoc) model(scopes []string, lastUsed time.Time) *models.Consent {
	return &models.Consent{
		UserID:     d.UserID,
		ClientID:   d.ClientID,
		Scopes:     scopes,
		CreatedAt:  d.CreatedAt.UTC(),
		UpdatedAt:  d.UpdatedAt.UTC(),
		ExpiresAt:  timeOrZero(d.ExpiresAt),
		LastUsedAt: lastUsed,
	}
}

// scopeDoc is one scope of a consent. The _id joins the consent id and the
// scope with a space, which a scope never contains (RFC 6749 §3.3).
type scopeDoc struct {
	ID        string `bson:"_id"`
	ConsentID string `bson:"consent_id"`
	UserID    string `bson:"user_id"`
	ClientID  string `bson:"client_id"`
	Scope     string `bson:"scope"`
}

type codeDoc struct {
	Hash        string `bson:"_id"`
	ClientID    string `bson:"client_id"`
	UserID      string `bson:"user_id"`
	RedirectURI string `bson:"redirect_uri"`
	// Absent (false) in documents written before it existed: the strict value.
	RedirectURIOmitted bool       `bson:"redirect_uri_omitted,omitempty"`
	Scopes             []string   `bson:"scopes"`
	CodeChallenge      string     `bson:"code_challenge"`
	CreatedAt          time.Time  `bson:"created_at"`
	ExpiresAt          time.Time  `bson:"expires_at"`
	UsedAt             *time.Time `bson:"used_at"` // null until Consume
	// OpenID Connect; absent in older documents and when not given.
	Nonce    string     `bson:"nonce,omitempty"`
	AuthTime *time.Time `bson:"auth_time,omitempty"`
	// Absent (0, the REST API) in documents written before audiences.
	Audience models.Audience `bson:"audience,omitempty"`
	// Absent for a grant until revoked, and in documents written before
	// grants had an end.
	GrantEndsAt *time.Time `bson:"grant_ends_at,omitempty"`
}

func toCodeDoc(c *models.Code) codeDoc {
	d := codeDoc{
		Hash:               c.Hash,
		ClientID:           c.ClientID,
		UserID:             c.UserID,
		RedirectURI:        c.RedirectURI,
		RedirectURIOmitted: c.RedirectURIOmitted,
		Scopes:             nonNil(c.Scopes),
		CodeChallenge:      c.CodeChallenge,
		CreatedAt:          c.CreatedAt,
		ExpiresAt:          c.ExpiresAt,
		Nonce:              c.Nonce,
		AuthTime:           optionalTime(c.AuthTime),
		Audience:           c.Audience,
		GrantEndsAt:        optionalTime(c.GrantEndsAt),
	}
	return d
}

// optionalTime is nil for the zero time, so the field is left out.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// timeOrZero reads an optional time in UTC.
func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func (d *codeDoc) model() *models.Code {
	return &models.Code{
		Hash:               d.Hash,
		ClientID:           d.ClientID,
		UserID:             d.UserID,
		RedirectURI:        d.RedirectURI,
		RedirectURIOmitted: d.RedirectURIOmitted,
		Scopes:             d.Scopes,
		CodeChallenge:      d.CodeChallenge,
		CreatedAt:          d.CreatedAt.UTC(),
		ExpiresAt:          d.ExpiresAt.UTC(),
		Nonce:              d.Nonce,
		AuthTime:           timeOrZero(d.AuthTime),
		Audience:           d.Audience,
		GrantEndsAt:        timeOrZero(d.GrantEndsAt),
	}
}

type tokenDoc struct {
	Hash      string     `bson:"_id"`
	Kind      string     `bson:"kind"`
	ClientID  string     `bson:"client_id"`
	UserID    string     `bson:"user_id"` // "" for client_credentials tokens
	Scopes    []string   `bson:"scopes"`
	FamilyID  string     `bson:"family_id"`
	CreatedAt time.Time  `bson:"created_at"`
	ExpiresAt time.Time  `bson:"expires_at"`
	GrantedAt *time.Time `bson:"granted_at,omitempty"` // absent before it was recorded
	RotatedAt *time.Time `bson:"rotated_at"`           // null until Rotate
	AuthTime  *time.Time `bson:"auth_time,omitempty"`  // OpenID Connect; absent when unknown
	// Absent (0, the REST API) in documents written before audiences.
	Audience models.Audience `bson:"audience,omitempty"`
	// Absent for a grant until revoked, and in documents written before
	// grants had an end.
	GrantEndsAt *time.Time `bson:"grant_ends_at,omitempty"`
}

func toTokenDoc(t *models.Token) tokenDoc {
	d := tokenDoc{
		Hash:        t.Hash,
		Kind:        string(t.Kind),
		ClientID:    t.ClientID,
		UserID:      t.UserID,
		Scopes:      nonNil(t.Scopes),
		FamilyID:    t.FamilyID,
		CreatedAt:   t.CreatedAt,
		ExpiresAt:   t.ExpiresAt,
		AuthTime:    optionalTime(t.AuthTime),
		Audience:    t.Audience,
		GrantEndsAt: optionalTime(t.GrantEndsAt),
	}
	if !t.GrantedAt.IsZero() {
		at := t.GrantedAt
		d.GrantedAt = &at
	}
	if t.Rotated {
		at := t.CreatedAt
		if !t.RotatedAt.IsZero() {
			at = t.RotatedAt
		}
		d.RotatedAt = &at
	}
	return d
}

func (d *tokenDoc) model() *models.Token {
	t := &models.Token{
		Hash:        d.Hash,
		Kind:        models.TokenKind(d.Kind),
		ClientID:    d.ClientID,
		UserID:      d.UserID,
		Scopes:      d.Scopes,
		FamilyID:    d.FamilyID,
		CreatedAt:   d.CreatedAt.UTC(),
		ExpiresAt:   d.ExpiresAt.UTC(),
		Rotated:     d.RotatedAt != nil,
		AuthTime:    timeOrZero(d.AuthTime),
		Audience:    d.Audience,
		GrantEndsAt: timeOrZero(d.GrantEndsAt),
	}
	if d.GrantedAt != nil {
		t.GrantedAt = d.GrantedAt.UTC()
	}
	if d.RotatedAt != nil {
		t.RotatedAt = d.RotatedAt.UTC()
	}
	return t
}

// claimDoc records that a one-shot object (a code, a refresh token) was
// used. Its _id is unique, so of concurrent inserts exactly one succeeds on
// any server; see claim in mongo.go for why this backs up FindOneAndUpdate.
type claimDoc struct {
	ID        string    `bson:"_id"`
	ExpiresAt time.Time `bson:"expires_at"`
}

// nonNil stores an absent list as an empty array rather than null, so that
// $addToSet and $in work on it.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
