// Vigil's built-in UI: one page, one section per URL (Explore, Dashboards, Agents, Targets, Alerts, Status),
// talking only to the hub's public HTTP API.
const main = document.getElementById('main');
const RANGES = { '5m': 300, '15m': 900, '1h': 3600, '6h': 21600, '12h': 43200, '1d': 86400, '7d': 604800 };

async function api(path, params = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x)); else if (v !== undefined) url.searchParams.set(k, v);
  }
  const res = await fetch(url);
  const body = await res.json().catch(() => ({ status: 'error', error: `HTTP ${res.status}` }));
  if (body.status !== 'success') throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

const h = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v); else if (v !== undefined && v !== false) el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c.nodeType ? c : String(c));
  return el;
};
const seriesName = (m) => {
  const { __name__: name = '', ...rest } = m;
  const parts = Object.keys(rest).sort().map((k) => `${k}="${rest[k]}"`);
  return parts.length ? `${name}{${parts.join(', ')}}` : name || '{}';
};
const table = (head, rows) => h('table', {}, h('tr', {}, head.map((x) => h('th', {}, x))), rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))));
const ago = (iso) => { if (!iso) return 'never'; const s = (Date.now() - Date.parse(iso)) / 1000; return s < 0 ? 'now' : `${s.toFixed(1)}s ago`; };

function fmtUnit(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const scale = (base, units) => { let i = 0; let x = Math.abs(v); while (x >= base && i < units.length - 1) { x /= base; i++; } return `${(Math.sign(v) * x).toFixed(x < 10 ? 2 : 1)} ${units[i]}`; };
  if (unit === 'bytes') return scale(1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']);
  if (unit === 'Bps') return scale(1024, ['B/s', 'KiB/s', 'MiB/s', 'GiB/s']);
  if (unit === 'percent') return `${v.toFixed(1)}%`;
  if (unit === 's') return v < 120 ? `${v.toFixed(2)} s` : v < 7200 ? `${(v / 60).toFixed(1)} min` : v < 172800 ? `${(v / 3600).toFixed(1)} h` : `${(v / 86400).toFixed(1)} d`;
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(2) : String(Math.round(v * 1000) / 1000);
}

// A time-series chart. Gaps where a datacenter's link was cut (after its watermark) are shaded, so they read
// differently from gaps in the data itself.
function chart(el, result, { start, end, step, unit, cutAfter }) {
  el.innerHTML = '';
  if (!result.length) { el.append(h('div', { class: 'muted' }, 'no data')); return; }
  const xs = [];
  for (let t = start; t <= end; t += step) xs.push(t);
  const index = new Map(xs.map((t, i) => [t, i]));
  const data = [xs];
  const series = [{}];
  const palette = ['#2f6fed', '#e04f5f', '#12b76a', '#f79009', '#7a5af8', '#0ba5ec', '#ee46bc', '#667085'];
  result.slice(0, 40).forEach((s, i) => {
    const ys = new Array(xs.length).fill(null);
    for (const [t, v] of s.values) { const j = index.get(Math.round(t)); if (j !== undefined) ys[j] = Number(v); }
    data.push(ys);
    series.push({ label: seriesName(s.metric), stroke: palette[i % palette.length], width: 1.5, value: (_u, v) => fmtUnit(v, unit) });
  });
  const hooks = cutAfter ? { drawClear: [(u) => {
    const x0 = u.valToPos(Math.max(cutAfter, start), 'x', true), x1 = u.valToPos(end, 'x', true);
    if (x1 > x0) { u.ctx.save(); u.ctx.fillStyle = 'rgba(196,50,10,0.08)'; u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height); u.ctx.restore(); }
  }] } : {};
  // eslint-disable-next-line no-undef
  new uPlot({ width: Math.max(el.clientWidth, 400), height: 240, series, hooks,
    axes: [{}, { values: (_u, ticks) => ticks.map((v) => fmtUnit(v, unit)), size: 70 }], legend: { show: result.length <= 8 } }, data, el);
}

// The earliest watermark (seconds) among cut datacenters that the series belong to: data after it is missing
// because the link is down, not because the series stopped.
async function cutWatermark(result) {
  const dcs = new Set(result.map((s) => s.metric.datacenter).filter(Boolean));
  if (!dcs.size) return undefined;
  try {
    const agents = (await api('/api/v1/agents')).data;
    const marks = agents.filter((a) => !a.connected && dcs.has(a.datacenter) && a.watermark_seconds).map((a) => a.watermark_seconds);
    return marks.length ? Math.min(...marks) : undefined;
  } catch { return undefined; }
}

async function runRange(expr, rangeSec, el, unit) {
  const end = Math.floor(Date.now() / 1000), start = end - rangeSec, step = Math.max(Math.ceil(rangeSec / 300), 1);
  try {
    const body = await api('/api/v1/query_range', { query: expr, start, end, step });
    const cutAfter = await cutWatermark(body.data.result);
    chart(el, body.data.result, { start, end, step, unit, cutAfter });
    if (cutAfter) el.append(h('div', { class: 'warning' }, `shaded: link cut, data complete up to ${new Date(cutAfter * 1000).toISOString()}`));
    if (body.warnings?.length) el.append(h('div', { class: 'warning' }, body.warnings.join('; ')));
  } catch (err) { el.innerHTML = ''; el.append(h('div', { class: 'error' }, err.message)); }
}

let metricNames = null;
async function explore() {
  const params = new URLSearchParams(location.search);
  const input = h('textarea', { placeholder: 'PromQL expression, e.g. rate(node_cpu_seconds_total[5m])', list: 'metrics' }, params.get('q') ?? '');
  const datalist = h('datalist', { id: 'metrics' });
  const range = h('select', {}, Object.keys(RANGES).map((r) => h('option', { value: r, selected: r === (params.get('range') ?? '1h') }, r)));
  const out = h('div', { class: 'panel' });
  let mode = params.get('tab') ?? 'graph';
  const tabs = h('span', { class: 'tabs' });
  const execute = async () => {
    const q = input.value.trim();
    history.replaceState(null, '', `/explore?${new URLSearchParams({ q, range: range.value, tab: mode })}`);
    renderTabs();
    if (!q) return;
    if (mode === 'graph') return runRange(q, RANGES[range.value], out);
    try {
      const body = await api('/api/v1/query', { query: q });
      const r = body.data.result;
      out.innerHTML = '';
      if (body.data.resultType === 'scalar' || body.data.resultType === 'string') out.append(h('div', { class: 'mono' }, r[1]));
      else out.append(table(['series', 'value'], r.map((s) => [h('span', { class: 'mono' }, seriesName(s.metric)), s.value ? s.value[1] : s.values.map((v) => `${v[1]} @${v[0]}`).join('\n')])));
      if (body.warnings?.length) out.append(h('div', { class: 'warning' }, body.warnings.join('; ')));
    } catch (err) { out.innerHTML = ''; out.append(h('div', { class: 'error' }, err.message)); }
  };
  const renderTabs = () => {
    tabs.innerHTML = '';
    for (const t of ['graph', 'table']) tabs.append(h('button', { class: t === mode ? 'active' : '', onclick: () => { mode = t; execute(); } }, t));
  };
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); execute(); } });
  main.append(h('h2', {}, 'Explore'), input, datalist, h('div', { class: 'row' }, h('button', { class: 'primary', onclick: execute }, 'Execute'), range, tabs), out);
  renderTabs();
  if (!metricNames) metricNames = api('/api/v1/label/__name__/values').then((b) => b.data).catch(() => []);
  for (const n of await metricNames) datalist.append(h('option', { value: n }));
  if (input.value) execute();
}

const HOST_PANELS = [
  { title: 'CPU busy', unit: 'percent', expr: '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle",instance=~"$instance"}[2m])))' },
  { title: 'Memory used', unit: 'bytes', expr: 'node_memory_MemTotal_bytes{instance=~"$instance"} - node_memory_MemAvailable_bytes{instance=~"$instance"}' },
  { title: 'Load', unit: '', expr: '{__name__=~"node_load1|node_load5|node_load15",instance=~"$instance"}' },
  { title: 'Network received', unit: 'Bps', expr: 'rate(node_network_receive_bytes_total{instance=~"$instance",device!="lo"}[2m])' },
  { title: 'Network sent', unit: 'Bps', expr: 'rate(node_network_transmit_bytes_total{instance=~"$instance",device!="lo"}[2m])' },
  { title: 'Disk I/O', unit: 'Bps', expr: 'rate(node_disk_read_bytes_total{instance=~"$instance"}[2m]) + rate(node_disk_written_bytes_total{instance=~"$instance"}[2m])' },
  { title: 'Filesystem available', unit: 'percent', expr: '100 * node_filesystem_avail_bytes{instance=~"$instance",fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{instance=~"$instance",fstype!~"tmpfs|overlay"}' },
  { title: 'Uptime', unit: 's', stat: true, expr: 'time() - node_boot_time_seconds{instance=~"$instance"}' },
];

async function dashboards() {
  const instSel = h('select', {}, h('option', { value: '.*' }, 'all instances'));
  const range = h('select', {}, Object.keys(RANGES).map((r) => h('option', { value: r, selected: r === '1h' }, r)));
  const refresh = h('select', {}, ['off', '10s', '30s', '1m'].map((r) => h('option', { value: r, selected: r === '30s' }, `refresh ${r}`)));
  const grid = h('div', { class: 'grid' });
  main.append(h('h2', {}, 'Host overview'), h('div', { class: 'row' }, 'instance', instSel, range, refresh), grid);
  try { for (const v of (await api('/api/v1/label/instance/values', { 'match[]': 'node_uname_info' })).data) instSel.append(h('option', { value: v }, v)); } catch { /* no hosts yet */ }
  const draw = () => {
    grid.innerHTML = '';
    for (const p of HOST_PANELS) {
      const body = h('div');
      grid.append(h('div', { class: 'panel' }, h('h3', {}, p.title), body));
      const expr = p.expr.replaceAll('$instance', instSel.value);
      if (p.stat) api('/api/v1/query', { query: expr }).then((b) => { body.append(...b.data.result.map((s) => h('div', {}, h('span', { class: 'stat' }, fmtUnit(Number(s.value[1]), p.unit)), ' ', h('span', { class: 'muted' }, s.metric.instance ?? '')))); }).catch((e) => body.append(h('div', { class: 'error' }, e.message)));
      else runRange(expr, RANGES[range.value], body, p.unit);
    }
  };
  instSel.onchange = range.onchange = draw;
  draw();
  const timer = setInterval(() => { if (!document.body.contains(grid)) clearInterval(timer); else if (refresh.value !== 'off') draw(); }, 10_000);
}

async function agents() {
  main.append(h('h2', {}, 'Agents and links'));
  const body = await api('/api/v1/agents');
  main.append(table(['agent', 'datacenter', 'link', 'last seen', 'complete up to (watermark)', 'lag', 'buffered', 'samples/s', 'version'],
    body.data.map((a) => [a.id, a.datacenter, h('span', { class: a.connected ? 'ok' : 'bad' }, a.connected ? 'connected' : 'cut'), ago(a.last_seen),
      a.watermark ? new Date(a.watermark).toISOString() : '–', a.lag_seconds !== undefined ? `${Number(a.lag_seconds).toFixed(1)} s` : '–', fmtUnit(a.buffered_bytes ?? 0, 'bytes'),
      Number(a.samples_per_second ?? 0).toFixed(0), a.version ?? ''])));
}

async function targets() {
  main.append(h('h2', {}, 'Targets'));
  const body = await api('/api/v1/targets');
  main.append(table(['endpoint', 'agent / datacenter', 'state', 'labels', 'last scrape', 'duration', 'error'],
    body.data.activeTargets.map((t) => [h('span', { class: 'mono' }, t.scrapeUrl), `${t.agent ?? ''} / ${t.datacenter ?? ''}`, h('span', { class: t.health === 'up' ? 'ok' : 'bad' }, t.health),
      h('span', { class: 'mono' }, seriesName(t.labels ?? {})), ago(t.lastScrape), `${Number(t.lastScrapeDuration ?? 0).toFixed(3)} s`, h('span', { class: 'error' }, t.lastError ?? '')])));
}

async function alerts() {
  main.append(h('h2', {}, 'Alerts'));
  const body = await api('/api/v1/alerts');
  if (!body.data.alerts.length) main.append(h('div', { class: 'muted' }, 'No alerts are firing or pending.'));
  else main.append(table(['alert', 'state', 'labels', 'active since', 'value'], body.data.alerts.map((a) => [a.labels.alertname, a.state, h('span', { class: 'mono' }, seriesName(a.labels)), a.activeAt, a.value])));
}

async function status() {
  main.append(h('h2', {}, 'Status'));
  const [build, runtime, tsdb, config] = await Promise.all(['buildinfo', 'runtimeinfo', 'tsdb', 'config'].map((s) => api(`/api/v1/status/${s}`).catch((e) => ({ data: { error: e.message } }))));
  const kv = (o) => table(['', ''], Object.entries(o).filter(([, v]) => typeof v !== 'object').map(([k, v]) => [k, String(v)]));
  main.append(h('h3', {}, 'Build'), kv(build.data), h('h3', {}, 'Runtime'), kv(runtime.data));
  if (tsdb.data.headStats) {
    main.append(h('h3', {}, 'TSDB'), kv(tsdb.data.headStats), h('h3', {}, 'Top metrics by series'),
      table(['metric', 'series'], (tsdb.data.seriesCountByMetricName ?? []).map((x) => [x.name, x.value])));
  }
  main.append(h('h3', {}, 'Configuration'), h('pre', { class: 'mono panel' }, config.data.yaml ?? config.data.error ?? ''));
}

const SECTIONS = { explore, dashboards, agents, targets, alerts, status };
async function route() {
  const section = location.pathname.split('/')[1] || 'explore';
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.section === section));
  main.innerHTML = '';
  try { await (SECTIONS[section] ?? explore)(); } catch (err) { main.append(h('div', { class: 'error' }, err.message)); }
}
document.addEventListener('click', (e) => {
  const a = e.target.closest('a');
  if (a && a.origin === location.origin && !e.metaKey && !e.ctrlKey) { e.preventDefault(); history.pushState(null, '', a.href); route(); }
});
window.addEventListener('popstate', route);
route();
