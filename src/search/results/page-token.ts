/**
 * Opaque `_page` tokens of searchset paging links (https://hl7.org/fhir/R4/http.html#paging,
 * https://hl7.org/fhir/R4/search.html#count). A token carries the snapshot instant of the walk, the position to
 * continue from and the total computed on the first page; it is signed (HMAC-SHA256) together with the search
 * it belongs to, so a forged, damaged or transplanted token is refused (400) instead of silently reinterpreted.
 * The token also names its key (a short fingerprint, `k`), so a token signed with another key (issued before a
 * restart, or by another instance, without a shared PAGE_TOKEN_SECRET) and a token older than the maximum age are
 * told apart from forgeries: 410 Gone, with a message that says why.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { FhirError, invalid } from '../../core/errors';
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
  /** Fingerprint of the signing key. */
  k?: string;
  s: string;
  d: 'n' | 'p';
  p?: SortValue[];
  t?: number;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const MAC_BYTES = 32;
/** Paging links older than this answer 410: a walk is meant to be followed, not bookmarked. */
export const PAGE_TOKEN_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export class PageTokens {
  private readonly secret: Buffer;
  private readonly keyId: string;
  private readonly configured: boolean;

  /** `secret`: shared by every server instance behind one base URL; random per process when omitted. */
  constructor(
    secret?: string,
    private readonly maxAgeMs = PAGE_TOKEN_MAX_AGE_MS,
  ) {
    this.configured = secret !== undefined;
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
    this.keyId = createHash('sha256').update('page-token-key\n').update(this.secret).digest().subarray(0, 6).toString('base64url');
  }

  /** A token for `cursor`, valid only for the search identified by `search` (its canonical parameters). */
  issue(cursor: PageCursor, search: string): string {
    const payload: Payload = { k: this.keyId, s: cursor.snapshot, d: cursor.direction === 'next' ? 'n' : 'p' };
    if (cursor.position) payload.p = cursor.position;
    if (cursor.total !== undefined) payload.t = cursor.total;
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    return `${body.toString('base64url')}.${this.mac(body, search).toString('base64url')}`;
  }

  /**
   * The cursor in `token`; FhirError('deleted') (410) when it was signed with another key or is older than the
   * maximum age at `now`, FhirError('incorrect') when it is damaged, forged or belongs to another search.
   */
  open(token: string, search: string, now: string = new Date().toISOString()): PageCursor {
    const [bodyText, macText, extra] = token.split('.');
    if (extra !== undefined || !bodyText || !macText) throw forged();
    const body = Buffer.from(bodyText, 'base64url');
    const mac = Buffer.from(macText, 'base64url');
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      throw forged();
    }
    if (!isPayload(payload)) throw forged();
    if (payload.k !== this.keyId) throw this.foreign();
    if (mac.length !== MAC_BYTES || !timingSafeEqual(mac, this.mac(body, search))) throw forged();
    if (Date.parse(now) - Date.parse(payload.s) > this.maxAgeMs) throw expired(payload.s, this.maxAgeMs);
    return {
      snapshot: payload.s,
      direction: payload.d === 'n' ? 'next' : 'previous',
      ...(payload.p ? { position: payload.p } : {}),
      ...(payload.t !== undefined ? { total: payload.t } : {}),
    };
  }

  private foreign(): FhirError {
    const why = this.configured
      ? 'it was signed with a different PAGE_TOKEN_SECRET than this server uses (the secret was changed, or another instance with another secret issued it)'
      : 'it was issued before the server restarted, or by another instance: this server has no PAGE_TOKEN_SECRET, so it signs paging links with a key of its own that ends with the process';
    return gone(`This _page token is no longer valid: ${why}. Repeat the search to page again; set the same PAGE_TOKEN_SECRET on every instance to keep paging links valid across restarts`);
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
  if (v.k !== undefined && typeof v.k !== 'string') return false;
  if (v.p !== undefined) {
    if (!Array.isArray(v.p) || v.p.length === 0) return false;
    if (!v.p.every((x) => x === null || typeof x === 'string' || typeof x === 'number')) return false;
  }
  if (v.t !== undefined && !(Number.isInteger(v.t) && (v.t as number) >= 0)) return false;
  return true;
}

const gone = (diagnostics: string): FhirError =>
  new FhirError('deleted', [{ severity: 'error', code: 'expired', diagnostics, expression: ['_page'] }]);

const expired = (snapshot: string, maxAgeMs: number): FhirError =>
  gone(
    `This _page token expired: its search started at ${snapshot}, more than ${Math.round(maxAgeMs / 3600000)} hours ago. Repeat the search to page again (paging links are signed with PAGE_TOKEN_SECRET and valid for ${Math.round(maxAgeMs / 3600000)} hours)`,
  );

const forged = () =>
  invalid('The _page token is not valid for this search: follow the paging links of a previous page, or repeat the search without _page', '_page');
