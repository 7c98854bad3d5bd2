// A real OpenID provider for the sign-in tests: panva's oidc-provider, on loopback only.
//
//   node provider.mjs <port> <clients.json>
//
// The clients come from the file the test writes (redirect URIs, secret or public keys). The test drives the rest
// through a small admin surface under /test-admin/ (loopback, test runs only):
//   POST /test-admin/accounts   {"<sub>": {"email": ..., "email_verified": ..., "name": ..., "groups": [...]}}
//                               replaces the people the provider knows (read at every sign-in)
//   POST /test-admin/rotate     a new signing key with a new key id; the old key is no longer published
//   POST /test-admin/id-token   {"tamper": true} or {"claims": {...}}: the next ID token from the token endpoint
//                               has its payload changed without a new signature, or changed and signed again with
//                               the provider's own key (an expired token, a token for another audience)
// Logging in uses oidc-provider's own development login form; consent is granted for the test clients.
import http from 'node:http';
import fs from 'node:fs';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.argv[2]);
const clients = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

let accounts = {};
let nextIdToken = null;
let signingKey = null;
let current = null;

async function newSigningKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { ...jwk, kid: `key-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`, alg: 'RS256', use: 'sig' };
}

function makeProvider(key) {
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [key] },
    claims: {
      openid: ['sub', 'groups', 'roles'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    conformIdTokenClaims: false, // the person's claims in the ID token, as Entra ID sends them
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['test-cookie-key-not-secret'] },
    async findAccount(_ctx, sub) {
      const person = accounts[sub];
      if (!person) return undefined;
      return { accountId: sub, async claims() { return { sub, ...person }; } };
    },
    async loadExistingGrant(ctx) {
      // the test clients are the council's own service: no consent screen
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      grant.addOIDCClaims(['sub', 'groups', 'roles', 'email', 'email_verified', 'name']);
      await grant.save();
      return grant;
    },
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && nextIdToken && ctx.body && ctx.body.id_token) {
      ctx.body = { ...ctx.body, id_token: await changed(ctx.body.id_token, nextIdToken) };
      nextIdToken = null;
    }
  });
  return provider;
}

async function changed(idToken, how) {
  const [header, payload, signature] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  if (how.tamper) {
    const forged = { ...claims, groups: ['g-admins'], sub: claims.sub };
    return [header, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');
  }
  const key = await jose.importJWK(signingKey, 'RS256');
  return new jose.SignJWT({ ...claims, ...how.claims })
    .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'JWT' })
    .sign(key);
}

async function body(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

signingKey = await newSigningKey();
current = makeProvider(signingKey);

const server = http.createServer(async (req, res) => {
  if (req.url.startsWith('/test-admin/') && req.method === 'POST') {
    const data = await body(req);
    if (req.url === '/test-admin/accounts') accounts = data;
    else if (req.url === '/test-admin/id-token') nextIdToken = data;
    else if (req.url === '/test-admin/rotate') {
      signingKey = await newSigningKey();
      current = makeProvider(signingKey);
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kid: signingKey.kid }));
    return;
  }
  current.callback()(req, res);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${issuer}\n`));
