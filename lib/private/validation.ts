import { Token } from 'cdktf';
import { ImageReference } from '../core/image-reference';
/**
 * Kubernetes syntax checks. Each returns `undefined` when the value is valid,
 * or a phrase that completes "… which <phrase>" for an AirgapError.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** A DNS-1123 label: namespaces, most object names. */
export function checkDns1123Label(value: string): string | undefined {
  if (value.length === 0) return 'is empty; a DNS-1123 label needs 1 to 63 characters';
  if (value.length > 63) return `has ${value.length} characters; a DNS-1123 label has at most 63`;
  if (!DNS1123_LABEL.test(value)) {
    return 'is not a DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit)';
  }
  return undefined;
}

/** A DNS-1035 label: Service names, which must also start with a letter. */
export function checkDns1035Label(value: string): string | undefined {
  if (value.length === 0) return 'is empty; a DNS-1035 label needs 1 to 63 characters';
  if (value.length > 63) return `has ${value.length} characters; a DNS-1035 label has at most 63`;
  if (!DNS1035_LABEL.test(value)) {
    return 'is not a DNS-1035 label (lowercase letters, digits and "-", starting with a letter and ending with a letter or digit)';
  }
  return undefined;
}

/** A DNS-1123 subdomain: dot-separated labels, at most 253 characters. */
export function checkDns1123Subdomain(value: string): string | undefined {
  if (value.length === 0) return 'is empty; a DNS-1123 subdomain needs 1 to 253 characters';
  if (value.length > 253) return `has ${value.length} characters; a DNS-1123 subdomain has at most 253`;
  for (const part of value.split('.')) {
    if (!DNS1123_LABEL.test(part) || part.length > 63) {
      return 'is not a DNS-1123 subdomain (dot-separated labels of lowercase letters, digits and "-")';
    }
  }
  return undefined;
}

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name at most 63 characters. */
export function checkLabelKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && checkDns1123Subdomain(prefix) !== undefined) {
    return `has the prefix "${prefix}", which is not a DNS-1123 subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'is not a valid label key (optional "prefix/" then 1-63 characters of letters, digits, "-", "_" and ".", starting and ending with a letter or digit)';
  }
  return undefined;
}

/** A label value: empty, or at most 63 characters of alphanumerics, `-`, `_` and `.`. */
export function checkLabelValue(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > 63) return `has ${value.length} characters; a label value has at most 63`;
  if (!LABEL_NAME.test(value)) {
    return 'is not a valid label value (letters, digits, "-", "_" and ".", starting and ending with a letter or digit)';
  }
  return undefined;
}

/** A container environment variable name, as the API server validates it. */
export function checkEnvVarName(name: string): string | undefined {
  if (!ENV_VAR_NAME.test(name)) {
    return 'is not a valid environment variable name (letters, digits, "_", "-" and ".", not starting with a digit)';
  }
  return undefined;
}

/** A TCP/UDP port number. */
export function checkPort(port: number): string | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return 'is not a port number from 1 to 65535';
  return undefined;
}

/** A whole number within bounds: replicas, thresholds, counts. */
export function checkInteger(value: number, min: number, max = Number.MAX_SAFE_INTEGER): string | undefined {
  if (!Number.isInteger(value)) return `is not a whole number from ${min} to ${max}`;
  if (value < min || value > max) return `is outside ${min} to ${max}`;
  return undefined;
}

/** Checks every key and value of a label map, reporting each bad entry under `prop`. */
export function labelMapProblems(
  prop: string,
  labels: Readonly<Record<string, string>>,
): Array<{ prop: string; value: string; problem: string }> {
  const out: Array<{ prop: string; value: string; problem: string }> = [];
  for (const [key, value] of Object.entries(labels)) {
    const keyProblem = checkLabelKey(key);
    if (keyProblem) out.push({ prop: `${prop} key`, value: key, problem: keyProblem });
    const valueProblem = typeof value === 'string' ? checkLabelValue(value) : 'is not a string';
    if (valueProblem) out.push({ prop: `${prop}["${key}"]`, value, problem: valueProblem });
  }
  return out;
}

/** A Kubernetes object name (DNS-1123 subdomain), or a Terraform reference to one, which is known only at apply. */
export function checkObjectName(value: string): string | undefined {
  return typeof value === 'string' && Token.isUnresolved(value) ? undefined : checkDns1123Subdomain(value);
}

/** A registry prefix images may come from, `registry.host[:port][/path]`. */
export function checkRegistryPrefix(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'is not a registry prefix';
  return ImageReference.problemOf(`${value.includes('/') ? value : `${value}/x`}:probe`);
}
