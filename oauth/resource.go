package oauth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// Resource indicators (RFC 8707, API.md §10). This service is two
// resources: the REST API at {PUBLIC_URL}/api and the MCP endpoint at
// {PUBLIC_URL}/mcp. A grant names the ones it is for with resource
// parameters; its tokens carry them as their audience and are refused
// anywhere else.

// The resources' paths below the issuer: their identifiers, and the paths
// of their protected-resource metadata below ProtectedResourceMetadataPath.
const (
	APIResourcePath = "/api"
	MCPResourcePath = "/mcp"
	// ProtectedResourceMetadataPath is RFC 9728's well-known prefix: a
	// resource's document is at this path followed by the resource's.
	ProtectedResourceMetadataPath = "/.well-known/oauth-protected-resource"
)

// resourceParam is the one parameter that may repeat in a request (RFC
// 8707 §2: "the resource parameter can be used multiple times").
const resourceParam = "resource"

// repeatable reports whether the request parameter k may appear more than
// once.
func repeatable(k string) bool { return k == resourceParam }

// ResourceURL is the identifier of resource r (one bit of an Audience).
func (s *Server) ResourceURL(r models.Audience) string {
	if r == models.AudienceMCP {
		return s.Issuer + MCPResourcePath
	}
	return s.Issuer + APIResourcePath
}

// ResourceMetadataURL is where resource r's protected-resource metadata
// (RFC 9728 §3) is: what every Bearer challenge of r names.
func (s *Server) ResourceMetadataURL(r models.Audience) string {
	if r == models.AudienceMCP {
		return s.Issuer + ProtectedResourceMetadataPath + MCPResourcePath
	}
	return s.Issuer + ProtectedResourceMetadataPath + APIResourcePath
}

// audienceURLs lists the identifiers of a's resources: introspection's aud.
func (s *Server) audienceURLs(a models.Audience) []string {
	var out []string
	for _, r := range a.Resources() {
		out = append(out, s.ResourceURL(r))
	}
	return out
}

// parseResources reads the resource parameters of a request: each must be
// the identifier of one of this service's resources, exactly (RFC 8707 §2:
// an absolute URI without a fragment; the server "MAY" refuse any it does
// not serve, and an agent gets the identifiers from the metadata). None
// gives 0: the caller decides what no resource means.
func (s *Server) parseResources(values []string) (models.Audience, *Error) {
	var a models.Audience
	for _, v := range values {
		switch v {
		case s.ResourceURL(models.AudienceAPI):
			a |= models.AudienceAPI
		case s.ResourceURL(models.AudienceMCP):
			a |= models.AudienceMCP
		default:
			return 0, errInvalidTarget("The resource " + quoteParam(v) + " is not served here; the resources are " +
				s.ResourceURL(models.AudienceAPI) + " and " + s.ResourceURL(models.AudienceMCP) + ".")
		}
	}
	return a, nil
}

// grantAudience is the audience of a new grant (authorization, device
// authorization, client credentials, password): the resources the request
// names, the REST API when it names none (API.md §10), so that clients
// written before resource indicators keep working on /api unchanged.
func (s *Server) grantAudience(values []string) (models.Audience, *Error) {
	a, err := s.parseResources(values)
	if err != nil {
		return 0, err
	}
	if a == 0 {
		a = models.AudienceAPI
	}
	return a, nil
}

// requestedAudience is the access token's audience for a token request
// that names values as resources from a grant for audience granted.
func (s *Server) requestedAudience(values []string, granted models.Audience) (models.Audience, *Error) {
	requested, err := s.parseResources(values)
	if err != nil {
		return 0, err
	}
	return narrowAudience(granted, requested)
}

// narrowAudience is the audience of tokens issued from a grant for
// audience granted when the request names resources requested (0 for
// none): the grant's own, or the part of it requested; never more (RFC
// 8707 §2.2).
func narrowAudience(granted, requested models.Audience) (models.Audience, *Error) {
	granted = granted.Effective()
	if requested == 0 {
		return granted, nil
	}
	if requested&^granted != 0 {
		return 0, errInvalidTarget("The resource asks for more than this grant was given; ask the user again for it.")
	}
	return requested, nil
}

func errInvalidTarget(desc string) *Error {
	return &Error{Code: "invalid_target", Description: desc, Status: http.StatusBadRequest}
}

// protectedResource is RFC 9728 §2 protected-resource metadata.
type protectedResource struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
	ResourceName           string   `json:"resource_name"`
}

// ProtectedResourceMetadata handles GET
// /.well-known/oauth-protected-resource/api and …/mcp (RFC 9728 §3):
// where resource r's tokens come from. The MCP endpoint lists only the
// scopes its tools need, since agents ask for every scope listed.
func (s *Server) ProtectedResourceMetadata(r models.Audience) gin.HandlerFunc {
	doc := protectedResource{
		Resource:               s.ResourceURL(r),
		AuthorizationServers:   []string{s.Issuer},
		ScopesSupported:        []string{models.ScopeProfile, models.ScopeBeersRead, models.ScopeBeersWrite, models.ScopeClients},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "Beer Locker REST API",
	}
	if r == models.AudienceMCP {
		doc.ScopesSupported = []string{models.ScopeBeersRead, models.ScopeBeersWrite}
		doc.ResourceName = "Beer Locker MCP server"
	}
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.JSON(http.StatusOK, doc)
	}
}
