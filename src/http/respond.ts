/** Writes a FhirResponse: status, version headers (https://hl7.org/fhir/R4/http.html#versioning) and the JSON body. */
import type { Response } from 'express';
import type { FhirResponse } from '../fhir/types';
import { etagOf } from '../fhir/preconditions';
import type { ResponseType } from './negotiate';
import { toJson } from './serialize';

export function sendFhir(res: Response, result: FhirResponse, type: ResponseType, pretty: boolean): void {
  res.status(result.status);
  if (result.versionId !== undefined) res.setHeader('ETag', etagOf(result.versionId));
  if (result.lastUpdated !== undefined) res.setHeader('Last-Modified', new Date(result.lastUpdated).toUTCString());
  if (result.location !== undefined) res.setHeader('Location', result.location);
  if (result.stream) {
    sendLines(res, result.stream);
    return;
  }
  if (result.status === 304 || result.status === 204 || result.resource === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', `${type}; charset=utf-8`);
  res.end(toJson(result.resource, pretty));
}

/** Streams an NDJSON body, waiting for the socket to drain; a failure midway cuts the connection (the body is incomplete). */
function sendLines(res: Response, stream: NonNullable<FhirResponse['stream']>): void {
  res.setHeader('Content-Type', stream.contentType);
  void (async () => {
    try {
      for await (const line of stream.lines) {
        if (!res.write(line)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
    } catch {
      res.destroy();
    }
  })();
}
