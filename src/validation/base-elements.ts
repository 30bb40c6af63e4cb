/**
 * The R4 base snapshots at run time (generated/validation/base-elements.json, read on first use): the base of
 * generated snapshots, the reference that compiled profiles are compared with (a profile element that says no more
 * than its base element is left to the base validator), and the core extension URLs.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ElementDefinition } from 'fhir/r4';
import { BASE_ELEMENTS_FILE, BASE_ELEMENTS_FORMAT, BASE_ELEMENTS_STAMP_FILE, type BaseElements } from './base-elements-format';

export class BaseDefinitions {
  private loaded?: BaseElements;
  private byPath?: Map<string, ElementDefinition>;
  private resourceTypes?: Set<string>;
  private coreExtensions?: Set<string>;

  constructor(private readonly file = findBaseElementsFile()) {}

  private get artifact(): BaseElements {
    if (!this.loaded) {
      if (!existsSync(this.file)) throw new Error(`R4 base snapshots not found at ${this.file}; run 'npm run build:defs'`);
      const artifact = JSON.parse(readFileSync(this.file, 'utf8')) as BaseElements;
      if (artifact.format !== BASE_ELEMENTS_FORMAT) throw new Error(`${this.file} has format ${artifact.format}, expected ${BASE_ELEMENTS_FORMAT}; run 'npm run build:defs'`);
      this.loaded = artifact;
    }
    return this.loaded;
  }

  snapshotOf(url: string): ElementDefinition[] | undefined {
    return this.artifact.definitions[url]?.elements;
  }

  isResourceType(code: string): boolean {
    this.resourceTypes ??= new Set(Object.values(this.artifact.definitions).filter((d) => d.kind === 'resource' && d.derivation === 'specialization').map((d) => d.type));
    return this.resourceTypes.has(code);
  }

  /** The element of an R4 type (not of a constraint type) with this path, as `ElementDefinition.base.path` names it. */
  element(path: string): ElementDefinition | undefined {
    if (!this.byPath) {
      this.byPath = new Map();
      for (const d of Object.values(this.artifact.definitions)) {
        if (d.derivation === 'constraint') continue;
        for (const e of d.elements) if (!e.sliceName && !this.byPath.has(e.path)) this.byPath.set(e.path, e);
      }
    }
    return this.byPath.get(path);
  }

  /** Identity of the artifact (its build stamp, without reading the artifact itself): part of profile cache keys. */
  stamp(): string {
    try {
      return readFileSync(join(dirname(this.file), BASE_ELEMENTS_STAMP_FILE), 'utf8');
    } catch {
      return String(existsSync(this.file) ? statSync(this.file).mtimeMs : 0);
    }
  }

  isCoreExtension(url: string): boolean {
    this.coreExtensions ??= new Set(this.artifact.extensions);
    return this.coreExtensions.has(url);
  }
}

function findBaseElementsFile(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'generated', 'validation', BASE_ELEMENTS_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return join(process.cwd(), 'generated', 'validation', BASE_ELEMENTS_FILE);
  }
}

/** One shared instance: the artifact is the same for every registry in a process. */
export const baseDefinitions = new BaseDefinitions();
