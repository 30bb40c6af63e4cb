/**
 * Offline verification of an archived trail (GET AuditEvent/$archive, or any NDJSON of AuditEvents): the events
 * are ordered by sequence number and the chain is checked from the first one given (which may start mid-trail:
 * its `previous` is taken on trust, every link after it is checked).
 */
import type { AuditEvent } from 'fhir/r4';
import { ChainChecker, linkOf, type ChainReport } from './chain';

export function verifyNdjson(text: string): ChainReport {
  const links: Array<NonNullable<ReturnType<typeof linkOf>>> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let event: AuditEvent;
    try {
      event = JSON.parse(line) as AuditEvent;
    } catch {
      return { ok: false, checked: 0, broken: { sequence: 0, reason: `line ${i + 1} is not JSON` } };
    }
    const link = event.resourceType === 'AuditEvent' ? linkOf(event) : undefined;
    if (!link) return { ok: false, checked: 0, broken: { sequence: 0, reason: `line ${i + 1} is not an AuditEvent with a chain extension (sequence, previous, hash)` } };
    links.push(link);
  }
  links.sort((a, b) => a.sequence - b.sequence);
  const first = links[0];
  if (!first) return { ok: false, checked: 0, broken: { sequence: 0, reason: 'the file holds no AuditEvent' } };
  const checker = new ChainChecker({ sequence: first.sequence, previous: first.previous });
  for (const l of links) if (!checker.next(l.sequence, l.hash, l.text, l.previous)) break;
  return checker.report;
}
