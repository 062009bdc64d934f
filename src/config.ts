import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The checkout (or image) root: the default home of local data. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const positiveInt = (max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`);

/**
 * The environment contract. Names are public: operators, compose files and docs rely on them.
 * Values arrive as strings; everything is validated here, once, and the rest of Latch only ever
 * sees the typed `Config` built from it.
 */
const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).optional(),
  ISSUER: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  DATABASE_POOL_MAX: positiveInt(200).default(10),
  LATCH_DATA_DIR: z.string().min(1).optional(),
  EMBEDDED_POSTGRES_PORT: port.default(54329),
  MIGRATE_ON_START: booleanFlag.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  LATCH_COOKIE_KEYS: z
    .string()
    .transform((value) => value.split(',').map((key) => key.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1, 'must list at least one key'))
    .optional(),
  TRUST_PROXY: booleanFlag.default(false),
  ARGON2_MEMORY_KIB: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(8192, 'must be at least 8192 (8 MiB)').max(4_194_304, 'must be at most 4194304 (4 GiB)').default(19_456),
  ARGON2_ITERATIONS: positiveInt(100).default(2),
  ARGON2_PARALLELISM: positiveInt(16).default(1),
});

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number; trustProxy: boolean };
  issuer: string;
  database:
    | { kind: 'external'; url: string; poolMax: number }
    | { kind: 'embedded'; dataDir: string; port: number; poolMax: number };
  migrateOnStart: boolean;
  logLevel: string;
  cookieKeys: string[];
  /** True when a secret was generated for this process because none was configured (development only). */
  usesEphemeralSecrets: boolean;
  argon2: Argon2Parameters;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration from an environment once; throws one ConfigError listing every bad variable. */
export function loadConfig(environment: NodeJS.ProcessEnv): Config {
  const known = Object.fromEntries(
    Object.keys(environmentSchema.shape)
      .map((name) => [name, environment[name]])
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(known);
  if (!parsed.success) {
    // Values are never echoed back: some of these variables are secrets.
    throw new ConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`));
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const issuer = (env.ISSUER ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
  const problems: string[] = [];

  if (production) {
    const { protocol, host, hostname } = new URL(issuer);
    if (protocol !== 'https:' && !LOOPBACK_HOSTS.has(hostname) && !LOOPBACK_HOSTS.has(host)) {
      problems.push('ISSUER: must use https in production (plain http is allowed only for localhost)');
    }
    if (!env.LATCH_COOKIE_KEYS) problems.push('LATCH_COOKIE_KEYS: is required in production');
    if (!env.DATABASE_URL) problems.push('DATABASE_URL: is required in production (the embedded PostgreSQL is for development)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = resolveDataDir(env.LATCH_DATA_DIR);
  return {
    env: env.NODE_ENV,
    http: { host: env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'), port: env.PORT, trustProxy: env.TRUST_PROXY },
    issuer,
    database: env.DATABASE_URL
      ? { kind: 'external', url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX }
      : { kind: 'embedded', dataDir: resolve(dataDir, 'postgres'), port: env.EMBEDDED_POSTGRES_PORT, poolMax: env.DATABASE_POOL_MAX },
    migrateOnStart: env.MIGRATE_ON_START ?? !production,
    logLevel: env.LOG_LEVEL,
    cookieKeys: env.LATCH_COOKIE_KEYS ?? [randomBytes(32).toString('base64url')],
    usesEphemeralSecrets: !env.LATCH_COOKIE_KEYS,
    argon2: { memoryCost: env.ARGON2_MEMORY_KIB, timeCost: env.ARGON2_ITERATIONS, parallelism: env.ARGON2_PARALLELISM },
  };
}

function resolveDataDir(dir: string | undefined): string {
  if (!dir) return resolve(projectRoot, '.latch');
  return isAbsolute(dir) ? dir : resolve(process.cwd(), dir);
}
