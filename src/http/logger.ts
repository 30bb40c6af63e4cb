/**
 * Structured JSON log lines, written by pino (levels, fast serialisation). Request logs carry the request id,
 * method, a route template (ids replaced), status, duration and client address: never bodies, query strings,
 * header values or ids, which may identify a patient. Errors are described by their class, category, issue code
 * and the parameter or element they concern (`expression`), never by the value that caused them.
 */
import pino, { type DestinationStream } from 'pino';
import type { LogLevel } from '../config/config';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  [field: string]: unknown;
}

export interface Logger {
  log(record: LogRecord): void;
}

export interface JsonLoggerOptions {
  /** Lines below this level are dropped (LOG_LEVEL; default info). */
  level?: LogLevel;
  /** Where lines go; stdout by default (synchronous, so nothing is lost when the process exits). */
  destination?: DestinationStream;
}

export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const log = pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return {
    log: ({ level, msg, ...fields }) => log[level](fields, msg),
  };
}

export const silentLogger: Logger = { log: () => undefined };

/**
 * What a log line may say about an internal error: its class, a message with every quoted, numeric or symbolic
 * token replaced by '…' (engine messages embed the offending value, e.g. a whole regular expression built from a
 * search value), and its stack frames, which name only code locations.
 */
export function describeError(err: unknown): { class: string; message: string; frames: string[] } {
  if (!(err instanceof Error)) return { class: typeof err, message: '…', frames: [] };
  const frames = (err.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 12)
    .map((line) => line.trim());
  return { class: err.constructor?.name || err.name, message: contentFree(err.message), frames };
}

const PLAIN_WORD = /^[A-Za-z][a-z]{0,19}[,.:;]?$/;

function contentFree(message: string): string {
  const words = message
    .replace(/(["'`]).*?\1/gs, ' … ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .slice(0, 24)
    .map((w) => (PLAIN_WORD.test(w) ? w : '…'));
  return words.filter((w, i) => w !== '…' || words[i - 1] !== '…').join(' ');
}
