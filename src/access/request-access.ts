/**
 * Who is asking, and what decided their access: carried by every FhirRequest (src/fhir/types.ts) from the HTTP
 * edge (or a bundle entry, which inherits its bundle's) through the interaction, and read by the audit trail.
 */
import type { AccessToken } from './tokens';

export interface RequestAccess {
  /** The verified token; null when the operator turned access control off (AUTH_MODE=off) or for the server's own work (internalAccess). */
  token: AccessToken | null;
  /** Network address of the client, as the HTTP edge saw it. */
  clientAddress?: string;
  /**
   * What decided, filled in while the request runs: `Consent/<id>` for a patient's consent, `implicit:permit` or
   * `implicit:deny` for the policy applied where no consent is on file, `scope` for a scope-only decision.
   */
  decidedBy: Set<string>;
  /** Set when a break-the-glass request was allowed to override a consent denial. */
  breakTheGlass?: { justification: string };
}

/**
 * The access context of the server's own work (seeding, maintenance, tools): unrestricted, and recorded as
 * `internal:<what>` so the audit trail can tell it from a client's request.
 */
export function internalAccess(what: string): RequestAccess {
  return { token: null, decidedBy: new Set([`internal:${what}`]) };
}
