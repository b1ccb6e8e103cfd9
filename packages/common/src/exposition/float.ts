/**
 * Floats as Prometheus reads and writes them: Go's `strconv.ParseFloat` (minus hex and `_`,
 * which Prometheus' parser refuses) and `strconv.FormatFloat(f, 'g', -1, 64)`.
 */

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a sample value the way Prometheus does; `undefined` when Go would refuse it.
 * Accepts decimals with exponents, `NaN` (any case, no sign), `Inf`/`Infinity` (any case,
 * optional sign). A finite literal beyond the float range is refused (Go's ErrRange).
 */
export function parseGoFloat(s: string): number | undefined {
  if (DECIMAL_RE.test(s)) {
    const v = Number(s);
    return Number.isFinite(v) ? v : undefined;
  }
  let i = 0;
  let sign = 1;
  const c = s.charCodeAt(0);
  if (c === 43 /* + */ || c === 45 /* - */) {
    if (c === 45) sign = -1;
    i = 1;
  }
  const rest = s.slice(i).toLowerCase();
  if (rest === 'inf' || rest === 'infinity') return sign * Infinity;
  if (i === 0 && rest === 'nan') return NaN;
  return undefined;
}

/** Formats a float like Go's `strconv.FormatFloat(v, 'g', -1, 64)`, with `+Inf`, `-Inf`, `NaN`. */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // Integers below 1e6 print plainly in both languages: the common case, kept cheap.
  if (Number.isInteger(v) && v < 1e6 && v > -1e6) return String(v);
  const e = v.toExponential(); // shortest round-trip digits, e.g. "-1.2345e+7"
  const ePos = e.indexOf('e');
  const neg = v < 0;
  const mant = e.slice(neg ? 1 : 0, ePos);
  const exp = Number(e.slice(ePos + 1));
  const digits = mant.length > 1 ? mant[0] + mant.slice(2) : mant;
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 6) {
    // %e: d[.ddd]e±XX with at least two exponent digits
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const ae = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}
