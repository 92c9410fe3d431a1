// Tributary dashboard: pages come from /api/v1/dashboard (declared in serve.dashboard); every chart reads an
// API path. Plain JS and Chart.js, served by the Tributary server itself: nothing to build, nothing from a CDN.
'use strict';

const state = { config: null, charts: [], redraws: [] };
/** How often the page asks whether the lake changed; charts redraw only when a served snapshot did. */
const POLL_MS = 2000;
const palette = ['#2f6fed', '#38a169', '#d69e2e', '#e53e3e', '#805ad5', '#319795', '#dd6b20', '#718096', '#b83280', '#3182ce'];

async function api(path) {
  const headers = {};
  const token = localStorage.getItem('tributary-token');
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`/api/v1${path}`, { headers });
  if (response.status === 401) {
    const given = prompt('This dashboard needs an API token');
    if (given) { localStorage.setItem('tributary-token', given); return api(path); }
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || response.statusText);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
  return node;
}

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
function show(v, column = '') {
  if (v === null || v === undefined) return '';
  // Identifiers and ranks are labels, not quantities: no thousands separators.
  if (typeof v === 'number' && /(^id|_id$|^rang$|^rank$|snapshot)/i.test(column)) return String(v);
  if (typeof v === 'number') return fmt.format(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function withParam(source, name, value) {
  const [path, query = ''] = source.split('?');
  const params = new URLSearchParams(query);
  if (value === '' || value === undefined) params.delete(name); else params.set(name, value);
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

function rowsOf(body, chart) {
  return (chart.field ? body[chart.field] : body.rows) || [];
}

async function renderChart(chart, card) {
  const body = el('div');
  const controls = el('span');
  card.append(el('h2', {}, el('span', {}, chart.title), controls), body);
  // Controls combine: each sets its own parameter on the current source.
  let source = chart.source;
  let latest = 0;
  let plot;
  const draw = async (quiet = false) => {
    const ticket = ++latest;
    if (!quiet) body.replaceChildren(el('span', { class: 'muted' }, 'loading…'));
    try {
      const data = await api(source);
      // A newer request was made meanwhile (its answer wins), or the page was left: nothing to draw.
      if (ticket !== latest || !card.isConnected) return;
      const rows = rowsOf(data, chart);
      if (plot) {
        plot.destroy();
        const at = state.charts.indexOf(plot);
        if (at >= 0) state.charts.splice(at, 1);
        plot = undefined;
      }
      body.replaceChildren();
      if (chart.type === 'kpi') return drawKpis(body, rows, chart);
      if (chart.type === 'table') return drawTable(body, rows);
      plot = drawPlot(body, rows, chart);
    } catch (err) {
      if (ticket === latest) body.replaceChildren(el('span', { class: 'error' }, String(err.message || err)));
    }
  };
  if (chart.granularity) {
    const select = el('select', { 'aria-label': `${chart.title} granularity`, onchange: (e) => { source = withParam(source, chart.granularity.param, e.target.value); draw(); } },
      chart.granularity.choices.map((c) => el('option', { value: c }, c)));
    source = withParam(chart.source, chart.granularity.param, chart.granularity.choices[0]);
    controls.append(select);
  }
  if (chart.filter) {
    let timer;
    const input = el('input', { type: 'search', placeholder: `filter ${chart.filter}`, 'aria-label': `filter ${chart.filter}`, oninput: (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => { source = withParam(source, chart.filter, e.target.value.trim()); draw(); }, 250);
    } });
    controls.append(input);
  }
  let pending = false;
  // A redraw asked for while one is still running is skipped: the running one reads the newest snapshot anyway.
  state.redraws.push(() => {
    if (pending) return;
    pending = true;
    draw(true).finally(() => { pending = false; });
  });
  await draw();
}

function drawKpis(body, rows, chart) {
  const row = rows[0] || {};
  const keys = chart.y ? [].concat(chart.y) : Object.keys(row);
  body.append(el('div', { class: 'kpis' }, keys.map((k) => el('div', { class: 'kpi' }, el('div', { class: 'muted' }, k), el('div', { class: 'value', 'data-kpi': k }, show(row[k]))))));
}

function drawTable(body, rows) {
  if (rows.length === 0) return body.append(el('span', { class: 'muted' }, 'no rows'));
  const columns = Object.keys(rows[0]);
  const cell = (v, c) => {
    if (c === 'status' || c === 'severity') return el('td', {}, el('span', { class: `badge ${v}` }, show(v)));
    return el('td', typeof v === 'number' ? { class: 'num' } : {}, show(v, c));
  };
  body.append(el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, columns.map((c) => cell(r[c], c))))))));
  body.append(el('div', { class: 'muted', 'data-rows': String(rows.length) }, `${rows.length} row(s)`));
}

function drawPlot(body, rows, chart) {
  const canvas = el('canvas', { role: 'img', 'aria-label': chart.title });
  body.append(el('div', { class: 'chart-box' }, canvas));
  const ys = [].concat(chart.y || []);
  const labels = rows.map((r) => show(r[chart.x]));
  const datasets = ys.map((y, i) => ({
    label: y,
    data: rows.map((r) => Number(r[y])),
    backgroundColor: chart.type === 'doughnut' ? palette : palette[i % palette.length],
    borderColor: palette[i % palette.length],
    tension: 0.25,
    pointRadius: rows.length > 60 ? 0 : 2,
  }));
  const plot = new Chart(canvas, {
    type: chart.type,
    data: { labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { display: chart.type === 'doughnut' || ys.length > 1 } } },
  });
  state.charts.push(plot);
  return plot;
}

async function renderPage() {
  const id = location.hash.replace('#/', '') || state.config.pages[0]?.id;
  const page = state.config.pages.find((p) => p.id === id) || state.config.pages[0];
  for (const c of state.charts.splice(0)) c.destroy();
  state.redraws = [];
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === page?.id);
  const main = document.getElementById('page');
  main.replaceChildren();
  if (!page) return main.append(el('div', { class: 'card' }, 'No pages: declare serve.dashboard.pages in tributary.config.ts.'));
  document.title = `${page.title} — ${state.config.title}`;
  const cards = page.charts.map((chart) => {
    const card = el('section', { class: `card${chart.type === 'table' || chart.type === 'kpi' ? ' wide' : ''}`, 'data-chart': chart.title });
    main.append(card);
    return renderChart(chart, card);
  });
  await Promise.all(cards);
  document.body.dataset.ready = page.id;
}

async function start() {
  try {
    state.config = await api('/dashboard');
  } catch (err) {
    document.getElementById('page').append(el('div', { class: 'card error' }, String(err.message || err)));
    return;
  }
  document.getElementById('title').textContent = state.config.title;
  document.getElementById('nav').append(...state.config.pages.map((p) => el('a', { href: `#/${p.id}`, 'data-page': p.id }, p.title)));
  window.addEventListener('hashchange', renderPage);
  // The baseline is read before the first render: a snapshot committed in between is then seen as a change.
  const baseline = await health();
  await renderPage();
  follow(baseline);
}

async function health() {
  try {
    const response = await fetch('/health', { signal: AbortSignal.timeout(5000) });
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * Live view: polls /health for the served snapshots and redraws the page's charts, in place, when one changed
 * (a stream committed a batch, a model run published). With auth on, /health does not list snapshots: charts are
 * then redrawn every 30 s.
 */
async function follow(baseline) {
  let last = baseline && baseline.snapshots ? JSON.stringify(baseline.snapshots) : undefined;
  let polls = 0;
  for (;;) {
    const status = await health();
    const snapshots = status && status.snapshots ? JSON.stringify(status.snapshots) : undefined;
    const changed = snapshots !== undefined ? last !== undefined && snapshots !== last : polls % 15 === 14;
    if (status) {
      const served = status.tables === undefined ? '' : `${status.tables} tables served · `;
      document.getElementById('freshness').textContent = `${served}checked ${new Date().toLocaleTimeString()}`;
    }
    if (changed) for (const redraw of state.redraws) redraw();
    if (snapshots !== undefined) last = snapshots;
    polls++;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

start();
