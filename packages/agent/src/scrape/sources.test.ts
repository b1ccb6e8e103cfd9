import t from 'tap';
import { bodyPieces } from './sources.js';

t.test('a body is cut into pieces at line ends, each under the large-object size', async (t) => {
  let body = '';
  for (let i = 0; body.length < 300_000; i++) body += `metric_${i}{label="välue ${i}"} ${i}\n`;
  const pieces = bodyPieces(Buffer.from(body, 'utf8'));
  t.ok(pieces.length >= 4);
  t.equal(pieces.join(''), body, 'UTF-8 decoded, nothing lost');
  for (const p of pieces.slice(0, -1)) t.ok(p.endsWith('\n') && p.length < 128 << 10);
  t.same(bodyPieces(Buffer.from('a 1\nb 2')), ['a 1\nb 2']);
  t.same(bodyPieces(Buffer.alloc(0)), []);
});
