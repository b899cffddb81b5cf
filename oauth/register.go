package oauth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/httperr"
	"beerlocker/models"
)

// RegistrationPath is the dynamic client registration endpoint (RFC 7591,
// API.md §10).
const RegistrationPath = "/api/oauth2/register"

// maxRegistrationBytes bounds a registration request: the metadata of ten
// redirect URIs of 2000 characters and the rest fits with room to spare.
const maxRegistrationBytes = 64 << 10

// registrationGrants are the grants an app that registered itself may
// use: the ones in which a user approves it. client_credentials would let
// anyone mint tokens with no user at all, and the password grant would
// hand users' passwords to an app nobody vouches for.
var registrationGrants = []string{models.GrantAuthorizationCode, models.GrantRefreshToken, models.GrantDeviceCode}

// The token endpoint authentication methods (RFC 7591 §2) a registration
// may ask for; the default is client_secret_basic.
const (
	authMethodNone  = "none"
	authMethodBasic = "client_secret_basic"
	authMethodPost  = "client_secret_post"
)

// registrationRequest is the client metadata of RFC 7591 §2 this server
// uses. Members it does not know (application_type, logo_uri, contacts …)
// are ignored, as §2 requires.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              *string  `json:"client_name"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
	ClientURI               string   `json:"client_uri"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris"`
}

// registrationResponse is RFC 7591 §3.2.1: the client's credentials and
// its metadata as registered.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"` // 0: never; only with a secret
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope,omitempty"`
	ClientURI               string   `json:"client_uri,omitempty"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris,omitempty"`
}

// Register handles POST /api/oauth2/register (RFC 7591): anyone may
// register an app, limited per address like account registration (API.md
// §8), and the app has no owner. Such an app gets only the grants a user
// approves, its consent page says that nobody vouches for it, and it is
// deleted if no user approves it within SelfRegisteredTTL.
func (s *Server) Register() gin.HandlerFunc {
	return func(c *gin.Context) {
		resp, err := s.register(c)
		if err != nil {
			s.writeError(c, err)
			return
		}
		noStore(c)
		c.JSON(http.StatusCreated, resp)
	}
}

func (s *Server) register(c *gin.Context) (*registrationResponse, error) {
	// Every attempt counts, a malformed one too (API.md §8).
	if err := s.Registrations.Allow(c.Request.Context(), c.ClientIP()); err != nil {
		return nil, err
	}
	in, oerr := readRegistration(c)
	if oerr != nil {
		return nil, oerr
	}
	client, method, oerr := registeredClient(in)
	if oerr != nil {
		return nil, oerr
	}
	now := s.now()
	client.ID, client.CreatedAt, client.UpdatedAt = NewClientID(), now, now
	var secret string
	if !client.Public {
		secret, client.SecretHash = NewClientSecret()
	}
	if err := s.Store.Clients.Create(c.Request.Context(), client); err != nil {
		return nil, err
	}
	out := &registrationResponse{
		ClientID: client.ID, ClientIDIssuedAt: now.Unix(), ClientSecret: secret,
		ClientName: client.Name, RedirectURIs: client.RedirectURIs, GrantTypes: client.GrantTypes,
		ResponseTypes: responseTypes(client), TokenEndpointAuthMethod: method,
		Scope: in.Scope, ClientURI: in.ClientURI, PostLogoutRedirectURIs: client.PostLogoutRedirectURIs,
	}
	if secret != "" {
		never := int64(0)
		out.ClientSecretExpiresAt = &never
	}
	return out, nil
}

// readRegistration decodes the JSON body; RFC 7591 §3.2.2 answers every
// malformed request with invalid_client_metadata.
func readRegistration(c *gin.Context) (*registrationRequest, *Error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, errClientMetadata("The body must be application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxRegistrationBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errorOf(httperr.Of(err)) // 413
	}
	if err != nil {
		return nil, errClientMetadata("The body could not be read.")
	}
	var in registrationRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errClientMetadata("The body is not a JSON object of client metadata with members of the right types.")
	}
	return &in, nil
}

// registeredClient checks the metadata and returns the client it
// registers, and its token endpoint authentication method.
func registeredClient(in *registrationRequest) (*models.Client, string, *Error) {
	method := in.TokenEndpointAuthMethod
	switch method {
	case "":
		method = authMethodBasic // RFC 7591 §2's default
	case authMethodNone, authMethodBasic, authMethodPost:
	default:
		return nil, "", errClientMetadata("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post.")
	}
	grants := in.GrantTypes
	if len(grants) == 0 {
		grants = []string{models.GrantAuthorizationCode} // RFC 7591 §2's default
	}
	for _, g := range grants {
		if !slices.Contains(registrationGrants, g) {
			return nil, "", errClientMetadata("grant_types may hold only " + strings.Join(registrationGrants, ", ") +
				": an app that registers itself gets only grants a user approves.")
		}
	}
	codeFlow := slices.Contains(grants, models.GrantAuthorizationCode)
	responses := in.ResponseTypes
	if len(responses) == 0 && codeFlow {
		responses = []string{"code"}
	}
	// RFC 7591 §2.1: response_types and grant_types must agree.
	if slices.ContainsFunc(responses, func(r string) bool { return r != "code" }) {
		return nil, "", errClientMetadata("response_types may hold only code.")
	}
	if codeFlow != slices.Contains(responses, "code") {
		return nil, "", errClientMetadata("response_types must be [\"code\"] with the authorization_code grant, and empty without it.")
	}
	scopes, ok := models.ParseScope(in.Scope)
	if !ok {
		return nil, "", errClientMetadata("scope names an unknown scope; known scopes are: " + models.ScopeString(models.AllScopes()) + ".")
	}
	in.Scope = models.ScopeString(scopes) // echoed as registered: canonical order, single spaces
	if in.ClientURI != "" {
		if u, err := url.Parse(in.ClientURI); err != nil || u.Scheme != "https" || u.Host == "" || len(in.ClientURI) > 2000 {
			return nil, "", errClientMetadata("client_uri must be an https URL.")
		}
	}
	client := &models.Client{
		Name: registeredName(in), RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
		GrantTypes: slices.Compact(slices.Clone(grants)), Public: method == authMethodNone,
	}
	if err := models.ValidateClient(client); err != nil {
		var ve *models.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) == 0 {
			return nil, "", errClientMetadata("The client metadata is invalid.")
		}
		f := ve.Fields[0]
		switch f.Field {
		case "redirect_uris":
			return nil, "", &Error{Code: "invalid_redirect_uri", Description: "redirect_uris " + f.Message + ".", Status: http.StatusBadRequest}
		case "name":
			return nil, "", errClientMetadata("client_name " + f.Message + ".")
		}
		return nil, "", errClientMetadata(f.Field + " " + f.Message + ".")
	}
	return client, method, nil
}

// registeredName is the app's name as sent, or, when none was, the host it
// sends users back to, which is what the consent page shows of it anyway.
func registeredName(in *registrationRequest) string {
	if in.ClientName != nil {
		return *in.ClientName
	}
	if len(in.RedirectURIs) > 0 {
		if u, err := url.Parse(in.RedirectURIs[0]); err == nil && u.Hostname() != "" {
			return u.Hostname()
		}
	}
	return "Unnamed app"
}

func responseTypes(c *models.Client) []string {
	if c.AllowsGrant(models.GrantAuthorizationCode) {
		return []string{"code"}
	}
	return []string{}
}

func errClientMetadata(desc string) *Error {
	return &Error{Code: "invalid_client_metadata", Description: desc, Status: http.StatusBadRequest}
}
