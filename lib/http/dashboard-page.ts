/**
 * The dashboard: one self-contained page (no CDN, no build step) that uses only the public API,
 * through relative URLs so it works under any base path. Its table and counts each refresh two seconds after their previous refresh ended;
 * one task (`#task=<id>`) is followed with GET ?wait until it ends.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Task service dashboard</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2733; background: #f4f6f9; }
  body { margin: 0 auto; max-width: 1100px; padding: 1.5rem; }
  h1 { font-size: 1.4rem; margin: 0 0 1rem; }
  h2 { font-size: 1rem; margin: 0 0 .6rem; }
  section { background: #fff; border-radius: 8px; padding: 1rem; margin-bottom: 1rem; box-shadow: 0 1px 3px #0002; }
  .counts { display: grid; grid-template-columns: repeat(5, 1fr); gap: .6rem; }
  .count { border-radius: 6px; padding: .6rem; text-align: center; background: #eef2f7; }
  .count b { display: block; font-size: 1.6rem; }
  .PENDING { color: #8a6d00; } .PROCESSING { color: #0b5cad; } .COMPLETED { color: #1e7a34; }
  .FAILED { color: #b3261e; } .CANCELED { color: #5f6b7a; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; }
  #filter { margin-bottom: .5rem; }
  select { padding: .45rem; border: 1px solid #c5ccd6; border-radius: 4px; }
  input { flex: 1; min-width: 12rem; padding: .45rem; border: 1px solid #c5ccd6; border-radius: 4px; }
  button { padding: .45rem .9rem; border: 0; border-radius: 4px; background: #0b5cad; color: #fff; cursor: pointer; }
  button.cancel { background: #b3261e; padding: .25rem .6rem; }
  table { width: 100%; border-collapse: collapse; font-size: .9rem; }
  th, td { text-align: left; padding: .35rem .4rem; border-bottom: 1px solid #e3e7ed; }
  td.id { font-family: ui-monospace, monospace; font-size: .8rem; }
  #message { min-height: 1.2rem; font-size: .85rem; margin-top: .4rem; }
  svg { width: 100%; height: 140px; }
  button.retry { background: #8a6d00; padding: .25rem .6rem; }
  #task dl { display: grid; grid-template-columns: 9rem 1fr; gap: .25rem .8rem; margin: .6rem 0 0; font-size: .9rem; }
  #task dt { color: #5f6b7a; }
  #task dd { margin: 0; }
  #task table.attempts { font-size: .8rem; }
  #task pre { margin: 0; white-space: pre-wrap; word-break: break-all; font-size: .8rem; background: #f4f6f9; padding: .4rem; border-radius: 4px; }
</style>
</head>
<body>
<h1>Task service</h1>
<section>
  <h2>Tasks by status <small id="counted"></small></h2>
  <div class="counts" id="counts"></div>
  <p id="queues"></p>
</section>
<section>
  <h2>Completed and failed per minute, last hour</h2>
  <svg id="throughput" viewBox="0 0 600 140" preserveAspectRatio="none" role="img" aria-label="throughput chart"></svg>
  <p id="latency"></p>
</section>
<section>
  <h2>Submit a task</h2>
  <form id="submit">
    <input name="title" placeholder="Title" required maxlength="255">
    <input name="description" placeholder="Description" required maxlength="10000">
    <button type="submit">Submit</button>
  </form>
  <div id="message"></div>
</section>
<section>
  <h2>A task <small>(live until it ends)</small></h2>
  <form id="find">
    <input name="task_id" placeholder="Task id" required pattern="[0-9a-fA-F-]{36}">
    <button type="submit">Show</button>
  </form>
  <div id="task"></div>
</section>
<section>
  <h2>Recent tasks</h2>
  <form id="filter">
    <select name="status" aria-label="Status"><option value="">Any status</option></select>
    <input name="kind" placeholder="Any kind (e.g. checksum)" pattern="[a-z][a-z0-9-]{0,62}">
  </form>
  <table>
    <thead><tr><th>Task</th><th>Title</th><th>Kind</th><th>Status</th><th>Progress</th><th>Created</th><th>Attempts</th><th></th></tr></thead>
    <tbody id="tasks"></tbody>
  </table>
</section>
<script>
const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELED'];
// A request that never answers must not stall its refresh loop: each gives up after 15 seconds.
const api = (path, init) => fetch('api/' + path, { ...init, signal: AbortSignal.timeout(15000) }).then(async (response) => {
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.code + ': ' + body.error.message : response.status);
  return body;
});
const text = (value) => String(value).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const say = (message) => { document.getElementById('message').textContent = message; };

// Counts of the whole table, the queues' depths and the last hour's activity, all from GET /api/stats
// (at most max_age_seconds old).
async function refreshCounts() {
  const stats = await api('stats');
  document.getElementById('counts').innerHTML = STATUSES.map((status) =>
    '<div class="count ' + status + '" data-status="' + status + '"><b>' + stats.tasks.by_status[status] + '</b>' + status + '</div>').join('');
  document.getElementById('counted').textContent = '(' + stats.tasks.total + ' in all, counted ' + new Date(stats.counted_at).toLocaleTimeString() + ')';
  const depth = (queue) => queue.waiting + ' waiting, ' + queue.in_flight + ' in flight, ' + queue.delayed + ' delayed';
  document.getElementById('queues').textContent = 'Queue: ' + depth(stats.queue) + '. High-priority queue: ' + depth(stats.high_priority_queue) +
    '. Dead-letter queue: ' + depth(stats.dead_letter_queue) + '.';
  drawThroughput(stats.last_hour.per_minute);
  showLatency(stats.last_hour);
}

/** p50 and p99 of submit -> start and start -> end over the last hour, and its totals. */
function showLatency(hour) {
  const seconds = (ms) => ms === null ? 'n/a' : (ms / 1000).toFixed(2) + ' s';
  document.getElementById('latency').textContent = 'Last hour: ' + hour.completed + ' completed, ' + hour.failed + ' failed; submit to start p50 ' +
    seconds(hour.submit_to_start_ms.p50) + ', p99 ' + seconds(hour.submit_to_start_ms.p99) + '; start to end p50 ' +
    seconds(hour.start_to_end_ms.p50) + ', p99 ' + seconds(hour.start_to_end_ms.p99) + '.';
}

/** A bar per minute: completed in green, failed in red on top of it. */
function drawThroughput(minutes) {
  const max = Math.max(1, ...minutes.map((m) => m.completed + m.failed)), width = 600 / minutes.length;
  document.getElementById('throughput').innerHTML = minutes.map((m, i) => {
    const ok = (m.completed / max) * 120, bad = (m.failed / max) * 120;
    const label = '<title>' + m.minute + ': ' + m.completed + ' completed, ' + m.failed + ' failed</title>';
    return '<rect class="completed" x="' + (i * width + 0.5) + '" y="' + (130 - ok) + '" width="' + (width - 1) + '" height="' + ok + '" fill="#1e7a34">' + label + '</rect>' +
      '<rect class="failed" x="' + (i * width + 0.5) + '" y="' + (130 - ok - bad) + '" width="' + (width - 1) + '" height="' + bad + '" fill="#b3261e">' + label + '</rect>';
  }).join('') + '<line x1="0" y1="130" x2="600" y2="130" stroke="#999"/><text x="2" y="12" font-size="11">max ' + max + ' a minute</text>';
}

/** A running task's last reported progress: a bar, its percentage and message. */
function progressOf(task) {
  if (task.status !== 'PROCESSING' || !task.progress) return '';
  const percent = Math.round(task.progress.fraction * 100);
  return '<progress max="100" value="' + percent + '"></progress> ' + percent + '%' + (task.progress.message ? ' ' + text(task.progress.message) : '');
}

// The table lists the 20 newest tasks of the filter's status and kind (GET /api/tasks?status=&kind=).
const filterForm = document.getElementById('filter');
filterForm.status.innerHTML += STATUSES.map((status) => '<option>' + status + '</option>').join('');
filterForm.addEventListener('submit', (event) => event.preventDefault());
filterForm.addEventListener('change', () => refreshTasks().catch((error) => say('Refresh failed: ' + error.message)));
function listQuery() {
  const query = new URLSearchParams({ limit: '20' });
  if (filterForm.status.value) query.set('status', filterForm.status.value);
  if (filterForm.kind.value.trim() && filterForm.kind.checkValidity()) query.set('kind', filterForm.kind.value.trim());
  return 'tasks?' + query;
}
async function refreshTasks() {
  const query = listQuery();
  const { tasks } = await api(query);
  // A refresh begun before the filter changed must not draw over the filtered table.
  if (query !== listQuery()) return;
  document.getElementById('tasks').innerHTML = tasks.map((task) =>
    '<tr data-task-id="' + task.task_id + '"><td class="id"><a href="#task=' + task.task_id + '">' + task.task_id.slice(0, 8) + '</a></td><td>' + text(task.title) +
    '</td><td class="kind">' + text(task.kind) + '</td><td class="status ' + task.status + '">' + task.status +
    '</td><td class="progress">' + progressOf(task) + '</td><td>' + new Date(task.created_at).toLocaleTimeString() +
    '</td><td>' + task.attempts + '</td><td>' +
    (task.status === 'PENDING' || task.status === 'PROCESSING' ? '<button class="cancel" data-cancel="' + task.task_id + '">Cancel</button>' : '') +
    (task.status === 'FAILED' && !task.retried_as ? '<button class="retry" data-retry="' + task.task_id + '">Retry</button>' : '') +
    '</td></tr>').join('');
}

// One task, followed with GET ?wait and its ETag: each answer comes when the task changes (status,
// progress), and the page stops asking once it is final. Another task shown stops the follow.
const FINAL = ['COMPLETED', 'FAILED', 'CANCELED'];
let followed = null;
const link = (id) => id ? '<a href="#task=' + id + '">' + id + '</a>' : '';
const json = (value) => value === undefined || value === null ? '' : '<pre>' + text(JSON.stringify(value, null, 2)) + '</pre>';
/** Every attempt: when it started and ended, how it ended, and why a failed one failed. */
function attemptsTable(attempts) {
  if (attempts.length === 0) return '';
  return '<table class="attempts"><thead><tr><th>Attempt</th><th>Started</th><th>Ended</th><th>Outcome</th><th>Error</th></tr></thead><tbody>' +
    attempts.map((a) => '<tr data-attempt="' + a.attempt + '"><td>' + a.attempt + '</td><td>' + a.started_at + '</td><td>' + (a.ended_at || '') +
      '</td><td class="outcome">' + a.outcome + '</td><td>' + (a.error ? text(a.error.code + ': ' + a.error.message) : '') + '</td></tr>').join('') +
    '</tbody></table>';
}
/** Every call of the task's callback: when, what it answered, why it failed. */
function callbackTable(attempts) {
  if (attempts.length === 0) return '';
  return '<table class="callback-attempts"><thead><tr><th>Attempt</th><th>At</th><th>ms</th><th>Status</th><th>Error</th></tr></thead><tbody>' +
    attempts.map((a) => '<tr><td>' + a.attempt + '</td><td>' + a.at + '</td><td>' + a.duration_ms + '</td><td>' + (a.status_code === null ? '' : a.status_code) +
      '</td><td>' + (a.error ? text(a.error) : '') + '</td></tr>').join('') +
    '</tbody></table>';
}
function renderTask(task) {
  const rows = [
    ['Task', task.task_id], ['Title', text(task.title)], ['Kind', text(task.kind)],
    ['Status', '<span class="status ' + task.status + '">' + task.status + '</span>'], ['Progress', progressOf(task) || (task.progress ? Math.round(task.progress.fraction * 100) + '%' : '')],
    ['Priority', task.priority], ['Attempts', task.attempts], ['Created', task.created_at], ['Run at', task.run_at || ''], ['Started', task.started_at || ''], ['Ended', task.completed_at || task.canceled_at || (task.status === 'FAILED' ? task.updated_at : '')],
    ['Error', json(task.error)], ['Last error', json(task.last_error)], ['Payload', json(task.payload)], ['Result', json(task.result)],
    ['Retry of', link(task.retry_of)], ['Retried as', link(task.retried_as)], ['Metadata', json(task.metadata)],
    ['Trace', task.trace_id ? '<code>' + task.trace_id + '</code>' : ''], ['History', attemptsTable(task.attempt_history || [])],
    ['Callback', task.callback_url ? text(task.callback_url) + ' <span class="callback-state">' + task.callback_state + '</span>' + callbackTable(task.callback_attempts || []) : ''],
  ];
  document.getElementById('task').innerHTML = '<dl>' + rows.map(([name, value]) => '<dt>' + name + '</dt><dd class="' + name.toLowerCase().replace(/ /g, '-') + '">' + value + '</dd>').join('') + '</dl>';
}
async function follow(id) {
  followed = id;
  let etag = null;
  while (followed === id) {
    try {
      const response = await fetch('api/tasks/' + id + (etag ? '?wait=20' : ''), { headers: etag ? { 'If-None-Match': etag } : {}, signal: AbortSignal.timeout(30000) });
      if (response.status === 304) continue;
      const body = await response.json();
      if (followed !== id) return;
      if (!response.ok) { document.getElementById('task').textContent = body.error ? body.error.code + ': ' + body.error.message : String(response.status); return; }
      etag = response.headers.get('ETag');
      renderTask(body);
      // A final task's callback still changes it until it is DELIVERED or GAVE_UP: follow it until then.
      if (FINAL.includes(body.status) && body.callback_state !== 'PENDING') return;
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}
function showFromHash() {
  const match = /^#task=([0-9a-fA-F-]{36})$/.exec(location.hash);
  if (match && match[1] !== followed) follow(match[1]);
}
window.addEventListener('hashchange', showFromHash);
document.getElementById('find').addEventListener('submit', (event) => {
  event.preventDefault();
  location.hash = 'task=' + new FormData(event.target).get('task_id').trim();
});

async function refresh() {
  try { await Promise.all([refreshCounts(), refreshTasks()]); } catch (error) { say('Refresh failed: ' + error.message); }
}

document.getElementById('submit').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const task = await api('tasks', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: form.get('title'), description: form.get('description') }) });
    say('Submitted ' + task.task_id);
    event.target.reset();
    await refresh();
  } catch (error) { say('Submit refused: ' + error.message); }
});

document.getElementById('tasks').addEventListener('click', async (event) => {
  const { cancel, retry } = event.target.dataset || {};
  if (cancel) {
    try { await api('tasks/' + cancel + '/cancel', { method: 'POST' }); say('Canceled ' + cancel); await refresh(); }
    catch (error) { say('Cancel refused: ' + error.message); }
  }
  if (retry) {
    try { const task = await api('tasks/' + retry + '/retry', { method: 'POST' }); say('Retried as ' + task.task_id); await refresh(); }
    catch (error) { say('Retry refused: ' + error.message); }
  }
});

// The table and the counts refresh on loops of their own, each two seconds after its previous refresh
// ended: a slow API never gets refreshes piled on it, and slow counts never hold the table back.
function every(ms, update) {
  (async function loop() {
    try { await update(); } catch (error) { say('Refresh failed: ' + error.message); }
    setTimeout(loop, ms);
  })();
}
every(2000, refreshTasks);
every(2000, refreshCounts);
showFromHash();
</script>
</body>
</html>
`;
