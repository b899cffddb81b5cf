package keys

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"beerlocker/models"
)

// entry is one stored key with its decrypted material.
type entry struct {
	row *models.SigningKey
	*material
}

// keySet is what a Manager knows of the stored keys at one moment: which
// key signs for each algorithm, which are published, and until when that
// holds. It is never changed once built, so requests read it without a
// lock.
type keySet struct {
	entries    []entry           // every stored key, by algorithm and generation
	signing    map[string]*entry // alg → the key that signs now
	published  map[string]*entry // kid → a key of the JWK Set
	latest     map[string]*entry // alg → the highest generation
	expired    []*entry          // past their life: to be deleted
	jwks       []byte            // the JWK Set document
	validUntil time.Time         // read the keys again at or after this
}

// buildSet applies the rules of the package comment to entries, which
// are sorted by algorithm and generation, at now. retention is how long a
// key stays published after it stopped signing. The set is valid until
// refresh from now, or until the next moment a key starts signing or
// leaves the set, whichever comes first.
func buildSet(entries []entry, now time.Time, retention, refresh time.Duration) *keySet {
	s := &keySet{
		entries:    entries,
		signing:    map[string]*entry{},
		published:  map[string]*entry{},
		latest:     map[string]*entry{},
		validUntil: now.Add(refresh),
	}
	boundary := func(t time.Time) {
		if t.After(now) && t.Before(s.validUntil) {
			s.validUntil = t
		}
	}
	for i := range entries {
		e := &entries[i]
		alg := e.row.Alg
		s.latest[alg] = e // the last of its algorithm wins: the highest generation
		// The key that signs is the highest generation already active;
		// before any is (another instance's clock running a little
		// ahead of this one's), the lowest.
		if !e.row.ActiveAt.After(now) || s.signing[alg] == nil {
			s.signing[alg] = e
		}
		boundary(e.row.ActiveAt)
		// A key stops signing when the first later generation becomes
		// active, and may be deleted retention after that.
		var retired time.Time
		for _, later := range entries[i+1:] {
			if later.row.Alg == alg && (retired.IsZero() || later.row.ActiveAt.Before(retired)) {
				retired = later.row.ActiveAt
			}
		}
		if retired.IsZero() {
			s.published[e.row.ID] = e
			continue
		}
		end := retired.Add(retention)
		if !now.Before(end) {
			s.expired = append(s.expired, e)
			continue
		}
		s.published[e.row.ID] = e
		boundary(end)
	}
	s.jwks = marshalJWKS(entries, s.published)
	return s
}

// marshalJWKS writes the published public keys as a JWK Set, RS256 first,
// the newest generation first within an algorithm: a fixed order, so that
// every instance serves the same document.
func marshalJWKS(entries []entry, published map[string]*entry) []byte {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, alg := range algorithms {
		for i := len(entries) - 1; i >= 0; i-- {
			if e := entries[i]; e.row.Alg == alg && published[e.row.ID] != nil {
				set.Keys = append(set.Keys, e.public)
			}
		}
	}
	b, err := json.Marshal(set)
	if err != nil { // public RSA and EC keys always marshal
		panic("keys: marshal JWK Set: " + err.Error())
	}
	return b
}

// sortEntries orders entries as the store lists them, by algorithm and
// generation, whatever the store did.
func sortEntries(entries []entry) {
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.row.Alg, b.row.Alg), cmp.Compare(a.row.Generation, b.row.Generation))
	})
}
