package oauth

import "beerlocker/templates"

// DescribeScopes turns scopes into the plain words of ScopeDescriptions,
// for the consent and account pages. A scope without a description is
// shown by its name.
func DescribeScopes(scopes []string) []templates.Scope {
	out := make([]templates.Scope, len(scopes))
	for i, sc := range scopes {
		d, ok := ScopeDescriptions[sc]
		if !ok {
			d = sc // a scope retired after it was granted still shows up by name
		}
		out[i] = templates.Scope{Name: sc, Description: d}
	}
	return out
}
