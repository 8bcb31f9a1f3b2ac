import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type GateEvidence, gateEvidence } from './report-data';
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

/** Colours by role, whatever the version numbers: the version serving is blue, the one on trial orange. */
const ROLE_COLOUR = { baseline: '#1f6fb4', candidate: '#e8710a' } as const;
const STATUS_COLOUR: Record<string, string> = {
  Creating: '#c7c7c7',
  Updating: '#f2c94c',
  InService: '#7bc47f',
  Failed: '#e06666',
  Deleting: '#9aa9b5',
  RollingBack: '#f4a261',
};
const GATE_COLOUR = '#c62828';

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

type Story = NonNullable<ScenarioResult['story']>;
type DeploymentStory = Story['deployments'][number];

const TERMINAL = new Set(['Succeeded', 'RolledBack', 'Failed', 'Aborted', 'Superseded']);

/** When a deployment was in flight: from its first transition to its terminal one (ms since start). */
const inFlight = (d: DeploymentStory): [number, number] => {
  const first = d.transitions[0]?.at ?? 0;
  const end = d.transitions.find((t) => TERMINAL.has(t.to))?.at ?? Number.POSITIVE_INFINITY;
  return [first, end];
};

/** A variant's role at a time: the candidate while its deployment is in flight, else the baseline. */
const roleAt = (deployments: DeploymentStory[], variant: string, ms: number): 'baseline' | 'candidate' =>
  deployments.some((d) => {
    const [from, to] = inFlight(d);
    return d.candidateVariant === variant && ms >= from && ms < to;
  })
    ? 'candidate'
    : 'baseline';

/** The endpoint's status at a time, from its state-change events; undefined before it existed. */
const statusAt = (story: Story | undefined, endpoint: string, ms: number): string | undefined => {
  if (!story) return 'InService';
  let status: string | undefined;
  for (const change of story.endpointStatus) {
    if (change.endpoint !== endpoint) continue;
    if (change.at > ms) break;
    status = change.status;
  }
  return status;
};

/** The decisions labelled on a chart: what happened on that endpoint, and how the deployment ended. */
const ENDINGS = ['Succeeded', 'RolledBack', 'Failed', 'Aborted', 'Superseded'];
const PROD_DECISIONS = new Set(['ProdDeploying', 'Canary', 'Promoting', 'RollingBack', ...ENDINGS]);
const QA_DECISIONS = new Set(['QaDeploying', 'AwaitingApproval', 'ReadyForProd', ...ENDINGS]);

const SERVING = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack']);

/** Canary steps as bands: [start, end) of each step, and where its bake ends. */
function stepBands(deployments: DeploymentStory[], gates: Story['gates'][string] | undefined, tEnd: number) {
  const bands: Array<{ from: number; to: number; bakeTo: number; label: string }> = [];
  for (const d of deployments) {
    d.transitions.forEach((t, i) => {
      const step = /step (\d+)\/(\d+): ([\d.]+)%/.exec(t.reason);
      if (t.to !== 'Canary' || !step) return;
      const next = d.transitions.slice(i + 1).find((n) => n.at > t.at);
      const to = next?.at ?? tEnd;
      const bakeMinutes = gates?.steps[Number(step[1]) - 1]?.bakeMinutes ?? 0;
      bands.push({
        from: t.at,
        to,
        bakeTo: Math.min(to, t.at + bakeMinutes * 60_000),
        label: `${d.candidateVariant} step ${step[1]}/${step[2]} · ${step[3]}%`,
      });
    });
  }
  return bands;
}

const short = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function chart(result: ScenarioResult, endpoint: string): string {
  const story = result.story;
  const deployments = (story?.deployments ?? []).filter((d) => d.endpoints.includes(endpoint));
  const gates = story?.gates[endpoint];
  const W = 960;
  const m = { l: 56, r: 24 };
  const pw = W - m.l - m.r;
  const labelsTop = 8;
  const labelRows = 2;
  const weightTop = labelsTop + labelRows * 14 + 6;
  const weightH = 170;
  const rateTop = weightTop + weightH + 22;
  const rateH = 130;
  const statusTop = rateTop + rateH + 22;
  const statusH = 18;
  const axisTop = statusTop + statusH + 14;
  const H = axisTop + 22;
  const tMax = Math.max(60, result.simulatedSeconds);
  const x = (ms: number) => m.l + (Math.min(ms / 1000, tMax) / tMax) * pw;
  const variants = [...new Set(result.samples.flatMap((s) => Object.keys(s.endpoints[endpoint] ?? {})))].sort(
    (a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')) || a.localeCompare(b),
  );
  const evidence = deployments.flatMap((d) =>
    d.transitions
      .filter((t) => gates !== undefined && t.from === 'Canary')
      .map((t) => ({ t, e: gateEvidence(t) }))
      .filter((p): p is { t: (typeof d.transitions)[number]; e: GateEvidence } => p.e !== undefined),
  );
  const maxRate = Math.max(
    0.02,
    (gates?.maxErrorRate ?? 0) * 1.5,
    ...result.samples.flatMap((s) => Object.values(s.endpoints[endpoint] ?? {}).map((v) => v.errorRate ?? 0)),
    ...evidence.map(({ e }) => e.candidateErrorRate ?? 0),
  );
  const yW = (w: number) => weightTop + weightH - (w / 100) * weightH;
  const yE = (r: number) => rateTop + rateH - (Math.min(r, maxRate) / maxRate) * rateH;
  const out: string[] = [];
  out.push(`<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(endpoint)}">`);

  // step and bake bands behind both panels
  for (const band of gates ? stepBands(deployments, gates, tMax * 1000) : []) {
    const x0 = x(band.from);
    out.push(
      `<g class="band"><title>${esc(band.label)}: bake until ${clockText(band.bakeTo)}</title><rect x="${x0}" y="${weightTop}" width="${Math.max(1, x(band.to) - x0)}" height="${rateTop + rateH - weightTop}" fill="#eef3fb"/><rect x="${x0}" y="${weightTop}" width="${Math.max(1, x(band.bakeTo) - x0)}" height="${rateTop + rateH - weightTop}" fill="#dbe6f6"/><text x="${x0 + 3}" y="${weightTop + 11}" class="band-label">${esc(band.label)}</text></g>`,
    );
  }

  // panel frames and axes
  out.push(`<rect x="${m.l}" y="${weightTop}" width="${pw}" height="${weightH}" fill="none" stroke="#ccc"/>`);
  out.push(`<rect x="${m.l}" y="${rateTop}" width="${pw}" height="${rateH}" fill="none" stroke="#ccc"/>`);
  for (const w of [0, 50, 100]) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${yW(w)}" y2="${yW(w)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${yW(w) + 4}" text-anchor="end" class="ax">${w}%</text>`);
  }
  for (const r of [0, maxRate / 2, maxRate]) {
    out.push(
      `<text x="${m.l - 6}" y="${yE(r) + 4}" text-anchor="end" class="ax">${(r * 100).toFixed(1)}%</text>`,
    );
  }
  out.push(`<text x="${m.l}" y="${weightTop - 4}" class="panel">traffic weight</text>`);
  out.push(
    `<text x="${m.l}" y="${rateTop - 6}" class="panel">5XX rate per minute · gate threshold · judge evidence</text>`,
  );
  out.push(`<text x="${m.l}" y="${statusTop - 5}" class="panel">endpoint status</text>`);
  const step = tMax > 4 * 3600 ? 3600 : tMax > 3600 ? 900 : 600;
  for (let t = 0; t <= tMax; t += step) {
    out.push(
      `<text x="${x(t * 1000)}" y="${axisTop + 4}" text-anchor="middle" class="ax">${clockText(t * 1000).slice(0, 5)}</text>`,
    );
  }
  out.push(
    `<text x="${m.l + pw}" y="${axisTop + 18}" text-anchor="end" class="ax">simulated time (hh:mm)</text>`,
  );

  // gate threshold(s)
  if (gates) {
    out.push(
      `<g class="gate"><title>gate: candidate 5XX rate above ${(gates.maxErrorRate * 100).toFixed(2)}% fails the step</title><line x1="${m.l}" x2="${m.l + pw}" y1="${yE(gates.maxErrorRate)}" y2="${yE(gates.maxErrorRate)}" stroke="${GATE_COLOUR}" stroke-dasharray="6 4"/><text x="${m.l + pw - 4}" y="${yE(gates.maxErrorRate) - 4}" text-anchor="end" class="gate-label">gate: max 5XX ${(gates.maxErrorRate * 100).toFixed(1)}%</text></g>`,
    );
  }

  // weights and rates, coloured by role, drawn only while the endpoint serves
  for (const variant of variants) {
    const weightRuns: Array<{ role: string; pts: string[] }> = [];
    const rateRuns: Array<{ role: string; pts: string[] }> = [];
    let prev: { y: number; role: string } | undefined;
    for (const s of result.samples) {
      const ms = s.t * 1000;
      const v = s.endpoints[endpoint]?.[variant];
      const serving = v !== undefined && SERVING.has(statusAt(story, endpoint, ms) ?? '');
      const role = roleAt(deployments, variant, ms);
      if (!serving) {
        prev = undefined;
        continue;
      }
      const xx = x(ms).toFixed(1);
      const yy = yW(v.weight);
      let run = weightRuns.at(-1);
      if (!prev || prev.role !== role || !run) {
        run = { role, pts: prev ? [`${xx},${prev.y.toFixed(1)}`] : [] };
        weightRuns.push(run);
      } else run.pts.push(`${xx},${prev.y.toFixed(1)}`);
      run.pts.push(`${xx},${yy.toFixed(1)}`);
      prev = { y: yy, role };
      const rateRun = rateRuns.at(-1);
      if (v.errorRate === null) rateRuns.push({ role, pts: [] });
      else if (!rateRun || rateRun.role !== role)
        rateRuns.push({ role, pts: [`${xx},${yE(v.errorRate).toFixed(1)}`] });
      else rateRun.pts.push(`${xx},${yE(v.errorRate).toFixed(1)}`);
    }
    for (const run of weightRuns.filter((r) => r.pts.length > 0)) {
      const colour = ROLE_COLOUR[run.role as keyof typeof ROLE_COLOUR];
      out.push(
        `<polyline class="weight ${run.role}" points="${run.pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2.5"><title>${esc(`${variant} (${run.role}) weight`)}</title></polyline>`,
      );
      const last = run.pts.at(-1)!.split(',');
      out.push(
        `<text x="${Number(last[0]) + 3}" y="${Number(last[1]) - 3}" class="vlabel" fill="${colour}">${esc(variant)}</text>`,
      );
    }
    for (const run of rateRuns.filter((r) => r.pts.length > 0)) {
      const colour = ROLE_COLOUR[run.role as keyof typeof ROLE_COLOUR];
      const title = `<title>${esc(`${variant} (${run.role}) 5XX rate`)}</title>`;
      if (run.pts.length === 1) {
        const [cx, cy] = run.pts[0]!.split(',');
        out.push(
          `<circle class="rate ${run.role}" cx="${cx}" cy="${cy}" r="3.5" fill="${colour}">${title}</circle>`,
        );
      } else {
        out.push(
          `<polyline class="rate ${run.role}" points="${run.pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.8">${title}</polyline>`,
        );
      }
    }
  }

  // the judge's evidence: the candidate's rate at each judgment, passed or failed
  for (const { t, e } of evidence) {
    if (e.candidateErrorRate === null) continue;
    const failed = t.to === 'RollingBack';
    const text = `${clockText(e.at)} judged: candidate ${(e.candidateErrorRate * 100).toFixed(2)}% of ${e.candidateInvocations} requests${e.baselineErrorRate !== null ? `, baseline ${(e.baselineErrorRate * 100).toFixed(2)}%` : ''}${e.alarms.length ? `, alarms ${e.alarms.join(', ')}` : ''}${e.evidence ? `, ${e.evidence}` : ''} → ${failed ? 'failed' : 'passed'}`;
    out.push(
      `<g class="evidence"><title>${esc(text)}</title><circle cx="${x(e.at)}" cy="${yE(e.candidateErrorRate)}" r="5" fill="${failed ? GATE_COLOUR : '#2e7d32'}" stroke="#fff"/></g>`,
    );
  }

  // labelled decisions (phase changes), staggered so neighbours do not overlap
  const shown = gates ? PROD_DECISIONS : QA_DECISIONS;
  const decisions = deployments
    .flatMap((d) => d.transitions.filter((t) => t.from !== t.to && shown.has(t.to)).map((t) => ({ d, t })))
    .sort((a, b) => a.t.at - b.t.at);
  const rowEnds = Array.from({ length: labelRows }, () => Number.NEGATIVE_INFINITY);
  decisions.forEach(({ d, t }) => {
    const xx = x(t.at);
    const label = short(`${d.candidateVariant} ${t.to}`, 22);
    const free = rowEnds.findIndex((end) => end < xx);
    const row = free >= 0 ? free : rowEnds.indexOf(Math.min(...rowEnds));
    rowEnds[row] = xx + label.length * 5.6 + 6;
    const bad = ['RolledBack', 'RollingBack', 'Failed', 'Aborted'].includes(t.to);
    out.push(
      `<g class="decision"><title>${esc(`${clockText(t.at)} ${d.id}: ${t.from ?? 'new'} → ${t.to}: ${t.reason}`)}</title><line x1="${xx}" x2="${xx}" y1="${labelsTop + row * 14 + 4}" y2="${rateTop + rateH}" stroke="${bad ? GATE_COLOUR : '#999'}" stroke-dasharray="2 3"/><text x="${xx + 2}" y="${labelsTop + row * 14 + 10}" class="dlabel"${bad ? ` fill="${GATE_COLOUR}"` : ''}>${esc(label)}</text></g>`,
    );
  });

  // endpoint status along the time axis
  const changes = (story?.endpointStatus ?? []).filter((c) => c.endpoint === endpoint);
  changes.forEach((c, i) => {
    const x0 = x(c.at);
    const x1 = x(changes[i + 1]?.at ?? tMax * 1000);
    out.push(
      `<g class="status"><title>${esc(`${clockText(c.at)} ${endpoint} ${c.status}`)}</title><rect x="${x0}" y="${statusTop}" width="${Math.max(1, x1 - x0)}" height="${statusH}" fill="${STATUS_COLOUR[c.status] ?? '#ddd'}"/>${x1 - x0 > 60 ? `<text x="${x0 + 3}" y="${statusTop + 13}" class="slabel">${esc(c.status)}</text>` : ''}</g>`,
    );
  });
  out.push(`<rect x="${m.l}" y="${statusTop}" width="${pw}" height="${statusH}" fill="none" stroke="#ccc"/>`);
  out.push('</svg>');

  const key = (colour: string, text: string, cls = 'sw') =>
    `<span class="key"><span class="${cls}" style="background:${colour}"></span>${esc(text)}</span>`;
  const legend = [
    key(ROLE_COLOUR.baseline, 'baseline (the version serving)'),
    key(ROLE_COLOUR.candidate, 'candidate (the version on trial)'),
    key(GATE_COLOUR, 'gate threshold', 'dash'),
    key('#2e7d32', 'judged: passed', 'dot'),
    key(GATE_COLOUR, 'judged: failed', 'dot'),
    key('#dbe6f6', 'bake'),
    key('#eef3fb', 'rest of the step'),
    ...Object.entries(STATUS_COLOUR).map(([status, colour]) => key(colour, status)),
  ].join(' ');
  return `<figure class="chart" data-endpoint="${esc(endpoint)}"><figcaption>${esc(endpoint)}</figcaption>${out.join('')}<div class="legend">${legend}</div></figure>`;
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
.ax{font-size:11px;fill:#666}.panel{font-size:12px;fill:#333;font-weight:600}.legend{font-size:12px;margin:4px 0 12px;line-height:1.9}.key{margin-right:12px;white-space:nowrap}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-2px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:-1px}
.dash{display:inline-block;width:16px;height:2px;margin-right:4px;vertical-align:3px}
.band-label{font-size:10px;fill:#3b5b8a}.gate-label{font-size:11px;fill:#c62828}.dlabel{font-size:10px;fill:#555}
.vlabel{font-size:11px;font-weight:600}.slabel{font-size:10px;fill:#222}figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:4px}
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
