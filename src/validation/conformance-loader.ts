/**
 * Reads the conformance resources of profiles/ (https://hl7.org/fhir/R4/profiling.html): JSON files (single
 * resources or Bundles, in sub-folders too) and FHIR packages as published (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification):
 * a `package.tgz`, or an unpacked `package/` folder with its package.json. Declared dependencies are resolved
 * against the other packages present; a missing one is a warning. A file that cannot be read is reported with its
 * name and skipped: one broken file never stops the others from loading.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar';
import { sha256, type ProfileCache } from './profile-cache';

/** Packages whose definitions the server has built in (the R4 core, compiled at build time from hl7.fhir.r4.examples). */
const BUILT_IN_PACKAGES: Record<string, string> = { 'hl7.fhir.r4.core': '4.0.1' };

export const CONFORMANCE_TYPES = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem']);

export interface LoadedResource {
  resource: Record<string, unknown> & { resourceType: string; url?: string };
  /** The file it came from (inside a package: `package.tgz!package/StructureDefinition-x.json`). */
  file: string;
}

export interface LoadProblem {
  severity: 'error' | 'warning';
  file: string;
  message: string;
}

export interface LoadedPackage {
  name: string;
  version: string;
  file: string;
  dependencies: Record<string, string>;
}

export interface ConformanceLoad {
  resources: LoadedResource[];
  packages: LoadedPackage[];
  problems: LoadProblem[];
}

/** `cache`: packages already read, by the SHA-256 of their tarball (src/validation/profile-cache.ts). */
export function loadConformanceDir(dir: string, cache?: ProfileCache): ConformanceLoad {
  const load: ConformanceLoad = { resources: [], packages: [], problems: [] };
  if (!fs.existsSync(dir)) return load;
  walk(dir, load, cache);
  for (const pkg of load.packages) {
    for (const [name, version] of Object.entries(pkg.dependencies)) {
      if (BUILT_IN_PACKAGES[name] && versionSatisfies(BUILT_IN_PACKAGES[name], version)) continue;
      if (!load.packages.some((p) => p.name === name && versionSatisfies(p.version, version))) {
        load.problems.push({ severity: 'warning', file: pkg.file, message: `${pkg.name}@${pkg.version} depends on ${name}@${version}, which is not in the profiles folder; definitions from it cannot be resolved` });
      }
    }
  }
  return load;
}

function walk(folder: string, load: ConformanceLoad, cache?: ProfileCache): void {
  const entries = fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  if (entries.some((e) => e.isFile() && e.name === 'package.json') && path.basename(folder) === 'package') {
    readPackageFolder(folder, folder, load);
    return;
  }
  for (const entry of entries) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) walk(full, load, cache);
    else if (entry.name.endsWith('.tgz')) readPackageTarball(full, load, cache);
    else if (entry.name.endsWith('.json')) readJsonFile(full, full, load);
  }
}

/** What a package yields, with file names relative to its package/ folder: the cached form of a tarball. */
interface CachedPackage {
  packages: Array<Omit<LoadedPackage, 'file'>>;
  resources: Array<{ resource: LoadedResource['resource']; name: string }>;
  problems: Array<Omit<LoadProblem, 'file'> & { name: string }>;
}

function readPackageTarball(file: string, load: ConformanceLoad, cache?: ProfileCache): void {
  const label = `${file}!package`;
  const key = cache ? sha256(fs.readFileSync(file)) : undefined;
  const cached = key ? cache!.get<CachedPackage>('packages', key) : undefined;
  const relative = (f: string): string => (f.startsWith(`${label}/`) ? f.slice(label.length + 1) : '');
  if (cached) {
    load.packages.push(...cached.packages.map((p) => ({ ...p, file: label })));
    load.resources.push(...cached.resources.map((r) => ({ resource: r.resource, file: `${label}/${r.name}` })));
    load.problems.push(...cached.problems.map(({ name, ...p }) => ({ ...p, file: name ? `${label}/${name}` : file })));
    return;
  }
  const before = { packages: load.packages.length, resources: load.resources.length, problems: load.problems.length };
  const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-package-'));
  try {
    tar.x({ file, cwd: temporary, sync: true, filter: (p) => p.startsWith('package/') && !p.includes('..') && (p.endsWith('.json') || p.endsWith('/')) });
    const folder = path.join(temporary, 'package');
    if (!fs.existsSync(path.join(folder, 'package.json'))) {
      load.problems.push({ severity: 'error', file, message: 'not a FHIR package: no package/package.json inside' });
      return;
    }
    readPackageFolder(folder, label, load);
    if (key) {
      cache!.set('packages', key, {
        packages: load.packages.slice(before.packages).map(({ file: _file, ...p }) => p),
        resources: load.resources.slice(before.resources).map((r) => ({ resource: r.resource, name: relative(r.file) })),
        problems: load.problems.slice(before.problems).map(({ file: f, ...p }) => ({ ...p, name: relative(f) })),
      } satisfies CachedPackage);
    }
  } catch (err) {
    load.problems.push({ severity: 'error', file, message: `cannot be read as a package: ${(err as Error).message}` });
  } finally {
    fs.rmSync(temporary, { recursive: true, force: true });
  }
}

function readPackageFolder(folder: string, label: string, load: ConformanceLoad): void {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as { name?: string; version?: string; dependencies?: Record<string, string> };
    load.packages.push({ name: manifest.name ?? '?', version: manifest.version ?? '?', file: label, dependencies: manifest.dependencies ?? {} });
  } catch (err) {
    load.problems.push({ severity: 'error', file: `${label}/package.json`, message: `unreadable package manifest: ${(err as Error).message}` });
  }
  for (const name of fs.readdirSync(folder).sort()) {
    if (!name.endsWith('.json') || name === 'package.json' || name.startsWith('.')) continue;
    readJsonFile(path.join(folder, name), `${label}/${name}`, load);
  }
}

function readJsonFile(file: string, label: string, load: ConformanceLoad): void {
  let content: unknown;
  try {
    content = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    load.problems.push({ severity: 'error', file: label, message: `not valid JSON: ${(err as Error).message}` });
    return;
  }
  const resources = (content as { resourceType?: string }).resourceType === 'Bundle'
    ? ((content as { entry?: Array<{ resource?: unknown }> }).entry ?? []).map((e) => e.resource)
    : [content];
  for (const resource of resources) {
    const r = resource as LoadedResource['resource'] | undefined;
    if (r && typeof r === 'object' && CONFORMANCE_TYPES.has(r.resourceType)) load.resources.push({ resource: r, file: label });
  }
}

/** Exact versions, or `x`/`*` wildcards in the patch position, as package manifests write them. */
function versionSatisfies(actual: string, wanted: string): boolean {
  if (wanted === actual || wanted === '*' || wanted === 'latest') return true;
  const w = wanted.split('.');
  const a = actual.split('.');
  return w.every((part, i) => part === 'x' || part === '*' || part === a[i]);
}
