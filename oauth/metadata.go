package oauth

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/keys"
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
	RegistrationEndpoint              string   `json:"registration_endpoint"`         // RFC 7591
	ClientIDMetadataDocumentSupported bool     `json:"client_id_metadata_document_supported"`
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
	// OpenID Connect's endpoints, named in both documents (API.md §9).
	UserInfoEndpoint   string `json:"userinfo_endpoint"`
	JWKSURI            string `json:"jwks_uri"`
	EndSessionEndpoint string `json:"end_session_endpoint"` // RP-Initiated Logout 1.0
}

// openIDConfiguration is the OpenID Connect Discovery 1.0 §3 provider
// metadata: the RFC 8414 document and what OpenID Connect adds to it.
type openIDConfiguration struct {
	metadata
	SubjectTypesSupported            []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported                  []string `json:"claims_supported"`
	RequestParameterSupported        bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported     bool     `json:"request_uri_parameter_supported"`
}

// Metadata handles GET /.well-known/oauth-authorization-server.
func (s *Server) Metadata() gin.HandlerFunc {
	m := s.metadata()
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.JSON(http.StatusOK, m)
	}
}

// OpenIDConfiguration handles GET /.well-known/openid-configuration.
func (s *Server) OpenIDConfiguration() gin.HandlerFunc {
	m := openIDConfiguration{
		metadata:                         s.metadata(),
		SubjectTypesSupported:            []string{"public"},
		IDTokenSigningAlgValuesSupported: []string{keys.RS256, keys.ES256},
		ClaimsSupported: []string{"iss", "sub", "aud", "azp", "exp", "iat", "auth_time",
			"nonce", "at_hash", "preferred_username", "updated_at"},
	}
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.JSON(http.StatusOK, m)
	}
}

// metadata is the RFC 8414 document both handlers serve.
func (s *Server) metadata() metadata {
	authMethods := []string{"client_secret_basic", "client_secret_post", "none"}
	m := metadata{
		Issuer:                            s.Issuer,
		AuthorizationEndpoint:             s.Issuer + AuthorizePath,
		TokenEndpoint:                     s.Issuer + TokenPath,
		RevocationEndpoint:                s.Issuer + RevocationPath,
		IntrospectionEndpoint:             s.Issuer + IntrospectionPath,
		DeviceAuthorizationEndpoint:       s.Issuer + DeviceAuthorizationPath,
		RegistrationEndpoint:              s.Issuer + RegistrationPath,
		ClientIDMetadataDocumentSupported: s.Documents != nil,
		ScopesSupported:                   models.AllScopes(),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               models.GrantTypes(),
		TokenEndpointAuthMethods:          authMethods,
		RevocationEndpointAuthMethods:     authMethods,
		IntrospectionEndpointAuthMethods:  []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		AuthorizationResponseIssParameter: true,
		UserInfoEndpoint:                  s.Issuer + UserInfoPath,
		JWKSURI:                           s.Issuer + keys.JWKSPath,
		EndSessionEndpoint:                s.Issuer + EndSessionPath,
	}
	return m
}
