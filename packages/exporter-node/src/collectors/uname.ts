import * as os from 'node:os';
import { join } from 'node:path';
import { single } from './family.js';
import { readOptional, withoutProcfs } from './procfs.js';
import type { Collector } from './types.js';

/** uname(2)'s fields, read from /proc/sys/kernel (no process spawned); Node's `os` gives the machine. */
export const unameCollector: Collector = {
  name: 'uname',
  async collect(ctx) {
    const kernel = async (name: string, fallback: string) =>
      withoutProcfs(ctx) ? fallback : ((await readOptional(join(ctx.procPath, 'sys', 'kernel', name)))?.trim() ?? fallback);
    const labels = {
      domainname: await kernel('domainname', '(none)'),
      machine: os.machine(),
      nodename: await kernel('hostname', os.hostname()),
      release: await kernel('osrelease', os.release()),
      sysname: await kernel('ostype', os.type()),
      version: await kernel('version', os.version()),
    };
    return [single('node_uname_info', 'gauge', 'Labeled system information as provided by the uname system call.', 1, labels)];
  },
};
