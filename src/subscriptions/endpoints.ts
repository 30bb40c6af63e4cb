/**
 * Which rest-hook endpoints the server may call (https://hl7.org/fhir/R4/subscription.html#security): the loopback
 * hosts 127.0.0.1 and localhost on any port, and the URL prefixes of SUBSCRIPTION_ALLOWED_ENDPOINTS. A prefix
 * allows its own origin (scheme, host and port exactly) and paths at or below its path, on segment boundaries:
 * `https://hooks.example.org/fhir` allows `https://hooks.example.org/fhir/lab` but not `https://hooks.example.org/fhirx`
 * nor `https://hooks.example.org.evil.test/fhir`.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost']);

export class EndpointPolicy {
  private readonly prefixes: URL[];

  constructor(allowedPrefixes: readonly string[]) {
    this.prefixes = allowedPrefixes.map((p) => new URL(p));
  }

  /** Why `endpoint` may not be called, or undefined when it may. */
  refusal(endpoint: string): string | undefined {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return `The endpoint '${endpoint.slice(0, 200)}' is not an absolute URL`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `The endpoint must use http or https, got '${url.protocol}'`;
    if (url.username || url.password) return 'The endpoint must not carry credentials in the URL; send them in channel.header';
    if (LOOPBACK_HOSTS.has(url.hostname)) return undefined;
    if (this.prefixes.some((prefix) => isBelow(url, prefix))) return undefined;
    return `The endpoint '${url.origin}${url.pathname}' is not allowed by this server's configuration (SUBSCRIPTION_ALLOWED_ENDPOINTS)`;
  }
}

function isBelow(url: URL, prefix: URL): boolean {
  if (url.origin !== prefix.origin) return false;
  const base = prefix.pathname.replace(/\/+$/, '');
  return url.pathname === base || url.pathname.startsWith(`${base}/`) || base === '';
}
