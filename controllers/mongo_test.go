package controllers_test

import (
	"strings"
	"testing"

	"beerlocker/models"
	"beerlocker/store/mongo/mongotest"
)

// TestOnMongo runs the OpenID Connect tests again on the MongoDB backend
// (the in-process FerretDB, or MONGODB_TEST_URI): go-oidc through the real
// pages, the device grant, UserInfo, logout and a key rotation with two
// instances on one database. The stores' own behaviour is the conformance
// suite's; this proves the flows on top of them.
func TestOnMongo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts FerretDB")
	}
	mongoURI = mongotest.URI(t)
	t.Cleanup(func() { mongoURI = "" })
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"OAuthWithRealClient", TestOAuthWithRealClient},
		{"IDTokenVerifiedByGoOIDC", TestIDTokenVerifiedByGoOIDC},
		{"GoOIDCProviderFromDiscovery", TestGoOIDCProviderFromDiscovery},
		{"DeviceGrantIDToken", TestDeviceGrantIDToken},
		{"UserInfo", TestUserInfo},
		{"PromptNoneWithGoOIDC", TestPromptNoneWithGoOIDC},
		{"PromptLogin", TestPromptLogin},
		{"MaxAge", TestMaxAge},
		{"IDTokenHint", TestIDTokenHint},
		{"RPInitiatedLogout", TestRPInitiatedLogout},
		{"LogoutNeedsTheCSRFToken", TestLogoutNeedsTheCSRFToken},
		{"IDTokensAcrossKeyRotation", TestIDTokensAcrossKeyRotation},
		{"MCPWithGoSDKAgent", TestMCPWithGoSDKAgent},
		{"MCPStepUpForWriteScope", TestMCPStepUpForWriteScope},
		{"MCPRefusals", TestMCPRefusals},
		{"ConsentPerScope", TestConsentPerScope},
		{"GrantLifetime", TestGrantLifetime},
		{"DeviceGrantLifetime", TestDeviceGrantLifetime},
		{"LastUsed", TestLastUsed},
		{"RefreshReuseGrace", TestRefreshReuseGrace},
		{"RefreshRaceWithinGrace", TestRefreshRaceWithinGrace},
		{"PersonalAccessTokens", TestPersonalAccessTokens},
		{"PersonalAccessTokenRefusals", TestPersonalAccessTokenRefusals},
		{"PersonalAccessTokensOnAccountPage", TestPersonalAccessTokensOnAccountPage},
		{"PersonalAccessTokenPasswordChangeRace", TestPersonalAccessTokenPasswordChangeRace},
		{"DeviceConsentPerScope", TestDeviceConsentPerScope},
		{"MCPWithGoSDKAgentByMetadataDocument", TestMCPWithGoSDKAgentByMetadataDocument},
		{"JWKSSameOnTwoInstances", TestJWKSSameOnTwoInstances},
	} {
		t.Run(tc.name, tc.fn)
	}
}

// mongoURI is TestOnMongo's server while it runs; "" otherwise.
var mongoURI string

// onMongo reports whether t runs under TestOnMongo, whose stores are
// MongoDB databases.
func onMongo(t testing.TB) bool {
	return mongoURI != "" && strings.HasPrefix(t.Name(), "TestOnMongo/")
}

// openMongoStore opens a fresh database on TestOnMongo's server.
func openMongoStore(t testing.TB) *models.Store {
	t.Helper()
	return mongotest.Store(t, mongoURI)
}
