/**
 * Composition root: builds the store, definitions, search and the FHIR router from configuration.
 * No module-level singletons elsewhere; tests build their own server with injected clock, ids and store.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Express } from 'express';
import { monotonicClock, systemClock, type Clock } from './core/clock';
import { uuidIds, type IdGenerator } from './core/ids';
import type { Config } from './config/config';
import { AccessControl } from './access/control';
import { ConsentDirectory } from './access/consent/directory';
import { edgeAuthentication, securityDescription, smartConfiguration } from './access/edge';
import type { LocalKey } from './access/local-key';
import { internalAccess } from './access/request-access';
import { tokenFromStored, type StoredToken } from './access/tokens';
import { AccessPolicy, implicitPolicy } from './access/policy';
import { capabilitiesHandler } from './fhir/capabilities';
import { referentialIntegrityHook, REFERRER_INDEX } from './fhir/integrity/hook';
import type { WriteHook } from './fhir/write-hooks';
import { loadReferenceElements } from './fhir/integrity/reference-elements';
import { ReferenceFinder } from './fhir/integrity/references';
import type { FhirContext } from './fhir/context';
import { ExportRunner } from './fhir/operations/export/runner';
import { newestLastUpdated, SUBSCRIPTION_OWNERS } from './fhir/persist';
import { FhirRouter } from './fhir/router';
import { activateSearchParameters, searchParameterHook } from './fhir/search-parameters';
import { ConditionalMemo } from './fhir/conditional-memo';
import { buildRoutes, type Route } from './fhir/routes';
import { openAudit } from './audit/open-trail';
import type { AuditTrail } from './audit/trail';
import { auditRoutes, guardAuditEvents } from './fhir/audit-events';
import { VisibilityHorizon } from './fhir/visibility';
import { createApp } from './http/app';
import { jsonLogger, type Logger } from './http/logger';
import { ServerMetrics } from './http/metrics';
import { openApiText } from './http/openapi';
import { Probes } from './http/probes';
import { CompartmentDefinitions } from './search/compartments';
import { CriteriaCompiler } from './search/criteria';
import { IndexExtractor } from './search/extract';
import { historyIndexes, resourceIndexes, retiredResourceIndexes } from './search/indexes';
import { SearchRegistry } from './search/registry';
import { SearchService } from './search/service';
import { createStore } from './storage/create-store';
import type { Store, StoreWarning } from './storage/port';
import { HISTORY, RESOURCES } from './storage/records';
import { Subscriptions } from './subscriptions/subscriptions';
import { loadBaseValidator } from './validation/validator';
import { loadProfiles, profileHook } from './validation/profile-loading';

export interface ServerParts {
  app: Express;
  router: FhirRouter;
  store: Store;
  /** Present when metrics are on (METRICS_PORT): serve with metricsListener, watch the public listener. */
  metrics?: ServerMetrics;
  probes: Probes;
  logger: Logger;
  subscriptions: Subscriptions;
  close(): Promise<void>;
}

export interface ServerOverrides {
  clock?: Clock;
  ids?: IdGenerator;
  logger?: Logger;
  /** An already open store (tests); otherwise one is opened from the configuration. */
  store?: Store;
  /** Folder of local profiles and SearchParameters (default: profiles/ of the project). */
  profilesDir?: string;
  /** Where compiled profiles are cached across restarts (default DATA_DIR/profile-cache; none with an injected store). */
  profileCacheDir?: string;
  /** An already open audit trail (tests: LmdbAuditTrail.temporary()); otherwise opened from the configuration. */
  auditTrail?: AuditTrail;
  /** The key that signs local tokens (tests); otherwise the one in DATA_DIR (src/access/local-key.ts). */
  localKey?: LocalKey;
}

const ROOT = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../..' : '..');

export async function createServer(config: Config, overrides: ServerOverrides = {}): Promise<ServerParts> {
  const definitionsDir = path.join(ROOT, 'generated');
  const registry = SearchRegistry.loadBase({ definitionsDir });
  const logger = overrides.logger ?? jsonLogger({ level: config.logLevel });
  const onWarning = (warning: StoreWarning): void => logger.log({ level: 'warn', ...warning, msg: `storage: ${warning.msg}` });
  const opened = overrides.store ?? (await createStore({ mongodbUri: config.mongodbUri, mongodbDb: config.mongodbDb, dataDir: config.dataDir, cacheMb: config.storeCacheMb, onWarning }));
  const metrics = config.metricsPort !== undefined ? new ServerMetrics() : undefined;
  const observed = metrics ? metrics.observe(opened) : opened;
  // Every write goes through the memo's counters (src/fhir/conditional-memo.ts: embedded store only).
  const conditionalMemo = opened.kind === 'embedded' ? new ConditionalMemo(() => registry.revision) : undefined;
  const store = conditionalMemo ? conditionalMemo.track(observed) : observed;
  const profilesDir = overrides.profilesDir ?? config.profiles?.dir ?? path.join(ROOT, 'profiles');
  // Compiled profiles are cached under DATA_DIR; an injected store (tests) caches only where told to.
  const profileCacheDir = overrides.store ? overrides.profileCacheDir : (overrides.profileCacheDir ?? path.join(config.dataDir, 'profile-cache'));
  const profiles = await loadProfiles(profilesDir, store, config.profiles ?? { unknownProfile: 'warning', requiredProfiles: {} }, profileCacheDir);
  const validator = loadBaseValidator({ definitionsDir: path.join(definitionsDir, 'validation'), profiles: profiles.registry });
  await store.ensureIndexes(RESOURCES, resourceIndexes);
  await store.dropIndexes(RESOURCES, retiredResourceIndexes);
  await store.ensureIndexes(HISTORY, historyIndexes);
  const clock = overrides.clock ?? monotonicClock(systemClock, await newestLastUpdated(store));

  for (const problem of profiles.problems) logger.log({ level: problem.severity === 'error' ? 'error' : 'warn', msg: 'profile not loaded', file: problem.file, reason: problem.message });
  for (const [type, urls] of Object.entries(config.profiles?.requiredProfiles ?? {})) {
    for (const url of urls) if (!profiles.registry.has(url)) logger.log({ level: 'warn', msg: 'REQUIRED_PROFILES names a profile that is not loaded: every write of this type will be refused', type, url });
  }
  const parameters = await activateSearchParameters(registry, store, profilesDir);
  for (const { id, reason } of parameters.skipped) logger.log({ level: 'warn', msg: 'stored SearchParameter not activated', id, reason });
  const criteria = new CriteriaCompiler({ store, registry, baseUrl: config.baseUrl });
  const compartments = CompartmentDefinitions.load({ definitionsDir });
  const indexer = new IndexExtractor(registry, { baseUrl: config.baseUrl, compartments });
  const search = new SearchService({
    store,
    registry,
    criteria,
    indexer,
    compartments,
    baseUrl: config.baseUrl,
    ...config.search,
    clock,
    definitionsDir,
    ...(config.pageTokenSecret ? { pageTokenSecret: config.pageTokenSecret } : {}),
    limits: { maxParameters: config.bounds.maxParameters, maxValueLength: config.bounds.maxValueLength, maxQueries: config.bounds.maxSearchQueries, maxRecords: config.bounds.maxSearchRecords },
  });
  const consents = new ConsentDirectory(store);
  const access = new AccessControl({
    policy: new AccessPolicy({
      consents,
      criteria,
      registry,
      compartments,
      implicit: implicitPolicy(config.auth.implicitPermitPurposes),
      defaultPurpose: config.auth.defaultPurpose,
      breakTheGlass: config.auth.breakTheGlass,
    }),
    indexer,
    clock,
    enabled: config.auth.mode === 'on',
  });
  const integrity: WriteHook[] = [];
  if (config.referentialIntegrity !== 'off') {
    const finder = new ReferenceFinder(loadReferenceElements(definitionsDir), config.baseUrl, (type) => validator.isResourceType(type));
    integrity.push(referentialIntegrityHook(config.referentialIntegrity, finder));
    if (config.referentialIntegrity === 'write-delete') await store.ensureIndexes(RESOURCES, [REFERRER_INDEX]);
  }
  // Writes go through the horizon's clock and store, so sync feeds know which stamps are committed (src/fhir/visibility.ts).
  const visibility = new VisibilityHorizon(clock, config.sync.settleMs);
  const tracked = visibility.track(store);
  // Export files go under DATA_DIR, or EXPORT_DIR; an injected store (tests) gets a temporary directory.
  const exportDir = config.bulkExport.dir ?? (overrides.store ? fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-export-')) : path.join(config.dataDir, 'exports'));
  const bulkExport = new ExportRunner({
    store: tracked,
    search,
    clock: visibility.clock,
    logger,
    dir: exportDir,
    pageSize: config.bulkExport.pageSize,
    retentionMs: config.bulkExport.retentionSeconds * 1000,
    patientCompartmentTypes: validator.resourceTypes.filter((t) => t === 'Patient' || compartments.paramsFor('Patient', t).length > 0),
    scopeOf: async (job) => (job.requester ? ((await access.readFilter({ token: tokenFromStored(job.requester), decidedBy: new Set() }, 's')) ?? {}) : {}),
    admits: (scope, record) => access.test(scope, record),
  });
  const subscriptions = new Subscriptions({ store, criteria, indexer, isResourceType: (t) => validator.isResourceType(t), logger,
    config: config.subscriptions,
    visibleTo: async (id) => {
      const owner = (await store.findOne(SUBSCRIPTION_OWNERS, { _id: id })) as { token: StoredToken } | null;
      if (!owner) return undefined;
      const filter = await access.readFilter({ token: tokenFromStored(owner.token), decidedBy: new Set() }, 's');
      return filter === undefined ? undefined : (record) => access.test(filter, record);
    },
  });
  const ctx: FhirContext = {
    store: tracked,
    clock: visibility.clock,
    ids: overrides.ids ?? uuidIds,
    baseUrl: config.baseUrl,
    paging: config.search,
    validator,
    indexer,
    hooks: [searchParameterHook(registry), profileHook(profiles.registry), ...integrity, subscriptions.hook, consents.hook(), access.hook()],
    search,
    access,
    maxBundleEntries: config.maxBundleEntries,
    visibility,
    bulkExport,
    ...(conditionalMemo ? { conditionalMemo } : {}),
  };
  const authenticate = await edgeAuthentication(config, logger, overrides.localKey);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const audit =
    config.audit === 'on'
      ? await openAudit(config, { ...(overrides.auditTrail ? { trail: overrides.auditTrail } : {}), clock, logger, serverName: pkg.name, compartmentsOf: (r) => indexer.compartmentsOf(r) })
      : undefined;
  if (audit) ctx.audit = audit.auditor;
  else logger.log({ level: 'warn', msg: 'AUDIT=off: requests are not recorded in the audit trail' });
  let routes: Route[] = [];
  routes = buildRoutes(
    capabilitiesHandler({
      routes: () => routes,
      registry,
      supportsSearchParam: (type, def) => criteria.supports(type, def),
      software: { name: pkg.name, version: pkg.version },
      security: securityDescription(config),
      startedAt: clock.now(),
    }),
  );
  guardAuditEvents(routes, auditRoutes);
  const router = new FhirRouter(ctx, routes);
  const probes = new Probes({
    store,
    ...(audit ? { audit: audit.problem } : {}),
    definitions: { resourceTypes: validator.resourceTypes.length, searchParameters: registry.resourceTypes().reduce((n, type) => n + registry.forType(type).length, 0) },
  });
  // The server's own status updates of Subscriptions are internal work, not a client's request.
  await subscriptions.start((req) => router.route({ ...req, access: req.access ?? internalAccess('subscription status') }));
  const app = createApp({
    router,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    authenticate,
    smartConfiguration: smartConfiguration(config),
    corsOrigins: config.corsOrigins,
    bounds: { maxParameters: config.bounds.maxParameters, maxJsonDepth: config.bounds.maxJsonDepth },
    openapi: openApiText({
      routes,
      registry,
      supportsSearchParam: (type, def) => criteria.supports(type, def),
      resourceTypes: validator.resourceTypes,
      baseUrl: config.baseUrl,
      version: pkg.version,
    }),
    probes,
    baseUrl: config.baseUrl,
    ...(metrics ? { metrics } : {}),
  });
  await bulkExport.start();
  const close = async (): Promise<void> => {
    await subscriptions.close();
    await bulkExport.stop();
    await audit?.auditor.trail.close();
    await store.close();
    if (!config.bulkExport.dir && overrides.store) fs.rmSync(exportDir, { recursive: true, force: true });
  };
  return { app, router, store, probes, logger, subscriptions, ...(metrics ? { metrics } : {}), close };
}
