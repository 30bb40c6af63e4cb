/**
 * Bounds checked while a request body arrives, ahead of the body parser: a JSON body nesting deeper than
 * allowed, or a form holding more parameters than the request may have, is answered 400 at the first chunk
 * that shows it, and the connection is closed so the rest is never read (a refused 4.8 MB body costs about one
 * chunk). Bodies with a Content-Encoding are checked once decoded instead (src/http/request.ts).
 */
import type { NextFunction, Request, Response } from 'express';
import type { FhirError } from '../core/errors';
import { tooManyParameters } from '../search/limits/input';
import { errorResponse } from './errors';
import { PairCounter } from './form-pairs';
import { NestingScanner, tooDeep } from './json-depth';
import { FHIR_JSON, FORM_TYPE, mediaType } from './negotiate';
import type { RequestBounds } from './request';

/** Whether the body came compressed (the body parser inflates it, so its bytes are only seen decoded). */
export function encodedBody(req: Request): boolean {
  const encoding = req.headers['content-encoding'];
  return encoding !== undefined && encoding.toLowerCase() !== 'identity';
}

export function bodyGuard(bounds: RequestBounds): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (!encodedBody(req)) {
      const check = checkFor(req, bounds);
      const onData = (chunk: Buffer): void => {
        if (!check.exceeded(chunk)) return;
        req.removeListener('data', onData);
        refuse(req, res, check.error);
      };
      req.on('data', onData);
      req.once('end', () => req.removeListener('data', onData));
    }
    next();
  };
}

interface Check {
  exceeded(chunk: Buffer): boolean;
  error: FhirError;
}

function checkFor(req: Request, bounds: RequestBounds): Check {
  if (mediaType(req.headers['content-type']) !== FORM_TYPE) {
    const scanner = new NestingScanner(bounds.maxJsonDepth);
    return { exceeded: (chunk) => scanner.exceeded(chunk), error: tooDeep(bounds.maxJsonDepth) };
  }
  const q = req.originalUrl.indexOf('?');
  const inQuery = new PairCounter(Infinity);
  if (q >= 0) inQuery.exceeded(Buffer.from(req.originalUrl.slice(q + 1)));
  const counter = new PairCounter(Math.max(0, bounds.maxParameters - inQuery.counted));
  return { exceeded: (chunk) => counter.exceeded(chunk), error: tooManyParameters(bounds.maxParameters) };
}

/** Answers now with the OperationOutcome and closes the connection once it is written. */
function refuse(req: Request, res: Response, error: FhirError): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  const { status, body } = errorResponse(error, String(res.locals.requestId ?? ''));
  res.writeHead(status, { 'Content-Type': `${FHIR_JSON}; charset=utf-8`, Connection: 'close' });
  res.end(JSON.stringify(body), () => req.socket.destroy());
}
