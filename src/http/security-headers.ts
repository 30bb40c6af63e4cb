/**
 * helmet's security headers on every response. helmet's default policy is static (no per-request nonces), so
 * its output is computed once, by running helmet against a probe response, and replayed per request: the same
 * headers at a fraction of the per-request cost (helmet's chain of small middlewares costs ~20% of a read).
 */
import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Options for a server whose public base URL uses `scheme`: Strict-Transport-Security and the CSP directive
 * upgrade-insecure-requests only make sense (and are only honoured) over https
 * (https://www.rfc-editor.org/rfc/rfc6797#section-7.2), so plain-http deployments do not send them.
 */
export function helmetOptionsFor(baseUrl: string): HelmetOptions {
  if (baseUrl.startsWith('https:')) return {};
  return { strictTransportSecurity: false, contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } };
}

export function securityHeaders(options?: HelmetOptions): RequestHandler {
  const headers = new Map<string, string>();
  const probe = {
    setHeader: (name: string, value: string | number | readonly string[]) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
  };
  let ran = false;
  helmet(options)({} as never, probe as never, ((err?: unknown) => {
    if (err) throw err;
    ran = true;
  }) as never);
  if (!ran) throw new Error('helmet did not complete synchronously; its headers cannot be precomputed');
  const entries = [...headers];
  return (_req, res, next) => {
    for (const [name, value] of entries) res.setHeader(name, value);
    next();
  };
}
