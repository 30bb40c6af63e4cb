/**
 * Opens the audit trail of a deployment and checks the tail of its chain at start-up: the embedded trail in
 * DATA_DIR/audit, or the `audit` collection of the MongoDB database. A tail that does not verify is logged as
 * an error and reported by GET /health (503) until an operator looks at it; the server keeps recording.
 */
import * as path from 'node:path';
import type { Resource } from 'fhir/r4';
import type { Config } from '../config/config';
import type { Clock } from '../core/clock';
import type { Logger } from '../http/logger';
import { Auditor } from './auditor';
import { LmdbAuditTrail } from './lmdb-trail';
import { MongoAuditTrail } from './mongo-trail';
import type { AuditTrail } from './trail';
import { setBounded } from '../core/bounded-map';

/** Events checked at start-up, from the end of the chain. */
export const TAIL_CHECK = 10_000;
const PATIENT_CACHE = 10_000;

export interface OpenedAudit {
  auditor: Auditor;
  /** Why the trail is not trustworthy or not writable now, for the health probes. */
  problem(): string | undefined;
}

export async function openAudit(
  config: Config,
  options: { trail?: AuditTrail; clock: Clock; logger: Logger; serverName: string; compartmentsOf: (resource: Resource) => string[] },
): Promise<OpenedAudit> {
  const trail = options.trail ?? (config.mongodbUri ? await MongoAuditTrail.open(config.mongodbUri, config.mongodbDb) : LmdbAuditTrail.open({ dir: path.join(config.dataDir, 'audit') }));
  if (trail instanceof LmdbAuditTrail && (trail.recovered.cut || trail.recovered.replayed)) {
    options.logger.log({ level: 'warn', msg: 'audit log recovered at start-up', tornBytesCut: trail.recovered.cut, eventsReplayedIntoView: trail.recovered.replayed });
  }
  const report = await trail.verify({ tail: TAIL_CHECK });
  let tampered: string | undefined;
  if (!report.ok) {
    tampered = `the audit trail does not verify at event ${report.broken?.sequence}: ${report.broken?.reason}`;
    options.logger.log({ level: 'error', msg: 'audit trail altered', sequence: report.broken?.sequence, reason: report.broken?.reason });
  } else {
    options.logger.log({ level: 'info', msg: 'audit trail verified', checked: report.checked, lastSequence: report.lastSequence ?? 0 });
  }
  // Versions never change, so the patients of `Type/id/_history/v` are computed once (bounded cache).
  const cache = new Map<string, string[]>();
  const patientsOf = (resource: Resource): string[] => {
    const key = `${resource.resourceType}/${resource.id}/${resource.meta?.versionId}`;
    let patients = cache.get(key);
    if (!patients) {
      patients = options.compartmentsOf(resource).filter((c) => c.startsWith('Patient/'));
      setBounded(cache, key, patients, PATIENT_CACHE);
    }
    return patients;
  };
  const auditor = new Auditor({ trail, clock: options.clock, patientsOf, serverName: options.serverName });
  return { auditor, problem: () => tampered ?? trail.failure() };
}
