/**
 * Go's number formatting (`strconv.FormatFloat` 'g'/'e'/'f', `fmt.Sprintf`) for what alert
 * templates and the rules API print, so that Vigil's output matches Prometheus byte for byte.
 */

/** Decimal digits (no trailing zeros) and decimal point position of |v|, rounded to `prec` significant digits (-1: shortest). */
function decimalDigits(v: number, prec: number): { digits: string; dp: number } {
  const s = prec < 0 ? Math.abs(v).toExponential() : Math.abs(v).toExponential(Math.max(prec, 1) - 1);
  const [mant, exp] = s.split('e') as [string, string];
  let digits = mant.replace('.', '').replace(/0+$/, '');
  if (digits === '') digits = '0';
  return { digits, dp: Number(exp) + 1 };
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return undefined;
}

function fmtE(neg: boolean, digits: string, dp: number, decimals: number, zero: boolean): string {
  let out = neg ? '-' : '';
  out += digits[0] ?? '0';
  if (decimals > 0) out += '.' + digits.slice(1, 1 + decimals).padEnd(decimals, '0');
  const exp = zero ? 0 : dp - 1;
  const abs = Math.abs(exp);
  return `${out}e${exp < 0 ? '-' : '+'}${abs < 10 ? '0' : ''}${abs}`;
}

function fmtF(neg: boolean, digits: string, dp: number, decimals: number): string {
  let out = neg ? '-' : '';
  out += dp > 0 ? digits.slice(0, dp).padEnd(dp, '0') : '0';
  if (decimals > 0) {
    out += '.';
    for (let i = 0; i < decimals; i++) out += digits[dp + i] ?? '0';
  }
  return out;
}

/** `strconv.FormatFloat(v, 'g', prec, 64)` (prec -1 = shortest, as `%v` prints floats). */
export function formatG(v: number, prec = -1): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  const neg = v < 0 || Object.is(v, -0);
  if (v === 0) {
    return (neg ? '-' : '') + '0';
  }
  const shortest = prec < 0;
  if (prec === 0) prec = 1;
  const { digits, dp } = decimalDigits(v, prec);
  const nd = digits.length;
  let p = shortest ? nd : prec;
  let eprec = p;
  if (eprec > nd && nd >= dp) eprec = nd;
  if (shortest) eprec = 6;
  const exp = dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (p > nd) p = nd;
    return fmtE(neg, digits, dp, p - 1, false);
  }
  if (p > dp) p = nd;
  return fmtF(neg, digits, dp, Math.max(p - dp, 0));
}

/** `strconv.FormatFloat(v, 'e', prec, 64)` (prec -1 = shortest, as the rules API prints alert values). */
export function formatE(v: number, prec = -1): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  const neg = v < 0 || Object.is(v, -0);
  if (v === 0) return fmtE(neg, '0', 1, prec < 0 ? 0 : prec, true);
  const { digits, dp } = decimalDigits(v, prec < 0 ? -1 : prec + 1);
  return fmtE(neg, digits, dp, prec < 0 ? digits.length - 1 : prec, false);
}

/** `strconv.FormatFloat(v, 'f', prec, 64)`. */
export function formatF(v: number, prec = 6): string {
  const sp = special(v);
  if (sp !== undefined) return sp;
  if (Math.abs(v) < 1e21) return v.toFixed(prec);
  const { digits, dp } = decimalDigits(v, -1);
  return fmtF(v < 0, digits, dp, prec);
}

/** How Go's `%v` prints a template value. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatG(v);
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

function goTypeName(v: unknown): string {
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v === null || v === undefined) return '<nil>';
  return 'map[string]string';
}

/** `fmt.Sprintf` for the verbs templates use: %s %v %d %f %e %g %q %x %X %t %%, with flags, width and precision. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let out = '';
  let argi = 0;
  const re = /%([-+ 0#]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    out += format.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = '', widthText, precText, verb = ''] = m;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argi++];
    const prec = precText === undefined ? undefined : precText === '' ? 0 : Number(precText);
    let s = formatVerb(verb, arg, prec, flags);
    const width = widthText === undefined ? 0 : Number(widthText);
    if (s.length < width) {
      if (flags.includes('-')) s = s.padEnd(width, ' ');
      else if (flags.includes('0') && typeof arg === 'number' && 'dfegvx'.includes(verb.toLowerCase())) {
        const sign = /^[-+ ]/.test(s) ? s[0]! : '';
        s = sign + s.slice(sign.length).padStart(width - sign.length, '0');
      } else s = s.padStart(width, ' ');
    }
    out += s;
  }
  out += format.slice(last);
  if (argi < args.length) out += `%!(EXTRA ${args.slice(argi).map((a) => `${goTypeName(a)}=${goString(a)}`).join(', ')})`;
  return out;
}

function signed(s: string, v: number, flags: string): string {
  if (v >= 0 && !s.startsWith('+')) {
    if (flags.includes('+')) return '+' + s;
    if (flags.includes(' ')) return ' ' + s;
  }
  return s;
}

function formatVerb(verb: string, arg: unknown, prec: number | undefined, flags: string): string {
  const bad = () => `%!${verb}(${goTypeName(arg)}=${goString(arg)})`;
  switch (verb) {
    case 'v':
      return typeof arg === 'number' ? signed(formatG(arg), arg, flags) : goString(arg);
    case 's':
      if (typeof arg === 'number') return bad();
      return prec === undefined ? goString(arg) : goString(arg).slice(0, prec);
    case 'q':
      return typeof arg === 'string' ? JSON.stringify(arg) : bad();
    case 't':
      return typeof arg === 'boolean' ? String(arg) : bad();
    case 'd':
      if (typeof arg !== 'number' || !Number.isInteger(arg)) return bad();
      return signed(String(arg), arg, flags);
    case 'f': case 'F':
      return typeof arg === 'number' ? signed(formatF(arg, prec ?? 6), arg, flags) : bad();
    case 'e': case 'E': {
      if (typeof arg !== 'number') return bad();
      const s = signed(formatE(arg, prec ?? 6), arg, flags);
      return verb === 'E' ? s.toUpperCase() : s;
    }
    case 'g': case 'G': {
      if (typeof arg !== 'number') return bad();
      const s = signed(formatG(arg, prec ?? -1), arg, flags);
      return verb === 'G' ? s.toUpperCase() : s;
    }
    case 'x': case 'X': {
      let s: string;
      if (typeof arg === 'number' && Number.isInteger(arg)) s = (arg < 0 ? '-' : '') + Math.abs(arg).toString(16);
      else if (typeof arg === 'string') s = Buffer.from(arg, 'utf8').toString('hex');
      else return bad();
      return verb === 'X' ? s.toUpperCase() : s;
    }
    default:
      return `%!${verb}(${goTypeName(arg)}=${goString(arg)})`;
  }
}
