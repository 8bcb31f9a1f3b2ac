import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

const esc = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

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

const isMarker = (e: TimelineEntry): boolean =>
  e.kind === 'warn' || e.kind === 'check' || (e.kind === 'decision' && e.text.includes(' -> '));

function chart(result: ScenarioResult, endpoint: string): string {
  const W = 960;
  const H = 300;
  const m = { l: 48, r: 56, t: 16, b: 34 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const tMax = Math.max(60, result.simulatedSeconds);
  const x = (t: number) => m.l + (t / tMax) * pw;
  const variants = [...new Set(result.samples.flatMap((s) => Object.keys(s.endpoints[endpoint] ?? {})))].sort(
    (a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')) || a.localeCompare(b),
  );
  const maxRate = Math.max(
    0.05,
    ...result.samples.flatMap((s) => Object.values(s.endpoints[endpoint] ?? {}).map((v) => v.errorRate ?? 0)),
  );
  const yW = (w: number) => m.t + ph - (w / 100) * ph;
  const yE = (r: number) => m.t + ph - (r / maxRate) * ph;
  const out: string[] = [];
  out.push(`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(endpoint)}">`);
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#ddd"/>`);
  for (const w of [0, 25, 50, 75, 100]) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${yW(w)}" y2="${yW(w)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${yW(w) + 4}" text-anchor="end" class="ax">${w}%</text>`);
    const rate = (w / 100) * maxRate;
    out.push(
      `<text x="${m.l + pw + 6}" y="${yW(w) + 4}" class="ax">${(rate * 100).toFixed(rate * 100 < 10 ? 1 : 0)}%</text>`,
    );
  }
  const step = tMax > 4 * 3600 ? 3600 : tMax > 3600 ? 900 : 600;
  for (let t = 0; t <= tMax; t += step) {
    out.push(
      `<text x="${x(t)}" y="${H - m.b + 16}" text-anchor="middle" class="ax">${clockText(t * 1000).slice(0, 5)}</text>`,
    );
  }
  out.push(
    `<text x="${m.l}" y="${H - 4}" class="ax">weight (solid, left) · 5XX rate per minute (dashed, right) · simulated time</text>`,
  );
  result.timeline.filter(isMarker).forEach((e, i) => {
    const xx = x(e.at / 1000);
    const colour = e.kind === 'decision' ? '#888' : '#d62728';
    out.push(
      `<g><title>${esc(`${clockText(e.at)} ${e.text}`)}</title><line x1="${xx}" x2="${xx}" y1="${m.t}" y2="${m.t + ph}" stroke="${colour}" stroke-dasharray="2 3"/><circle cx="${xx}" cy="${m.t + 6 + (i % 4) * 9}" r="4" fill="${colour}"/></g>`,
    );
  });
  variants.forEach((variant, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    const weightPts: string[] = [];
    let prevY: number | undefined;
    const rateSegments: string[][] = [[]];
    for (const s of result.samples) {
      const v = s.endpoints[endpoint]?.[variant];
      const xx = x(s.t);
      const yy = yW(v?.weight ?? 0);
      if (prevY !== undefined) weightPts.push(`${xx.toFixed(1)},${prevY.toFixed(1)}`);
      weightPts.push(`${xx.toFixed(1)},${yy.toFixed(1)}`);
      prevY = yy;
      if (v?.errorRate != null)
        rateSegments[rateSegments.length - 1]!.push(`${xx.toFixed(1)},${yE(v.errorRate).toFixed(1)}`);
      else if (rateSegments[rateSegments.length - 1]!.length > 0) rateSegments.push([]);
    }
    out.push(
      `<polyline points="${weightPts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"><title>${esc(`${variant} weight`)}</title></polyline>`,
    );
    for (const seg of rateSegments.filter((s) => s.length > 0)) {
      out.push(
        `<polyline points="${seg.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5 3"><title>${esc(`${variant} 5XX rate`)}</title></polyline>`,
      );
    }
  });
  out.push('</svg>');
  const legend = variants
    .map(
      (v, i) =>
        `<span class="key"><span class="sw" style="background:${PALETTE[i % PALETTE.length]}"></span>${esc(v)}</span>`,
    )
    .join(' ');
  return `<h3>${esc(endpoint)}</h3>${out.join('')}<div class="legend">${legend} <span class="key"><span class="sw" style="background:#888"></span>decision</span> <span class="key"><span class="sw" style="background:#d62728"></span>warning</span></div>`;
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
        `<tr><td><a href="#${esc(r.name)}">${esc(r.name)}</a></td><td>${esc(r.expected)}</td><td>${esc(r.outcome)}</td><td class="${r.ok ? 'ok' : 'bad'}">${r.ok ? 'ok' : 'FAILED'}</td><td>${clockText(r.simulatedSeconds * 1000)}</td><td>${Object.values(r.awsCalls).reduce((n, c) => n + c, 0)}</td></tr>`,
    )
    .join('');
  const sections = results
    .map((r) => {
      const charts = chartedEndpoints(r.samples)
        .map((ep) => chart(r, ep))
        .join('');
      const failures = r.failures.length
        ? `<ul class="bad">${r.failures.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>`
        : '';
      const calls = Object.entries(r.awsCalls)
        .map(([op, n]) => `${esc(op)} ${n}`)
        .join(' · ');
      return `<section id="${esc(r.name)}"><h2>${esc(r.name)} <span class="${r.ok ? 'ok' : 'bad'}">${r.ok ? 'ok' : 'FAILED'}</span></h2>
<p>${esc(r.description)}</p>
<p><b>Outcome:</b> ${esc(r.outcome)} (expected: ${esc(r.expected)})${r.reason ? `<br><b>Reason:</b> ${esc(r.reason)}` : ''}</p>${failures}
${charts || '<p><i>No endpoint was created.</i></p>'}
<p class="calls"><b>AWS calls:</b> ${calls}</p>
<details><summary>Timeline (${r.timeline.length} lines)</summary>${timelineTable(r.timeline)}</details></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sagemaker-rollouts: local scenarios</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}
table{border-collapse:collapse}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.ok{color:#2a7d2a;font-weight:600}.bad{color:#c62828;font-weight:600}
.ax{font-size:11px;fill:#666}.legend{font-size:12px;margin:4px 0 12px}.key{margin-right:12px}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-2px}
section{border-top:1px solid #ddd;margin-top:2rem}.calls{font-size:12px;color:#555}
.tl{font-size:12px}.tl tr.step td{background:#f3f7ff}.tl tr.warn td,.tl tr.check td{background:#fff3f3}
</style></head><body>
<h1>sagemaker-rollouts: local scenarios</h1>
<p>${passed}/${results.length} scenarios ended as expected. Every scenario ran the real handlers against the local cloud, on simulated time.</p>
<table><thead><tr><th>scenario</th><th>expected</th><th>outcome</th><th></th><th>simulated</th><th>AWS calls</th></tr></thead><tbody>${summaryRows}</tbody></table>
${sections}
</body></html>
`;
}
