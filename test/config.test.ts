import { ConfigError, loadConfig, projectRoot } from '../src/config.js';
import { join } from 'node:path';

function problemsOf(environment: Record<string, string>): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

const PRODUCTION = {
  NODE_ENV: 'production',
  ISSUER: 'https://id.example.com',
  DATABASE_URL: 'postgresql://latch:secret@db:5432/latch',
  LATCH_COOKIE_KEYS: 'k'.repeat(32),
};

describe('loadConfig', () => {
  it('runs with no configuration at all, on the embedded PostgreSQL', () => {
    const config = loadConfig({});

    expect(config.env).toBe('development');
    expect(config.http).toEqual({ host: '127.0.0.1', port: 3000, trustProxy: false });
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.database).toEqual({ kind: 'embedded', dataDir: join(projectRoot, '.latch', 'postgres'), port: 54329, poolMax: 10 });
    expect(config.migrateOnStart).toBe(true);
    expect(config.usesEphemeralSecrets).toBe(true);
    expect(config.cookieKeys[0]).toHaveLength(43);
    expect(config.argon2).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
  });

  it('derives the issuer from PORT and trims a trailing slash from an explicit one', () => {
    expect(loadConfig({ PORT: '4000' }).issuer).toBe('http://localhost:4000');
    expect(loadConfig({ ISSUER: 'https://id.example.com/' }).issuer).toBe('https://id.example.com');
  });

  it('uses DATABASE_URL when given', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@db/latch', DATABASE_POOL_MAX: '5' }).database).toEqual({
      kind: 'external',
      url: 'postgres://u:p@db/latch',
      poolMax: 5,
    });
  });

  it('keeps the embedded data under LATCH_DATA_DIR', () => {
    expect(loadConfig({ LATCH_DATA_DIR: '/var/lib/latch' }).database).toMatchObject({ dataDir: '/var/lib/latch/postgres' });
  });

  it('lists every bad variable at once, and why, without echoing values', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      ISSUER: 'ftp://id.example.com',
      DATABASE_URL: 'mysql://db/latch',
      LOG_LEVEL: 'loud',
      LATCH_COOKIE_KEYS: 'short-secret-value',
      MIGRATE_ON_START: 'maybe',
      ARGON2_MEMORY_KIB: '1024',
    });

    expect(problems).toHaveLength(7);
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(
      ['ARGON2_MEMORY_KIB', 'DATABASE_URL', 'ISSUER', 'LATCH_COOKIE_KEYS', 'LOG_LEVEL', 'MIGRATE_ON_START', 'PORT'].sort(),
    );
    expect(problems.join('\n')).not.toContain('short-secret-value');
    expect(() => loadConfig({ PORT: '0' })).toThrow(/PORT: must be between 1 and 65535/);
  });

  it('accepts a complete production configuration, with migrations off unless asked for', () => {
    const config = loadConfig(PRODUCTION);

    expect(config.http.host).toBe('0.0.0.0');
    expect(config.migrateOnStart).toBe(false);
    expect(config.usesEphemeralSecrets).toBe(false);
    expect(loadConfig({ ...PRODUCTION, MIGRATE_ON_START: 'true' }).migrateOnStart).toBe(true);
  });

  it('refuses insecure defaults in production', () => {
    const problems = problemsOf({ NODE_ENV: 'production', ISSUER: 'http://id.example.com' });

    expect(problems).toEqual([
      'ISSUER: must use https in production (plain http is allowed only for localhost)',
      'LATCH_COOKIE_KEYS: is required in production',
      'DATABASE_URL: is required in production (the embedded PostgreSQL is for development)',
    ]);
    expect(loadConfig({ ...PRODUCTION, ISSUER: 'http://localhost:3000' }).issuer).toBe('http://localhost:3000');
  });
});
