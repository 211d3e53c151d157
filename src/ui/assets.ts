// The UI's only script and style sheet, served by Rebound itself (no CDN, no build step). The script
// does one thing: it keeps the page's live part current from server-sent events, replacing it with
// the markup the server rendered (and escaped); it never builds markup from data itself.
import { createHash } from 'node:crypto';

export const CLIENT_JS = `'use strict';
(function () {
  var live = document.getElementById('live');
  var url = live && live.getAttribute('data-live');
  if (!url || typeof EventSource === 'undefined') return;
  var state = document.createElement('p');
  state.className = 'live-state';
  state.setAttribute('role', 'status');
  state.textContent = 'Connecting for live updates…';
  live.parentNode.insertBefore(state, live);
  var pending = null;
  function busy(node) {
    var a = document.activeElement;
    return a && node.contains(a) && (a.tagName === 'INPUT' || a.tagName === 'TEXTAREA' || a.tagName === 'SELECT');
  }
  function apply() {
    var current = document.getElementById('live');
    if (!current || pending === null) return;
    if (busy(current)) return;
    var doc = new DOMParser().parseFromString(pending, 'text/html');
    var next = doc.getElementById('live');
    pending = null;
    if (next) current.replaceWith(document.adoptNode(next));
  }
  document.addEventListener('focusout', function () { setTimeout(apply, 0); });
  var source = new EventSource(url);
  source.addEventListener('open', function () { state.textContent = 'Live: updates as the controller acts.'; });
  source.addEventListener('error', function () { state.textContent = 'Live updates interrupted; reconnecting…'; });
  source.addEventListener('html', function (e) { pending = e.data; apply(); });
  source.addEventListener('gone', function () { state.textContent = 'This problem was deleted.'; source.close(); });
})();
`;

export const CSS = `:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --accent: #0a58ca; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #f0a500; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; } .skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
header.top { display: flex; gap: 24px; align-items: center; padding: 10px 24px; background: #0d2238; color: #fff; }
header.top a { color: #fff; text-decoration: none; padding: 4px 6px; } header.top a[aria-current] { border-bottom: 2px solid #f0a500; }
.brand { font-weight: 700; letter-spacing: .02em; } .who { margin-left: auto; display: flex; gap: 8px; align-items: center; }
main { padding: 16px 24px 48px; max-width: 1280px; }
h1 { font-size: 1.5rem; margin: .4em 0; overflow-wrap: break-word; } h2 { font-size: 1.15rem; margin-top: 1.6em; border-bottom: 1px solid var(--line); } h3 { font-size: 1.05rem; } h4 { font-size: .95rem; margin-bottom: .3em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
th { white-space: nowrap; } .slis td:first-child { white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; } caption { text-align: left; font-weight: 600; }
.sub { color: var(--muted); font-size: .88em; }
.phase, .result { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: .85em; font-weight: 600; border: 1px solid transparent; }
.phase-Pending, .phase-Remediating, .phase-Evaluating { background: #ddf4ff; color: #0a3069; }
.phase-AwaitingApproval { background: #fff8c5; color: #4d2d00; }
.phase-Resolved, .result-pass { background: #dafbe1; color: #0f5323; }
.phase-Exhausted, .result-fail { background: #ffebe9; color: #82071e; }
.phase-Unhandled, .phase-suspended { background: #eaeef2; color: #24292f; }
.phase-ClosedBySource { background: #fbefff; color: #512a97; }
.chart { display: block; overflow: visible; } .chart .axis { stroke: #8c959f; stroke-width: 1; }
.chart .tick { font-size: 9px; fill: #57606a; } .chart .target { stroke: #cf222e; stroke-width: 1; stroke-dasharray: 4 3; }
.chart polyline { fill: none; stroke-width: 1.5; } .chart .point { stroke: none; }
.chart .series-0 polyline { stroke: #0a58ca; } .chart .series-0 .point { fill: #0a58ca; }
.chart .series-1 polyline { stroke: #8250df; } .chart .series-1 .point { fill: #8250df; }
.chart .series-2 polyline { stroke: #1a7f37; } .chart .series-2 .point { fill: #1a7f37; }
.chart .series-3 polyline { stroke: #9a6700; } .chart .series-3 .point { fill: #9a6700; }
.chart .series-4 polyline { stroke: #57606a; } .chart .series-4 .point { fill: #57606a; }
code.query { font-size: .85em; overflow-wrap: anywhere; } .targets { margin: 0; padding-left: 1em; } .violated { color: #82071e; font-weight: 600; }
.result-warning { background: #fff8c5; color: #4d2d00; } .result-info { background: #eaeef2; color: #24292f; }
.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; padding: 10px; background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; }
.filters label { display: flex; flex-direction: column; font-size: .85em; color: var(--muted); }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid #8c959f; border-radius: 4px; background: #fff; color: var(--fg); }
button { background: #f6f8fa; cursor: pointer; } button.danger { color: #82071e; border-color: #cf222e; }
.pager { display: flex; gap: 12px; margin-top: 8px; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 6px 24px; margin: .6em 0; }
.facts div { display: flex; flex-direction: column; } dt { font-size: .8em; color: var(--muted); } dd { margin: 0; overflow-wrap: break-word; min-width: 0; }
.timeline { list-style: none; padding-left: 0; border-left: 3px solid var(--line); margin-left: 6px; }
.timeline li { padding: 3px 0 3px 14px; position: relative; } .timeline li::before { content: ""; position: absolute; left: -7px; top: 10px; width: 11px; height: 11px; border-radius: 50%; background: var(--accent); }
.timeline .t { color: var(--muted); font-variant-numeric: tabular-nums; } .timeline .step { font-weight: 600; } .dur { color: var(--muted); }
.attempt { border: 1px solid var(--line); border-radius: 6px; padding: 4px 14px 10px; margin: 10px 0; }
pre.diff { background: #f6f8fa; padding: 8px; overflow-x: auto; border-radius: 4px; } .diff .add { color: #0f5323; background: #dafbe1; } .diff .del { color: #82071e; background: #ffebe9; }
.controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px; border: 1px solid #d4a72c; background: #fff8c5; border-radius: 6px; }
.controls form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.readonly { color: var(--muted); margin: 0; } .error { color: #82071e; font-weight: 600; }
.live-state { color: var(--muted); font-size: .85em; margin: 0; }
.login { display: flex; flex-direction: column; gap: 8px; max-width: 480px; }
`;

const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Asset paths carry their content hash, so they can be cached for good. */
export const ASSETS = {
  script: { path: `/assets/ui-${hash(CLIENT_JS)}.js`, type: 'text/javascript; charset=utf-8', body: CLIENT_JS },
  style: { path: `/assets/ui-${hash(CSS)}.css`, type: 'text/css; charset=utf-8', body: CSS },
} as const;
