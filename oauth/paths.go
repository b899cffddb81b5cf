package oauth

// The endpoints' paths (API.md §6), below the issuer: the routes, the
// metadata document and the pages' forms all name them from here.
const (
	AuthorizePath = "/api/oauth2/authorize"
	// AuthorizeDecisionPath is where the consent page's Allow and Deny
	// post: a POST to AuthorizePath is itself an authorization request.
	AuthorizeDecisionPath   = "/api/oauth2/authorize/decision"
	TokenPath               = "/api/oauth2/token"
	RevocationPath          = "/api/oauth2/revoke"
	IntrospectionPath       = "/api/oauth2/introspect"
	DeviceAuthorizationPath = "/api/oauth2/device_authorization"
	MetadataPath            = "/.well-known/oauth-authorization-server"
	// OpenID Connect (API.md §9). The JWK Set's path is keys.JWKSPath.
	UserInfoPath            = "/api/oauth2/userinfo"
	EndSessionPath          = "/api/oauth2/logout"
	OpenIDConfigurationPath = "/.well-known/openid-configuration"
)
