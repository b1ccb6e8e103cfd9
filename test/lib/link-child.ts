// Child processes for the kill -9 link tests.
//   node link-child.js hub <port> <dataDir>            hub with a durable test storage in dataDir/samples.jsonl
//   node link-child.js agent <hubUrl> <dir> <fromK> <toK> <series>
//       writes scrapes k = fromK..toK (timestamp BASE + k s) every 20 ms, printing "wrote k" after each
import { startAgent, startHub, scrape } from './link-fixtures.js';
import { LinkTestStorage } from './link-storage.js';

export const BASE = 1_700_000_000_000;
const [mode, a1, a2, a3, a4, a5] = process.argv.slice(2);

if (mode === 'hub') {
  const storage = new LinkTestStorage(`${a2}/samples.jsonl`);
  const hub = await startHub({ storage, port: Number(a1), dataDir: a2! });
  process.stdout.write(`ready ${hub.port}\n`);
  process.on('SIGTERM', () => void hub.close().then(() => storage.close()).then(() => process.exit(0)));
} else if (mode === 'agent') {
  const agent = await startAgent(a1!, { dir: a2!, heartbeatMs: 300, backoffMaxMs: 300 });
  const from = Number(a3);
  const to = Number(a4);
  const series = Number(a5);
  for (let k = from; k <= to; k++) {
    agent.streamer.write(scrape(BASE + k * 1000, series));
    process.stdout.write(`wrote ${k}\n`);
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write('done\n');
  process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
}
