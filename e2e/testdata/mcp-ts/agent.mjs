// An MCP agent built on the official TypeScript SDK (@modelcontextprotocol/sdk),
// unmodified: its Streamable HTTP transport and its auth() flow, against
// Beer Locker's /mcp. e2e/mcp_ts_test.go runs it:
//
//   node agent.mjs <sdk-dir> <mcp-url> <redirect-uri>
//
// It speaks JSON lines: whenever the SDK sends the user to authorize, it
// prints {"authorize": url} and reads the URL the browser was redirected to
// from stdin (the Go test signs in and presses Allow on the real pages). At
// the end it prints {"ok": true, ...} with what each tool answered.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [sdkDir, mcpURL, redirectURI] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(join(sdkDir, 'dist/esm', p)).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');
const { UnauthorizedError } = await load('client/auth.js');

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// The provider keeps everything in memory, as a CLI agent might.
const seen = { registrations: 0, tokenResponses: 0, authorizations: 0 };
let pendingRedirect = null;
const provider = {
  client: undefined, saved: undefined, verifier: undefined,
  get redirectUrl() { return redirectURI; },
  get clientMetadata() {
    return {
      client_name: 'TypeScript SDK agent', redirect_uris: [redirectURI],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  },
  clientInformation() { return this.client; },
  saveClientInformation(info) { seen.registrations++; this.client = info; },
  tokens() { return this.saved; },
  saveTokens(t) { seen.tokenResponses++; this.saved = t; },
  redirectToAuthorization(url) { seen.authorizations++; pendingRedirect = url.toString(); },
  saveCodeVerifier(v) { this.verifier = v; },
  codeVerifier() { return this.verifier; },
};

// connect connects a new client, going through the authorization once if
// the server asks for it.
async function connect() {
  for (let attempt = 0; attempt < 2; attempt++) {
    const transport = new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: provider });
    const client = new Client({ name: 'beerlocker-ts-agent', version: '1.0.0' });
    try {
      await client.connect(transport);
      return client;
    } catch (err) {
      if (!(err instanceof UnauthorizedError) || !pendingRedirect) throw err;
      say({ authorize: pendingRedirect });
      pendingRedirect = null;
      const { value } = await lines.next();
      const code = new URL(value.trim()).searchParams.get('code');
      if (!code) throw new Error('no code in ' + value);
      await transport.finishAuth(code);
    }
  }
  throw new Error('still unauthorized after one authorization');
}

const call = async (client, name, args) => {
  const res = await client.callTool({ name, arguments: args });
  return { isError: !!res.isError, structured: res.structuredContent ?? null,
    text: (res.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join(' ') };
};

try {
  const client = await connect();
  const out = { ok: true, protocol: client.getServerVersion()?.name ?? null };
  out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
  out.emptyList = await call(client, 'list_beers', {});
  out.added = await call(client, 'add_beer', { name: 'TS Tripel', type: 'Tripel', quantity: 4 });
  const id = out.added.structured?.id;
  out.updated = await call(client, 'update_beer', { id, quantity: 3 });
  out.got = await call(client, 'get_beer', { id });
  out.invalid = await call(client, 'add_beer', { name: '', quantity: 1 });
  try {
    await client.callTool({ name: 'no_such_tool', arguments: {} });
    out.unknownTool = 'accepted';
  } catch (err) {
    out.unknownTool = String(err.message ?? err);
  }

  // The access token goes bad (as after its 15 minutes): the SDK refreshes
  // it with the refresh token, sending resource, and the call goes through.
  const refreshBefore = provider.saved.refresh_token;
  provider.saved = { ...provider.saved, access_token: 'blat_' + 'x'.repeat(43) };
  const again = await connect();
  out.listAfterRefresh = await call(again, 'list_beers', { limit: 5 });
  out.refreshed = provider.saved.refresh_token !== refreshBefore;
  out.deleted = await call(again, 'delete_beer', { id });
  out.seen = seen;
  say(out);
  process.exit(0);
} catch (err) {
  say({ ok: false, error: String(err?.stack ?? err) });
  process.exit(1);
}
