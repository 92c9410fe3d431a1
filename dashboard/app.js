// Tributary dashboard: pages come from /api/v1/dashboard (declared in serve.dashboard); every chart reads an
// API path. Plain JS and Chart.js, served by the Tributary server itself: nothing to build, nothing from a CDN.
'use strict';

const state = { config: null, charts: [], redraws: [] };
/** How often the page asks whether the lake changed; charts redraw only when a served snapshot did. */
const POLL_MS = 2000;
const palette = ['#2f6fed', '#38a169', '#d69e2e', '#e53e3e', '#805ad5', '#319795', '#dd6b20', '#718096', '#b83280', '#3182ce'];

// The token lives in this tab's sessionStorage only: gone when the tab closes, never shared with other tabs or
// left on disk as localStorage would be.
async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem('tributary-token');
  if (token) headers.Authorization = `Bearer ${token}`;
  // A path under /api/v1, or a full one (`/api/analytics/…`: endpoints served under serve.endpointsPath).
  const response = await fetch(path.startsWith('/api/') ? path : `/api/v1${path}`, { headers });
  if (response.status === 401) {
    const given = prompt(T.tokenPrompt);
    if (given) {
      sessionStorage.setItem('tributary-token', given);
      return api(path);
    }
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

// The interface speaks the language of serve.dashboard.locale (default English), like the project's own pages.
const MESSAGES = {
  en: {
    assets: 'Assets',
    runs: 'Runs',
    schedules: 'Schedules',
    assetGraph: 'Asset graph',
    sensors: 'Sensors',
    automated: 'Automated models',
    attemptsAndLogs: 'Attempts and logs',
    run: (id) => `Run ${id}`,
    attempt: 'attempt',
    noOutput: '(no output)',
    none: 'none',
    noRuns: 'No runs yet: `tributary build`, `tributary jobs run <job>`, or wait for a schedule.',
    noSchedules: 'No schedules: add schedule: to a job.',
    noSensors: 'No sensors.',
    noPages: 'No pages: declare serve.dashboard.pages in tributary.config.ts.',
    loading: 'loading…',
    noRows: 'no rows',
    rowCount: (n) => `${n} row(s)`,
    filter: (c) => `filter ${c}`,
    granularity: (t) => `${t} granularity`,
    tokenPrompt: 'This dashboard needs an API token',
    served: (n) => `${n} tables served · `,
    checked: (t) => `checked ${t}`,
    isAutomated: 'automated',
    rowsAt: (n, t) => `${n} rows · ${t}`,
    job: (j) => `job ${j}`,
    queuedAt: (t) => `queued ${t}`,
    partitionOf: (p) => `partition ${p}`,
    col: {
      asset: 'asset',
      kind: 'kind',
      lastStatus: 'last status',
      run: 'run',
      rows: 'rows',
      lastCommit: 'last commit',
      waitsFor: 'waits for',
      what: 'what',
      trigger: 'trigger',
      partition: 'partition',
      status: 'status',
      queued: 'queued',
      seconds: 'seconds',
      error: 'error',
      task: 'task',
      attempts: 'attempts',
      worker: 'worker',
      job: 'job',
      schedule: 'schedule',
      timezone: 'time zone',
      next: 'next fire',
      last: 'last fired',
      sensor: 'sensor',
      every: 'every',
      cursor: 'cursor',
    },
    status: {},
  },
  fr: {
    assets: 'Actifs',
    runs: 'Exécutions',
    schedules: 'Planifications',
    assetGraph: 'Graphe des actifs',
    sensors: 'Capteurs',
    automated: 'Modèles automatisés',
    attemptsAndLogs: 'Tentatives et journaux',
    run: (id) => `Exécution ${id}`,
    attempt: 'tentative',
    noOutput: '(aucune sortie)',
    none: 'aucun',
    noRuns: 'Aucune exécution : `tributary build`, `tributary jobs run <job>`, ou attendez une planification.',
    noSchedules: 'Aucune planification : ajoutez schedule: à un job.',
    noSensors: 'Aucun capteur.',
    noPages: 'Aucune page : déclarez serve.dashboard.pages dans tributary.config.ts.',
    loading: 'chargement…',
    noRows: 'aucune ligne',
    rowCount: (n) => `${n} ligne(s)`,
    filter: (c) => `filtrer ${c}`,
    granularity: (t) => `granularité de ${t}`,
    tokenPrompt: 'Ce tableau de bord demande un jeton d’API',
    served: (n) => `${n} tables servies · `,
    checked: (t) => `vérifié à ${t}`,
    isAutomated: 'automatisé',
    rowsAt: (n, t) => `${n} lignes · ${t}`,
    job: (j) => `job ${j}`,
    queuedAt: (t) => `mis en file le ${t}`,
    partitionOf: (p) => `partition ${p}`,
    col: {
      asset: 'actif',
      kind: 'type',
      lastStatus: 'dernier statut',
      run: 'exécution',
      rows: 'lignes',
      lastCommit: 'dernier commit',
      waitsFor: 'attend',
      what: 'quoi',
      trigger: 'déclencheur',
      partition: 'partition',
      status: 'statut',
      queued: 'mis en file',
      seconds: 'secondes',
      error: 'erreur',
      task: 'tâche',
      attempts: 'tentatives',
      worker: 'worker',
      job: 'job',
      schedule: 'planification',
      timezone: 'fuseau horaire',
      next: 'prochain déclenchement',
      last: 'dernier déclenchement',
      sensor: 'capteur',
      every: 'intervalle',
      cursor: 'curseur',
    },
    status: {
      success: 'succès',
      failed: 'échec',
      running: 'en cours',
      queued: 'en file',
      cancelled: 'annulé',
      pending: 'en attente',
      upstream_failed: 'amont en échec',
      'never run': 'jamais exécuté',
      materialized: 'matérialisé',
      fresh: 'à jour',
      interrupted: 'interrompu',
      timed_out: 'délai dépassé',
      lost: 'perdu',
      abandoned: 'abandonné',
      pass: 'réussi',
      fail: 'échec',
      error: 'erreur',
      warn: 'avertissement',
      never_run: 'jamais exécuté',
      failed_checks: 'contrôles en échec',
      blocked: 'bloqué',
    },
  },
};
let T = MESSAGES.en;
let fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
let LOCALE = 'en-US';
function useLocale(locale) {
  T = MESSAGES[locale] || MESSAGES.en;
  LOCALE = locale === 'fr' ? 'fr-FR' : 'en-US';
  fmt = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
  document.documentElement.lang = locale in MESSAGES ? locale : 'en';
}
/** A status as shown (its class and data attributes keep the value itself). */
function statusLabel(status) {
  return T.status[status] || String(status);
}
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
  if (value === '' || value === undefined) params.delete(name);
  else params.set(name, value);
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
    if (!quiet) body.replaceChildren(el('span', { class: 'muted' }, T.loading));
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
    const select = el(
      'select',
      {
        'aria-label': T.granularity(chart.title),
        onchange: (e) => {
          source = withParam(source, chart.granularity.param, e.target.value);
          draw();
        },
      },
      chart.granularity.choices.map((c) => el('option', { value: c }, c)),
    );
    source = withParam(chart.source, chart.granularity.param, chart.granularity.choices[0]);
    controls.append(select);
  }
  if (chart.filter) {
    let timer;
    const input = el('input', {
      type: 'search',
      placeholder: T.filter(chart.filter),
      'aria-label': T.filter(chart.filter),
      oninput: (e) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          source = withParam(source, chart.filter, e.target.value.trim());
          draw();
        }, 250);
      },
    });
    controls.append(input);
  }
  let pending = false;
  // A redraw asked for while one is still running is skipped: the running one reads the newest snapshot anyway.
  state.redraws.push(() => {
    if (pending) return;
    pending = true;
    draw(true).finally(() => {
      pending = false;
    });
  });
  await draw();
}

function drawKpis(body, rows, chart) {
  const row = rows[0] || {};
  const keys = chart.y ? [].concat(chart.y) : Object.keys(row);
  body.append(
    el(
      'div',
      { class: 'kpis' },
      keys.map((k) => el('div', { class: 'kpi' }, el('div', { class: 'muted' }, k), el('div', { class: 'value', 'data-kpi': k }, show(row[k])))),
    ),
  );
}

function drawTable(body, rows) {
  if (rows.length === 0) return body.append(el('span', { class: 'muted' }, T.noRows));
  const columns = Object.keys(rows[0]);
  const cell = (v, c) => {
    if (c === 'status' || c === 'severity') return el('td', {}, el('span', { class: `badge ${v}` }, statusLabel(show(v))));
    return el('td', typeof v === 'number' ? { class: 'num' } : {}, show(v, c));
  };
  body.append(
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        {},
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            columns.map((c) => el('th', {}, c)),
          ),
        ),
        el(
          'tbody',
          {},
          rows.map((r) =>
            el(
              'tr',
              {},
              columns.map((c) => cell(r[c], c)),
            ),
          ),
        ),
      ),
    ),
  );
  body.append(el('div', { class: 'muted', 'data-rows': String(rows.length) }, T.rowCount(rows.length)));
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

// ------------------------------------------------------------------ orchestration pages (built in)

/** Pages every project gets, after its own: ids start with '_' (declared page ids cannot). */
const BUILTIN = [
  { id: '_assets', title: () => T.assets, render: renderAssets },
  { id: '_runs', title: () => T.runs, render: renderRuns },
  { id: '_schedules', title: () => T.schedules, render: renderSchedules },
];

function badge(status) {
  return el('span', { class: `badge ${String(status).replace(/[^a-z_]/g, '')}` }, statusLabel(status));
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(LOCALE) : '';
}

function simpleTable(columns, rows) {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, ...columns.map(([label]) => el('th', {}, label)))),
      el('tbody', {}, ...rows.map((r) => el('tr', {}, ...columns.map(([, cell]) => el('td', {}, cell(r)))))),
    ),
  );
}

/** The asset graph: one column per depth, boxes coloured by each asset's last task status, edges drawn in SVG. */
async function renderAssets(main) {
  const { assets } = await api('/orchestration/assets');
  const depth = new Map();
  for (const a of assets) depth.set(a.key, Math.max(0, ...a.upstream.map((u) => (depth.get(u) ?? 0) + 1)));
  const columns = [];
  for (const a of assets) (columns[depth.get(a.key)] ||= []).push(a);
  const W = 210,
    H = 58,
    GX = 60,
    GY = 18;
  const pos = new Map();
  columns.forEach((col, x) => {
    col.forEach((a, y) => {
      pos.set(a.key, { x: 12 + x * (W + GX), y: 12 + y * (H + GY) });
    });
  });
  const width = 24 + columns.length * (W + GX),
    height = 24 + Math.max(1, ...columns.map((c) => c.length)) * (H + GY);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('class', 'asset-graph');
  const node = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  for (const a of assets)
    for (const u of a.upstream) {
      const from = pos.get(u),
        to = pos.get(a.key);
      if (from && to)
        node('path', {
          d: `M${from.x + W},${from.y + H / 2} C${from.x + W + GX / 2},${from.y + H / 2} ${to.x - GX / 2},${to.y + H / 2} ${to.x},${to.y + H / 2}`,
          class: 'edge',
        });
    }
  for (const a of assets) {
    const p = pos.get(a.key);
    const g = node('g', { 'data-asset': a.key, 'data-status': a.status });
    svg.append(g);
    const rect = document.createElementNS(ns, 'rect');
    for (const [k, v] of Object.entries({ x: p.x, y: p.y, width: W, height: H, rx: 8, class: `asset ${a.status.replace(/[^a-z_]/g, '')}` }))
      rect.setAttribute(k, v);
    g.append(rect);
    const line = (text, dy, cls) => {
      const t = document.createElementNS(ns, 'text');
      t.setAttribute('x', p.x + 10);
      t.setAttribute('y', p.y + dy);
      t.setAttribute('class', cls);
      t.textContent = text;
      g.append(t);
    };
    line(a.key, 20, 'asset-key');
    line(`${a.kind}${a.automated ? ` · ${T.isAutomated}` : ''} · ${statusLabel(a.status)}`, 37, 'asset-meta');
    line(a.rows !== null ? T.rowsAt(show(a.rows), a.committedAt ? new Date(a.committedAt).toLocaleTimeString(LOCALE) : '') : '', 52, 'asset-meta');
  }
  // data-chart names the card for tests and links, in English whatever the locale; the heading is translated.
  const card = el(
    'section',
    { class: 'card wide', 'data-chart': 'Asset graph' },
    el('h2', {}, el('span', {}, T.assetGraph)),
    el('div', { class: 'table-wrap graph-wrap' }, svg),
  );
  const c = T.col;
  const list = el(
    'section',
    { class: 'card wide', 'data-chart': 'Assets' },
    el('h2', {}, el('span', {}, T.assets)),
    simpleTable(
      [
        [c.asset, (a) => a.key],
        [c.kind, (a) => a.kind],
        [c.lastStatus, (a) => badge(a.status)],
        [c.run, (a) => (a.runId ? el('a', { href: `#/_runs/${a.runId}` }, a.runId) : '')],
        [c.rows, (a) => (a.rows === null ? '' : show(a.rows))],
        [c.lastCommit, (a) => when(a.committedAt)],
        [c.waitsFor, (a) => a.upstream.join(', ')],
      ],
      assets,
    ),
  );
  main.replaceChildren(card, list);
}

async function renderRuns(main, runId) {
  if (runId) return renderRun(main, runId);
  const { runs } = await api('/orchestration/runs?limit=100');
  const c = T.col;
  main.replaceChildren(
    el(
      'section',
      { class: 'card wide', 'data-chart': 'Runs' },
      el('h2', {}, el('span', {}, T.runs)),
      runs.length
        ? simpleTable(
            [
              [c.run, (r) => (r.job ? el('a', { href: `#/_runs/${r.runId}` }, r.runId) : r.runId)],
              [c.what, (r) => (r.job ? T.job(r.job) : r.kind)],
              [c.trigger, (r) => r.trigger],
              [c.partition, (r) => r.partition || ''],
              [c.status, (r) => badge(r.status)],
              [c.queued, (r) => when(r.createdAt)],
              [c.seconds, (r) => (r.seconds === null ? '' : show(r.seconds))],
              [c.error, (r) => r.error || ''],
            ],
            runs,
          )
        : el('p', { class: 'muted' }, T.noRuns),
    ),
  );
}

async function renderRun(main, runId) {
  const { run, tasks, attempts } = await api(`/orchestration/runs/${encodeURIComponent(runId)}`);
  const seconds = (a, b) => (a && b ? show((new Date(b) - new Date(a)) / 1000) : '');
  const logs = attempts.map((a) =>
    el(
      'details',
      { 'data-attempt': `${a.task}#${a.attempt}`, ...(a.status !== 'success' ? { open: '' } : {}) },
      el('summary', {}, `${a.task} · ${T.attempt} ${a.attempt} · ${statusLabel(a.status)} · ${a.worker}`),
      el(
        'pre',
        { class: 'logs' },
        a.logs
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            try {
              const { time, level, msg, pid, hostname, runId: _r, job, task, attempt, ...rest } = JSON.parse(line);
              return `${new Date(time).toLocaleTimeString(LOCALE)} ${level >= 50 ? 'ERROR' : level >= 40 ? 'WARN ' : 'INFO '} ${msg}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`;
            } catch {
              return line;
            }
          })
          .join('\n') || T.noOutput,
      ),
    ),
  );
  const c = T.col;
  main.replaceChildren(
    el(
      'section',
      { class: 'card wide', 'data-chart': 'Run' },
      el('h2', {}, el('span', {}, T.run(run.runId)), badge(run.status)),
      el(
        'p',
        {},
        `${run.job} · ${run.trigger}${run.detail ? ` (${run.detail})` : ''}${run.partition ? ` · ${T.partitionOf(run.partition)}` : ''} · ${T.queuedAt(when(run.createdAt))}${run.error ? ` · ${run.error}` : ''}`,
      ),
      simpleTable(
        [
          [c.task, (t) => t.task],
          [c.status, (t) => badge(t.status)],
          [c.attempts, (t) => `${t.attempts}/${t.maxAttempts}`],
          [c.seconds, (t) => seconds(t.startedAt, t.finishedAt)],
          [c.worker, (t) => t.worker || ''],
          [c.waitsFor, (t) => t.upstream.join(', ')],
          [c.error, (t) => t.error || ''],
        ],
        tasks,
      ),
    ),
    el('section', { class: 'card wide', 'data-chart': 'Logs' }, el('h2', {}, el('span', {}, T.attemptsAndLogs)), ...logs),
  );
}

async function renderSchedules(main) {
  const { schedules, sensors, automated } = await api('/orchestration/schedules');
  const c = T.col;
  main.replaceChildren(
    el(
      'section',
      { class: 'card wide', 'data-chart': 'Schedules' },
      el('h2', {}, el('span', {}, T.schedules)),
      schedules.length
        ? simpleTable(
            [
              [c.job, (s) => s.job],
              [c.schedule, (s) => s.schedule],
              [c.timezone, (s) => s.timezone],
              [c.next, (s) => when(s.next)],
              [c.last, (s) => when(s.lastFired)],
            ],
            schedules,
          )
        : el('p', { class: 'muted' }, T.noSchedules),
    ),
    el(
      'section',
      { class: 'card wide', 'data-chart': 'Sensors' },
      el('h2', {}, el('span', {}, T.sensors)),
      sensors.length
        ? simpleTable(
            [
              [c.sensor, (s) => s.name],
              [c.kind, (s) => s.kind],
              [c.job, (s) => s.job],
              [c.every, (s) => s.interval],
              [c.cursor, (s) => s.cursor || ''],
            ],
            sensors,
          )
        : el('p', { class: 'muted' }, T.noSensors),
    ),
    el('section', { class: 'card wide', 'data-chart': 'Automation' }, el('h2', {}, el('span', {}, T.automated)), el('p', {}, automated.join(', ') || T.none)),
  );
}

async function renderPage() {
  const route = location.hash.replace('#/', '');
  const [id, arg] = route.split('/');
  const builtin = BUILTIN.find((p) => p.id === id);
  const page = builtin ? undefined : state.config.pages.find((p) => p.id === id) || state.config.pages[0];
  for (const c of state.charts.splice(0)) c.destroy();
  state.redraws = [];
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === (builtin ? builtin.id : page?.id));
  const main = document.getElementById('page');
  main.replaceChildren();
  if (builtin) {
    document.title = `${builtin.title()} — ${state.config.title}`;
    const draw = async () => {
      try {
        await builtin.render(main, arg);
      } catch (err) {
        main.replaceChildren(el('div', { class: 'card error' }, String(err.message || err)));
      }
    };
    await draw();
    // Runs and schedules move without any table changing: these pages redraw at every poll.
    state.redraws.push(() => location.hash.replace('#/', '') === route && draw());
    state.everyPoll = true;
    document.body.dataset.ready = builtin.id;
    return;
  }
  state.everyPoll = false;
  if (!page) return main.append(el('div', { class: 'card' }, T.noPages));
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
  useLocale(state.config.locale);
  document.getElementById('title').textContent = state.config.title;
  document
    .getElementById('nav')
    .append(
      ...[...state.config.pages, ...BUILTIN].map((p) => el('a', { href: `#/${p.id}`, 'data-page': p.id }, typeof p.title === 'function' ? p.title() : p.title)),
    );
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
  let last = baseline?.snapshots ? JSON.stringify(baseline.snapshots) : undefined;
  let polls = 0;
  for (;;) {
    const status = await health();
    const snapshots = status?.snapshots ? JSON.stringify(status.snapshots) : undefined;
    const changed = snapshots !== undefined ? last !== undefined && snapshots !== last : polls % 15 === 14;
    if (status) {
      const served = status.tables === undefined ? '' : T.served(status.tables);
      document.getElementById('freshness').textContent = `${served}${T.checked(new Date().toLocaleTimeString(LOCALE))}`;
    }
    if (changed || state.everyPoll) for (const redraw of state.redraws) redraw();
    if (snapshots !== undefined) last = snapshots;
    polls++;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

start();
