import type { MetricFamily } from '@vigil/common';
import { single } from './family.js';
import { fields, readProc } from './procfs.js';
import type { Collector } from './types.js';

/** Parses /proc/sys/fs/file-nr ("allocated unused maximum"). */
export function parseFileNr(text: string): MetricFamily[] {
  const f = fields(text);
  if (f.length !== 3) throw new Error(`cannot parse file-nr (${JSON.stringify(text)}): expected 3 fields`);
  return [
    single('node_filefd_allocated', 'gauge', 'File descriptor statistics: allocated.', Number(f[0])),
    single('node_filefd_maximum', 'gauge', 'File descriptor statistics: maximum.', Number(f[2])),
  ];
}

export const filefdCollector: Collector = {
  name: 'filefd',
  async collect(ctx) {
    return parseFileNr(await readProc(ctx, 'sys', 'fs', 'file-nr'));
  },
};
