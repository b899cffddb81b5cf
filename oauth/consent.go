package oauth

import (
	"net/url"
	"slices"
	"time"
)

// tickedScopes reads the consent page's checkboxes (API.md §11): the
// requested scopes the user left ticked, in the order they were asked
// for. ok is false if the form ticks one that was not requested, which
// the page never offers. None ticked is a Deny, which callers decide.
func tickedScopes(form url.Values, requested []string) (granted []string, ok bool) {
	ticked := form["scope"]
	for _, sc := range ticked {
		if !slices.Contains(requested, sc) {
			return nil, false
		}
	}
	for _, sc := range requested {
		if slices.Contains(ticked, sc) {
			granted = append(granted, sc)
		}
	}
	return granted, true
}

// GrantLifetimes are the choices of the consent page's "how long"
// (API.md §11), by the value its form sends: "" is until revoked.
var GrantLifetimes = map[string]time.Duration{"": 0, "30d": 30 * 24 * time.Hour, "1d": 24 * time.Hour, "1h": time.Hour}

// chosenEnd reads the consent page's lifetime: the grant's end, counted
// from now, or zero for until revoked. ok is false for a value the page
// does not offer.
func chosenEnd(form url.Values, now time.Time) (end time.Time, ok bool) {
	d, ok := GrantLifetimes[form.Get("lifetime")]
	if !ok || len(form["lifetime"]) > 1 {
		return time.Time{}, false
	}
	if d == 0 {
		return time.Time{}, true
	}
	return now.Add(d), true
}
