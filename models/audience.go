package models

// Audience is the set of this service's resources a token is valid at
// (RFC 8707 resource indicators, API.md §10): the REST API, the MCP
// endpoint, or both. It is a bit set, so that it is stored and sealed in
// one small number whatever PUBLIC_URL is; the resource identifiers (URLs)
// belong to the HTTP layer.
//
// The zero value is what a grant, code or token stored before audiences
// existed carries: it means the REST API only, as every token meant then
// (see Effective).
type Audience uint8

// The resources.
const (
	AudienceAPI Audience = 1 << iota // {PUBLIC_URL}/api
	AudienceMCP                      // {PUBLIC_URL}/mcp

	// audienceAll is every resource there is.
	audienceAll = AudienceAPI | AudienceMCP
)

// Effective is the audience a stored a means: the REST API for the zero
// value (recorded before audiences existed), a itself otherwise.
func (a Audience) Effective() Audience {
	if a == 0 {
		return AudienceAPI
	}
	return a
}

// Has reports whether a's effective audience includes every resource of r.
func (a Audience) Has(r Audience) bool {
	e := a.Effective()
	return r != 0 && e&r == r
}

// Valid reports whether a names only known resources; the zero value is
// valid (the REST API).
func (a Audience) Valid() bool { return a&^audienceAll == 0 }

// Resources returns the resources of a's effective audience, one bit each,
// in a fixed order (the REST API first).
func (a Audience) Resources() []Audience {
	e := a.Effective()
	out := make([]Audience, 0, 2)
	for _, r := range [...]Audience{AudienceAPI, AudienceMCP} {
		if e&r != 0 {
			out = append(out, r)
		}
	}
	return out
}
