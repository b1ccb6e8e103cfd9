import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { Matcher } from '@vigil/common';
import { openStorage } from './db.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'recovery-child.js');

t.test('kill -9 during ingest loses no acknowledged sample and duplicates none', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rec-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let acked = 0;
  for (let round = 0; round < 2; round++) {
    const p = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    const start = acked;
    await new Promise<void>((resolve) => {
      p.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) if (l.startsWith('acked ')) acked = Math.max(acked, Number(l.slice(6)));
        if (acked - start > 3000) { p.kill('SIGKILL'); resolve(); }
      });
      p.on('exit', () => resolve());
    });
    if (p.exitCode === null && p.signalCode === null) await once(p, 'exit');
  }
  t.ok(acked > 3000, `acknowledged ${acked} samples per series`);
  const storage = await openStorage({ dir });
  t.teardown(() => storage.close());
  const q = await storage.querier(0, 1e15);
  const got = await q.select([new Matcher('=', '__name__', 'rec')]);
  t.equal(got.length, 50);
  let missing = 0;
  let disorder = 0;
  for (const d of got) {
    const s = Number(d.labels.s);
    for (let i = 1; i < d.t.length; i++) if (d.t[i]! <= d.t[i - 1]!) disorder++;
    for (let n = 0; n < acked; n++) {
      if (d.t[n] !== 1_700_000_000_000 + n * 1000 || d.v[n] !== n * 0.5 + s) { missing++; break; }
    }
  }
  t.equal(missing, 0, 'every acknowledged sample is there');
  t.equal(disorder, 0, 'one sample per timestamp');
});
