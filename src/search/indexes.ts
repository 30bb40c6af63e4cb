/**
 * Secondary indexes serving search (https://hl7.org/fhir/R4/search.html) and history
 * (https://hl7.org/fhir/R4/http.html#history) over the record layout of src/storage/records.ts.
 * Every resource query carries `type` (and `deleted: false`, too unselective to index), so `type` leads each
 * compound index; each one then crosses a single array (`idx.<kind>`), as MongoDB allows only one array per
 * compound index (one embedded-only index crosses two, see IndexSpec.crossesArrays). Results are ordered by
 * `_id` (after any `_sort` keys), so `type, _id` lets a search that matches many records walk them in order and
 * stop after one page. Rationale per index: docs/search-index.md#indexes.
 * The parameter indexes are sparse (IndexSpec.sparseOn): no entry for a resource without a value of that kind,
 * and the URL, identifier and system indexes hold only entries that have a URL, identifier or system (most
 * references have none of the first two), as only a query for one can use them.
 */
import type { IndexSpec } from '../storage/port';

export const resourceIndexes: IndexSpec[] = [
  { name: 'type_lastUpdated', keys: [['type', 1], ['lastUpdated', 1]] },
  { name: 'compartments_type', keys: [['compartments', 1], ['type', 1]] },
  { name: 'type__id', keys: [['type', 1], ['_id', 1]] },
  { name: 'type_tok_p_c_s', keys: [['type', 1], ['idx.tok.p', 1], ['idx.tok.c', 1], ['idx.tok.s', 1]], sparseOn: ['idx.tok.p'] },
  { name: 'type_tok_p_s', keys: [['type', 1], ['idx.tok.p', 1], ['idx.tok.s', 1]], sparseOn: ['idx.tok.s'] },
  { name: 'type_str_p_v', keys: [['type', 1], ['idx.str.p', 1], ['idx.str.v', 1]], sparseOn: ['idx.str.p'] },
  { name: 'type_ref_p_r', keys: [['type', 1], ['idx.ref.p', 1], ['idx.ref.r', 1]], sparseOn: ['idx.ref.p'] },
  { name: 'type_ref_p_u', keys: [['type', 1], ['idx.ref.p', 1], ['idx.ref.u', 1]], sparseOn: ['idx.ref.u'] },
  { name: 'type_ref_p_iv', keys: [['type', 1], ['idx.ref.p', 1], ['idx.ref.iv', 1]], sparseOn: ['idx.ref.iv'] },
  { name: 'type_date_p_lo', keys: [['type', 1], ['idx.date.p', 1], ['idx.date.lo', 1]], sparseOn: ['idx.date.p'] },
  { name: 'type_date_p_hi', keys: [['type', 1], ['idx.date.p', 1], ['idx.date.hi', 1]], sparseOn: ['idx.date.p'] },
  { name: 'type_num_p_v', keys: [['type', 1], ['idx.num.p', 1], ['idx.num.v', 1]], sparseOn: ['idx.num.p'] },
  { name: 'type_qty_p_v', keys: [['type', 1], ['idx.qty.p', 1], ['idx.qty.v', 1]], sparseOn: ['idx.qty.p'] },
  { name: 'type_uri_p_v', keys: [['type', 1], ['idx.uri.p', 1], ['idx.uri.v', 1]], sparseOn: ['idx.uri.p'] },
  { name: 'type_comp_p', keys: [['type', 1], ['idx.comp.p', 1]], sparseOn: ['idx.comp.p'] },
  /**
   * An Observation's code or category and a date parameter together (`Observation?code=…&date=ge…`,
   * `Observation?category=vital-signs&date=…`): one entry per (token entry, date entry) pair of a record, so neither
   * the token nor the date range alone has to be read in full. Without the token system, so that `code=1234-5` is
   * served as well as `code=http://loinc.org|1234-5`. Only pairs with a code and a date are kept (a third of token
   * entries are a CodeableConcept's text alone). Only these (IndexSpec.only): the pairs of other types and
   * parameters were two thirds of the entries, at random places of the index, and cost bundle ingest ~5% of its
   * rate (docs/benchmarks.md); such searches use the token and date indexes. Embedded engine only (see
   * IndexSpec.crossesArrays).
   */
  {
    name: 'type_tok_p_c_date_p_hi',
    keys: [['type', 1], ['idx.tok.p', 1], ['idx.tok.c', 1], ['idx.date.p', 1], ['idx.date.hi', 1]],
    crossesArrays: true,
    sparseOn: ['idx.tok.c', 'idx.date.hi'],
    only: [
      ['type', ['Observation']],
      ['idx.tok.p', ['code', 'category']],
    ],
  },
];

/**
 * Indexes earlier versions kept and this one drops at start-up (Store.dropIndexes): `type_id` (`_id` searches are
 * compiled to the records' key `Type/id`, looked up directly; its entry was one more B-tree leaf written by
 * every create).
 */
export const retiredResourceIndexes = ['type_id'];

export const historyIndexes: IndexSpec[] = [
  { name: 'lastUpdated_desc', keys: [['lastUpdated', -1]] },
  { name: 'type_lastUpdated_desc', keys: [['type', 1], ['lastUpdated', -1]] },
  { name: 'type_id_versionId_desc', keys: [['type', 1], ['id', 1], ['versionId', -1]] },
];
