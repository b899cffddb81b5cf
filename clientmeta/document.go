package clientmeta

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Document is a fetched client metadata document, validated.
type Document struct {
	ClientID                string
	ClientName              string
	ClientURI               string
	LogoURI                 string
	RedirectURIs            []string
	PostLogoutRedirectURIs  []string
	GrantTypes              []string // as written; empty if absent
	ResponseTypes           []string
	TokenEndpointAuthMethod string // "none" or ""
	Scope                   string
	ApplicationType         string
}

// clone gives each caller its own copy, so that one cannot change the
// cached document under the others.
func (d *Document) clone() *Document {
	c := *d
	c.RedirectURIs = slices.Clone(d.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(d.PostLogoutRedirectURIs)
	c.GrantTypes = slices.Clone(d.GrantTypes)
	c.ResponseTypes = slices.Clone(d.ResponseTypes)
	return &c
}

// members are the top-level members of a JSON object, undecoded.
type members map[string]json.RawMessage

// parseDocument decodes and validates the document fetched from clientID.
// Types are checked strictly, null included, and a member of ours given
// twice is an error: decoders disagree on which one wins, and the document
// must mean one thing.
func parseDocument(body []byte, clientID string) (*Document, *Error) {
	if !utf8.Valid(body) {
		return nil, &Error{Reason: "the document is not valid UTF-8"}
	}
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	// The draft: a document is public, so it MUST NOT contain a
	// client_secret or client_secret_expires_at, and its client cannot use
	// a method that authenticates with a shared secret.
	for _, name := range []string{"client_secret", "client_secret_expires_at"} {
		if _, ok := m[name]; ok {
			return nil, fieldError(name, "must not be in a metadata document")
		}
	}
	if _, ok := m["client_id"]; !ok {
		return nil, fieldError("client_id", "is required")
	}
	d := &Document{}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"client_id", &d.ClientID},
		{"client_name", &d.ClientName},
		{"client_uri", &d.ClientURI},
		{"logo_uri", &d.LogoURI},
		{"token_endpoint_auth_method", &d.TokenEndpointAuthMethod},
		{"scope", &d.Scope},
		{"application_type", &d.ApplicationType},
	} {
		if err := m.str(f.name, f.dst); err != nil {
			return nil, err
		}
	}
	// The draft: the client_id in the document MUST match the URL it was
	// fetched from, by simple string comparison.
	if d.ClientID != clientID {
		return nil, &Error{Reason: reasonClientID}
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{
		{"redirect_uris", &d.RedirectURIs},
		{"post_logout_redirect_uris", &d.PostLogoutRedirectURIs},
		{"grant_types", &d.GrantTypes},
		{"response_types", &d.ResponseTypes},
	} {
		if err := m.strs(f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if _, ok := m["redirect_uris"]; !ok {
		return nil, fieldError("redirect_uris", "is required")
	}
	if len(d.RedirectURIs) == 0 {
		return nil, fieldError("redirect_uris", "must list at least one URI")
	}
	// RFC 6749 §3.1.2: a redirection endpoint is an absolute URI without a
	// fragment.
	for _, uri := range d.RedirectURIs {
		if u, err := url.Parse(uri); err != nil || !u.IsAbs() || strings.Contains(uri, "#") {
			return nil, fieldError("redirect_uris", "each must be an absolute URI without a fragment")
		}
	}
	if d.TokenEndpointAuthMethod != "" && d.TokenEndpointAuthMethod != "none" {
		return nil, fieldError("token_endpoint_auth_method", "must be none: a metadata document cannot hold a secret")
	}
	return d, nil
}

// decodeObject splits body into the members of one JSON object with
// nothing after it.
func decodeObject(body []byte) (members, *Error) {
	notObject := &Error{Reason: "the document is not a JSON object"}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, notObject
	}
	m := members{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notObject
		}
		name := tok.(string) // inside an object, Token returns keys as strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, notObject
		}
		if _, dup := m[name]; dup && known[name] {
			return nil, fieldError(name, "appears twice")
		}
		m[name] = raw
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, notObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &Error{Reason: "the document has data after its JSON object"}
	}
	return m, nil
}

// known are the members parseDocument reads or refuses; others are ignored.
var known = map[string]bool{
	"client_id": true, "client_name": true, "client_uri": true, "logo_uri": true,
	"redirect_uris": true, "post_logout_redirect_uris": true, "grant_types": true,
	"response_types": true, "token_endpoint_auth_method": true, "scope": true,
	"application_type": true, "client_secret": true, "client_secret_expires_at": true,
}

// str sets *dst to member name, a JSON string, if present.
func (m members) str(name string, dst *string) *Error {
	raw, ok := m[name]
	if !ok {
		return nil
	}
	if !startsWith(raw, '"') || json.Unmarshal(raw, dst) != nil {
		return fieldError(name, "must be a string")
	}
	return nil
}

// strs sets *dst to member name, a JSON array of strings, if present.
func (m members) strs(name string, dst *[]string) *Error {
	raw, ok := m[name]
	if !ok {
		return nil
	}
	var items []json.RawMessage
	if !startsWith(raw, '[') || json.Unmarshal(raw, &items) != nil {
		return fieldError(name, "must be an array of strings")
	}
	out := make([]string, len(items))
	for i, item := range items {
		if !startsWith(item, '"') || json.Unmarshal(item, &out[i]) != nil {
			return fieldError(name, "must be an array of strings")
		}
	}
	*dst = out
	return nil
}

// startsWith tells a JSON value's type by its first character: json would
// quietly turn null into "" or nil.
func startsWith(raw json.RawMessage, c byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == c
}

func fieldError(name, what string) *Error {
	return &Error{Reason: name + ": " + what}
}
