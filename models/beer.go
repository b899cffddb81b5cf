package models

import (
	"context"
	"time"
	"unicode/utf8"
)

// Beer is one entry in a user's locker.
type Beer struct {
	ID        string
	OwnerID   string
	Name      string
	Type      string
	Quantity  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MaxQuantity is the largest quantity of one beer a locker holds.
const MaxQuantity = 1_000_000

// BeerUpdate is a partial change to a beer: nil fields stay as they are.
type BeerUpdate struct {
	Name     *string
	Type     *string
	Quantity *int
}

// Validate checks the fields that are set.
func (u BeerUpdate) Validate() error {
	var v validator
	u.check(&v)
	return v.err()
}

// ValidateFull checks a complete beer, as a create or a full replace
// needs: name and quantity are required, type may be left out.
func (u BeerUpdate) ValidateFull() error {
	var v validator
	v.check(u.Name != nil, "name", "is required")
	u.check(&v)
	v.check(u.Quantity != nil, "quantity", "is required")
	return v.err()
}

func (u BeerUpdate) check(v *validator) {
	if u.Name != nil {
		n := utf8.RuneCountInString(*u.Name)
		v.check(utf8.ValidString(*u.Name) && n >= 1 && n <= 100, "name", "must be 1–100 characters")
	}
	if u.Type != nil {
		v.check(utf8.ValidString(*u.Type) && utf8.RuneCountInString(*u.Type) <= 100, "type", "must be at most 100 characters")
	}
	if u.Quantity != nil {
		v.check(*u.Quantity >= 0 && *u.Quantity <= MaxQuantity, "quantity", "must be an integer from 0 to 1000000")
	}
}

// Apply copies the set fields of u onto b.
func (u BeerUpdate) Apply(b *Beer) {
	if u.Name != nil {
		b.Name = *u.Name
	}
	if u.Type != nil {
		b.Type = *u.Type
	}
	if u.Quantity != nil {
		b.Quantity = *u.Quantity
	}
}

// Page asks for one page of a newest-first list.
type Page struct {
	// Limit is the most items to return, 1–100.
	Limit int
	// After is the id of the last item of the previous page, or "" for the
	// first page. Items come in descending id order, which is newest first.
	After string
}

// BeerRepository stores beers. Every method takes the owner, and a beer
// that exists but belongs to someone else is ErrNotFound.
type BeerRepository interface {
	// Create inserts b, whose ID, OwnerID and timestamps the caller has set.
	Create(ctx context.Context, b *Beer) error
	// Get returns the owner's beer with that id, or ErrNotFound.
	Get(ctx context.Context, ownerID, id string) (*Beer, error)
	// List returns up to p.Limit of the owner's beers, newest first, after
	// p.After, and the id to pass as After for the next page ("" on the last page).
	List(ctx context.Context, ownerID string, p Page) ([]*Beer, string, error)
	// Update applies u atomically, sets UpdatedAt to now and returns the
	// result, or ErrNotFound.
	Update(ctx context.Context, ownerID, id string, u BeerUpdate, now time.Time) (*Beer, error)
	// Delete removes the owner's beer, or returns ErrNotFound.
	Delete(ctx context.Context, ownerID, id string) error
}
