/**
 * Throughput of the exposition parsers on one core (not a test):
 *   node packages/common/dist/exposition/bench.js [lines] [grouped|interleaved]
 * Prints `bench: import_parser_lines_per_sec N` and `bench: exposition_parser_lines_per_sec N`.
 */
import { ImportParser } from './import.js';
import { parseExposition } from './parser.js';

const lines = Number(process.argv[2] ?? 2_000_000);
const series = 2000;
const chunkLines = 5000;

const grouped = process.argv[3] !== 'interleaved';
const perSeries = Math.ceil(lines / series);

/** Lines like the 1-day dataset: grouped by series (or, with `interleaved`, one scrape after another). */
function makeChunk(start: number): string {
  let out = '';
  for (let i = start; i < start + chunkLines; i++) {
    const s = grouped ? Math.floor(i / perSeries) : i % series;
    const step = grouped ? i % perSeries : Math.floor(i / series);
    const t = 1_735_689_600_000 + step * 15_000;
    out += `node_cpu_seconds_total{cpu="${s % 16}",mode="${['idle', 'user', 'system', 'iowait'][s % 4]}",instance="h${s >> 6}:9100"} ${(12345.67 + i * 0.01).toFixed(2)} ${t}\n`;
  }
  return out;
}

// Build the input first (not timed): chunks as an HTTP body would arrive.
const chunks: string[] = [];
// Flat strings, as decoded from network buffers.
for (let i = 0; i < lines; i += chunkLines) chunks.push(Buffer.from(makeChunk(i)).toString());

let count = 0;
let sum = 0;
const p = new ImportParser((_key, _labels, value) => {
  count++;
  sum += value;
});
// CPU time of this process (the machine is shared, so wall time would measure the neighbours too).
const cpuSec = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
for (const c of chunks) p.push(c);
p.end();
const cpu = cpuSec(c0);
const sec = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(`bench: import_parser_lines_per_sec ${Math.round(count / cpu)} lines/s per CPU-second (${count} lines, ${series} series ${grouped ? 'grouped' : 'interleaved'}, ${cpu.toFixed(3)} CPU-s, ${sec.toFixed(3)} s wall, checksum ${sum.toFixed(0)})\n`);

const scrape = chunks.slice(0, 20).join('');
const c1 = process.cpuUsage();
const n = parseExposition(scrape).samples.length;
const cpu1 = cpuSec(c1);
process.stdout.write(`bench: exposition_parser_lines_per_sec ${Math.round(n / cpu1)} lines/s per CPU-second (${n} lines, ${cpu1.toFixed(3)} CPU-s)\n`);
