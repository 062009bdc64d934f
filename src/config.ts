import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadDevelopmentSecrets } from './development-secrets.js';
import { MFA_POLICIES, type MfaPolicy } from './factors/mfa-policy.js';

/** The checkout (or image) root: the default home of local data. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`);

const port = wholeNumber(1, 65535);
const DAY = 86_400;
const seconds = (max: number) => wholeNumber(1, max);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

/** 32 random bytes, as base64/base64url (43-44 characters) or hex (64). */
const aes256Key = z
  .string()
  .transform((value, ctx) => {
    const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64url');
    if (key.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, base64url or hex encoded (generate one with `openssl rand -base64 32`)' });
      return z.NEVER;
    }
    return key;
  });

const scopeList = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope tokens');

const RESOURCE_SERVER_SHAPE = '{"scope": "<space-separated scopes>", "clients": ["<client id>", ...]}';
const RESOURCE_SERVERS_SHAPE = `a JSON object of resource URI to space-separated scopes or ${RESOURCE_SERVER_SHAPE}, e.g. {"https://orders.example.com": "orders:read orders:write"}`;

/** The scopes a resource server accepts, and the clients it introspects tokens as: "scopes" is short for {"scope": "scopes"}. */
const resourceServer = z.union(
  [
    scopeList.transform((scope) => ({ scope, clients: [] as string[] })),
    z.strictObject({ scope: scopeList, clients: z.array(z.string().min(1)).default([]) }),
  ],
  { error: `must be space-separated scopes, e.g. "orders:read orders:write", or ${RESOURCE_SERVER_SHAPE}` },
);

/** {"https://orders.example.com": "orders:read orders:write"}: resource indicator → what it accepts. */
const resourceServers = z
  .string()
  .transform((value, ctx) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not JSON: it must be ${RESOURCE_SERVERS_SHAPE}` });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(z.string().pipe(httpUrl.refine((uri) => !uri.includes('#'), 'must not contain a fragment')), resourceServer, {
      error: (issue) => (issue.code === 'invalid_key' ? 'is not an absolute http(s) resource URI without a fragment' : `must be ${RESOURCE_SERVERS_SHAPE}`),
    }),
  );

/**
 * The environment contract. Names are public: operators, compose files and docs rely on them.
 * Values arrive as strings; everything is validated here, once, and the rest of Latch only ever
 * sees the typed `Config` built from it.
 */
const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).optional(),
  ISSUER: httpUrl.optional(),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  DATABASE_POOL_MAX: wholeNumber(1, 200).default(10),
  DATABASE_STATEMENT_TIMEOUT: seconds(600).default(5),
  DATABASE_CONNECT_TIMEOUT: seconds(600).default(5),
  LATCH_DATA_DIR: z.string().min(1).optional(),
  EMBEDDED_POSTGRES_PORT: port.default(54329),
  MIGRATE_ON_START: booleanFlag.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  LATCH_COOKIE_KEYS: z
    .string()
    .transform((value) => value.split(',').map((key) => key.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1, 'must list at least one key'))
    .optional(),
  LATCH_KEY_ENCRYPTION_KEY: aes256Key.optional(),
  LATCH_INITIAL_ACCESS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|\d{1,2})$/, 'must be true, false or the number of proxies in front of Latch')
    .transform((value) => (value === 'true' ? 1 : value === 'false' ? 0 : Number(value)))
    .default(0),
  ADMIN_PORT: port.optional(),
  ADMIN_HOST: z.string().min(1).optional(),
  ADMIN_URL: httpUrl.optional(),
  METRICS_PORT: port.default(9464),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  SHUTDOWN_TIMEOUT: seconds(600).default(10),
  API_RESOURCE: httpUrl.optional(),
  RESOURCE_SERVERS: resourceServers.optional(),
  ACCESS_TOKEN_TTL: seconds(DAY).default(600),
  ID_TOKEN_TTL: seconds(DAY).default(3600),
  REFRESH_TOKEN_TTL: seconds(365 * DAY).default(14 * DAY),
  SESSION_TTL: seconds(365 * DAY).default(14 * DAY),
  REFRESH_TOKEN_REUSE_GRACE: wholeNumber(0, 60).default(0),
  REQUIRE_EMAIL_VERIFICATION: booleanFlag.optional(),
  MFA_REQUIRED: z.enum(MFA_POLICIES, { error: `must be ${MFA_POLICIES.join(', ')}` }).default('off'),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3).max(320).optional(),
  PRODUCT_NAME: z.string().min(1).max(100).default('Latch'),
  EMAIL_VERIFICATION_TTL: seconds(30 * DAY).default(DAY),
  PASSWORD_RESET_TTL: seconds(DAY).default(1800),
  ACCOUNT_MAILS_PER_HOUR: wholeNumber(1, 1000).default(5),
  SIGNIN_MAX_FAILURES_PER_ACCOUNT: wholeNumber(1, 10_000).default(10),
  SIGNIN_MAX_FAILURES_PER_IP: wholeNumber(1, 100_000).default(100),
  SIGNIN_LOCKOUT_SECONDS: seconds(DAY).default(900),
  REGISTRATIONS_PER_IP_PER_MINUTE: wholeNumber(1, 100_000).default(60),
  ARGON2_MEMORY_KIB: wholeNumber(8192, 4_194_304).default(19_456),
  ARGON2_ITERATIONS: wholeNumber(1, 100).default(2),
  ARGON2_PARALLELISM: wholeNumber(1, 16).default(1),
});

export interface Argon2Parameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export interface DatabasePoolOptions {
  poolMax: number;
  /** How long one statement may take, from sending it until its answer, before it fails as unavailable. */
  statementTimeoutMs: number;
  /** How long a request waits for a pool connection (a free one, or a new one opened) before it fails as unavailable. */
  connectTimeoutMs: number;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  http: {
    host: string;
    port: number;
    /** Proxies in front of Latch whose X-Forwarded-* headers are trusted (0: none). */
    trustedProxies: number;
    /** Seconds in-flight requests get to finish after SIGTERM. */
    shutdownTimeout: number;
  };
  /** With ADMIN_PORT set, the admin surface's own listener; unset, the public listener serves it. */
  admin?: {
    host: string;
    port: number;
    /** The admin listener's base URL as administrators reach it: the console's address (its sign-in comes back there). */
    url: string;
  };
  /** Prometheus /metrics, on a listener of its own. */
  metrics: { host: string; port: number };
  issuer: string;
  database: ({ kind: 'external'; url: string } | { kind: 'embedded'; dataDir: string; port: number }) & DatabasePoolOptions;
  migrateOnStart: boolean;
  logLevel: string;
  secrets: {
    /** Signs cookies: the first signs, all verify. */
    cookieKeys: string[];
    /** Encrypts the private signing keys at rest (AES-256-GCM). */
    keyEncryptionKey: Buffer;
    /** Set only when development secrets were generated and kept in this file, because none were configured. */
    developmentSecretsFile?: string;
  };
  /** Secure cookies: on whenever the issuer is https. */
  secureCookies: boolean;
  oidc: {
    /** DCR (RFC 7591) is on only when set. */
    initialAccessToken?: string;
    /** The resource indicator (JWT access token audience) of Latch's own REST API, used when a client names none. */
    apiResource: string;
    /** Further resource servers, by resource indicator: the scopes it accepts, and the clients it may introspect tokens as. */
    resourceServers: Record<string, { scope: string; clients: string[] }>;
    /** Lifetimes, in seconds. */
    ttl: { accessToken: number; idToken: number; refreshToken: number; session: number };
    /** Seconds a just-rotated refresh token still answers instead of tripping reuse detection (0: off). */
    refreshTokenReuseGrace: number;
  };
  accounts: {
    requireEmailVerification: boolean;
    /** Lifetimes of the links mailed for verifying an address (and confirming a new one) and for a password reset, in seconds. */
    emailVerificationTtl: number;
    passwordResetTtl: number;
    /** Link mails (verification, reset, email change) per account and per address per hour. */
    mailsPerHour: number;
    /** Who must sign in with a second factor (enrolling one at their next sign-in). */
    mfaRequired: MfaPolicy;
  };
  mail: {
    /** Unset: no SMTP server; development and tests deliver to the local catcher (/dev/mail), production keeps mail in the outbox. */
    smtpUrl?: string;
    from: string;
    /** Names Latch in mails and pages. */
    productName: string;
  };
  rateLimits: {
    signInFailuresPerAccount: number;
    signInFailuresPerIp: number;
    /** Both the counting window and how long a lockout lasts. */
    signInLockoutSeconds: number;
    registrationsPerIpPerMinute: number;
  };
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
  const { values, problems: unreadable } = readVariables(environment);
  const parsed = environmentSchema.safeParse(values);
  if (!parsed.success || unreadable.length > 0) {
    // Values are never echoed back: some of these variables are secrets.
    throw new ConfigError([...unreadable, ...(parsed.error?.issues ?? []).map(describeIssue)]);
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
    if (!env.LATCH_KEY_ENCRYPTION_KEY) problems.push('LATCH_KEY_ENCRYPTION_KEY: is required in production');
    if (!env.DATABASE_URL) problems.push('DATABASE_URL: is required in production (the embedded PostgreSQL is for development)');
  }
  const apiResource = env.API_RESOURCE ?? `${issuer}/api/v1`;
  if (env.RESOURCE_SERVERS && apiResource in env.RESOURCE_SERVERS) {
    problems.push('RESOURCE_SERVERS: must not list API_RESOURCE, Latch\'s own API');
  }
  if (env.ADMIN_PORT !== undefined && (env.ADMIN_PORT === env.PORT || env.ADMIN_PORT === env.METRICS_PORT)) {
    problems.push('ADMIN_PORT: must differ from PORT and METRICS_PORT (the admin API gets a listener of its own)');
  }
  if (env.ADMIN_HOST !== undefined && env.ADMIN_PORT === undefined) problems.push('ADMIN_HOST: is only used with ADMIN_PORT; set both, or neither');
  if (env.ADMIN_URL !== undefined && env.ADMIN_PORT === undefined) problems.push('ADMIN_URL: is only used with ADMIN_PORT; set both, or neither');
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = resolveDataDir(env.LATCH_DATA_DIR);
  const host = env.HOST ?? (production ? '0.0.0.0' : '127.0.0.1');
  return {
    env: env.NODE_ENV,
    http: { host, port: env.PORT, trustedProxies: env.TRUST_PROXY, shutdownTimeout: env.SHUTDOWN_TIMEOUT },
    ...(env.ADMIN_PORT === undefined ? {} : { admin: { host: env.ADMIN_HOST ?? host, port: env.ADMIN_PORT, url: env.ADMIN_URL?.replace(/\/+$/, '') ?? adminUrlBesides(issuer, env.ADMIN_PORT) } }),
    metrics: { host: env.METRICS_HOST, port: env.METRICS_PORT },
    issuer,
    database: {
      ...(env.DATABASE_URL ? { kind: 'external', url: env.DATABASE_URL } : { kind: 'embedded', dataDir: resolve(dataDir, 'postgres'), port: env.EMBEDDED_POSTGRES_PORT }),
      poolMax: env.DATABASE_POOL_MAX,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT * 1000,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT * 1000,
    },
    migrateOnStart: env.MIGRATE_ON_START ?? !production,
    logLevel: env.LOG_LEVEL,
    secrets: secretsFrom(env, dataDir),
    secureCookies: issuer.startsWith('https:'),
    oidc: {
      initialAccessToken: env.LATCH_INITIAL_ACCESS_TOKEN,
      apiResource,
      resourceServers: env.RESOURCE_SERVERS ?? {},
      ttl: { accessToken: env.ACCESS_TOKEN_TTL, idToken: env.ID_TOKEN_TTL, refreshToken: env.REFRESH_TOKEN_TTL, session: env.SESSION_TTL },
      refreshTokenReuseGrace: env.REFRESH_TOKEN_REUSE_GRACE,
    },
    accounts: {
      requireEmailVerification: env.REQUIRE_EMAIL_VERIFICATION ?? production,
      emailVerificationTtl: env.EMAIL_VERIFICATION_TTL,
      passwordResetTtl: env.PASSWORD_RESET_TTL,
      mailsPerHour: env.ACCOUNT_MAILS_PER_HOUR,
      mfaRequired: env.MFA_REQUIRED,
    },
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM ?? `"${env.PRODUCT_NAME.replace(/["\\]/g, '')}" <no-reply@${new URL(issuer).hostname}>`,
      productName: env.PRODUCT_NAME,
    },
    rateLimits: {
      signInFailuresPerAccount: env.SIGNIN_MAX_FAILURES_PER_ACCOUNT,
      signInFailuresPerIp: env.SIGNIN_MAX_FAILURES_PER_IP,
      signInLockoutSeconds: env.SIGNIN_LOCKOUT_SECONDS,
      registrationsPerIpPerMinute: env.REGISTRATIONS_PER_IP_PER_MINUTE,
    },
    argon2: { memoryCost: env.ARGON2_MEMORY_KIB, timeCost: env.ARGON2_ITERATIONS, parallelism: env.ARGON2_PARALLELISM },
  };
}

/** `VARIABLE: message`, naming the entry inside a JSON value (RESOURCE_SERVERS: "https://x" must be ...). */
function describeIssue({ path, message }: z.core.$ZodIssue): string {
  const [variable, ...inside] = path;
  return `${String(variable)}: ${inside.map((key) => `${JSON.stringify(String(key))} `).join('')}${message}`;
}

/**
 * Every variable may instead be given as a file (the Docker secrets convention): X_FILE names a
 * file whose content, less a trailing newline, is X.
 */
function readVariables(environment: NodeJS.ProcessEnv): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of Object.keys(environmentSchema.shape)) {
    const direct = environment[name];
    const file = environment[`${name}_FILE`];
    if (direct && file) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
    } else if (file) {
      try {
        values[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        problems.push(`${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    } else if (direct) {
      values[name] = direct;
    }
  }
  return { values, problems };
}

/**
 * Outside production, missing secrets are generated once and kept beside the embedded database,
 * so that sessions and signing keys survive a restart without anyone having to invent a secret.
 */
function secretsFrom(env: z.output<typeof environmentSchema>, dataDir: string): Config['secrets'] {
  if (env.LATCH_COOKIE_KEYS && env.LATCH_KEY_ENCRYPTION_KEY) {
    return { cookieKeys: env.LATCH_COOKIE_KEYS, keyEncryptionKey: env.LATCH_KEY_ENCRYPTION_KEY };
  }
  const generated = loadDevelopmentSecrets(dataDir);
  return {
    cookieKeys: env.LATCH_COOKIE_KEYS ?? [generated.cookieKey],
    keyEncryptionKey: env.LATCH_KEY_ENCRYPTION_KEY ?? Buffer.from(generated.keyEncryptionKey, 'base64url'),
    developmentSecretsFile: generated.file,
  };
}

function resolveDataDir(dir: string | undefined): string {
  if (!dir) return resolve(projectRoot, '.latch');
  return isAbsolute(dir) ? dir : resolve(process.cwd(), dir);
}

/** Unless ADMIN_URL says otherwise, the admin listener is reached on the issuer's host, at ADMIN_PORT. */
function adminUrlBesides(issuer: string, port: number): string {
  const url = new URL(issuer);
  url.port = String(port);
  return url.origin;
}
