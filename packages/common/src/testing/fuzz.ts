/** What the fuzz tests share (`@vigil/common/testing`, test-only: it imports fast-check): byte-level mutations of valid inputs. */
import fc from 'fast-check';

export interface ByteMutation { at: number; kind: number; b: number }

/** Overwrite, insert, delete (1-8 bytes) or flip a bit, at a position taken modulo the length. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.record({ at: fc.nat(), kind: fc.nat(3), b: fc.nat(255) });

export function mutateBytes(bytes: Uint8Array, ms: readonly ByteMutation[]): Uint8Array {
  const a = [...bytes];
  for (const m of ms) {
    const at = a.length === 0 ? 0 : m.at % a.length;
    if (m.kind === 0) a[at] = m.b;
    else if (m.kind === 1) a.splice(at, 0, m.b);
    else if (m.kind === 2) a.splice(at, 1 + (m.b % 8));
    else a[at] = (a[at] ?? 0) ^ (1 << (m.b % 8));
  }
  return Uint8Array.from(a);
}
