// Kubernetes resource quantities (apimachinery's resource.Quantity grammar): a signed decimal
// with a binary (Ki..Ei), decimal (m, k..E) or exponent (e3) suffix.
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity string, or undefined when it is not one. */
export function quantityValue(s: string): number | undefined {
  const m = QUANTITY.exec(s.trim());
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  // "E" alone is exa; e/E followed by digits is an exponent.
  const mult = /^[eE][+-]?\d/.test(suffix) ? 10 ** Number(suffix.slice(1)) : SUFFIX[suffix];
  return Number(m[1]) * mult;
}

/** A resource amount as the API holds it (string or number); missing or malformed counts as 0. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  return quantityValue(q) ?? 0;
}
