/**
 * The Express application: security headers, request ids, body limits, content negotiation, and one handler
 * that adapts every /fhir request to the in-process FHIR router. Errors become OperationOutcomes here, once.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { FhirError } from '../core/errors';
import type { Authenticate } from '../access/edge';
import type { FhirRouter } from '../fhir/router';
import type { FhirRequest } from '../fhir/types';
import { bodyGuard } from './body-guard';
import { cors } from './cors';
import { errorResponse } from './errors';
import { routeTemplate, type Logger } from './logger';
import { FHIR_JSON, responseType, type ResponseType } from './negotiate';
import { pathSegments, queryPairs, toFhirRequest, type RequestBounds } from './request';
import { sendFhir } from './respond';
import { securityHeaders } from './security-headers';

export interface AppOptions {
  router: FhirRouter;
  logger: Logger;
  maxBodyBytes: number;
  /** The OpenAPI document served at /openapi.yaml. */
  openapi: string;
  /** Verifies the Authorization header (src/access/edge.ts); absent = no authentication (internal tools). */
  authenticate?: Authenticate;
  /** Served at /fhir/.well-known/smart-configuration; null = access control off (404). */
  smartConfiguration?: Record<string, unknown> | null;
  /** Origins allowed by CORS (`*` = any); empty = no CORS headers. */
  corsOrigins?: string[];
  /** Parameter count and JSON nesting, checked before parsing. */
  bounds: RequestBounds;
}

/** FHIR paths anyone may read without a token. */
const PUBLIC_PATHS: ReadonlySet<string> = new Set(['metadata']);

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
      options.logger.log({
        level: res.statusCode >= 500 ? 'error' : 'info',
        msg: 'request',
        requestId: id,
        method: req.method,
        route: logRoute(req.originalUrl),
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
    next();
  });
  app.use(securityHeaders());
  if (options.corsOrigins?.length) app.use(cors(options.corsOrigins));
  const readBody = express.raw({ type: () => true, limit: options.maxBodyBytes });
  const guardBody = bodyGuard(options.bounds);
  app.use((req, res, next) => (METHODS_WITHOUT_BODY.has(req.method) ? next() : guardBody(req, res, () => readBody(req, res, next))));

  app.get('/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(options.openapi);
  });

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
    } catch (err) {
      next(err);
      return;
    }
    const pretty = fhirRequest.query.some(([n, v]) => n === '_pretty' && v === 'true');
    const request = fhirRequest;
    withAccess(options.authenticate, req, request).then(() => options.router.route(request)).then(
      (result) => sendFhir(res, result, type, pretty),
      (err: unknown) => next(err),
    );
  });

  app.use((_req, _res, next) => next(new FhirError('not-found', 'No such endpoint: the FHIR API is served under /fhir')));

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const requestId = String(res.locals.requestId ?? '');
    const mapped = errorResponse(fromExpressError(err), requestId);
    if (mapped.internal) {
      options.logger.log({ level: 'error', msg: 'internal error', requestId, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    const type: ResponseType = res.locals.responseType ?? FHIR_JSON;
    if (mapped.status === 401) res.setHeader('WWW-Authenticate', bearerChallenge(_req, mapped.body.issue[0]?.diagnostics));
    res.status(mapped.status).setHeader('Content-Type', `${type}; charset=utf-8`);
    res.end(JSON.stringify(mapped.body));
  });
  return app;
}

/**
 * Who is asking: the verified token and the client address, as `FhirRequest.access` (read by the interactions
 * and the audit trail). Public paths (the CapabilityStatement) need no token.
 */
async function withAccess(authenticate: Authenticate | undefined, req: Request, fhirRequest: FhirRequest): Promise<void> {
  if (!authenticate) return;
  if (fhirRequest.path.length === 1 && PUBLIC_PATHS.has(fhirRequest.path[0] as string)) return;
  const header = req.headers.authorization;
  const token = await authenticate(header);
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

/** The route template of a request URL for logs: no query string, no ids. */
function logRoute(originalUrl: string): string {
  const path = originalUrl.split('?')[0] ?? '';
  if (path === '/openapi.yaml') return path;
  if (path !== '/fhir' && !path.startsWith('/fhir/')) return '(other)';
  try {
    return routeTemplate(pathSegments(path.slice(5)));
  } catch {
    return '/fhir/(invalid)';
  }
}
