import t from 'tap';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, startProc, tempDir } from './lib/proc.js';

// The hub's built-in notifier speaks Alertmanager's API v2, so Alertmanager's own CLI works against it.
const AMTOOL = '/usr/bin/amtool';

t.test('amtool adds, lists and silences alerts on the hub', { skip: existsSync(AMTOOL) ? false : 'amtool (Debian prometheus-alertmanager) not installed' }, async (t) => {
  const dir = tempDir('amtool');
  t.teardown(dir.remove);
  const hub = await startProc(BIN.hub, ['--listen', '127.0.0.1:0', '--data-dir', join(dir.path, 'hub')]);
  t.teardown(() => hub.stop());
  const am = (...args: string[]) => execFileSync(AMTOOL, [`--alertmanager.url=${hub.url}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  am('alert', 'add', 'DiskFull', 'severity=page', 'instance=db1', '--annotation=summary=disk is full');
  t.match(am('alert', 'query'), /DiskFull\s.*disk is full\s+active/);
  const id = am('silence', 'add', 'alertname=DiskFull', '--comment=maintenance', '--author=ops', '--duration=1h').trim();
  t.match(id, /^[0-9a-f-]{36}$/);
  t.match(am('silence', 'query'), new RegExp(`${id}\\s+alertname="DiskFull"`));
  t.notMatch(am('alert', 'query'), /DiskFull/, 'silenced alerts are hidden by default');
  t.match(am('alert', 'query', '--silenced'), /DiskFull/);
  am('silence', 'expire', id);
  t.match(am('alert', 'query'), /DiskFull/, 'back after the silence expires');
});
