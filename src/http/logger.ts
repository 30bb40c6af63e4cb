/**
 * Structured JSON log lines. Request logs carry the request id, method, a route template (ids replaced),
 * status and duration: never bodies, query strings or ids, which may identify a patient.
 */
export interface LogRecord {
  level: 'info' | 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}

export interface Logger {
  log(record: LogRecord): void;
}

export const jsonLogger = (write: (line: string) => void = (line) => process.stdout.write(line)): Logger => ({
  log: (record) => write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`),
});

export const silentLogger: Logger = { log: () => undefined };

const RESERVED = /^(?:_|\$|metadata$)/;
const TYPE_NAME = /^[A-Z][A-Za-z]{1,63}$/;

/** /fhir/Patient/123/_history/2 -> /fhir/Patient/:id/_history/:vid */
export function routeTemplate(segments: string[]): string {
  const named = segments.map((segment, i) => {
    if (RESERVED.test(segment)) return segment;
    if (i === 0 || i === 2) return TYPE_NAME.test(segment) ? segment : ':type';
    return i === 1 ? ':id' : ':vid';
  });
  return `/fhir${named.length ? `/${named.join('/')}` : ''}`;
}
