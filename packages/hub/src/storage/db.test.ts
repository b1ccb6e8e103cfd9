import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { openStorage } from './db.js';
import { storageConformance } from './conformance.js';

const dirs: string[] = [];
t.teardown(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-db-'));
  dirs.push(d);
  return d;
}

storageConformance(t, async (opts) => openStorage({ dir: tempDir(), ...opts }));
