/**
 * CORS for browser apps (https://fetch.spec.whatwg.org/#http-cors-protocol): allowed origins get
 * Access-Control-Allow-Origin; a preflight is answered with the methods and headers of the FHIR API, the
 * Authorization header included (SMART apps send bearer tokens).
 */
import type { RequestHandler } from 'express';

const METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const REQUEST_HEADERS = 'Authorization, Content-Type, Accept, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, Prefer, X-Request-Id';
const EXPOSED = 'Location, Content-Location, ETag, Last-Modified, X-Request-Id, WWW-Authenticate';

export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.append('Vary', 'Origin');
    if (typeof origin !== 'string' || !(any || allowed.has(origin))) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', METHODS);
      res.setHeader('Access-Control-Allow-Headers', REQUEST_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
