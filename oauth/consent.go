package oauth

import (
	"net/url"
	"slices"
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
