/**
 * Test helper (run as a child process by recovery.test.ts): ingests into the store in `argv[2]`
 * and prints `acked N` after each durable commit, N = samples per series acknowledged so far.
 */
import { openStorage } from './db.js';

const dir = process.argv[2]!;
const SERIES = 50;
const PER_COMMIT = 40;
const storage = await openStorage({ dir, walMaxBytes: 256 * 1024 });
const refs = new Array<number>(SERIES).fill(0);
let n = 0;
for (;;) {
  const app = storage.appender();
  for (let k = 0; k < PER_COMMIT; k++, n++) {
    for (let s = 0; s < SERIES; s++) refs[s] = app.append(refs[s]!, { __name__: 'rec', s: String(s) }, 1_700_000_000_000 + n * 1000, n * 0.5 + s);
  }
  await app.commit();
  process.stdout.write(`acked ${n}\n`);
}
