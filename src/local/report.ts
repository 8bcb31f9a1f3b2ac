import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chartData, chartFigure } from './report-chart';
import { lanesFigure } from './report-lanes-chart';
import { esc } from './report-style';
import { clockText, type Sample, type ScenarioResult, type TimelineEntry } from './scenario-runner';

export interface SummaryFile {
  scenarios: Array<{
    name: string;
    expected: string;
    outcome: string;
    ok: boolean;
    simulatedSeconds: number;
    finalWeights: Record<string, Record<string, number>>;
    awsCalls: Record<string, number>;
    reason?: string;
    failures: string[];
  }>;
}

export const toSummary = (results: ScenarioResult[]): SummaryFile => ({
  scenarios: results.map((r) => ({
    name: r.name,
    expected: r.expected,
    outcome: r.outcome,
    ok: r.ok,
    simulatedSeconds: r.simulatedSeconds,
    finalWeights: r.finalWeights,
    awsCalls: r.awsCalls,
    ...(r.reason ? { reason: r.reason } : {}),
    failures: r.failures,
  })),
});

const write = (path: string, text: string): void => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
};

export function writeReports(results: ScenarioResult[], dir = '.local'): { summary: string; html: string } {
  const summary = `${dir}/summary.json`;
  const html = `${dir}/report.html`;
  write(summary, `${JSON.stringify(toSummary(results), null, 2)}\n`);
  write(html, renderHtml(results));
  return { summary, html };
}

// ---- terminal -----------------------------------------------------------------------------------

const pad = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);

/** The summary table for the terminal. */
export function summaryTable(results: ScenarioResult[], color = false): string {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const nameW = Math.max(8, ...results.map((r) => r.name.length));
  const outW = Math.max(7, ...results.map((r) => Math.min(48, r.outcome.length)));
  const lines = [
    `${pad('scenario', nameW)}  ${pad('outcome', outW)}  result  simulated  wall    AWS calls`,
    `${'-'.repeat(nameW)}  ${'-'.repeat(outW)}  ------  ---------  ------  ---------`,
  ];
  for (const r of results) {
    const calls = Object.values(r.awsCalls).reduce((n, c) => n + c, 0);
    lines.push(
      `${pad(r.name, nameW)}  ${pad(r.outcome, outW)}  ${r.ok ? paint('32', 'ok    ') : paint('31', 'FAILED')}  ${pad(clockText(r.simulatedSeconds * 1000), 9)}  ${pad(`${(r.wallMs / 1000).toFixed(1)} s`, 6)}  ${calls}`,
    );
    if (!r.ok) {
      if (r.outcome !== r.expected) lines.push(paint('31', `    expected: ${r.expected}`));
      for (const f of r.failures) lines.push(paint('31', `    - ${f}`));
    } else if (r.reason && !r.outcome.startsWith('promoted')) {
      lines.push(
        paint('2', `    reason: ${r.reason.length > 160 ? `${r.reason.slice(0, 159)}…` : r.reason}`),
      );
    }
  }
  const passed = results.filter((r) => r.ok).length;
  lines.push('', `${passed}/${results.length} scenarios ended as expected`);
  return lines.join('\n');
}

// ---- HTML ---------------------------------------------------------------------------------------

/** Endpoints worth a chart: those that had traffic or ever held two variants (else every endpoint). */
function chartedEndpoints(samples: Sample[]): string[] {
  const all = new Set<string>();
  const busy = new Set<string>();
  for (const s of samples) {
    for (const [ep, variants] of Object.entries(s.endpoints)) {
      all.add(ep);
      const vs = Object.values(variants);
      if (vs.length > 1 || vs.some((v) => v.invocations > 0)) busy.add(ep);
    }
  }
  return [...(busy.size > 0 ? busy : all)].sort();
}

function timelineTable(entries: TimelineEntry[]): string {
  const rows = entries.map((e) => {
    const calls = Object.entries(e.calls)
      .map(([op, n]) => (n > 1 ? `${op}×${n}` : op))
      .join(', ');
    return `<tr class="${e.kind}"><td>${clockText(e.at)}</td><td>${e.kind}</td><td>${esc(e.text)}</td><td class="calls">${esc(calls)}</td><td>${esc(e.weights ?? '')}</td></tr>`;
  });
  return `<table class="tl"><thead><tr><th>time</th><th></th><th>event / decision</th><th>AWS calls</th><th>weights</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderHtml(results: ScenarioResult[]): string {
  const passed = results.filter((r) => r.ok).length;
  const summaryRows = results
    .map(
      (r) =>
        `<tr><td><a href="#${esc(r.name)}">${esc(r.name)}</a></td><td class="wide-only">${esc(r.expected)}</td><td>${esc(r.outcome)}</td><td class="${r.ok ? 'ok' : 'bad'} nowrap">${r.ok ? 'ok' : 'FAILED'}</td><td class="nowrap">${clockText(r.simulatedSeconds * 1000)}</td><td class="wide-only">${Object.values(r.awsCalls).reduce((n, c) => n + c, 0)}</td></tr>`,
    )
    .join('');
  const sections = results
    .map((r) => {
      const charts = chartedEndpoints(r.samples)
        .map((ep) => chartFigure(chartData(r, ep)))
        .join('');
      const lanes = lanesFigure(r.story?.lanes ?? [], r.simulatedSeconds);
      const failures = r.failures.length
        ? `<ul class="bad">${r.failures.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>`
        : '';
      const calls = Object.entries(r.awsCalls)
        .map(([op, n]) => `${esc(op)} ${n}`)
        .join(' · ');
      return `<section id="${esc(r.name)}"><h2>${esc(r.name)} <span class="${r.ok ? 'ok' : 'bad'}">${r.ok ? 'ok' : 'FAILED'}</span></h2>
<p>${esc(r.description)}</p>
<p><b>Outcome:</b> ${esc(r.outcome)} (expected: ${esc(r.expected)})${r.reason ? `<br><b>Reason:</b> ${esc(r.reason)}` : ''}</p>${failures}
${lanes}${charts || '<p><i>No endpoint was created.</i></p>'}
<p class="calls"><b>AWS calls:</b> ${calls}</p>
<details><summary>Timeline (${r.timeline.length} lines)</summary><div class="scroll">${timelineTable(r.timeline)}</div></details></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sagemaker-rollouts: local scenarios</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem;overflow-wrap:anywhere}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.ok{color:#2a7d2a;font-weight:600}.bad{color:#c62828;font-weight:600}
.ax{font-size:11px;fill:#666}.panel{font-size:12px;fill:#333;font-weight:600}.legend{font-size:12px;margin:4px 0 8px;line-height:1.9}.key{margin-right:12px;white-space:nowrap}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-2px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:-1px}
.dash{display:inline-block;width:16px;height:2px;margin-right:4px;vertical-align:3px}
.band-label{font-size:10px;fill:#3b5b8a}.dlabel{font-size:11px}.alabel{font-size:10px;fill:#222}
.vlabel{font-size:11px;font-weight:600}.slabel{font-size:10px;fill:#222}figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:4px}
svg.narrow .ax,svg.narrow .dlabel,svg.narrow .vlabel,svg.narrow .panel{font-size:13px}
svg.narrow .band-label,svg.narrow .alabel,svg.narrow .slabel{font-size:12px}
.lane-name{font-size:11px;font-weight:600;fill:#333}.lane-label{font-size:11px;fill:#222}.lane-empty{font-size:11px;fill:#888;font-style:italic}.mark-label{font-size:11px}
svg.narrow .lane-name,svg.narrow .lane-label,svg.narrow .lane-empty,svg.narrow .mark-label{font-size:13px}svg.mark{vertical-align:-1px;margin-right:4px}
.judged{font-size:13px;margin:0 0 12px;padding-left:1.2rem}
section{border-top:1px solid #ddd;margin-top:2rem}.calls{font-size:12px;color:#555}
.summary td,.summary th{overflow-wrap:break-word}.nowrap{white-space:nowrap}.scroll{overflow-x:auto}.tl{font-size:12px}.tl tr.step td{background:#f3f7ff}.tl tr.warn td,.tl tr.check td{background:#fff3f3}
svg.narrow{display:none}
@media (max-width:640px){
  body{margin:1rem auto;padding:0 .75rem}
  svg.wide{display:none}svg.narrow{display:block}
  .wide-only{display:none}.summary td,.summary th{padding:3px 4px}.key{white-space:normal}
}
</style></head><body>
<h1>sagemaker-rollouts: local scenarios</h1>
<p>${passed}/${results.length} scenarios ended as expected. Every scenario ran the real handlers against the local cloud, on simulated time.</p>
<table class="summary"><thead><tr><th>scenario</th><th class="wide-only">expected</th><th>outcome</th><th></th><th>simulated</th><th class="wide-only">AWS calls</th></tr></thead><tbody>${summaryRows}</tbody></table>
${sections}
</body></html>
`;
}
