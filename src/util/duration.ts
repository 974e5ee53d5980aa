import { UsageError } from '../errors.js';

// Go's time.ParseDuration, which reads every kubectl duration flag (--timeout, pflag's
// DurationVar): a sign, then number-unit pairs; a bare number other than 0 has no unit and is
// refused ("missing unit"). Nanoseconds in a BigInt, so overflow is refused where Go refuses it.
// Case table: test/fixtures/duration-cases.json, from Go itself (scripts/duration-fixtures).
const UNIT_NS: Record<string, bigint> = { ns: 1n, us: 1_000n, µs: 1_000n, μs: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const LIMIT = 1n << 63n;
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** Nanoseconds, or the reason Go gives. */
export function parseGoDuration(text: string): { ns: bigint } | { error: string } {
  const invalid = { error: `time: invalid duration "${text}"` };
  let s = text;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ns: 0n };
  if (s === '') return invalid;
  let d = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) return invalid;
    let i = 0;
    let v = 0n;
    for (; isDigit(s[i]); i++) {
      if (v > LIMIT / 10n) return invalid;
      v = v * 10n + BigInt(s[i]);
      if (v > LIMIT) return invalid;
    }
    const pre = i > 0;
    s = s.slice(i);
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s[0] === '.') {
      let j = 1;
      let overflow = false;
      for (; isDigit(s[j]); j++) {
        if (overflow) continue;
        const y = f * 10n + BigInt(s[j]);
        if (f > (LIMIT - 1n) / 10n || y > LIMIT) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 1;
      s = s.slice(j);
    }
    if (!pre && !post) return invalid;
    let u = 0;
    while (u < s.length && !(s[u] === '.' || isDigit(s[u]))) u++;
    if (u === 0) return { error: `time: missing unit in duration "${text}"` };
    const unitName = s.slice(0, u);
    s = s.slice(u);
    const unit = UNIT_NS[unitName];
    if (unit === undefined) return { error: `time: unknown unit "${unitName}" in duration "${text}"` };
    if (v > LIMIT / unit) return invalid;
    v *= unit;
    if (f > 0n) {
      // As Go: float64 for the fraction, truncated.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > LIMIT) return invalid;
    }
    d += v;
    if (d > LIMIT) return invalid;
  }
  if (neg) return { ns: -d };
  if (d > LIMIT - 1n) return invalid;
  return { ns: d };
}

const nsToMs = (ns: bigint) => Math.round(Number(ns) / 1e6);

/** A kubectl duration flag (`30s`, `5m`, `1h30m`, `250ms`), in milliseconds; as Go reads it. */
export function parseDuration(value: string, flag: string): number {
  const r = parseGoDuration(value);
  if ('error' in r) throw new UsageError(`invalid value "${value}" for ${flag}: want a duration such as 30s, 5m or 1h (${r.error})`);
  return nsToMs(r.ns);
}

/**
 * --request-timeout as client-go reads it (clientcmd.ParseTimeout), in nanoseconds: a whole
 * number is seconds, anything else a Go duration, negative ones included.
 */
function requestTimeoutNs(value: string, flag: string): bigint {
  if (/^[+-]?\d+$/.test(value) && BigInt(value) >= 0n && BigInt(value) < LIMIT) return BigInt(value) * 1_000_000_000n;
  const r = parseGoDuration(value);
  // client-go's own words (clientcmd.ParseTimeout), not Go's: "-5" is refused while "5" is not.
  if ('error' in r)
    throw new UsageError(
      `invalid value "${value}" for ${flag}: Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)`,
    );
  return r.ns;
}

/** --request-timeout in milliseconds, rounded as the other duration flags. */
export function parseRequestTimeout(value: string, flag = '--request-timeout'): number {
  return nsToMs(requestTimeoutNs(value, flag));
}

/**
 * The client-side limit kubectl ends up with for a --request-timeout value: "" and 0 are no
 * limit, and so is a negative one (Go's http.Client and client-go time out only when it is
 * positive). Any positive value is a limit, so one under a millisecond is 1 ms (rounded up:
 * never shorter than asked). Node's timers stop at about 24.8 days, so a longer value waits that long.
 */
export function requestTimeoutLimit(value: string | undefined, maxMs: number): number {
  if (value === undefined || value === '') return 0;
  const ns = requestTimeoutNs(value, '--request-timeout');
  if (ns <= 0n) return 0;
  return Math.min(Number((ns + 999_999n) / 1_000_000n), maxMs);
}

/** A duration this tool wrote into an annotation; earlier builds also wrote bare seconds. */
export function parseStoredDuration(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const r = parseGoDuration(value);
  return 'error' in r ? undefined : nsToMs(r.ns);
}

/** kubectl's HumanDuration (k8s.io/apimachinery/pkg/util/duration), used for AGE columns. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function age(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return '<unknown>';
  return humanDuration(now.getTime() - new Date(timestamp).getTime());
}
