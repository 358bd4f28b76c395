/**
 * Solution 2.1: a DNS-1123 subdomain.
 */

// One label: a letter or digit, then letters, digits or '-', ending in a letter
// or digit. A subdomain is labels joined by dots.
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

export function isDNS1123Subdomain(value: string): string[] {
  const errors: string[] = [];
  // Kubernetes counts bytes, as Go's len() does; for these characters bytes and characters agree.
  if (Buffer.byteLength(value) > 253) errors.push('must be no more than 253 characters');
  // The regex refuses the empty string, upper case, '_' and a leading or trailing '-' or '.'.
  if (!SUBDOMAIN.test(value)) {
    errors.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')",
    );
  }
  return errors;
}
