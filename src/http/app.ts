/**
 * The Express application: security headers, request ids, body limits, content negotiation, and one handler
 * that adapts every /fhir request to the in-process FHIR router. Errors become OperationOutcomes here, once.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { FhirError } from '../core/errors';
import type { Authenticate } from '../access/edge';
import type { AccessToken } from '../access/tokens';
import type { FhirRouter } from '../fhir/router';
import type { FhirRequest } from '../fhir/types';
import { bodyGuard } from './body-guard';
import { cors } from './cors';
import { errorResponse } from './errors';
import { describeError, type Logger, type LogRecord } from './logger';
import type { ServerMetrics } from './metrics';
import type { ProbeResult, Probes } from './probes';
import { FHIR_JSON, responseType, type ResponseType } from './negotiate';
import { pathSegments, queryPairs, toFhirRequest, type RequestBounds } from './request';
import { sendFhir } from './respond';
import { helmetOptionsFor, securityHeaders } from './security-headers';
import { swaggerUi } from './swagger-ui';

export interface AppOptions {
  router: FhirRouter;
  logger: Logger;
  maxBodyBytes: number;
  /** Verifies the Authorization header (src/access/edge.ts); absent = no authentication (internal tools). */
  authenticate?: Authenticate;
  /** Served at /fhir/.well-known/smart-configuration; null = access control off (404). */
  smartConfiguration?: Record<string, unknown> | null;
  /** Origins allowed by CORS (`*` = any); empty = no CORS headers. */
  corsOrigins?: string[];
  /** Parameter count and JSON nesting, checked before parsing. */
  bounds: RequestBounds;
  /** The OpenAPI document (JSON text) served at /openapi.json and /openapi.yaml (src/http/openapi.ts). */
  openapi: () => string;
  /** Request counts and latencies, when metrics are on (METRICS_PORT). */
  metrics?: ServerMetrics;
  /** GET /health and GET /ready. */
  probes?: Probes;
  /** Public base URL: HSTS only when it is https. */
  baseUrl?: string;
}

/** FHIR paths anyone may read without a token. */
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['metadata', '.well-known/smart-configuration']);

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Bodies of these methods are never read, so the body parser is skipped for them. */
const METHODS_WITHOUT_BODY: ReadonlySet<string> = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);

  app.use((req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.statusCode;
      const route = routeOf(options.router, req.originalUrl.split('?')[0] ?? '');
      options.metrics?.request(req.method, route.generic, status, seconds);
      options.logger.log({
        level: status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info',
        msg: 'request',
        requestId: id,
        method: req.method,
        route: route.typed,
        status,
        ms: seconds * 1000,
        client: req.socket.remoteAddress,
        ...(res.locals.logError as Partial<LogRecord> | undefined),
      });
    });
    next();
  });
  app.use(securityHeaders(helmetOptionsFor(options.baseUrl ?? 'https:')));
  if (options.corsOrigins?.length) app.use(cors(options.corsOrigins));
  // Who is asking is decided before a body is read: a request without a valid token is refused before its body
  // is buffered or parsed (src/access/edge.ts).
  if (options.authenticate) app.use(authenticateFirst(options.authenticate));
  const readBody = express.raw({ type: () => true, limit: options.maxBodyBytes });
  const guardBody = bodyGuard(options.bounds);
  app.use((req, res, next) => (METHODS_WITHOUT_BODY.has(req.method) ? next() : guardBody(req, res, () => readBody(req, res, next))));

  if (options.probes) {
    const probes = options.probes;
    const probe = (run: () => Promise<ProbeResult>) => (_req: Request, res: Response, next: NextFunction) => {
      run().then((result) => {
        res.status(result.ok ? 200 : 503).setHeader('Content-Type', 'application/health+json');
        res.setHeader('Cache-Control', 'no-store');
        res.end(JSON.stringify(result.body));
      }, next);
    };
    app.get('/health', probe(() => probes.health()));
    app.get('/ready', probe(() => probes.ready()));
  }

  app.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(options.openapi());
  });
  app.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(options.openapi());
  });
  app.use('/docs', swaggerUi());

  app.get('/fhir/.well-known/smart-configuration', (_req, res, next) => {
    if (!options.smartConfiguration) {
      next(new FhirError('not-found', 'Access control is off on this server (AUTH_MODE=off): there is no SMART configuration'));
      return;
    }
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('application/json').send(JSON.stringify(options.smartConfiguration));
  });

  app.use('/fhir', (req, res, next) => {
    let type: ResponseType;
    let fhirRequest;
    try {
      const query = queryPairs(req.originalUrl, options.bounds.maxParameters);
      type = responseType(query.find(([n]) => n === '_format')?.[1], req.headers.accept);
      res.locals.responseType = type;
      fhirRequest = toFhirRequest(req, req.path, query, options.bounds);
      // Until access control fills it in, the audit trail still learns who connected (src/access/request-access.ts).
      fhirRequest.access ??= { token: null, decidedBy: new Set(), ...(req.socket.remoteAddress ? { clientAddress: req.socket.remoteAddress } : {}) };
    } catch (err) {
      next(err);
      return;
    }
    const pretty = fhirRequest.query.some(([n, v]) => n === '_pretty' && v === 'true');
    const request = fhirRequest;
    withAccess(res.locals.token as AccessToken | null | undefined, req, request);
    options.router.route(request).then(
      (result) => sendFhir(res, result, type, pretty),
      (err: unknown) => next(err),
    );
  });

  app.use((_req, _res, next) => next(new FhirError('not-found', 'No such endpoint: the FHIR API is served under /fhir')));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const requestId = String(res.locals.requestId ?? '');
    const error = fromExpressError(err);
    const mapped = errorResponse(error, requestId);
    res.locals.logError = logFieldsOf(error, mapped.internal);
    if (res.headersSent) {
      res.end();
      return;
    }
    const type: ResponseType = res.locals.responseType ?? FHIR_JSON;
    for (const [name, value] of Object.entries(mapped.headers ?? {})) res.setHeader(name, value);
    if (mapped.status === 401) res.setHeader('WWW-Authenticate', bearerChallenge(_req, mapped.body.issue[0]?.diagnostics));
    res.status(mapped.status).setHeader('Content-Type', `${type}; charset=utf-8`);
    res.end(JSON.stringify(mapped.body));
  });
  return app;
}

/**
 * Authenticates every /fhir request but the public ones (the CapabilityStatement, the SMART configuration),
 * ahead of body parsing; the verified token (null with AUTH_MODE=off) waits in `res.locals.token`.
 */
function authenticateFirst(authenticate: Authenticate) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!needsToken(req.path)) {
      next();
      return;
    }
    authenticate(req.headers.authorization).then((token) => {
      res.locals.token = token;
      next();
    }, next);
  };
}

function needsToken(path: string): boolean {
  if (path !== '/fhir' && !path.startsWith('/fhir/')) return false;
  const rest = path.slice('/fhir/'.length).replace(/\/+$/, '');
  return !PUBLIC_PATHS.has(rest);
}

/**
 * Who is asking: the token verified by authenticateFirst and the client address, as `FhirRequest.access` (read
 * by the interactions and the audit trail). Public paths (the CapabilityStatement) carry no token.
 */
function withAccess(token: AccessToken | null | undefined, req: Request, fhirRequest: FhirRequest): void {
  if (token === undefined) return;
  fhirRequest.access = { token, ...(req.socket.remoteAddress ? { clientAddress: req.socket.remoteAddress } : {}), decidedBy: new Set() };
}

/** RFC 6750 section 3: no error code when no token was sent, invalid_token when one was and failed. */
function bearerChallenge(req: Request, description: string | undefined): string {
  const sent = typeof req.headers.authorization === 'string' && req.headers.authorization.trim() !== '';
  if (!sent) return 'Bearer realm="fhir"';
  const text = (description ?? 'The access token is invalid').replace(/["\\]/g, "'");
  return `Bearer realm="fhir", error="invalid_token", error_description="${text}"`;
}

/** Body-parser and routing failures arrive as http-errors; give them the right category and a clear message. */
function fromExpressError(err: unknown): unknown {
  if (err instanceof FhirError) return err;
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.too.large') return new FhirError('too-large', `The request body is larger than the limit of ${e.limit} bytes`);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new FhirError('unsupported-media-type', 'The body encoding is not supported: send UTF-8');
  if (e?.type === 'request.aborted') return new FhirError('incorrect', 'The request was aborted before its body arrived');
  if (e?.type === 'request.size.invalid') return new FhirError('incorrect', 'The request body size does not match Content-Length');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new FhirError('incorrect', 'The request could not be read');
  return err;
}

const OTHER_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/openapi.yaml', '/openapi.json', '/docs']);

/** The route template of a request path for metrics (`generic`) and logs (`typed`): no query string, no ids. */
function routeOf(router: FhirRouter, path: string): { generic: string; typed: string } {
  const fixed = (template: string) => ({ generic: template, typed: template });
  if (OTHER_PATHS.has(path)) return fixed(path);
  if (path.startsWith('/docs/')) return fixed('/docs/*');
  if (path !== '/fhir' && !path.startsWith('/fhir/')) return fixed('(other)');
  try {
    return router.template(pathSegments(path.slice(5))) ?? fixed('/fhir/(unmatched)');
  } catch {
    return fixed('/fhir/(invalid)');
  }
}

/**
 * Why a request failed, for its log line: the category, issue codes and the parameters or elements concerned
 * (`expression`), never the diagnostics, which may quote a value; for our own errors the error's class, a
 * content-free message and the stack frames (src/http/logger.ts).
 */
function logFieldsOf(err: unknown, internal: boolean): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (err instanceof FhirError) {
    fields.category = err.category;
    fields.issues = err.issues.slice(0, 5).map((issue) => ({
      code: issue.code,
      ...(issue.expression ? { expression: issue.expression.slice(0, 5).map((e) => e.slice(0, 80)) } : {}),
    }));
  }
  if (internal) fields.error = describeError(err);
  return fields;
}
