import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, projectRoot } from '../src/config.js';

function problemsOf(environment: Record<string, string>): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const KEY = Buffer.alloc(32, 1).toString('base64url');
const SECRETS = { LATCH_COOKIE_KEYS: 'k'.repeat(32), LATCH_KEY_ENCRYPTION_KEY: KEY };
const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://id.example.com',
  DATABASE_URL: 'postgresql://latch:secret@db:5432/latch',
  ...SECRETS,
};

describe('loadConfig', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latch-config-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs with no configuration at all, on the embedded PostgreSQL', () => {
    const config = loadConfig({ LATCH_DATA_DIR: dataDir });

    expect(config.env).toBe('development');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, trustedProxies: 0, shutdownTimeout: 10 });
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.admin).toBeUndefined();
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.database).toEqual({ kind: 'embedded', dataDir: join(dataDir, 'postgres'), port: 54329, poolMax: 10, statementTimeoutMs: 5_000, connectTimeoutMs: 5_000 });
    expect(config.migrateOnStart).toBe(true);
    expect(config.secureCookies).toBe(false);
    expect(config.oidc).toEqual({
      initialAccessToken: undefined,
      apiResource: 'http://localhost:3000/api/v1',
      resourceServers: {},
      ttl: { accessToken: 600, idToken: 3600, refreshToken: 14 * 86_400, session: 14 * 86_400 },
      refreshTokenReuseGrace: 0,
    });
    expect(config.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('keeps the embedded data in the checkout by default', () => {
    expect(loadConfig(SECRETS).database).toMatchObject({ dataDir: join(projectRoot, '.latch', 'postgres') });
  });

  it('generates development secrets once, privately, and reuses them', async () => {
    const first = loadConfig({ LATCH_DATA_DIR: dataDir });
    const second = loadConfig({ LATCH_DATA_DIR: dataDir });

    const file = join(dataDir, 'development-secrets.json');
    expect(first.secrets.developmentSecretsFile).toBe(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(second.secrets.cookieKeys).toEqual(first.secrets.cookieKeys);
    expect(second.secrets.keyEncryptionKey.equals(first.secrets.keyEncryptionKey)).toBe(true);
    expect(first.secrets.keyEncryptionKey).toHaveLength(32);
    expect(await readFile(file, 'utf8')).toContain(first.secrets.cookieKeys[0]);
  });

  it('uses configured secrets without writing any file', () => {
    const config = loadConfig({ LATCH_DATA_DIR: dataDir, ...SECRETS, LATCH_KEY_ENCRYPTION_KEY: '0a'.repeat(32) });

    expect(config.secrets).toEqual({ cookieKeys: ['k'.repeat(32)], keyEncryptionKey: Buffer.alloc(32, 10) });
  });

  it('reads any variable from the file named by its _FILE twin, as Docker secrets are given', async () => {
    const keyFile = join(dataDir, 'cookie-keys');
    await writeFile(keyFile, `${'s'.repeat(40)}\n`);

    const config = loadConfig({ ...SECRETS, LATCH_COOKIE_KEYS: '', LATCH_COOKIE_KEYS_FILE: keyFile });

    expect(config.secrets.cookieKeys).toEqual(['s'.repeat(40)]);
    expect(problemsOf({ ...SECRETS, LATCH_COOKIE_KEYS_FILE: keyFile })).toEqual(['LATCH_COOKIE_KEYS: set either LATCH_COOKIE_KEYS or LATCH_COOKIE_KEYS_FILE, not both']);
    expect(problemsOf({ LATCH_KEY_ENCRYPTION_KEY_FILE: join(dataDir, 'missing') })).toEqual([
      `LATCH_KEY_ENCRYPTION_KEY_FILE: cannot read ${join(dataDir, 'missing')} (ENOENT)`,
    ]);
  });

  it('accepts secrets made the way README tells operators to (openssl rand -base64 32 into a file)', async () => {
    const cookieKeys = join(dataDir, 'cookie_keys');
    const keyEncryptionKey = join(dataDir, 'key_encryption_key');
    execFileSync('sh', ['-c', `openssl rand -base64 32 > ${cookieKeys} && openssl rand -base64 32 > ${keyEncryptionKey}`]);

    const config = loadConfig({ ...PRODUCTION, LATCH_COOKIE_KEYS: '', LATCH_KEY_ENCRYPTION_KEY: '', LATCH_COOKIE_KEYS_FILE: cookieKeys, LATCH_KEY_ENCRYPTION_KEY_FILE: keyEncryptionKey });

    expect(config.secrets.keyEncryptionKey).toHaveLength(32);
    expect(config.secrets.cookieKeys[0]).toHaveLength(44);
  });

  it('derives the issuer from PORT and trims a trailing slash from an explicit one', () => {
    expect(loadConfig({ ...SECRETS, PORT: '4000' }).issuer).toBe('http://localhost:4000');
    const config = loadConfig({ ...SECRETS, ISSUER: 'https://id.example.com/' });
    expect(config.issuer).toBe('https://id.example.com');
    expect(config.oidc.apiResource).toBe('https://id.example.com/api/v1');
    expect(config.secureCookies).toBe(true);
  });

  it('gives the admin API a listener of its own with ADMIN_PORT, on HOST unless ADMIN_HOST says otherwise', () => {
    expect(loadConfig({ ...SECRETS, HOST: '0.0.0.0', ADMIN_PORT: '3001' }).admin).toEqual({ host: '0.0.0.0', port: 3001, url: 'http://localhost:3001' });
    expect(loadConfig({ ...SECRETS, ADMIN_PORT: '3001', ADMIN_HOST: '10.0.0.5' }).admin).toEqual({ host: '10.0.0.5', port: 3001, url: 'http://localhost:3001' });
    expect(loadConfig({ ...PRODUCTION, ADMIN_PORT: '3001' }).admin).toEqual({ host: '0.0.0.0', port: 3001, url: 'https://id.example.com:3001' });
    expect(problemsOf({ ...SECRETS, ADMIN_PORT: '3000' })).toEqual(['ADMIN_PORT: must differ from PORT and METRICS_PORT (the admin API gets a listener of its own)']);
    expect(problemsOf({ ...SECRETS, ADMIN_HOST: '127.0.0.1' })).toEqual(['ADMIN_HOST: is only used with ADMIN_PORT; set both, or neither']);
    expect(problemsOf({ ...SECRETS, ADMIN_PORT: '70000' })).toEqual(['ADMIN_PORT: must be between 1 and 65535']);
  });

  it("takes the admin listener's address as administrators reach it from ADMIN_URL, for the console", () => {
    expect(loadConfig({ ...PRODUCTION, ADMIN_PORT: '3001', ADMIN_URL: 'https://admin.example.com/' }).admin?.url).toBe('https://admin.example.com');
    expect(problemsOf({ ...SECRETS, ADMIN_URL: 'https://admin.example.com' })).toEqual(['ADMIN_URL: is only used with ADMIN_PORT; set both, or neither']);
    expect(problemsOf({ ...SECRETS, ADMIN_PORT: '3001', ADMIN_URL: 'admin.example.com' })).toEqual(['ADMIN_URL: must be an absolute http(s) URL']);
  });

  it('uses DATABASE_URL when given', () => {
    expect(
      loadConfig({ ...SECRETS, DATABASE_URL: 'postgres://u:p@db/latch', DATABASE_POOL_MAX: '5', DATABASE_STATEMENT_TIMEOUT: '2', DATABASE_CONNECT_TIMEOUT: '3' }).database,
    ).toEqual({
      kind: 'external',
      url: 'postgres://u:p@db/latch',
      poolMax: 5,
      statementTimeoutMs: 2_000,
      connectTimeoutMs: 3_000,
    });
    expect(() => loadConfig({ ...SECRETS, DATABASE_STATEMENT_TIMEOUT: '0' })).toThrow(/DATABASE_STATEMENT_TIMEOUT: must be between 1 and 600/);
  });

  it('reads resource servers and lifetimes', () => {
    const config = loadConfig({
      ...SECRETS,
      RESOURCE_SERVERS: '{"https://orders.example.com": "orders:read orders:write"}',
      ACCESS_TOKEN_TTL: '300',
      REFRESH_TOKEN_REUSE_GRACE: '5',
      LATCH_INITIAL_ACCESS_TOKEN: 'i'.repeat(40),
    });

    expect(config.oidc).toMatchObject({
      resourceServers: { 'https://orders.example.com': { scope: 'orders:read orders:write', clients: [] } },
      ttl: { accessToken: 300 },
      refreshTokenReuseGrace: 5,
      initialAccessToken: 'i'.repeat(40),
    });
  });

  it('reads the clients a resource server introspects tokens as, beside its scopes', () => {
    const config = loadConfig({
      ...SECRETS,
      RESOURCE_SERVERS: '{"https://orders.example.com": {"scope": "orders:read", "clients": ["orders-service"]}, "https://billing.example.com": {"scope": "billing:read"}}',
    });

    expect(config.oidc.resourceServers).toEqual({
      'https://orders.example.com': { scope: 'orders:read', clients: ['orders-service'] },
      'https://billing.example.com': { scope: 'billing:read', clients: [] },
    });
  });

  it.each([
    '{"https://orders.example.com": {"scopes": "orders:read"}}',
    '{"https://orders.example.com": {"scope": "orders:read", "clients": "orders-service"}}',
    '{"https://orders.example.com": ["orders:read"]}',
  ])('says what shape a resource server has when given %s', (value) => {
    expect(problemsOf({ RESOURCE_SERVERS: value })).toEqual([
      'RESOURCE_SERVERS: "https://orders.example.com" must be space-separated scopes, e.g. "orders:read orders:write", or {"scope": "<space-separated scopes>", "clients": ["<client id>", ...]}',
    ]);
  });

  it('lists every bad variable at once, and why, without echoing values', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      ISSUER: 'ftp://id.example.com',
      DATABASE_URL: 'mysql://db/latch',
      LOG_LEVEL: 'loud',
      LATCH_COOKIE_KEYS: 'short-secret-value',
      LATCH_KEY_ENCRYPTION_KEY: 'too-short-secret',
      MIGRATE_ON_START: 'maybe',
      ARGON2_MEMORY_KIB: '1024',
      RESOURCE_SERVERS: '{"https://api.example.com#x": "read"}',
      REFRESH_TOKEN_REUSE_GRACE: '600',
    });

    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(
      [
        'ARGON2_MEMORY_KIB',
        'DATABASE_URL',
        'ISSUER',
        'LATCH_COOKIE_KEYS',
        'LATCH_KEY_ENCRYPTION_KEY',
        'LOG_LEVEL',
        'MIGRATE_ON_START',
        'PORT',
        'REFRESH_TOKEN_REUSE_GRACE',
        'RESOURCE_SERVERS',
      ].sort(),
    );
    expect(problems.join('\n')).not.toMatch(/short-secret/);
    expect(() => loadConfig({ PORT: '0' })).toThrow(/PORT: must be between 1 and 65535/);
  });

  it.each([
    ['nope', 'RESOURCE_SERVERS: is not JSON: it must be a JSON object of resource URI to space-separated scopes or {"scope": "<space-separated scopes>", "clients": ["<client id>", ...]}, e.g. {"https://orders.example.com": "orders:read orders:write"}'],
    ['["https://orders.example.com"]', 'RESOURCE_SERVERS: must be a JSON object of resource URI to space-separated scopes or {"scope": "<space-separated scopes>", "clients": ["<client id>", ...]}, e.g. {"https://orders.example.com": "orders:read orders:write"}'],
    ['{"https://orders.example.com": ["orders:read"]}', 'RESOURCE_SERVERS: "https://orders.example.com" must be space-separated scopes, e.g. "orders:read orders:write", or {"scope": "<space-separated scopes>", "clients": ["<client id>", ...]}'],
    ['{"orders": "orders:read"}', 'RESOURCE_SERVERS: "orders" is not an absolute http(s) resource URI without a fragment'],
  ])('says what shape RESOURCE_SERVERS must have, for %s', (value, problem) => {
    expect(() => loadConfig({ RESOURCE_SERVERS: value })).toThrow(problem);
  });

  it('accepts a complete production configuration, with migrations off unless asked for', () => {
    const config = loadConfig(PRODUCTION);

    expect(config.http.host).toBe('0.0.0.0');
    expect(config.migrateOnStart).toBe(false);
    expect(config.secrets.developmentSecretsFile).toBeUndefined();
    expect(loadConfig({ ...PRODUCTION, MIGRATE_ON_START: 'true' }).migrateOnStart).toBe(true);
  });

  it('refuses insecure defaults in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production', ISSUER: 'http://id.example.com' });

    expect(problems).toEqual([
      'ISSUER: must use https in production (plain http is allowed only for localhost)',
      'LATCH_COOKIE_KEYS: is required in production',
      'LATCH_KEY_ENCRYPTION_KEY: is required in production',
      'DATABASE_URL: is required in production (the embedded PostgreSQL is for development)',
    ]);
    expect(loadConfig({ ...PRODUCTION, ISSUER: 'http://localhost:3000' }).issuer).toBe('http://localhost:3000');
  });
});
