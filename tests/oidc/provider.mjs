// A real OpenID provider (the npm package `oidc-provider`) for sluis's integration tests.
// Test-only: fixed client secret, in-memory storage, plain HTTP on loopback.
//
//   node provider.mjs [--port N] [--admin-port N] [--ui-redirect URL] [--exit-with-stdin]
//
// Ports also come from OIDC_PORT / OIDC_ADMIN_PORT; 0 (the default) lets the system pick. Once
// both listeners are up, one JSON line goes to stdout:
//
//   {"issuer":"http://127.0.0.1:PORT","port":PORT,"admin_port":APORT,"admin":"http://127.0.0.1:APORT",
//    "client_id":"sluis-test-client","client_secret":"...","resource":"urn:sluis","audience":"sluis",
//    "kid":"...","scopes":[...]}
//
// The provider (issuer http://127.0.0.1:PORT) issues RS256-signed JWT access tokens with the
// client-credentials grant: POST /token, client_secret_post or client_secret_basic,
// grant_type=client_credentials, optional scope (any of SCOPES) and resource (default urn:sluis,
// audience "sluis"; urn:other gives audience "other-api"). Its keys are published through
// discovery (/.well-known/openid-configuration → jwks_uri).
//
// With --ui-redirect URL it also serves sluis's reviewer pages: the client `sluis-ui`
// (UI_CLIENT_SECRET, client_secret_post) signs users in with the authorization code flow and
// PKCE, redirecting to URL. The login form is oidc-provider's development interaction (any
// password); the account names the roles in the ID token's `roles` claim:
//   fg-<name>        ["privacy-officer"]   (the FG: may use the pages and see identities)
//   security-<name>  ["security-officer"]  (may use the pages, no identities)
//   anything else    ["medewerker"]        (signed in, but no access to the pages)

// Admin listener (separate port):
//   POST /_test/rotate[?keep_old=1]  a new RSA key becomes the signing key, first in the JWKS;
//                                    keep_old=1 keeps the previous keys published (verification
//                                    only), otherwise they are dropped. Answers
//                                    {"kid": NEW, "kids": [ALL PUBLISHED]}.
//   GET  /_test/keys                 {"kid": SIGNING, "kids": [ALL PUBLISHED]}
//
// Rotation builds a new Provider instance with the new key set and swaps the request handler, so
// the issuer URL stays the same and the change is visible at once.
//
// With --exit-with-stdin the process exits when its stdin closes (its parent died), so a test
// that is killed cannot leave a provider behind.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const CLIENT_ID = 'sluis-test-client';
const CLIENT_SECRET = 'test-secret-sluis-oidc-provider-0123456789';
const AUDIENCE = 'sluis';
const RESOURCE = 'urn:sluis';
const OTHER_RESOURCE = 'urn:other';
const OTHER_AUDIENCE = 'other-api';
const ACCESS_TOKEN_TTL = 600;
const UI_CLIENT_ID = 'sluis-ui';
const UI_CLIENT_SECRET = 'test-secret-sluis-ui-client-0123456789abcdef';
// Scopes the test client may be granted (Amsterdam-style authorisation scopes).
const SCOPES = [
  'BAG/R',
  'BRP/R',
  'BRP/RNAME',
  'AFVAL/BEHEER',
  'HANDHAVING',
];

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'admin-port': { type: 'string' },
    'exit-with-stdin': { type: 'boolean', default: false },
    'ui-redirect': { type: 'string' },
  },
  strict: true,
});

function portFrom(value, envName) {
  const raw = value ?? process.env[envName] ?? '0';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`provider.mjs: invalid port ${JSON.stringify(raw)} (${envName} or flag)`);
    process.exit(2);
  }
  return port;
}

const port = portFrom(args.port, 'OIDC_PORT');
const adminPort = portFrom(args['admin-port'], 'OIDC_ADMIN_PORT');

let keyCounter = 0;

function newSigningKey() {
  keyCounter += 1;
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = `sluis-test-${keyCounter}-${crypto.randomBytes(4).toString('hex')}`;
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

function rolesOf(login) {
  if (login.startsWith('fg-')) return ['privacy-officer'];
  if (login.startsWith('security-')) return ['security-officer'];
  return ['medewerker'];
}

function uiClients() {
  const redirect = args['ui-redirect'];
  if (!redirect) return [];
  return [
    {
      client_id: UI_CLIENT_ID,
      client_secret: UI_CLIENT_SECRET,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [redirect],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    },
  ];
}

function buildProvider(issuer, keys) {
  const signingKid = keys[0].kid;
  const provider = new Provider(issuer, {
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({
        sub: id,
        preferred_username: id,
        name: id,
        roles: rolesOf(id),
      }),
    }),
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], roles: ['roles'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clients: [
      ...uiClients(),
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
        scope: SCOPES.join(' '),
      },
    ],
    clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
    jwks: { keys },
    cookies: { keys: ['sluis-test-cookie-key-not-secret'] },
    scopes: ['openid', 'profile', 'roles', ...SCOPES],
    ttl: { ClientCredentials: ACCESS_TOKEN_TTL },
    features: {
      devInteractions: { enabled: Boolean(args['ui-redirect']) },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          const base = {
            scope: SCOPES.join(' '),
            accessTokenFormat: 'jwt',
            accessTokenTTL: ACCESS_TOKEN_TTL,
            jwt: { sign: { alg: 'RS256', kid: signingKid } },
          };
          if (resourceIndicator === RESOURCE) return { ...base, audience: AUDIENCE };
          if (resourceIndicator === OTHER_RESOURCE) return { ...base, audience: OTHER_AUDIENCE };
          throw new errors.InvalidTarget();
        },
      },
    },
  });
  // Errors are answered to the client; log them on stderr for the test's output.
  provider.on('server_error', (_ctx, err) => console.error('provider.mjs: server_error', err));
  return provider;
}

let keys = [newSigningKey()];
let handler = null;
let issuer = null;

const publicKids = () => keys.map((k) => k.kid);

const server = http.createServer((req, res) => {
  if (!handler) {
    res.writeHead(503).end();
    return;
  }
  handler(req, res);
});

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const admin = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/_test/rotate' && req.method === 'POST') {
    const keepOld = ['1', 'true', 'yes'].includes(url.searchParams.get('keep_old') ?? '0');
    const fresh = newSigningKey();
    keys = keepOld ? [fresh, ...keys] : [fresh];
    handler = buildProvider(issuer, keys).callback();
    console.error(`provider.mjs: rotated to ${fresh.kid} (keep_old=${keepOld}); published: ${publicKids().join(', ')}`);
    json(res, 200, { kid: fresh.kid, kids: publicKids() });
    return;
  }
  if (url.pathname === '/_test/keys' && req.method === 'GET') {
    json(res, 200, { kid: keys[0].kid, kids: publicKids() });
    return;
  }
  json(res, 404, { error: 'not_found' });
});

function listen(srv, p) {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(p, '127.0.0.1', () => resolve(srv.address().port));
  });
}

function shutdown(code) {
  server.close();
  admin.close();
  process.exit(code);
}

try {
  const actualPort = await listen(server, port);
  const actualAdminPort = await listen(admin, adminPort);
  issuer = `http://127.0.0.1:${actualPort}`;
  handler = buildProvider(issuer, keys).callback();
  process.stdout.write(`${JSON.stringify({
    issuer,
    port: actualPort,
    admin_port: actualAdminPort,
    admin: `http://127.0.0.1:${actualAdminPort}`,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    resource: RESOURCE,
    audience: AUDIENCE,
    other_resource: OTHER_RESOURCE,
    kid: keys[0].kid,
    scopes: SCOPES,
    ui_client_id: UI_CLIENT_ID,
    ui_client_secret: UI_CLIENT_SECRET,
  })}\n`);
} catch (err) {
  console.error(`provider.mjs: cannot start: ${err.message}`);
  process.exit(1);
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
if (args['exit-with-stdin']) {
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}
