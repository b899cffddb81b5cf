package controllers_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"beerlocker/app"
	"beerlocker/limits"
	"beerlocker/models"
	"beerlocker/oauth"
	"beerlocker/store/redis"
	"beerlocker/store/redis/redistest"
)

// TestOnRedis runs the OAuth tests again with codes, tokens, device codes
// and rate limits in a real redis-server, as REDIS_URL makes the service
// do: the embedded database keeps the rest, the bearer cache listens for
// revocations, and the limits use the Redis buckets. Each subtest's
// stores get a fresh key prefix on one server.
func TestOnRedis(t *testing.T) {
	redisServer = redistest.Start(t)
	t.Cleanup(func() { redisServer = nil })
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"OAuthWithRealClient", TestOAuthWithRealClient},
		{"DeviceFlowWithRealClient", TestDeviceFlowWithRealClient},
		{"DeviceDenyWithRealClient", TestDeviceDenyWithRealClient},
		{"DeviceExpiresWithRealClient", TestDeviceExpiresWithRealClient},
		{"DevicePollErrors", TestDevicePollErrors},
		{"DeviceWrongCodesAreLimited", TestDeviceWrongCodesAreLimited},
		{"DevicePollRace", TestDevicePollRace},
		{"DeviceApprovalRevokedBeforePoll", TestDeviceApprovalRevokedBeforePoll},
		{"Revoke", TestRevoke},
		{"Introspect", TestIntrospect},
		{"TokenClientAuthentication", TestTokenClientAuthentication},
		{"TokenResponse", TestTokenResponse},
		{"PublicClientCodeFlow", TestPublicClientCodeFlow},
		{"AuthorizationCodeErrors", TestAuthorizationCodeErrors},
		{"RedirectURIRemovedMeanwhile", TestRedirectURIRemovedMeanwhile},
		{"AuthorizationCodeReplay", TestAuthorizationCodeReplay},
		{"AuthorizationCodeRace", TestAuthorizationCodeRace},
		{"AuthorizationCodeRaceRevokesTheWinner", TestAuthorizationCodeRaceRevokesTheWinner},
		{"PasswordChangeEndsPendingCodes", TestPasswordChangeEndsPendingCodes},
		{"RefreshRotation", TestRefreshRotation},
		{"RefreshFamilyCap", TestRefreshFamilyCap},
		{"RefreshScope", TestRefreshScope},
		{"RefreshErrors", TestRefreshErrors},
		{"RefreshRace", TestRefreshRace},
		{"RefreshRaceRevokesTheWinner", TestRefreshRaceRevokesTheWinner},
		{"AccountRevoke", TestAccountRevoke},
		{"AccountListsPasswordGrantApps", TestAccountListsPasswordGrantApps},
		{"ChangePassword", TestChangePassword},
		{"DeleteMe", TestDeleteMe},
		{"DeleteClient", TestDeleteClient},
		{"AccountCascades", TestAccountCascades},
		{"BruteForceLimits", TestBruteForceLimits},
		{"LockoutBound", TestLockoutBound},
		{"LimitsCountAcrossSurfaces", TestLimitsCountAcrossSurfaces},
		{"LogoutEndsEveryCopyOfTheSession", TestLogoutEndsEveryCopyOfTheSession},
		{"PasswordChangeEndsEverySession", TestPasswordChangeEndsEverySession},
		{"AccountDeletionEndsEverySession", TestAccountDeletionEndsEverySession},
		{"ConsentDecidedOnce", TestConsentDecidedOnce},
		{"DeviceConsentDecidedOnce", TestDeviceConsentDecidedOnce},
		{"AccountRoutesCheckThePasswordItself", TestAccountRoutesCheckThePasswordItself},
		{"ConcurrentWrongPasswords", TestConcurrentWrongPasswords},
		{"RegistrationLimited", TestRegistrationLimited},
		{"IDTokenVerifiedByGoOIDC", TestIDTokenVerifiedByGoOIDC},
		{"DeviceGrantIDToken", TestDeviceGrantIDToken},
		{"UserInfo", TestUserInfo},
		{"PromptNoneWithGoOIDC", TestPromptNoneWithGoOIDC},
		{"PromptLogin", TestPromptLogin},
		{"MaxAge", TestMaxAge},
		{"RPInitiatedLogout", TestRPInitiatedLogout},
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
	} {
		t.Run(tc.name, tc.fn)
	}
	// The tests leave codes and tokens behind: proof they went to Redis.
	rc := goredis.NewClient(&goredis.Options{Addr: redisServer.Addr()})
	defer rc.Close()
	if n, err := rc.DBSize(t.Context()).Result(); err != nil || n == 0 {
		t.Errorf("Redis holds %d keys (%v) after the tests: they did not use it", n, err)
	}
}

// wantPersonalTokenInRedis fails t, under TestOnRedis, unless Redis holds
// the personal access token with that value (by its hash): they live
// beside the other tokens there (API.md §11).
func wantPersonalTokenInRedis(t *testing.T, value string) {
	t.Helper()
	if !onRedis(t) {
		return
	}
	rc := goredis.NewClient(&goredis.Options{Addr: redisServer.Addr()})
	defer rc.Close()
	keys, _, err := rc.Scan(t.Context(), 0, "*:p:"+oauth.HashSecret(value), 1_000_000).Result()
	if err != nil || len(keys) != 1 {
		t.Errorf("Redis holds %d keys of the personal access token (%v), want 1", len(keys), err)
	}
}

// redisServer is TestOnRedis's server while it runs; nil otherwise.
var redisServer *redistest.Server

// redisStores maps a composed store to its Redis part, for
// newTestEnvConfig to wire the limits and the listener.
var redisStores sync.Map // *models.Store → *redis.Store

// onRedis reports whether t is a subtest of TestOnRedis.
func onRedis(t testing.TB) bool {
	return redisServer != nil && strings.HasPrefix(t.Name(), "TestOnRedis/")
}

// composeRedis puts primary's codes, tokens and device codes in Redis.
func composeRedis(t testing.TB, primary *models.Store) *models.Store {
	t.Helper()
	rs, err := redis.Open(context.Background(), redisServer.URL(), redis.Options{Prefix: redistest.Prefix()})
	if err != nil {
		t.Fatalf("redis.Open: %v", err)
	}
	t.Cleanup(func() { rs.Close() })
	s := rs.Compose(primary)
	redisStores.Store(s, rs)
	return s
}

// wireRedis makes cfg keep its limits in store's Redis, if it has one,
// and returns a function that starts the revocation listener on the
// caches once the deps exist, as app.Run does.
func wireRedis(t testing.TB, store *models.Store, cfg *app.Options) func(*app.App) {
	v, ok := redisStores.Load(store)
	if !ok {
		return func(*app.App) {}
	}
	rs := v.(*redis.Store)
	cfg.LimitBuckets = func(name string, r limits.Rate) limits.Buckets { return rs.Buckets(name, r, cfg.Now) }
	cfg.RevocationChannel = true
	return func(d *app.App) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); rs.Listen(ctx, d.Caches) }()
		t.Cleanup(func() { cancel(); <-done })
		waitUntil(t, "the revocation listener subscribes", rs.Listening)
	}
}
