package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"beerlocker/models"
)

var beerTests = []test{
	{"CreateAndGet", testBeerCreateAndGet},
	{"GetUnknownIsNotFound", testBeerGetUnknown},
	{"OtherOwnerIsNotFound", testBeerOtherOwner},
	{"ListNewestFirstWithCursor", testBeerListCursor},
	{"ListLastFullPageHasNoNext", testBeerListLastFullPage},
	{"ListLimitAboveCount", testBeerListLimitAboveCount},
	{"ListEmpty", testBeerListEmpty},
	{"ListOnlyOwn", testBeerListOnlyOwn},
	{"UpdatePartial", testBeerUpdatePartial},
	{"UpdateUnknownIsNotFound", testBeerUpdateUnknown},
	{"Delete", testBeerDelete},
}

func testBeerCreateAndGet(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	created := base.Add(1234 * time.Millisecond)
	beers := []*models.Beer{
		{ID: models.NewID(created), OwnerID: alice.ID, Name: "Pliny the Elder", Type: "Double IPA", Quantity: 12,
			CreatedAt: created, UpdatedAt: created.Add(time.Second)},
		// Zero values round-trip too: no type, none left.
		{ID: models.NewID(created), OwnerID: alice.ID, Name: "Ölfrüh – Märzen 🍺", Type: "", Quantity: 0,
			CreatedAt: created, UpdatedAt: created},
		{ID: models.NewID(created), OwnerID: alice.ID, Name: "Cellar", Type: "Lambic", Quantity: models.MaxQuantity,
			CreatedAt: created, UpdatedAt: created},
	}
	for _, b := range beers {
		mustOK(t, "Beers.Create", s.Beers.Create(ctx, b))
	}
	for _, b := range beers {
		got, err := s.Beers.Get(ctx, alice.ID, b.ID)
		mustOK(t, "Beers.Get", err)
		checkEqual(t, "Beers.Get", normBeer(got), normBeer(b))
	}
}

func testBeerGetUnknown(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	mustCreateBeer(t, s, alice.ID, "Stout", base)
	for _, id := range []string{models.NewID(base), "", "not-an-id"} {
		got, err := s.Beers.Get(ctx, alice.ID, id)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Beers.Get(%q) = %+v, %v, want %v", id, got, err, models.ErrNotFound)
		}
	}
}

func testBeerOtherOwner(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	beer := mustCreateBeer(t, s, alice.ID, "Alice's stout", base)

	got, err := s.Beers.Get(ctx, bob.ID, beer.ID)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Beers.Get(bob, alice's beer) = %+v, %v, want %v", got, err, models.ErrNotFound)
	}
	u := models.BeerUpdate{Name: ptr("stolen"), Type: ptr("x"), Quantity: ptr(0)}
	got, err = s.Beers.Update(ctx, bob.ID, beer.ID, u, now)
	if !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Beers.Update(bob, alice's beer) = %+v, %v, want %v", got, err, models.ErrNotFound)
	}
	wantErr(t, "Beers.Delete(bob, alice's beer)", s.Beers.Delete(ctx, bob.ID, beer.ID), models.ErrNotFound)

	got, err = s.Beers.Get(ctx, alice.ID, beer.ID)
	mustOK(t, "Beers.Get(alice, her beer)", err)
	checkEqual(t, "alice's beer after bob's attempts", normBeer(got), normBeer(beer))
}

// createBeers creates n beers of the owner, one second apart, and returns
// them newest first, the order List returns them in.
func createBeers(t testing.TB, s *models.Store, ownerID string, n int) []*models.Beer {
	t.Helper()
	out := make([]*models.Beer, n)
	for i := range n {
		out[n-1-i] = mustCreateBeer(t, s, ownerID, fmt.Sprintf("Beer %02d", i), base.Add(time.Duration(i)*time.Second))
	}
	return out
}

// listAll pages through the owner's beers with the given limit, checking
// that each page but the last is full, and returns the ids in the order
// read and the number of pages.
func listAll(t testing.TB, s *models.Store, ownerID string, limit int) (ids []string, pages int) {
	t.Helper()
	after := ""
	for {
		pages++
		if pages > 100 {
			t.Fatalf("Beers.List with limit %d did not end after 100 pages", limit)
		}
		page, next, err := s.Beers.List(t.Context(), ownerID, models.Page{Limit: limit, After: after})
		mustOK(t, "Beers.List", err)
		if len(page) > limit {
			t.Fatalf("page %d: len = %d, want at most %d", pages, len(page), limit)
		}
		for _, b := range page {
			if b.OwnerID != ownerID {
				t.Errorf("page %d: beer %s has OwnerID %q, want %q", pages, b.ID, b.OwnerID, ownerID)
			}
			ids = append(ids, b.ID)
		}
		if next == "" {
			return ids, pages
		}
		if len(page) < limit {
			t.Errorf("page %d: len = %d with next %q, want a full page of %d", pages, len(page), next, limit)
		}
		// Page.After is the id of the last item of the previous page.
		if len(page) > 0 && next != page[len(page)-1].ID {
			t.Errorf("page %d: next = %q, want the last id %q", pages, next, page[len(page)-1].ID)
		}
		after = next
	}
}

func beerIDs(beers []*models.Beer) []string {
	ids := make([]string, len(beers))
	for i, b := range beers {
		ids[i] = b.ID
	}
	return ids
}

func testBeerListCursor(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	want := createBeers(t, s, alice.ID, 25)

	after := ""
	for i, size := range []int{10, 10, 5} {
		page, next, err := s.Beers.List(ctx, alice.ID, models.Page{Limit: 10, After: after})
		mustOK(t, fmt.Sprintf("Beers.List page %d", i+1), err)
		if len(page) != size {
			t.Fatalf("page %d: len = %d, want %d", i+1, len(page), size)
		}
		start := i * 10
		for j, b := range page {
			checkEqual(t, fmt.Sprintf("page %d item %d", i+1, j), normBeer(b), normBeer(want[start+j]))
		}
		wantNext := ""
		if i < 2 {
			wantNext = page[len(page)-1].ID
		}
		if next != wantNext {
			t.Errorf("page %d: next = %q, want %q", i+1, next, wantNext)
		}
		if next == "" && i < 2 {
			t.FailNow()
		}
		after = next
	}

	// Every page size covers every beer exactly once, newest first.
	for _, limit := range []int{1, 3, 7, 24, 100} {
		ids, _ := listAll(t, s, alice.ID, limit)
		checkEqual(t, fmt.Sprintf("ids paged by %d", limit), ids, beerIDs(want))
	}
}

func testBeerListLastFullPage(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	want := createBeers(t, s, alice.ID, 20)
	for _, limit := range []int{5, 10, 20} {
		ids, pages := listAll(t, s, alice.ID, limit)
		checkEqual(t, fmt.Sprintf("ids paged by %d", limit), ids, beerIDs(want))
		// "" on the last page: a full last page must not promise another.
		if pages != 20/limit {
			t.Errorf("pages with limit %d = %d, want %d (next should be \"\" on the last, full page)", limit, pages, 20/limit)
		}
	}
	// After the oldest beer there is nothing.
	page, next, err := s.Beers.List(t.Context(), alice.ID, models.Page{Limit: 10, After: want[len(want)-1].ID})
	mustOK(t, "Beers.List after the oldest", err)
	if len(page) != 0 || next != "" {
		t.Errorf("Beers.List after the oldest = %d beers, next %q, want 0 beers, next \"\"", len(page), next)
	}
}

func testBeerListLimitAboveCount(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	want := createBeers(t, s, alice.ID, 3)
	page, next, err := s.Beers.List(t.Context(), alice.ID, models.Page{Limit: 100})
	mustOK(t, "Beers.List", err)
	checkEqual(t, "Beers.List ids", beerIDs(page), beerIDs(want))
	if next != "" {
		t.Errorf("Beers.List next = %q, want \"\"", next)
	}
}

func testBeerListEmpty(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	mustCreateBeer(t, s, bob.ID, "Bob's", base)
	for _, owner := range []string{alice.ID, models.NewID(base)} {
		page, next, err := s.Beers.List(t.Context(), owner, models.Page{Limit: 20})
		mustOK(t, "Beers.List", err)
		if len(page) != 0 || next != "" {
			t.Errorf("Beers.List(%s) = %d beers, next %q, want 0 beers, next \"\"", owner, len(page), next)
		}
	}
}

func testBeerListOnlyOwn(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	bob := mustCreateUser(t, s, "bob")
	var aliceBeers, bobBeers []*models.Beer
	// Interleaved, so that a cursor taken from Alice's list falls between
	// Bob's beers.
	for i := range 12 {
		at := base.Add(time.Duration(i) * time.Second)
		if i%3 == 0 {
			aliceBeers = append([]*models.Beer{mustCreateBeer(t, s, alice.ID, fmt.Sprint("A", i), at)}, aliceBeers...)
		} else {
			bobBeers = append([]*models.Beer{mustCreateBeer(t, s, bob.ID, fmt.Sprint("B", i), at)}, bobBeers...)
		}
	}
	for _, limit := range []int{1, 2, 100} {
		ids, _ := listAll(t, s, alice.ID, limit)
		checkEqual(t, fmt.Sprintf("alice's ids paged by %d", limit), ids, beerIDs(aliceBeers))
		ids, _ = listAll(t, s, bob.ID, limit)
		checkEqual(t, fmt.Sprintf("bob's ids paged by %d", limit), ids, beerIDs(bobBeers))
	}
}

func testBeerUpdatePartial(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	later := base.Add(2*time.Hour + 345*time.Millisecond)
	tests := []struct {
		name string
		u    models.BeerUpdate
		want func(b *models.Beer)
	}{
		{"nothing", models.BeerUpdate{}, func(b *models.Beer) {}},
		{"name", models.BeerUpdate{Name: ptr("Renamed")}, func(b *models.Beer) { b.Name = "Renamed" }},
		{"type", models.BeerUpdate{Type: ptr("Porter")}, func(b *models.Beer) { b.Type = "Porter" }},
		{"type cleared", models.BeerUpdate{Type: ptr("")}, func(b *models.Beer) { b.Type = "" }},
		{"quantity", models.BeerUpdate{Quantity: ptr(42)}, func(b *models.Beer) { b.Quantity = 42 }},
		{"quantity zero", models.BeerUpdate{Quantity: ptr(0)}, func(b *models.Beer) { b.Quantity = 0 }},
		{"all", models.BeerUpdate{Name: ptr("Full"), Type: ptr("Sour"), Quantity: ptr(1)}, func(b *models.Beer) {
			b.Name, b.Type, b.Quantity = "Full", "Sour", 1
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			beer := mustCreateBeer(t, s, alice.ID, "Original", base)
			other := mustCreateBeer(t, s, alice.ID, "Bystander", base)
			want := *beer
			tc.want(&want)
			want.UpdatedAt = later

			got, err := s.Beers.Update(ctx, alice.ID, beer.ID, tc.u, later)
			mustOK(t, "Beers.Update", err)
			checkEqual(t, "Beers.Update", normBeer(got), normBeer(&want))

			got, err = s.Beers.Get(ctx, alice.ID, beer.ID)
			mustOK(t, "Beers.Get", err)
			checkEqual(t, "Beers.Get after Update", normBeer(got), normBeer(&want))

			got, err = s.Beers.Get(ctx, alice.ID, other.ID)
			mustOK(t, "Beers.Get(other)", err)
			checkEqual(t, "Beers.Get(other beer) after Update", normBeer(got), normBeer(other))
		})
	}
}

func testBeerUpdateUnknown(t *testing.T, s *models.Store) {
	alice := mustCreateUser(t, s, "alice")
	mustCreateBeer(t, s, alice.ID, "Stout", base)
	for _, id := range []string{models.NewID(base), "not-an-id"} {
		got, err := s.Beers.Update(t.Context(), alice.ID, id, models.BeerUpdate{Name: ptr("x")}, now)
		if !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Beers.Update(%q) = %+v, %v, want %v", id, got, err, models.ErrNotFound)
		}
	}
}

func testBeerDelete(t *testing.T, s *models.Store) {
	ctx := t.Context()
	alice := mustCreateUser(t, s, "alice")
	beers := createBeers(t, s, alice.ID, 3) // newest first
	gone := beers[1]

	mustOK(t, "Beers.Delete", s.Beers.Delete(ctx, alice.ID, gone.ID))
	_, err := s.Beers.Get(ctx, alice.ID, gone.ID)
	wantErr(t, "Beers.Get after Delete", err, models.ErrNotFound)
	wantErr(t, "second Beers.Delete", s.Beers.Delete(ctx, alice.ID, gone.ID), models.ErrNotFound)
	wantErr(t, "Beers.Delete(unknown)", s.Beers.Delete(ctx, alice.ID, models.NewID(base)), models.ErrNotFound)
	wantErr(t, "Beers.Delete(malformed)", s.Beers.Delete(ctx, alice.ID, "not-an-id"), models.ErrNotFound)
	_, err = s.Beers.Update(ctx, alice.ID, gone.ID, models.BeerUpdate{Name: ptr("x")}, now)
	wantErr(t, "Beers.Update after Delete", err, models.ErrNotFound)

	ids, _ := listAll(t, s, alice.ID, 10)
	checkEqual(t, "Beers.List ids after Delete", ids, []string{beers[0].ID, beers[2].ID})
}
