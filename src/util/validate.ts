// Client-side validation of flag values and names, with no I/O, so that usage errors exit 2
// before anything connects and nonsense never reaches a URL.
import { UsageError } from '../errors.js';
import { parseDuration, parseGoDuration } from './duration.js';

/** Node's timers overflow past 2^31-1 ms (~24.8 days) and then fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A wait's --timeout: a positive duration a timer can hold (0 would write and then time out at once). */
export function parseTimeout(value: string, flag = '--timeout'): number {
  const ms = parseDuration(value, flag);
  const go = parseGoDuration(value);
  // Timers count whole milliseconds: a positive 1µs rounds to 0.
  if (ms <= 0 && 'ns' in go && go.ns > 0n) throw new UsageError(`invalid value "${value}" for ${flag}: at least 1ms`);
  if (ms <= 0) throw new UsageError(`invalid value "${value}" for ${flag}: want a positive duration such as 30s, 5m or 1h`);
  if (ms > MAX_TIMER_MS) throw new UsageError(`invalid value "${value}" for ${flag}: at most 596h31m23s (24 days)`);
  return ms;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export type NameRule = 'subdomain' | 'label';

/**
 * Object names as the API server validates them (apimachinery's IsDNS1123Subdomain / Label),
 * checked client-side so that `..`, `.`, `''` or `a/b` never reach a URL. Pods, ConfigMaps,
 * Secrets, Deployments and PVCs are subdomains; Services and namespaces are labels.
 */
export function validateName(name: string, what: string, rule: NameRule = 'subdomain'): string {
  const max = rule === 'label' ? 63 : 253;
  const re = rule === 'label' ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
  if (name === '') throw new UsageError(`${what} must not be empty`);
  if (name.length > max || !re.test(name)) {
    const shown = name.length > 80 ? `${name.slice(0, 80)}…` : name;
    throw new UsageError(
      `invalid ${what} "${shown}": a name is at most ${max} lower-case letters, digits, "-"${rule === 'subdomain' ? ' and "."' : ''}, starting and ending with a letter or digit`,
    );
  }
  return name;
}
