/** Writes a FhirResponse: status, version headers (https://hl7.org/fhir/R4/http.html#versioning) and the JSON body. */
import { createReadStream, fstat } from 'node:fs';
import type { Response } from 'express';
import { FhirError } from '../core/errors';
import type { FhirResponse } from '../fhir/types';
import { etagOf } from '../fhir/preconditions';
import { errorResponse } from './errors';
import type { ResponseType } from './negotiate';
import { toJson } from './serialize';

export function sendFhir(res: Response, result: FhirResponse, type: ResponseType, pretty: boolean): void {
  res.status(result.status);
  if (result.versionId !== undefined) res.setHeader('ETag', etagOf(result.versionId));
  if (result.lastUpdated !== undefined) res.setHeader('Last-Modified', new Date(result.lastUpdated).toUTCString());
  if (result.location !== undefined) res.setHeader('Location', result.location);
  for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
  if (result.stream) {
    sendLines(res, result.stream);
    return;
  }
  if (result.content) {
    sendContent(res, result.content, pretty);
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

/** Reads of a streamed file (fs streams default to 64 KiB; NDJSON export files run to gigabytes). */
const FILE_CHUNK_BYTES = 1024 * 1024;

/** A JSON document, or a file streamed from disk (never read whole into memory) with its length. */
function sendContent(res: Response, content: NonNullable<FhirResponse['content']>, pretty: boolean): void {
  if ('json' in content) {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.end(pretty ? JSON.stringify(content.json, null, 2) : JSON.stringify(content.json));
    return;
  }
  const stream = createReadStream(content.file, { highWaterMark: FILE_CHUNK_BYTES });
  stream.once('open', (fd) => {
    fstat(fd, (err, stats) => {
      res.setHeader('Content-Type', content.contentType);
      if (!err) res.setHeader('Content-Length', String(stats.size));
      stream.pipe(res);
    });
  });
  stream.once('error', (err) => {
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    const gone = errorResponse(new FhirError('not-found', 'The file is no longer available: it expired or its export was cancelled'), '');
    res.status(gone.status).setHeader('Content-Type', 'application/fhir+json; charset=utf-8');
    res.end(JSON.stringify(gone.body));
  });
}
