// The fanin dashboard: the jobs list at /, a job's page at /jobs/{id}.
// It talks to /api/v1/ only; every value it shows is set as text, never as
// HTML. No framework, nothing loaded from elsewhere.
'use strict';

const API = '/api/v1';
const STATES = ['open', 'running', 'complete', 'collecting', 'done', 'partial', 'failed', 'cancelled'];
const TERMINAL = new Set(['done', 'partial', 'failed', 'cancelled']);

// The actions a job may offer (its "actions", listed by the server). An
// action the server lists that is not here gets a generic button.
const ACTIONS = {
  cancel: { label: 'Cancel job', style: 'danger', title: 'Cancel this job?',
    text: 'Workers skip its remaining events and it will never be collected. This cannot be undone.' },
  replay: { label: 'Replay', style: 'secondary', title: 'Replay this job?',
    text: 'The server reduces its outputs again and commits a new result, replacing the current one.' },
  retry: { label: 'Retry failed events', style: 'secondary', title: 'Retry the failed events?',
    text: 'Its failed events are handed to the workers again.' },
};

// ---- small helpers -------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== false) e.append(c);
  }
  return e;
}

function $(sel, root) { return (root || document).querySelector(sel); }

function fmtInt(n) { return Number(n || 0).toLocaleString('en-US'); }

function fmtRate(r) {
  if (!r) return '–';
  if (r >= 100) return fmtInt(Math.round(r)) + '/s';
  return r.toFixed(r >= 10 ? 1 : 2) + '/s';
}

function fmtDuration(s) {
  if (s === undefined || s === null) return '–';
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}

function fmtTime(t) {
  if (!t) return '–';
  const d = new Date(t);
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
}

function ago(t) {
  const s = (Date.now() - new Date(t).getTime()) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  if (s < 86400) return Math.floor(s / 3600) + ' h ago';
  return Math.floor(s / 86400) + ' d ago';
}

function pct(n, total) { return total > 0 ? (100 * n) / total : 0; }

function bar(j, big) {
  const done = el('span', { class: 'done' });
  const failed = el('span', { class: 'failed' });
  const b = el('div', { class: 'bar' + (big ? ' big' : ''), role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' }, done, failed);
  setBar(b, j);
  return b;
}

function setBar(b, j) {
  const d = pct(j.done, j.total), f = pct(j.failed, j.total);
  b.children[0].style.width = d + '%';
  b.children[1].style.width = f + '%';
  b.setAttribute('aria-valuenow', String(Math.round(d + f)));
}

function badge(state) { return el('span', { class: 'badge ' + state, text: state }); }

// ---- the API, the token and the dialogs ----------------------------------

function token() { return localStorage.getItem('fanin-token') || ''; }

let asking = null;

// askToken shows the token dialog once, however many requests wait for it.
function askToken(again) {
  if (!asking) {
    asking = dialog({
      title: 'Token',
      text: again ? 'That token was refused. Enter the server\'s token (coordinator serve --token).'
        : 'This server asks for a token (coordinator serve --token). It is kept in this browser.',
      input: true, ok: 'Save', cancel: null,
    }).then((v) => {
      asking = null;
      localStorage.setItem('fanin-token', v || '');
      $('#token-btn').hidden = false;
    });
  }
  return asking;
}

// api sends a request to the API, asking for the token on a 401.
async function api(method, path, body, headers) {
  for (let attempt = 0; ; attempt++) {
    const h = Object.assign({}, headers || {});
    if (token()) h.Authorization = 'Bearer ' + token();
    const res = await fetch(API + path, { method, headers: h, body, cache: 'no-store' });
    if (res.status !== 401) return res;
    await askToken(attempt > 0 || token() !== '');
  }
}

// apiJSON sends a request and returns its JSON, or throws an Error with the
// server's message.
async function apiJSON(method, path, body, headers) {
  const res = await api(method, path, body, headers);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = new Error(data.error || (res.status + ' ' + res.statusText));
    e.status = res.status;
    throw e;
  }
  return data;
}

// dialog shows the modal; it resolves with true (or the input's value) on
// OK, false on Back.
function dialog({ title, text, input, ok, cancel, danger }) {
  const m = $('#modal'), okb = $('#modal-ok'), back = $('#modal-cancel'), inp = $('#modal-input');
  $('#modal-title').textContent = title;
  $('#modal-text').textContent = text;
  inp.hidden = !input;
  inp.value = '';
  okb.textContent = ok || 'OK';
  okb.className = danger ? 'danger' : 'primary';
  back.hidden = cancel === null;
  back.textContent = cancel || 'Back';
  m.hidden = false;
  (input ? inp : okb).focus();
  return new Promise((resolve) => {
    const done = (v) => {
      m.hidden = true;
      okb.onclick = back.onclick = inp.onkeydown = null;
      resolve(v);
    };
    okb.onclick = () => done(input ? inp.value : true);
    back.onclick = () => done(false);
    inp.onkeydown = (ev) => { if (ev.key === 'Enter') done(inp.value); };
  });
}

// ---- the jobs list -------------------------------------------------------

function listView(app) {
  const params = new URLSearchParams(location.search);
  let state = params.get('state') || '';
  let kind = params.get('kind') || '';
  let limit = 50;
  let timer = null;

  const chips = el('div', { class: 'toolbar', id: 'filters' });
  const chipFor = (s) => el('button', { type: 'button', class: 'chip', 'data-state': s, 'aria-pressed': String(state === s),
    onclick: () => { state = s; limit = 50; sync(); refresh(); } }, s || 'all', el('span', { class: 'n' }));
  chips.append(chipFor(''), ...STATES.map(chipFor));
  const kindInput = el('input', { type: 'search', placeholder: 'kind', 'aria-label': 'kind filter', value: kind,
    onchange: (ev) => { kind = ev.target.value.trim(); sync(); refresh(); } });
  const newBtn = el('button', { type: 'button', id: 'new-job', class: 'primary', text: 'New job',
    onclick: () => { form.hidden = !form.hidden; if (!form.hidden) $('[name=kind]', form).focus(); } });
  const form = submitForm();
  form.hidden = true;
  const tbody = el('tbody');
  const table = el('table', { id: 'jobs-table' },
    el('thead', {}, el('tr', {},
      el('th', { text: 'Job' }), el('th', { class: 'hide-phone', text: 'Kind' }), el('th', { text: 'State' }),
      el('th', { text: 'Progress' }), el('th', { class: 'num', text: 'Done' }), el('th', { class: 'num hide-phone', text: 'Failed' }),
      el('th', { class: 'num hide-phone', text: 'Total' }), el('th', { class: 'hide-phone', text: 'Created' }))),
    tbody);
  const more = el('button', { type: 'button', id: 'more', hidden: true, text: 'Load more',
    onclick: () => { limit = Math.min(limit + 50, 1000); refresh(); } });
  const err = el('div', { class: 'banner error', hidden: true, role: 'alert' });

  app.replaceChildren(
    el('div', { class: 'toolbar' }, el('h1', { class: 'grow', text: 'Jobs' }), kindInput, newBtn),
    form, chips, err, table, el('p', {}, more));

  function sync() {
    const p = new URLSearchParams();
    if (state) p.set('state', state);
    if (kind) p.set('kind', kind);
    history.replaceState(null, '', '/' + (p.toString() ? '?' + p : ''));
    for (const c of chips.querySelectorAll('.chip')) c.setAttribute('aria-pressed', String(c.dataset.state === state));
  }

  async function refresh() {
    clearTimeout(timer);
    const p = new URLSearchParams({ limit: String(limit) });
    if (state) p.set('state', state);
    if (kind) p.set('kind', kind);
    try {
      const data = await apiJSON('GET', '/jobs?' + p);
      err.hidden = true;
      let all = 0;
      for (const c of chips.querySelectorAll('.chip')) {
        const n = c.dataset.state ? data.states[c.dataset.state] || 0 : null;
        if (n !== null) all += n;
        c.querySelector('.n').textContent = n === null ? '' : String(n);
      }
      chips.querySelector('[data-state=""] .n').textContent = String(all);
      renderRows(data.jobs);
      more.hidden = !data.next;
    } catch (e) {
      err.textContent = 'Cannot list the jobs: ' + e.message;
      err.hidden = false;
    }
    timer = setTimeout(refresh, 2000);
  }

  function renderRows(jobs) {
    if (jobs.length === 0) {
      tbody.replaceChildren(el('tr', {}, el('td', { colspan: '8', class: 'empty', text: state || kind ? 'No job matches.' : 'No job yet. Submit one with New job, the API or coordinator submit.' })));
      return;
    }
    tbody.replaceChildren(...jobs.map((j) => el('tr', { 'data-id': j.id, 'data-state': j.state },
      el('td', {}, el('a', { href: '/jobs/' + j.id, text: j.name || j.id.slice(0, 8) }), j.name ? el('div', { class: 'sub mono hide-phone', text: j.id.slice(0, 8) }) : null),
      el('td', { class: 'hide-phone', text: j.kind }),
      el('td', {}, badge(j.state)),
      el('td', {}, bar(j)),
      el('td', { class: 'num', text: fmtInt(j.done) }),
      el('td', { class: 'num hide-phone', text: fmtInt(j.failed) }),
      el('td', { class: 'num hide-phone', text: fmtInt(j.total) }),
      el('td', { class: 'hide-phone', title: fmtTime(j.created), text: ago(j.created) }))));
  }

  refresh();
}

// submitForm is the form of a new job: NDJSON pasted or a file.
function submitForm() {
  const field = (label, input, wide) => el('label', { class: wide ? 'wide' : '' }, label, input);
  const err = el('div', { class: 'banner error', id: 'submit-error', hidden: true, role: 'alert' });
  const form = el('form', { id: 'submit-form', class: 'card' },
    el('div', { class: 'row' },
      field('Kind (required)', el('input', { name: 'kind', required: true, placeholder: 'zombies.sighting' })),
      field('Name', el('input', { name: 'name', placeholder: 'a label for people' }))),
    el('div', { class: 'row' },
      field('Events: one JSON value per line', el('textarea', { name: 'events', spellcheck: 'false', placeholder: '{"id":"e1","text":"hello"}\n{"id":"e2","text":"world"}' }), true)),
    el('div', { class: 'row' }, field('…or a file of JSON lines', el('input', { type: 'file', name: 'file', accept: '.jsonl,.ndjson,.json,.txt' }))),
    el('details', {}, el('summary', { text: 'More settings' }),
      el('div', { class: 'row' },
        field('ID field', el('input', { name: 'id_field', value: 'id', size: '8' })),
        field('Deadline', el('input', { name: 'deadline', placeholder: '1h', size: '6' })),
        field('Retention', el('input', { name: 'retention', placeholder: '24h or none', size: '10' })),
        field('On failed events', el('select', { name: 'policy' }, el('option', { value: 'fail', text: 'fail the job' }), el('option', { value: 'continue', text: 'continue (partial)' }))),
        field('Max retry', el('input', { name: 'max_retry', type: 'number', min: '0', placeholder: '3', size: '4' })),
        field('Chunk', el('input', { name: 'chunk', type: 'number', min: '0', max: '10000', placeholder: '500', size: '6' })))),
    err,
    el('div', { class: 'actions' }, el('button', { type: 'submit', id: 'submit-btn', class: 'primary', text: 'Submit job' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const q = new URLSearchParams();
    for (const k of ['kind', 'name', 'deadline', 'retention', 'policy', 'max_retry', 'chunk']) {
      const v = String(fd.get(k) || '').trim();
      if (v) q.set(k, v);
    }
    q.set('id_field', String(fd.get('id_field') || '').trim());
    const file = fd.get('file');
    const body = file && file.size > 0 ? file : String(fd.get('events') || '');
    const btn = $('#submit-btn', form);
    btn.disabled = true;
    btn.textContent = 'Submitting…';
    err.hidden = true;
    try {
      const data = await apiJSON('POST', '/jobs?' + q, body, { 'Content-Type': 'application/x-ndjson' });
      // The job's page shows the submission's warnings once.
      if (data.warnings && data.warnings.length) sessionStorage.setItem('fanin-warnings:' + data.id, JSON.stringify(data.warnings));
      location.assign('/jobs/' + data.id);
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      btn.disabled = false;
      btn.textContent = 'Submit job';
    }
  });
  return form;
}

// ---- a job's page --------------------------------------------------------

function jobView(app, id) {
  const v = {}; // the nodes that change
  const c = {}; // the values of the stats
  const stat = (key, label, small) => el('div', { class: 'stat' }, el('div', { class: 'label', text: label }),
    c[key] = el('div', { class: 'value' + (small ? ' small' : ''), id: 'count-' + key, text: '–' }));
  v.title = el('h1', { text: 'Job' });
  v.state = el('span', { class: 'badge', id: 'job-state' });
  v.sub = el('div', { class: 'sub' }, el('span', { class: 'mono', text: id }));
  v.bar = bar({ done: 0, failed: 0, total: 0 }, true);
  v.barText = el('div', { class: 'muted' });
  v.banners = el('div');
  v.warnings = el('div', { id: 'submit-warnings' });
  v.actions = el('div', { class: 'actions', id: 'actions' });
  v.chart = el('canvas', { id: 'chart', width: '1100', height: '180', 'aria-label': 'throughput over time' });
  v.chartNote = el('p', { class: 'muted' });
  v.result = el('section', { id: 'result', hidden: true });
  v.failed = el('section', { id: 'failed', hidden: true });
  v.missing = el('section', { id: 'missing', hidden: true });
  app.replaceChildren(
    el('p', {}, el('a', { href: '/', text: '← Jobs' })),
    el('div', { class: 'head' }, v.title, v.state), v.sub,
    el('div', { class: 'stats' }, stat('done', 'Done'), stat('failed', 'Failed'), stat('pending', 'Pending'), stat('total', 'Total'),
      stat('rate', 'Rate'), stat('eta', 'ETA'), stat('created', 'Created', true), stat('deadline', 'Deadline', true),
      stat('completed', 'Completed', true), stat('finished', 'Finished', true)),
    v.warnings, v.bar, v.barText, v.banners, v.actions,
    el('h2', { text: 'Throughput' }), v.chart, v.chartNote,
    v.result, v.failed, v.missing);

  const samples = []; // {t, finished}
  let job = null;
  let failedShown = -1;
  let stopped = false;

  function render(j) {
    job = j;
    document.title = (j.name || j.id.slice(0, 8)) + ' · fanin';
    v.title.textContent = j.name || 'Job ' + j.id.slice(0, 8);
    v.state.textContent = j.state;
    v.state.className = 'badge ' + j.state;
    v.sub.replaceChildren(el('span', { class: 'mono', text: j.id }), ' · kind ', el('code', { text: j.kind }),
      ' · ', j.sealed ? 'sealed' : 'open for more events', ' · policy ', j.failure_policy);
    c.done.textContent = fmtInt(j.done);
    c.failed.textContent = fmtInt(j.failed);
    c.pending.textContent = fmtInt(j.pending);
    c.total.textContent = fmtInt(j.total);
    c.rate.textContent = fmtRate(j.rate);
    c.eta.textContent = TERMINAL.has(j.state) ? '–' : fmtDuration(j.eta_seconds);
    c.created.textContent = fmtTime(j.created);
    c.deadline.textContent = fmtTime(j.deadline);
    c.completed.textContent = fmtTime(j.completed);
    c.finished.textContent = fmtTime(j.finished);
    setBar(v.bar, j);
    v.barText.textContent = fmtInt(j.done + j.failed) + ' of ' + fmtInt(j.total) + ' events finished (' + pct(j.done + j.failed, j.total).toFixed(1) + '%)';
    const banners = [];
    if (j.error) banners.push(el('div', { class: 'banner error', text: j.error }));
    if (j.stalled) banners.push(el('div', { class: 'banner warn', text: 'Waiting: ' + j.stalled }));
    if (j.waiting && j.waiting.length) {
      banners.push(el('div', { class: 'banner warn', id: 'job-waiting',
        text: 'Waiting: ' + j.waiting.join('; ') + ' (the job goes on once one starts; see coordinator kinds).' }));
    }
    v.banners.replaceChildren(...banners);
    renderActions(j);
    sample(j);
    if (j.failed > 0 && j.failed !== failedShown) {
      failedShown = j.failed;
      loadFailed();
    }
    v.missing.hidden = !(j.pending > 0 && j.sealed);
    if (!v.missing.hidden && !v.missing.firstChild) missingSection();
    if (j.state === 'done' || j.state === 'partial') loadResult();
    else v.result.hidden = true;
  }

  function renderActions(j) {
    const have = [...v.actions.children].map((b) => b.dataset.action).join(',');
    if (have === j.actions.join(',')) return;
    v.actions.replaceChildren(...j.actions.map((a) => {
      const spec = ACTIONS[a] || { label: a, style: 'secondary', title: a + '?', text: 'POST ' + API + '/jobs/' + j.id + '/' + a };
      return el('button', { type: 'button', class: spec.style, 'data-action': a, text: spec.label,
        onclick: async (ev) => {
          const ok = await dialog({ title: spec.title, text: spec.text, ok: spec.label, danger: spec.style === 'danger' });
          if (!ok) return;
          ev.target.disabled = true;
          try {
            await apiJSON('POST', '/jobs/' + j.id + '/' + a);
            render(await apiJSON('GET', '/jobs/' + j.id));
            if (stopped) follow();
          } catch (e) {
            v.banners.append(el('div', { class: 'banner error', role: 'alert', text: spec.label + ' failed: ' + e.message }));
            ev.target.disabled = false;
          }
        } });
    }));
  }

  function sample(j) {
    const t = new Date(j.observed_at).getTime();
    const finished = j.done + j.failed;
    const last = samples[samples.length - 1];
    if (last && t <= last.t) return;
    samples.push({ t, finished });
    if (samples.length > 240) samples.shift();
    v.chart.dataset.samples = String(samples.length);
    drawChart();
  }

  function drawChart() {
    const c = v.chart, dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 600, h = c.clientHeight || 180;
    c.width = w * dpr;
    c.height = h * dpr;
    const g = c.getContext('2d');
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, h);
    const pts = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = (samples[i].t - samples[i - 1].t) / 1000;
      if (dt > 0) pts.push({ t: samples[i].t, r: (samples[i].finished - samples[i - 1].finished) / dt });
    }
    if (pts.length < 2) {
      const ended = job && TERMINAL.has(job.state);
      v.chartNote.textContent = !ended ? 'Events finished per second, measured while this page follows the job.'
        : samples.length < 2 ? 'The job ended before this page could follow it' + (job.rate ? '; its mean rate was ' + fmtRate(job.rate) + '.' : '.')
          : 'No event finished while this page followed the job.';
      g.fillStyle = '#667085';
      g.font = '13px system-ui, sans-serif';
      g.fillText(ended ? 'no live samples' : 'waiting for samples…', 12, h / 2);
      return;
    }
    v.chartNote.textContent = 'Events finished per second, measured while this page follows the job.';
    const left = 56, right = 10, top = 12, bottom = 22;
    const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
    const max = Math.max(1, ...pts.map((p) => p.r)) * 1.1;
    const x = (t) => left + ((t - t0) / Math.max(1, t1 - t0)) * (w - left - right);
    const y = (r) => top + (1 - r / max) * (h - top - bottom);
    g.strokeStyle = '#e3e6eb';
    g.fillStyle = '#667085';
    g.font = '11px system-ui, sans-serif';
    for (let k = 0; k <= 4; k++) {
      const r = (max * k) / 4;
      g.beginPath();
      g.moveTo(left, y(r));
      g.lineTo(w - right, y(r));
      g.stroke();
      g.fillText(fmtRate(r).replace('–', '0/s'), 4, y(r) + 4);
    }
    g.fillText(Math.round((t1 - t0) / 1000) + ' s', w - right - 30, h - 6);
    g.strokeStyle = '#2f5bea';
    g.lineWidth = 2;
    g.beginPath();
    pts.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p.r)) : g.moveTo(x(p.t), y(p.r))));
    g.stroke();
  }

  // loadResult shows the result's first bytes (a Range request: a large
  // result is not downloaded to be previewed) and a link that downloads
  // it whole when clicked.
  const PREVIEW = 4096;
  let resultLoaded = '';
  async function loadResult() {
    const key = job.state + ':' + job.token;
    if (resultLoaded === key) return;
    resultLoaded = key;
    const res = await api('GET', '/jobs/' + id + '/result', undefined, { Range: 'bytes=0-' + (PREVIEW - 1) });
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      v.result.replaceChildren(el('h2', { text: 'Result' }), el('p', { class: 'muted', text: data.error || 'No result.' }));
      v.result.hidden = false;
      return;
    }
    // The size is after the slash of Content-Range (206), or the length
    // of the whole body (a server without ranges answers 200).
    const head = await res.arrayBuffer();
    const range = (res.headers.get('Content-Range') || '').match(/\/(\d+)$/);
    const size = range ? Number(range[1]) : head.byteLength;
    const text = new TextDecoder().decode(head.slice(0, PREVIEW));
    const ext = (res.headers.get('Content-Type') || '').startsWith('application/json') ? '.json' : '.result';
    const link = el('a', { id: 'result-download', class: 'button primary', href: API + '/jobs/' + id + '/result?download=1', download: id + ext,
      text: 'Download result (' + fmtInt(size) + ' bytes, ' + job.state + ')', onclick: (ev) => download(ev, ext) });
    v.result.replaceChildren(el('h2', { text: 'Result' }), el('p', {}, link),
      el('pre', { class: 'result', id: 'result-preview', text: text + (size > PREVIEW ? '\n…' : '') }));
    v.result.hidden = false;
  }

  // download fetches the whole result when the link is clicked. Without a
  // token the browser follows the link itself (saving it as it comes);
  // with one, the request must carry it, so the page fetches the result
  // and saves it.
  async function download(ev, ext) {
    if (!token()) return;
    ev.preventDefault();
    const link = ev.currentTarget;
    if (link.getAttribute('aria-busy')) return;
    link.setAttribute('aria-busy', 'true');
    try {
      const res = await api('GET', '/jobs/' + id + '/result');
      if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || res.status + ' ' + res.statusText);
      const url = URL.createObjectURL(await res.blob());
      const a = el('a', { href: url, download: id + ext, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      v.result.append(el('div', { class: 'banner error', role: 'alert', text: 'Download failed: ' + e.message }));
    } finally {
      link.removeAttribute('aria-busy');
    }
  }

  async function loadFailed(after, tbody) {
    const data = await apiJSON('GET', '/jobs/' + id + '/failed?limit=100' + (after ? '&after=' + encodeURIComponent(after) : '')).catch(() => null);
    if (!data) return;
    if (!tbody) {
      tbody = el('tbody');
      v.failed.replaceChildren(el('h2', { text: 'Failed events' }),
        el('table', { id: 'failed-table' }, el('thead', {}, el('tr', {}, el('th', { text: 'Event' }), el('th', { class: 'num', text: 'Attempts' }),
          el('th', { text: 'Last error' }), el('th', { class: 'hide-phone', text: 'At' }))), tbody));
    }
    for (const f of data.failed) {
      tbody.append(el('tr', {}, el('td', {}, el('code', { text: f.id })), el('td', { class: 'num', text: String(f.attempts) }),
        el('td', { text: f.reason }), el('td', { class: 'hide-phone', text: fmtTime(f.at) })));
    }
    const old = v.failed.querySelector('.more');
    if (old) old.remove();
    if (data.next) v.failed.append(el('p', { class: 'more' }, el('button', { type: 'button', text: 'More failed events', onclick: () => loadFailed(data.next, tbody) })));
    v.failed.hidden = false;
  }

  function missingSection() {
    const list = el('div', { class: 'ids', id: 'missing-ids' });
    const btn = el('button', { type: 'button', id: 'missing-btn', text: 'Show the missing event IDs' });
    let after = '';
    btn.onclick = async () => {
      btn.disabled = true;
      const data = await apiJSON('GET', '/jobs/' + id + '/missing?limit=200' + (after ? '&after=' + encodeURIComponent(after) : '')).catch((e) => ({ missing: [], error: e.message }));
      if (after === '') list.replaceChildren();
      for (const m of data.missing) list.append(el('code', { text: m }));
      after = data.next || '';
      btn.textContent = 'More missing event IDs';
      btn.disabled = false;
      btn.hidden = !data.next;
    };
    v.missing.replaceChildren(el('h2', { text: 'Missing events' }),
      el('p', { class: 'muted', text: 'Events with neither an output nor a failure yet: what the job waits for.' }), btn, list);
  }

  // follow reads the job's stream until it ends, reconnecting after a
  // failure; it polls instead when the server refuses another stream.
  async function follow() {
    stopped = false;
    for (;;) {
      try {
        const res = await api('GET', '/jobs/' + id + '/stream');
        if (res.status === 404 || res.status === 400) {
          const data = await res.json().catch(() => ({}));
          app.replaceChildren(el('p', {}, el('a', { href: '/', text: '← Jobs' })), el('div', { class: 'banner error', role: 'alert', text: data.error || 'No such job.' }));
          return;
        }
        if (res.status === 503) {
          const j = await apiJSON('GET', '/jobs/' + id);
          render(j);
          if (TERMINAL.has(j.state)) break;
          await new Promise((r) => setTimeout(r, 2000));
          continue;
        }
        const ended = await readStream(res.body);
        if (ended) break;
      } catch (e) {
        // the connection dropped: try again
      }
      if (job && TERMINAL.has(job.state)) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    stopped = true;
  }

  // readStream handles the events of one stream; true once "end" came.
  async function readStream(body) {
    const reader = body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return false;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message', data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (event === 'status') render(JSON.parse(data));
        else if (event === 'error') v.banners.append(el('div', { class: 'banner warn', text: JSON.parse(data).error }));
        else if (event === 'end') return true;
      }
    }
  }

  // The warnings of this job's submission from the form (submitForm),
  // shown once.
  const warned = sessionStorage.getItem('fanin-warnings:' + id);
  if (warned) {
    sessionStorage.removeItem('fanin-warnings:' + id);
    v.warnings.append(el('div', { class: 'banner warn', role: 'status',
      text: 'Submitted with a warning: ' + JSON.parse(warned).join('; ') + '. The job waits until one starts (see coordinator kinds).' }));
  }

  window.addEventListener('resize', drawChart);
  follow();
}

// ---- start ---------------------------------------------------------------

function start() {
  const app = $('#app');
  $('#token-btn').hidden = !token();
  $('#token-btn').addEventListener('click', () => askToken(false).then(() => location.reload()));
  const m = location.pathname.match(/^\/jobs\/([0-9a-fA-F-]{36})$/);
  if (m) jobView(app, m[1].toLowerCase());
  else listView(app);
}

start();
