// The framewise page: log in (when the server has a token), submit a video, watch its
// progress over the WebSocket, then read the result. Everything that comes from a video
// or a model is set with textContent: it is never parsed as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
let socket = null;
let current = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function clock(t) {
  if (typeof t !== 'number') return '';
  const m = Math.floor(t / 60), s = t - m * 60;
  return String(m).padStart(2, '0') + ':' + s.toFixed(3).padStart(6, '0');
}

async function api(path, options) {
  const r = await fetch(path, Object.assign({ credentials: 'same-origin' }, options || {}));
  let body = null;
  const type = r.headers.get('Content-Type') || '';
  if (type.startsWith('application/json')) body = await r.json();
  if (!r.ok) {
    const msg = body && body.error ? body.error.message : r.status + ' ' + r.statusText;
    const e = new Error(msg);
    e.status = r.status;
    throw e;
  }
  return body;
}

function show(id, on) { $(id).hidden = !on; }

async function start() {
  const session = await api('/session');
  if (session.required && !session.authenticated) {
    show('login', true);
    return;
  }
  show('login', false);
  $('who').textContent = session.required ? 'logged in' : '';
  show('submit-section', true);
  show('jobs-section', true);
  await loadPresets();
  await loadJobs();
}

async function loadPresets() {
  const sel = $('preset');
  sel.replaceChildren();
  sel.append(el('option', 'default', ''));
  sel.firstChild.value = '';
  const data = await api('/v1/presets');
  for (const p of data.presets) {
    const o = el('option', p.name + (p.description ? ' — ' + p.description : ''));
    o.value = p.name;
    sel.append(o);
  }
}

async function loadJobs() {
  const data = await api('/v1/jobs?limit=20');
  const body = $('jobs').tBodies[0];
  body.replaceChildren();
  for (const j of data.jobs) {
    const tr = el('tr');
    tr.append(el('td', j.id), el('td', j.input.name), el('td', j.state, 'state ' + j.state),
      el('td', Math.round((j.progress || 0) * 100) + '%'),
      el('td', j.created ? new Date(j.created * 1000).toLocaleString() : ''));
    tr.addEventListener('click', () => watch(j.id));
    body.append(tr);
  }
}

function renderJob(j) {
  current = j;
  show('job', true);
  $('job-id').textContent = '#' + j.id;
  $('job-name').textContent = j.input && j.input.name ? j.input.name : '';
  $('state').textContent = j.state;
  $('state').className = 'state ' + j.state;
  $('stage').textContent = j.state === 'running' ? j.stage : '';
  $('progress').value = j.progress || 0;
  const c = j.counts || {};
  $('counts').textContent = (c.keyframes || 0) + ' keyframes, ' + (c.observations || 0) + ' observations';
  $('cancel').hidden = !(j.state === 'queued' || j.state === 'running');
  $('job-error').textContent = j.error ? j.error.message : '';
}

function onEvent(ev) {
  if (!current) return;
  const c = current.counts || (current.counts = {});
  switch (ev.type) {
    case 'snapshot': renderJob(ev.job); return;
    case 'stage': current.state = 'running'; current.stage = ev.stage; break;
    case 'progress': current.state = 'running'; current.progress = ev.fraction; break;
    case 'keyframe': c.keyframes = (c.keyframes || 0) + 1; break;
    case 'observation': c.observations = (c.observations || 0) + 1; break;
    case 'done':
    case 'error':
      refresh(current.id);
      return;
    default: return;
  }
  renderJob(current);
}

async function refresh(id) {
  const j = await api('/v1/jobs/' + id);
  renderJob(j);
  loadJobs();
  if (j.state !== 'queued' && j.state !== 'running') await showResult(j);
}

function watch(id) {
  if (socket) socket.close();
  show('result', false);
  const proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
  socket = new WebSocket(proto + location.host + '/v1/jobs/' + id + '/events');
  current = { id: id, counts: {} };
  socket.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { /* not ours */ } };
  socket.onclose = () => { if (current && current.id === id) refresh(id); };
}

function textOf(report, index) {
  for (const o of report.observations || [])
    if (o.keyframe === index) return o.error ? '[failed] ' + o.error : o.text;
  return '';
}

async function showResult(j) {
  if (j.state === 'cancelled' && !(j.counts && j.counts.keyframes)) return;
  let report;
  try { report = await api('/v1/jobs/' + j.id + '/report'); } catch (e) { return; }
  const body = $('timeline').tBodies[0];
  body.replaceChildren();
  for (const k of report.keyframes || []) {
    const tr = el('tr', null, 'kf');
    const img = el('img', null, 'thumb');
    img.alt = 'keyframe at ' + clock(k.time);
    img.src = k.url;
    const cell = el('td');
    cell.append(img);
    tr.append(el('td', clock(k.time)), cell, el('td', k.reason), el('td', textOf(report, k.index)));
    body.append(tr);
  }
  const segs = $('segments');
  segs.replaceChildren();
  for (const s of report.segments || [])
    segs.append(el('li', clock(s.start) + '–' + clock(s.end) + '  ' + s.text));
  const evs = $('events');
  evs.replaceChildren();
  for (const e of report.events || [])
    evs.append(el('li', clock(e.time) + '  ' + e.name + ': ' + (e.evidence || '')));
  const sum = report.summary || {};
  $('summary').textContent = sum.text ? sum.text + ' (' + sum.method + ')' : '(none)';
  const review = report.review || {};
  const box = $('review');
  box.replaceChildren();
  box.hidden = !review.required;
  if (review.required) {
    box.append(el('strong', 'Review required'));
    for (const r of review.reasons || [])
      box.append(el('div', clock(r.time) + '  "' + r.term + '" (' + r.category + '): ' + r.text));
  }
  const dl = $('downloads');
  dl.replaceChildren();
  for (const [name, href] of Object.entries((j.links && j.links.files) || {})) {
    const a = el('a', name);
    a.href = href;
    a.download = name;
    dl.append(a);
  }
  show('result', true);
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  try {
    await api('/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: $('token').value }) });
    $('token').value = '';
    await start();
  } catch (err) { $('login-error').textContent = err.message; }
});

$('submit-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('submit-error').textContent = '';
  const file = $('file').files[0], source = $('source').value.trim(), preset = $('preset').value;
  let options;
  if (file) {
    const form = new FormData();
    form.append('file', file, file.name);
    if (preset) form.append('preset', preset);
    options = { method: 'POST', body: form };
  } else if (source) {
    const doc = /^https?:\/\//.test(source) ? { url: source } : { path: source };
    if (preset) doc.preset = preset;
    options = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(doc) };
  } else {
    $('submit-error').textContent = 'choose a file, or give a path or a URL';
    return;
  }
  try {
    const job = await api('/v1/jobs', options);
    renderJob(job);
    watch(job.id);
    loadJobs();
  } catch (err) { $('submit-error').textContent = err.message; }
});

$('cancel').addEventListener('click', async () => {
  if (current) { try { await api('/v1/jobs/' + current.id, { method: 'DELETE' }); } catch (e) { /* shown by refresh */ } }
});
$('refresh').addEventListener('click', loadJobs);

start().catch((e) => { $('submit-error').textContent = e.message; show('submit-section', true); });
