/**
 * Official R4 examples (hl7.fhir.r4.examples@4.0.1) that break the R4 base definitions themselves, with the reason.
 * A server validating against the base definitions must reject them; see docs/examples-report.md.
 * Size limits of the HTTP layer (checkJsonSafety defaults) are a separate policy and not listed here.
 */
const SEARCH_PARAMETER_WITHOUT_BASE =
  'SearchParameter.base is 1..* (https://hl7.org/fhir/R4/searchparameter-definitions.html#SearchParameter.base) but the example has no base';

export const knownInvalidExamples: Record<string /* file name */, string /* reason */> = {
  'ImplementationGuide-fhir.json':
    'ImplementationGuide.name and ImplementationGuide.status are 1..1 (https://hl7.org/fhir/R4/implementationguide-definitions.html#ImplementationGuide.name) but the example has neither',
  'Questionnaire-qs1.json':
    'Questionnaire.item.linkId is 1..1 (https://hl7.org/fhir/R4/questionnaire-definitions.html#Questionnaire.item.linkId) but 32 nested items have no linkId',
  'SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json':
    'its id has 67 characters; an id is at most 64 (https://hl7.org/fhir/R4/datatypes.html#id)',
  'SearchParameter-codesystem-extensions-CodeSystem-author.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-effective.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-end.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-keyword.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-codesystem-extensions-CodeSystem-workflow.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-valueset-extensions-ValueSet-author.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-valueset-extensions-ValueSet-effective.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-valueset-extensions-ValueSet-end.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-valueset-extensions-ValueSet-keyword.json': SEARCH_PARAMETER_WITHOUT_BASE,
  'SearchParameter-valueset-extensions-ValueSet-workflow.json': SEARCH_PARAMETER_WITHOUT_BASE,
};
