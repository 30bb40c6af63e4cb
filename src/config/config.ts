/**
 * Typed configuration from the environment, validated at boot: an invalid value stops start-up with one
 * clear line (src/main.ts prints ConfigError.message and exits).
 */
export interface Config {
  port: number;
  host: string;
  /** Public base URL of the FHIR endpoint, used in fullUrl, Location and links (no trailing slash). */
  baseUrl: string;
  /** Embedded store directory; ignored when mongodbUri is set. */
  dataDir: string;
  /** Bound of the embedded store's parsed-document cache, in MiB (STORE_CACHE_MB). */
  storeCacheMb: number;
  mongodbUri?: string;
  mongodbDb: string;
  /** Largest accepted request body in bytes (413 above). */
  maxBodyBytes: number;
  /** Most entries in one batch or transaction Bundle (413 above). */
  maxBundleEntries: number;
  search: { defaultCount: number; maxCount: number };
  /** Key that signs search paging links; set it when several instances serve one store or links must survive restarts. */
  pageTokenSecret?: string;
  /** Access control (docs/access.md). */
  auth: AuthConfig;
  /** Origins allowed to call the API from a browser (CORS); empty = none, ['*'] = any. */
  corsOrigins: string[];
  /** Lowest level written to the log (LOG_LEVEL). */
  logLevel: LogLevel;
  /** Port of the separate GET /metrics listener (METRICS_PORT); metrics are off when unset. */
  metricsPort?: number;
  /** Interface of the metrics listener (METRICS_HOST, default 127.0.0.1). */
  metricsHost: string;
  /** How long a shutdown waits for in-flight requests before closing their connections (SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs: number;
  /** REFERENTIAL_INTEGRITY: check references on write, and on delete too (src/fhir/integrity/hook.ts). */
  referentialIntegrity: 'off' | 'write' | 'write-delete';
  /** Connection limits of the HTTP server (src/http/listen.ts); durations in milliseconds. */
  connections: ConnectionLimits;
  /** Bounds on hostile input, answered with a 4xx before expensive work. */
  bounds: InputBounds;
  /** AUDIT: the tamper-evident audit trail (src/audit); on unless the operator turns it off (logged as a warning). */
  audit: 'on' | 'off';
  /** Sync feeds: how far the visibility horizon is held back for writers in other instances (src/fhir/visibility.ts). */
  sync: { settleMs: number };
  /** Bulk Data $export: where NDJSON files go (default DATA_DIR/exports), how long they stay, resources read per page. */
  bulkExport: { dir?: string; retentionSeconds: number; pageSize: number };
  /** Subscription notifications (src/subscriptions). */
  subscriptions: SubscriptionConfig;
  /** Local profiles (issue 9): folder (PROFILES_DIR), unknown claimed profiles (PROFILE_UNKNOWN), REQUIRED_PROFILES. */
  profiles?: { dir?: string; unknownProfile: 'warning' | 'error'; requiredProfiles: Record<string, string[]>; unknownExtensions?: 'warn' | 'error' | 'ignore' };
}

export interface SubscriptionConfig {
  /** Endpoint URL prefixes notifications may go to, besides 127.0.0.1 and localhost (always allowed). */
  allowedEndpoints: string[];
  /** Delay before the first retry of a failed notification; each further retry waits twice as long. */
  retryBaseMs: number;
  /** Attempts per notification before it is dropped (the Subscription keeps status error). */
  maxAttempts: number;
}

export interface ConnectionLimits {
  /** The request headers must arrive within this time (Node's server.headersTimeout). */
  headersTimeout: number;
  /** The whole request, headers and body, must arrive within this time (server.requestTimeout). */
  requestTimeout: number;
  /** An idle keep-alive connection is closed after this time (server.keepAliveTimeout). */
  keepAliveTimeout: number;
  /** A connection with no traffic at all for this long is closed (server.timeout). */
  idleTimeout: number;
  /** The body must arrive within this time after the headers (408 otherwise). */
  bodyTimeout: number;
  /** Connections above this number are refused (server.maxConnections). */
  maxConnections: number;
}

export interface InputBounds {
  /** Query and form parameters of one request. */
  maxParameters: number;
  /** Characters in one search parameter value. */
  maxValueLength: number;
  /** Nesting of objects and arrays in a JSON body, checked before it is parsed (at most 64, the limit after parsing). */
  maxJsonDepth: number;
  /** Store queries one search may run (chains, _has, includes, the page itself). */
  maxSearchQueries: number;
  /** Records one search may read from the store over all of its queries. */
  maxSearchRecords: number;
}

export interface AuthConfig {
  /** `off` only by explicit AUTH_MODE=off (logged as a warning at start-up). */
  mode: 'on' | 'off';
  /** JWKS URL or file; absent = the server's own key in DATA_DIR (npm run token). */
  jwks?: string;
  issuer: string;
  audience: string;
  introspectionUrl?: string;
  introspectionClientId?: string;
  introspectionClientSecret?: string;
  /** Authorization server endpoints advertised in smart-configuration and the CapabilityStatement. */
  authorizeUrl?: string;
  tokenUrl?: string;
  /** Purposes of use for which the implicit policy (no consent on file) permits: opt-out for these, opt-in for others. */
  implicitPermitPurposes: string[];
  /** Purpose assumed when a user/ or system/ token names none. */
  defaultPurpose: string;
  /** Whether break-the-glass (user/ token, purpose ETREAT or BTG, a btg_justification claim) may override consent denials. */
  breakTheGlass: boolean;
}
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got '${raw}'`);
  return raw as T;
}

/** Sizes like 5mb, 512kb or plain bytes. */
function byteSize(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a size such as 5mb, 512kb or 1048576, got '${raw}'`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const bytes = Number(match[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
  if (bytes < 1024) throw new ConfigError(`${name} must be at least 1kb, got '${raw}'`);
  return bytes;
}

/** Durations like 30s, 500ms, 2m or plain milliseconds. */
function duration(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)\s*(ms|s|m)?$/i.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a duration such as 30s, 500ms, 2m or 30000, got '${raw}'`);
  const unit = (match[2] ?? 'ms').toLowerCase();
  const ms = Number(match[1]) * (unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
  if (ms < min || ms > max) throw new ConfigError(`${name} must be between ${min} ms and ${max} ms, got '${raw}'`);
  return ms;
}

function connectionLimits(env: Env): ConnectionLimits {
  const limits = {
    headersTimeout: duration(env, 'HTTP_HEADERS_TIMEOUT', 20_000, 10, 600_000),
    requestTimeout: duration(env, 'HTTP_REQUEST_TIMEOUT', 60_000, 10, 3_600_000),
    keepAliveTimeout: duration(env, 'HTTP_KEEP_ALIVE_TIMEOUT', 5_000, 10, 600_000),
    idleTimeout: duration(env, 'HTTP_IDLE_TIMEOUT', 30_000, 10, 600_000),
    bodyTimeout: duration(env, 'HTTP_BODY_TIMEOUT', 20_000, 10, 3_600_000),
    maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', 1000, 1, 1_000_000),
  };
  if (limits.headersTimeout > limits.requestTimeout) {
    throw new ConfigError(`HTTP_HEADERS_TIMEOUT (${limits.headersTimeout} ms) must not exceed HTTP_REQUEST_TIMEOUT (${limits.requestTimeout} ms)`);
  }
  return limits;
}

/** The longest value stays well inside MongoDB's regular expression limit (32,764 bytes) once escaped. */
const MAX_VALUE_LENGTH = 8192;

function inputBounds(env: Env): InputBounds {
  return {
    maxParameters: integer(env, 'SEARCH_MAX_PARAMETERS', 100, 1, 10_000),
    maxValueLength: integer(env, 'SEARCH_MAX_VALUE_LENGTH', 2048, 16, MAX_VALUE_LENGTH),
    maxJsonDepth: integer(env, 'MAX_JSON_DEPTH', 64, 2, 64),
    maxSearchQueries: integer(env, 'SEARCH_MAX_QUERIES', 200, 1, 1_000_000),
    maxSearchRecords: integer(env, 'SEARCH_MAX_RECORDS', 20_000, 1, 10_000_000),
  };
}

function httpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute http(s) URL, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name} must use http or https, got '${raw}'`);
  if (url.search || url.hash) throw new ConfigError(`${name} must not have a query or fragment, got '${raw}'`);
  return raw.replace(/\/+$/, '');
}

/** Comma-separated http(s) URL prefixes, each without query or fragment. */
function endpointPrefixes(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => httpUrl(name, entry));
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const mongodbUri = env.MONGODB_URI || undefined;
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    throw new ConfigError(`MONGODB_URI must start with mongodb:// or mongodb+srv://`);
  }
  const mongodbDb = env.MONGODB_DB || 'fhir';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(mongodbDb)) throw new ConfigError(`MONGODB_DB must be 1-63 letters, digits, '_' or '-', got '${mongodbDb}'`);
  const defaultCount = integer(env, 'SEARCH_DEFAULT_COUNT', 20, 1, 10000);
  const maxCount = integer(env, 'SEARCH_MAX_COUNT', 1000, 1, 10000);
  if (defaultCount > maxCount) throw new ConfigError(`SEARCH_DEFAULT_COUNT (${defaultCount}) must not exceed SEARCH_MAX_COUNT (${maxCount})`);
  const pageTokenSecret = env.PAGE_TOKEN_SECRET || undefined;
  if (pageTokenSecret !== undefined && pageTokenSecret.length < 32) throw new ConfigError('PAGE_TOKEN_SECRET must be at least 32 characters');
  const baseUrl = httpUrl('BASE_URL', env.BASE_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}/fhir`);
  const logLevel = (env.LOG_LEVEL || 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${env.LOG_LEVEL}'`);
  const metricsPort = env.METRICS_PORT ? integer(env, 'METRICS_PORT', 0, 0, 65535) : undefined;
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) throw new ConfigError('METRICS_PORT must differ from PORT: metrics are served off the public port');
  return {
    port,
    host,
    baseUrl,
    dataDir: env.DATA_DIR || './data',
    storeCacheMb: integer(env, 'STORE_CACHE_MB', 64, 0, 1024 * 1024),
    mongodbUri,
    mongodbDb,
    maxBodyBytes: byteSize(env, 'MAX_BODY_SIZE', 5 * 1024 * 1024),
    maxBundleEntries: integer(env, 'MAX_BUNDLE_ENTRIES', 10_000, 1, 1_000_000),
    search: { defaultCount, maxCount },
    ...(pageTokenSecret ? { pageTokenSecret } : {}),
    auth: authConfig(env, baseUrl),
    corsOrigins: corsOrigins(env),
    profiles: profileConfig(env),
    connections: connectionLimits(env),
    bounds: inputBounds(env),
    logLevel,
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    metricsHost: env.METRICS_HOST || '127.0.0.1',
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10000, 0, 600000),
    referentialIntegrity: oneOf(env, 'REFERENTIAL_INTEGRITY', ['off', 'write', 'write-delete'] as const, 'off'),
    audit: oneOf(env, 'AUDIT', ['on', 'off'] as const, 'on'),
    sync: { settleMs: integer(env, 'SYNC_SETTLE_MS', 0, 0, 600_000) },
    bulkExport: {
      ...(env.EXPORT_DIR ? { dir: env.EXPORT_DIR } : {}),
      retentionSeconds: integer(env, 'EXPORT_RETENTION_SECONDS', 3600, 1, 30 * 24 * 3600),
      pageSize: integer(env, 'EXPORT_PAGE_SIZE', 1000, 1, 10000),
    },
    subscriptions: {
      allowedEndpoints: endpointPrefixes(env, 'SUBSCRIPTION_ALLOWED_ENDPOINTS'),
      retryBaseMs: integer(env, 'SUBSCRIPTION_RETRY_BASE_MS', 1000, 1, 3_600_000),
      maxAttempts: integer(env, 'SUBSCRIPTION_MAX_ATTEMPTS', 10, 1, 100),
    },
  };
}

const PURPOSE = /^[A-Z]{2,32}$/;

function purposeList(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const list = raw.split(',').map((p) => p.trim().toUpperCase()).filter((p) => p !== '');
  for (const p of list) if (!PURPOSE.test(p)) throw new ConfigError(`${name} must list v3 ActReason codes such as TREAT,ETREAT, got '${p}'`);
  return list;
}

function authConfig(env: Env, baseUrl: string): AuthConfig {
  const mode = env.AUTH_MODE || 'on';
  if (mode !== 'on' && mode !== 'off') throw new ConfigError(`AUTH_MODE must be on or off, got '${mode}'`);
  const optionalUrl = (name: string): Partial<Record<string, string>> => (env[name] ? { [name]: httpUrl(name, env[name] as string) } : {});
  const introspection = optionalUrl('AUTH_INTROSPECTION_URL').AUTH_INTROSPECTION_URL;
  const authorize = optionalUrl('AUTH_AUTHORIZE_URL').AUTH_AUTHORIZE_URL;
  const token = optionalUrl('AUTH_TOKEN_URL').AUTH_TOKEN_URL;
  const defaultPurpose = (env.AUTH_DEFAULT_PURPOSE || 'TREAT').toUpperCase();
  if (!PURPOSE.test(defaultPurpose)) throw new ConfigError(`AUTH_DEFAULT_PURPOSE must be a v3 ActReason code such as TREAT, got '${defaultPurpose}'`);
  const btg = env.AUTH_BREAK_THE_GLASS || 'on';
  if (btg !== 'on' && btg !== 'off') throw new ConfigError(`AUTH_BREAK_THE_GLASS must be on or off, got '${btg}'`);
  return {
    mode,
    ...(env.AUTH_JWKS ? { jwks: env.AUTH_JWKS } : {}),
    issuer: env.AUTH_ISSUER || baseUrl,
    audience: env.AUTH_AUDIENCE || baseUrl,
    ...(introspection ? { introspectionUrl: introspection } : {}),
    ...(env.AUTH_INTROSPECTION_CLIENT_ID ? { introspectionClientId: env.AUTH_INTROSPECTION_CLIENT_ID } : {}),
    ...(env.AUTH_INTROSPECTION_CLIENT_SECRET ? { introspectionClientSecret: env.AUTH_INTROSPECTION_CLIENT_SECRET } : {}),
    ...(authorize ? { authorizeUrl: authorize } : {}),
    ...(token ? { tokenUrl: token } : {}),
    implicitPermitPurposes: purposeList(env, 'AUTH_IMPLICIT_PERMIT_PURPOSES', ['TREAT', 'ETREAT', 'HPAYMT', 'HOPERAT']),
    defaultPurpose,
    breakTheGlass: btg === 'on',
  };
}

function corsOrigins(env: Env): string[] {
  const raw = env.CORS_ORIGINS ?? '';
  const list = raw.split(',').map((o) => o.trim()).filter((o) => o !== '');
  for (const origin of list) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError(`CORS_ORIGINS must list origins such as https://app.example.org (or *), got '${origin}'`);
  }
  return list;
}

/** The configuration for the start-up log line: no secrets (PAGE_TOKEN_SECRET is only said to be set), no credentials. */
export function configSummary(config: Config): Record<string, unknown> {
  return {
    baseUrl: config.baseUrl,
    listen: `${config.host}:${config.port}`,
    store: config.mongodbUri ? { kind: 'mongodb', hosts: mongoHosts(config.mongodbUri), db: config.mongodbDb } : { kind: 'embedded', dataDir: config.dataDir },
    maxBodyBytes: config.maxBodyBytes,
    search: config.search,
    pageTokenSecret: config.pageTokenSecret ? 'set' : 'unset (paging links end with the process)',
    logLevel: config.logLevel,
    metrics: config.metricsPort !== undefined ? `${config.metricsHost}:${config.metricsPort}` : 'off',
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    referentialIntegrity: config.referentialIntegrity,
  };
}

/** The host list of a MongoDB URI, without user, password or options. */
function mongoHosts(uri: string): string {
  return uri.replace(/^mongodb(\+srv)?:\/\//, '').replace(/^[^@/]*@/, '').split(/[/?]/)[0] ?? '';
}

/** PROFILES_DIR, PROFILE_UNKNOWN=warning|error, REQUIRED_PROFILES=Patient=url1,url2;Encounter=url3, UNKNOWN_EXTENSIONS=warn|error|ignore */
function profileConfig(env: Env): NonNullable<Config['profiles']> {
  const unknownProfile = env.PROFILE_UNKNOWN || 'warning';
  if (unknownProfile !== 'warning' && unknownProfile !== 'error') throw new ConfigError(`PROFILE_UNKNOWN must be 'warning' or 'error', got '${unknownProfile}'`);
  const requiredProfiles: Record<string, string[]> = {};
  for (const part of (env.REQUIRED_PROFILES ?? '').split(';').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([A-Z][A-Za-z]+)=(.+)$/.exec(part);
    const urls = match?.[2].split(',').map((u) => u.trim()).filter(Boolean) ?? [];
    if (!match || !urls.length || urls.some((u) => !/^[a-z][a-z0-9+.-]*:/.test(u))) {
      throw new ConfigError(`REQUIRED_PROFILES must look like 'Patient=http://example.org/StructureDefinition/p;Encounter=…', got '${part}'`);
    }
    requiredProfiles[match[1]] = urls;
  }
  const unknownExtensions = env.UNKNOWN_EXTENSIONS || 'warn';
  if (unknownExtensions !== 'warn' && unknownExtensions !== 'error' && unknownExtensions !== 'ignore') {
    throw new ConfigError(`UNKNOWN_EXTENSIONS must be 'warn', 'error' or 'ignore', got '${unknownExtensions}'`);
  }
  return { ...(env.PROFILES_DIR ? { dir: env.PROFILES_DIR } : {}), unknownProfile, requiredProfiles, unknownExtensions };
}
