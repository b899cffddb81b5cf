package oauth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// metadata is the RFC 8414 §2 authorization server metadata.
type metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	DeviceAuthorizationEndpoint       string   `json:"device_authorization_endpoint"` // RFC 8628 §4
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethods          []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods  []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
	ServiceDocumentation              string   `json:"service_documentation,omitempty"`
}

// Metadata handles GET /.well-known/oauth-authorization-server.
func (s *Server) Metadata() gin.HandlerFunc {
	authMethods := []string{"client_secret_basic", "client_secret_post", "none"}
	m := metadata{
		Issuer:                            s.Issuer,
		AuthorizationEndpoint:             s.Issuer + AuthorizePath,
		TokenEndpoint:                     s.Issuer + TokenPath,
		RevocationEndpoint:                s.Issuer + RevocationPath,
		IntrospectionEndpoint:             s.Issuer + IntrospectionPath,
		DeviceAuthorizationEndpoint:       s.Issuer + DeviceAuthorizationPath,
		ScopesSupported:                   models.AllScopes(),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               models.GrantTypes(),
		TokenEndpointAuthMethods:          authMethods,
		RevocationEndpointAuthMethods:     authMethods,
		IntrospectionEndpointAuthMethods:  []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		AuthorizationResponseIssParameter: true,
	}
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.JSON(http.StatusOK, m)
	}
}
