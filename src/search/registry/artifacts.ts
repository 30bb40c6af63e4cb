/** Where the search build artifacts live (written by scripts/definitions/search.ts, read at start-up). */
import * as path from 'node:path';

export const DEFAULT_DEFINITIONS_DIR = path.resolve(process.cwd(), 'generated');

export const searchArtifactsDir = (definitionsDir: string = DEFAULT_DEFINITIONS_DIR): string => path.join(definitionsDir, 'search');

export const SEARCH_PARAMETERS_FILE = 'search-parameters.json';
export const COMPARTMENTS_FILE = 'compartments.json';
export const STAMP_FILE = 'stamp.txt';
