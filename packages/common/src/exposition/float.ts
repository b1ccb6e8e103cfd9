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

/** Exact powers of ten as doubles (10^0 .. 10^22). */
const POW10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * `parseGoFloat(text.slice(start, end))` without the slice for the usual decimals: at most 15
 * significant digits and a decimal exponent within ±22 make a mantissa and a power of ten that are
 * both exact doubles, so one multiplication or division rounds correctly (Clinger's fast path).
 * Anything else (more digits, NaN, Inf, malformed) takes parseGoFloat.
 */
export function parseGoFloatSpan(text: string, start: number, end: number): number | undefined {
  let i = start;
  let c = text.charCodeAt(i);
  const neg = c === 45;
  if (neg || c === 43) i++;
  let mant = 0;
  let digits = 0;
  let scale = 0;
  let any = false;
  while (i < end && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
    if (digits > 0 || c !== 48) digits++;
    mant = mant * 10 + (c - 48);
    any = true;
    i++;
  }
  if (i < end && text.charCodeAt(i) === 46) {
    i++;
    while (i < end && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
      if (digits > 0 || c !== 48) digits++;
      mant = mant * 10 + (c - 48);
      scale--;
      any = true;
      i++;
    }
  }
  let exp = 0;
  if (any && i < end && ((c = text.charCodeAt(i)) === 101 || c === 69)) {
    i++;
    let eneg = false;
    c = text.charCodeAt(i);
    if (c === 45 || c === 43) {
      eneg = c === 45;
      i++;
    }
    const e0 = i;
    while (i < end && (c = text.charCodeAt(i)) >= 48 && c <= 57 && i - e0 < 5) {
      exp = exp * 10 + (c - 48);
      i++;
    }
    if (i === e0) any = false;
    if (eneg) exp = -exp;
  }
  if (any && i === end && digits <= 15) {
    const e = scale + exp;
    let v: number | undefined;
    if (mant === 0) v = 0;
    else if (e === 0) v = mant;
    else if (e > 0 && e <= 22) v = mant * POW10[e]!;
    else if (e < 0 && e >= -22) v = mant / POW10[-e]!;
    if (v !== undefined) return neg ? -v : v;
  }
  return parseGoFloat(text.slice(start, end));
}

/** The decimal digits `text[start, end)` as a number (exact up to 15 digits, as Number() beyond). */
export function parseUintSpan(text: string, start: number, end: number): number {
  if (end - start > 15) return Number(text.slice(start, end));
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (text.charCodeAt(i) - 48);
  return v;
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
