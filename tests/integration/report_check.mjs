// Loads an HTML page in headless Chromium through the DevTools protocol and reports what a
// person would see: every network request the page made (other than the page itself), every
// console message and uncaught exception, per SVG chart the number of marks and its texts,
// whether the page overflows a narrow window, and a full-page PNG screenshot.
//   node --experimental-websocket report_check.mjs PAGE.html OUT.png [WIDTH]
// Prints one JSON object on stdout. Needs Debian's chromium.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [page, png, widthArg] = process.argv.slice(2);
if (!page || !png) {
  console.error('usage: report_check.mjs PAGE.html OUT.png [WIDTH]');
  process.exit(2);
}
const width = Number(widthArg || 1000);
const url = 'file://' + resolve(page);
const profile = mkdtempSync(join(tmpdir(), 'athlete-chromium-'));
const browser = spawn('chromium', [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--no-first-run', '--user-data-dir=' + profile, '--remote-debugging-port=0', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
const exited = new Promise((ok) => browser.on('exit', ok));
const killer = setTimeout(() => finish(new Error('timed out after 60 s')), 60000);
let ws = null;

// Closes the browser (politely, then its whole process group), waits for it, removes the
// profile, prints the result.
async function finish(err, result) {
  clearTimeout(killer);
  if (ws && ws.readyState === 1) ws.send(JSON.stringify({ id: 0, method: 'Browser.close' }));
  const gone = await Promise.race([exited.then(() => true), new Promise((ok) => setTimeout(() => ok(false), 5000))]);
  try { process.kill(-browser.pid, 'SIGKILL'); } catch { /* already gone */ }
  if (!gone) await exited;
  for (let i = 0; i < 20; i++) {
    try { rmSync(profile, { recursive: true, force: true }); break; }
    catch { await new Promise((ok) => setTimeout(ok, 100)); }
  }
  if (err) {
    console.error('report_check: ' + err.message);
    process.exit(1);
  }
  console.log(JSON.stringify(result, null, 1));
  process.exit(0);
}

const wsUrl = await new Promise((ok, fail) => {
  let text = '';
  browser.stderr.on('data', (d) => {
    text += d;
    const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) ok(m[1]);
  });
  browser.on('exit', (code) => fail(new Error('chromium exited with ' + code + ': ' + text)));
}).catch((e) => finish(e));

ws = new WebSocket(wsUrl);
await new Promise((ok) => ws.addEventListener('open', ok));
let nextId = 1;
const pending = new Map();
const listeners = [];
ws.addEventListener('message', (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.id && pending.has(msg.id)) {
    const { ok, fail } = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) fail(new Error(JSON.stringify(msg.error)));
    else ok(msg.result);
  } else if (msg.method) {
    for (const l of listeners) l(msg);
  }
});
const send = (method, params = {}, sessionId) =>
  new Promise((ok, fail) => {
    const id = nextId++;
    pending.set(id, { ok, fail });
    ws.send(JSON.stringify({ id, method, params, sessionId }));
  });

try {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const s = (m, p) => send(m, p, sessionId);
  const requests = [], console_ = [];
  let loaded;
  const load = new Promise((ok) => (loaded = ok));
  listeners.push((msg) => {
    if (msg.sessionId !== sessionId) return;
    const p = msg.params;
    if (msg.method === 'Network.requestWillBeSent' && p.request.url !== url)
      requests.push(p.request.url);
    if (msg.method === 'Runtime.consoleAPICalled')
      console_.push(p.type + ': ' + p.args.map((a) => a.value ?? a.description).join(' '));
    if (msg.method === 'Runtime.exceptionThrown') console_.push('exception: ' + p.exceptionDetails.text);
    if (msg.method === 'Log.entryAdded') console_.push(p.entry.level + ': ' + p.entry.text);
    if (msg.method === 'Page.loadEventFired') loaded();
  });
  await s('Network.enable');
  await s('Runtime.enable');
  await s('Log.enable');
  await s('Page.enable');
  await s('Emulation.setDeviceMetricsOverride', { width, height: 900, deviceScaleFactor: 1, mobile: false });
  await s('Page.navigate', { url });
  await load;
  const probe = `JSON.stringify({
    title: document.title,
    overflows: document.documentElement.scrollWidth > window.innerWidth + 1,
    scripts: document.scripts.length,
    charts: [...document.querySelectorAll('svg.chart')].map((svg) => ({
      id: svg.id,
      marks: svg.querySelectorAll('.mark').length,
      series: [...svg.querySelectorAll('.mark')].reduce((a, m) => {
        const k = m.dataset.series; a[k] = (a[k] || 0) + 1; return a; }, {}),
      axis_labels: [...svg.querySelectorAll('.axis-label')].map((t) => t.textContent),
      legend: [...svg.querySelectorAll('.legend')].map((t) => t.textContent),
      bar_labels: [...svg.querySelectorAll('.bar-label')].map((t) => t.textContent),
      height: svg.getBoundingClientRect().height,
    })),
  })`;
  const { result } = await s('Runtime.evaluate', { expression: probe, returnByValue: true });
  const dom = JSON.parse(result.value);
  const shot = await s('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
  writeFileSync(png, Buffer.from(shot.data, 'base64'));
  finish(null, { url, width, requests, console: console_, ...dom });
} catch (e) {
  finish(e);
}
