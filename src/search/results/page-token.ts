/**
 * Opaque `_page` tokens of searchset paging links (https://hl7.org/fhir/R4/http.html#paging,
 * https://hl7.org/fhir/R4/search.html#count). A token carries the snapshot instant of the walk, the position to
 * continue from and the total computed on the first page; it is signed (HMAC-SHA256) together with the search
 * it belongs to, so a forged, damaged or transplanted token is refused instead of silently reinterpreted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalid } from '../../core/errors';
import type { SortValue } from './sort';

export interface PageCursor {
  /** FHIR instant the whole walk is evaluated at (the first page's search time). */
  snapshot: string;
  /** 'next': the page starts after `position`; 'previous': the page ends before it. */
  direction: 'next' | 'previous';
  /** Sort values (ending with the record key) of the boundary record; absent: from the start of the set. */
  position?: SortValue[];
  /** Bundle.total as computed on the first page, repeated on every page. */
  total?: number;
}

interface Payload {
  s: string;
  d: 'n' | 'p';
  p?: SortValue[];
  t?: number;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const MAC_BYTES = 32;

export class PageTokens {
  private readonly secret: Buffer;

  /** `secret`: shared by every server instance behind one base URL; random per process when omitted. */
  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  /** A token for `cursor`, valid only for the search identified by `search` (its canonical parameters). */
  issue(cursor: PageCursor, search: string): string {
    const payload: Payload = { s: cursor.snapshot, d: cursor.direction === 'next' ? 'n' : 'p' };
    if (cursor.position) payload.p = cursor.position;
    if (cursor.total !== undefined) payload.t = cursor.total;
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    return `${body.toString('base64url')}.${this.mac(body, search).toString('base64url')}`;
  }

  /** The cursor in `token`; FhirError('incorrect') when it was not issued by this server for this search. */
  open(token: string, search: string): PageCursor {
    const [bodyText, macText, extra] = token.split('.');
    if (extra !== undefined || !bodyText || !macText) throw forged();
    const body = Buffer.from(bodyText, 'base64url');
    const mac = Buffer.from(macText, 'base64url');
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.mac(body, search))) throw forged();
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      throw forged();
    }
    if (!isPayload(payload)) throw forged();
    return {
      snapshot: payload.s,
      direction: payload.d === 'n' ? 'next' : 'previous',
      ...(payload.p ? { position: payload.p } : {}),
      ...(payload.t !== undefined ? { total: payload.t } : {}),
    };
  }

  private mac(body: Buffer, search: string): Buffer {
    return createHmac('sha256', this.secret).update(body).update('\n').update(search, 'utf8').digest();
  }
}

function isPayload(value: unknown): value is Payload {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.s !== 'string' || !INSTANT.test(v.s)) return false;
  if (v.d !== 'n' && v.d !== 'p') return false;
  if (v.p !== undefined) {
    if (!Array.isArray(v.p) || v.p.length === 0) return false;
    if (!v.p.every((x) => x === null || typeof x === 'string' || typeof x === 'number')) return false;
  }
  if (v.t !== undefined && !(Number.isInteger(v.t) && (v.t as number) >= 0)) return false;
  return true;
}

const forged = () =>
  invalid('The _page token is not valid for this search: follow the paging links of a previous page, or repeat the search without _page', '_page');
