// A relying party built on openid-client (v6), the certified strict OpenID
// Connect client, run by e2e/openid_client_test.go in two phases:
//
//   node rp.mjs start ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI STATE_FILE
//     discovers the provider, prints {"authorization_url": ...} and saves
//     the PKCE verifier, nonce and state to STATE_FILE;
//   node rp.mjs finish ISSUER CLIENT_ID CLIENT_SECRET CALLBACK_URL STATE_FILE
//     redeems the code (openid-client validates the ID token and throws on
//     any mismatch), checks userinfo's sub and a refresh, and prints a JSON
//     summary.
//
// Any failure exits non-zero with a message on stderr.
import { readFileSync, writeFileSync } from 'node:fs';
// The test points OPENID_CLIENT at the package's entry in .tools/ (ES
// modules ignore NODE_PATH); without it, the usual resolution applies.
const client = await import(process.env.OPENID_CLIENT || 'openid-client');

function fail(msg) {
  console.error(`rp: ${msg}`);
  process.exit(1);
}

async function discover(issuer, clientId, clientSecret) {
  const opts = new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined;
  return client.discovery(new URL(issuer), clientId, clientSecret, client.ClientSecretBasic(clientSecret), opts);
}

async function start([issuer, clientId, clientSecret, redirectUri, stateFile]) {
  const config = await discover(issuer, clientId, clientSecret);
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  writeFileSync(stateFile, JSON.stringify({ codeVerifier, nonce, state, redirectUri }), { mode: 0o600 });
  console.log(JSON.stringify({ authorization_url: url.href }));
}

async function finish([issuer, clientId, clientSecret, callbackUrl, stateFile]) {
  const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
  const config = await discover(issuer, clientId, clientSecret);
  const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), {
    pkceCodeVerifier: saved.codeVerifier,
    expectedNonce: saved.nonce,
    expectedState: saved.state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  if (!claims) fail('no ID token in the token response');
  if (claims.nonce !== saved.nonce) fail(`ID token nonce ${claims.nonce}, want ${saved.nonce}`);
  if (claims.aud !== clientId && !(Array.isArray(claims.aud) && claims.aud.includes(clientId))) fail(`ID token aud ${JSON.stringify(claims.aud)}`);
  if (typeof claims.auth_time !== 'number') fail('ID token has no auth_time');
  if (!tokens.access_token) fail('no access token');
  if (!tokens.refresh_token) fail('no refresh token');

  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  if (userinfo.sub !== claims.sub) fail(`userinfo sub ${userinfo.sub}, ID token sub ${claims.sub}`);

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  if (!refreshed.access_token) fail('refresh returned no access token');
  if (refreshed.access_token === tokens.access_token) fail('refresh returned the same access token');
  const rclaims = refreshed.claims();
  if (!rclaims) fail('refresh returned no ID token');
  if (rclaims.sub !== claims.sub) fail(`refreshed ID token sub ${rclaims.sub}, want ${claims.sub}`);
  if (rclaims.auth_time !== claims.auth_time) fail(`refreshed ID token auth_time ${rclaims.auth_time}, want ${claims.auth_time}`);
  if (rclaims.nonce !== undefined) fail('refreshed ID token carries a nonce');

  console.log(JSON.stringify({
    ok: true,
    issuer: claims.iss,
    sub: claims.sub,
    aud: claims.aud,
    preferred_username: claims.preferred_username ?? null,
    userinfo_sub: userinfo.sub,
    userinfo_preferred_username: userinfo.preferred_username ?? null,
    refreshed_sub: rclaims.sub,
    refreshed_access_token_differs: true,
  }));
}

const [phase, ...args] = process.argv.slice(2);
const phases = { start, finish };
if (!phases[phase] || args.length !== 5) fail('usage: rp.mjs start|finish ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI|CALLBACK_URL STATE_FILE');
try {
  await phases[phase](args);
} catch (err) {
  fail(`${phase}: ${err?.name ?? 'Error'}: ${err?.message ?? err}${err?.code ? ` (${err.code})` : ''}${err?.cause instanceof Response ? ` (HTTP ${err.cause.status} from ${err.cause.url})` : err?.cause ? ` cause: ${JSON.stringify(err.cause)}` : ''}`);
}
