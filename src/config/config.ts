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
  search: { defaultCount: number; maxCount: number };
  /** Key that signs search paging links; set it when several instances serve one store or links must survive restarts. */
  pageTokenSecret?: string;
}

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
  return {
    port,
    host,
    baseUrl: httpUrl('BASE_URL', env.BASE_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}/fhir`),
    dataDir: env.DATA_DIR || './data',
    storeCacheMb: integer(env, 'STORE_CACHE_MB', 64, 0, 1024 * 1024),
    mongodbUri,
    mongodbDb,
    maxBodyBytes: byteSize(env, 'MAX_BODY_SIZE', 5 * 1024 * 1024),
    search: { defaultCount, maxCount },
    ...(pageTokenSecret ? { pageTokenSecret } : {}),
  };
}
