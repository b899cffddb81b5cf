package oauth

import (
	"context"
	"errors"
	"strings"

	"beerlocker/clientmeta"
	"beerlocker/models"
)

// A client_id that is an https URL names a client ID metadata document
// (draft-ietf-oauth-client-id-metadata-document, API.md §10): the app is
// what that document says, fetched (safely, and cached) by
// package clientmeta. Such an app is stored too, as an app without an
// owner whose id is the URL, because codes, tokens and consents refer to
// a stored client; the document, not the stored copy, is what its
// redirect URIs and name are read from. Like any app that registered
// itself it is deleted after SelfRegisteredTTL if no user approved it, and
// comes back the next time it is used.

// clientDocumentError is a metadata document that cannot be used; its
// reason is for the app's developer.
type clientDocumentError struct{ reason string }

func (e *clientDocumentError) Error() string {
	return "the app's client metadata document cannot be used: " + e.reason
}

// isDocumentURL reports whether a client_id is meant as a document URL:
// any http(s) URL is, so that a malformed one gets the document's error,
// not "unknown app". Generated client ids are never URLs.
func isDocumentURL(clientID string) bool {
	return strings.HasPrefix(clientID, "https://") || strings.HasPrefix(clientID, "http://")
}

// lookupClient returns the client with that id: a registered one from the
// store, or the one a metadata document describes, stored on first sight,
// which counts as a registration from addr (API.md §8), so that nobody
// has this server fetch document after document. Errors: models.ErrNotFound,
// a *clientDocumentError, a limit's, the store's.
func (s *Server) lookupClient(ctx context.Context, clientID, addr string) (*models.Client, error) {
	if s.Documents == nil || !isDocumentURL(clientID) {
		return s.Store.Clients.Get(ctx, clientID)
	}
	stored, err := s.Store.Clients.Get(ctx, clientID)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return nil, err
	}
	if stored == nil && s.Registrations != nil {
		if err := s.Registrations.Allow(ctx, addr); err != nil {
			return nil, err
		}
	}
	doc, err := s.Documents.Fetch(ctx, clientID)
	if err != nil {
		var de *clientmeta.Error
		if errors.As(err, &de) {
			return nil, &clientDocumentError{reason: de.Reason}
		}
		return nil, &clientDocumentError{reason: "it could not be fetched"}
	}
	client, oerr := documentClient(doc)
	if oerr != nil {
		return nil, &clientDocumentError{reason: oerr.Description}
	}
	client.ID = clientID
	if stored != nil {
		client.CreatedAt, client.UpdatedAt = stored.CreatedAt, stored.UpdatedAt
		return client, nil
	}
	now := s.now()
	client.CreatedAt, client.UpdatedAt = now, now
	if err := s.Store.Clients.Create(ctx, client); err != nil && !errors.Is(err, models.ErrConflict) {
		return nil, err
	}
	return client, nil
}

// documentClient checks a document's metadata by the rules of dynamic
// registration, where the same metadata arrives in a request: a document
// is public, so its app is a public client (token_endpoint_auth_method
// none, which clientmeta has checked it does not contradict).
func documentClient(doc *clientmeta.Document) (*models.Client, *Error) {
	name := &doc.ClientName
	if doc.ClientName == "" {
		name = nil
	}
	client, _, err := registeredClient(&registrationRequest{
		RedirectURIs: doc.RedirectURIs, ClientName: name, GrantTypes: doc.GrantTypes, ResponseTypes: doc.ResponseTypes,
		TokenEndpointAuthMethod: authMethodNone, Scope: doc.Scope, ClientURI: doc.ClientURI,
		PostLogoutRedirectURIs: doc.PostLogoutRedirectURIs,
	})
	return client, err
}
