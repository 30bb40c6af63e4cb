/** The Patient that the create benchmarks POST (create-throughput.ts over HTTP, create-pages.ts in process). */
export const CREATE_BODY = {
  resourceType: 'Patient',
  identifier: [{ system: 'http://hospital.example.org/mrn', value: 'MRN00000001' }],
  name: [{ family: 'Chalmers', given: ['Peter', 'James'] }],
  gender: 'male',
  birthDate: '1974-12-25',
  address: [{ line: ['534 Erewhon St'], city: 'PleasantVille', postalCode: '3999' }],
};
