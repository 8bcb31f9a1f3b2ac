import { type Band, phaseBands } from './report-bands';
import type { ReportStory } from './report-data';
import { drawEvidence } from './report-evidence';
import { type JudgedSegment, judgedSegments, segmentText, TESTS } from './report-judge';
import { type LabelRequest, labelWidth, placeLabels } from './report-labels';
import { ALARM_COLOUR, BAD, BAND, esc, ROLE_COLOUR, STATUS_COLOUR } from './report-style';
import { clockText, type ScenarioResult } from './scenario-runner';

/** A chart is drawn twice: for wide screens and for phones, each with text that stays legible. */
export interface ChartLayout {
  name: 'wide' | 'narrow';
  width: number;
  left: number;
  right: number;
  font: number;
  /** time-axis ticks to aim for */
  ticks: number;
}
export const WIDE: ChartLayout = { name: 'wide', width: 960, left: 60, right: 16, font: 11, ticks: 12 };
export const NARROW: ChartLayout = { name: 'narrow', width: 400, left: 50, right: 8, font: 13, ticks: 4 };

type Story = ReportStory;
type DeploymentStory = Story['deployments'][number];
type Gates = Story['gates'][string];

const TERMINAL = new Set(['Succeeded', 'RolledBack', 'Failed', 'Aborted', 'Superseded']);
const PROD_DECISIONS = new Set([
  'ProdDeploying',
  'Shadow',
  'Canary',
  'Promoting',
  'RollingBack',
  ...TERMINAL,
]);
const QA_DECISIONS = new Set(['QaDeploying', 'AwaitingApproval', 'ReadyForProd', ...TERMINAL]);
const BAD_ENDINGS = new Set(['RolledBack', 'RollingBack', 'Failed', 'Aborted']);
const SERVING = new Set(['InService', 'Updating', 'SystemUpdating', 'RollingBack']);

/** When a deployment was in flight: from its first transition to its terminal one (ms since start). */
const inFlight = (d: DeploymentStory): [number, number] => [
  d.transitions[0]?.at ?? 0,
  d.transitions.find((t) => TERMINAL.has(t.to))?.at ?? Number.POSITIVE_INFINITY,
];

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

/** Everything one chart shows, computed once and drawn at both widths. */
export interface ChartData {
  result: ScenarioResult;
  endpoint: string;
  story: Story | undefined;
  deployments: DeploymentStory[];
  gates: Gates | undefined;
  segments: JudgedSegment[];
  bands: Band[];
  alarms: Story['alarms'];
  latencyDecided: boolean;
}

export function chartData(result: ScenarioResult, endpoint: string): ChartData {
  const story = result.story;
  const deployments = (story?.deployments ?? []).filter((d) => d.endpoints.includes(endpoint));
  const gates = story?.gates[endpoint];
  const segments = gates ? judgedSegments(deployments) : [];
  return {
    result,
    endpoint,
    story,
    deployments,
    gates,
    segments,
    bands: gates ? phaseBands(deployments, gates, result.simulatedSeconds * 1000) : [],
    alarms: gates ? (story?.alarms ?? []).filter((a) => gates.alarms.includes(a.name)) : [],
    latencyDecided: segments.some((s) => s.fired.includes('latency')),
  };
}

export function chartSvg(c: ChartData, layout: ChartLayout): string {
  const { result, endpoint, story, deployments, gates } = c;
  const W = layout.width;
  const f = layout.font;
  const left = layout.left;
  const pw = W - left - layout.right;
  const tMax = Math.max(60, result.simulatedSeconds);
  const x = (ms: number) => left + (Math.min(ms / 1000, tMax) / tMax) * pw;

  // labels above the panels: decisions and bake extensions, in as many rows as they need
  const requests: Array<LabelRequest & { kind: 'decision' | 'extension'; title: string; bad: boolean }> = [];
  const shown = gates ? PROD_DECISIONS : QA_DECISIONS;
  for (const d of deployments)
    for (const t of d.transitions)
      if (t.from !== t.to && shown.has(t.to))
        requests.push({
          kind: 'decision',
          x: x(t.at),
          text: `${d.candidateVariant} ${t.to}`,
          title: `${clockText(t.at)} ${d.id}: ${t.from ?? 'new'} → ${t.to}: ${t.reason}`,
          bad: BAD_ENDINGS.has(t.to),
        });
  for (const band of c.bands)
    for (const e of band.extensions)
      requests.push({
        kind: 'extension',
        x: x(e.from),
        text: e.label,
        title: `${clockText(e.from)} ${band.label}: ${e.label} until ${clockText(e.to)}`,
        bad: false,
      });
  const rowH = f + 5;
  const { labels, rows } = placeLabels(requests, { left: 2, right: W - 2, fontSize: f });

  // panels, top to bottom
  const out: string[] = [];
  let y = 6 + rows * rowH + 8;
  const panel = (height: number) => {
    const top = y + f + 12;
    y = top + height;
    return { top, height, bottom: top + height };
  };
  const weightP = panel(layout.name === 'wide' ? 150 : 130);
  const rateP = panel(layout.name === 'wide' ? 110 : 100);
  const latencyP = c.latencyDecided ? panel(layout.name === 'wide' ? 110 : 100) : undefined;
  const evidenceP = c.segments.length > 0 ? panel(layout.name === 'wide' ? 120 : 110) : undefined;
  const bandsBottom = y;
  y += 8;
  const alarmNames = [...new Set(c.alarms.map((a) => a.name))];
  const alarmTop = y + (alarmNames.length > 0 ? f + 6 : 0);
  const alarmRowH = f + 8;
  y = alarmTop + alarmNames.length * alarmRowH;
  const statusP = panel(f + 8);
  const axisTop = y + f + 4;
  const H = axisTop + 2 * f + 8;
  out.push(
    `<svg class="${layout.name}" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(endpoint)}">`,
  );
  const panelTitle = (p: { top: number }, text: string, cls = 'panel') =>
    out.push(`<text x="${left}" y="${p.top - 5}" class="${cls}">${esc(text)}</text>`);

  // bands behind every time panel: steps, bakes, the shadow phase and each extension
  for (const band of c.bands) {
    const x0 = x(band.from);
    const h = bandsBottom - weightP.top;
    const fits = labelWidth(band.label, f - 1) < x(band.to) - x0 - 4;
    out.push(
      `<g class="band ${band.kind}"><title>${esc(`${band.label}: ${clockText(band.from)} to ${clockText(band.to)}, bake until ${clockText(band.bakeTo)}`)}</title><rect x="${x0}" y="${weightP.top}" width="${Math.max(1, x(band.to) - x0)}" height="${h}" fill="${band.kind === 'shadow' ? BAND.shadow : BAND.step}"/><rect x="${x0}" y="${weightP.top}" width="${Math.max(1, x(band.bakeTo) - x0)}" height="${h}" fill="${band.kind === 'shadow' ? BAND.shadow : BAND.bake}"/>${fits ? `<text x="${x0 + 3}" y="${weightP.top + f}" class="band-label">${esc(band.label)}</text>` : ''}</g>`,
    );
    for (const e of band.extensions) {
      out.push(
        `<g class="extension"><title>${esc(`${band.label}: ${e.label}, ${clockText(e.from)} to ${clockText(e.to)}`)}</title><rect x="${x(e.from)}" y="${weightP.top}" width="${Math.max(1, x(e.to) - x(e.from))}" height="${h}" fill="url(#ext-${layout.name})"/></g>`,
      );
    }
  }
  out.push(
    `<defs><pattern id="ext-${layout.name}" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="${BAND.extension}"/><line x1="0" y1="0" x2="0" y2="8" stroke="#e9b949" stroke-width="3"/></pattern></defs>`,
  );

  // frames, titles and the time axis
  for (const p of [weightP, rateP, latencyP, evidenceP, statusP])
    if (p)
      out.push(
        `<rect x="${left}" y="${p.top}" width="${pw}" height="${p.height}" fill="none" stroke="#ccc"/>`,
      );
  panelTitle(weightP, 'traffic weight');
  const wide = layout.name === 'wide';
  panelTitle(
    rateP,
    wide
      ? '5XX rate per minute, as observed (the judge decides on the evidence below)'
      : '5XX rate per minute (observed)',
  );
  panelTitle(statusP, 'endpoint status');
  timeAxis(out, layout, tMax, x, axisTop);

  const yW = (w: number) => weightP.bottom - (w / 100) * weightP.height;
  for (const w of [0, 50, 100]) {
    out.push(`<line x1="${left}" x2="${left + pw}" y1="${yW(w)}" y2="${yW(w)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 4}" y="${yW(w) + 4}" text-anchor="end" class="ax">${w}%</text>`);
  }

  // per-minute series by variant and role, drawn only while the endpoint serves
  const variants = [...new Set(result.samples.flatMap((s) => Object.keys(s.endpoints[endpoint] ?? {})))].sort(
    (a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')) || a.localeCompare(b),
  );
  const maxRate = Math.max(
    0.02,
    ...result.samples.flatMap((s) => Object.values(s.endpoints[endpoint] ?? {}).map((v) => v.errorRate ?? 0)),
  );
  const yE = (r: number) => rateP.bottom - (Math.min(r, maxRate) / maxRate) * rateP.height;
  for (const r of [0, maxRate / 2, maxRate])
    out.push(
      `<text x="${left - 4}" y="${yE(r) + 4}" text-anchor="end" class="ax">${(r * 100).toFixed(1)}%</text>`,
    );
  const maxLatency = Math.max(
    1,
    ...result.samples.flatMap((s) => Object.values(s.endpoints[endpoint] ?? {}).map((v) => v.latencyMs ?? 0)),
  );
  const tolerated = gates?.maxLatencyRatio ?? 1;
  const latTop = maxLatency * 1.1;
  const yL = (ms: number) =>
    latencyP ? latencyP.bottom - (Math.min(ms, latTop) / latTop) * latencyP.height : 0;
  if (latencyP && gates) {
    panelTitle(
      latencyP,
      wide
        ? `${gates.latencyStatistic} latency per minute (ms) · dashed: tolerated, ${tolerated}× the baseline’s`
        : `${gates.latencyStatistic} latency (ms) · tolerated ${tolerated}×`,
    );
    for (const ms of [0, latTop / 2, latTop])
      out.push(
        `<text x="${left - 4}" y="${yL(ms) + 4}" text-anchor="end" class="ax">${Math.round(ms)}</text>`,
      );
  }

  type Run = { role: 'baseline' | 'candidate'; shadow: boolean; pts: string[] };
  const variantLabels: Array<{ x: number; y: number; width: number }> = [];
  const tolerance: string[][] = [];
  for (const variant of variants) {
    const series = { weight: [] as Run[], rate: [] as Run[], latency: [] as Run[] };
    const extend = (runs: Run[], role: Run['role'], shadow: boolean, point: string | undefined) => {
      const last = runs.at(-1);
      if (point === undefined) {
        if (last && last.pts.length > 0) runs.push({ role, shadow, pts: [] });
        return;
      }
      if (!last || last.role !== role || last.shadow !== shadow) runs.push({ role, shadow, pts: [point] });
      else last.pts.push(point);
    };
    let prevWeightY: number | undefined;
    for (const s of result.samples) {
      const ms = s.t * 1000;
      const v = s.endpoints[endpoint]?.[variant];
      const serving = v !== undefined && SERVING.has(statusAt(story, endpoint, ms) ?? '');
      const role = roleAt(deployments, variant, ms);
      if (!serving) {
        for (const runs of Object.values(series)) extend(runs, role, false, undefined);
        prevWeightY = undefined;
        continue;
      }
      const shadow = v.shadow === true;
      const xx = x(ms).toFixed(1);
      // a shadow variant takes no user traffic: its weight only sets the share of copies it gets
      const wy = yW(shadow ? 0 : v.weight).toFixed(1);
      const runs = series.weight;
      const last = runs.at(-1);
      if (
        last &&
        last.role === role &&
        last.shadow === shadow &&
        last.pts.length > 0 &&
        prevWeightY !== undefined
      )
        last.pts.push(`${xx},${prevWeightY.toFixed(1)}`);
      extend(runs, role, shadow, `${xx},${wy}`);
      prevWeightY = Number(wy);
      extend(
        series.rate,
        role,
        shadow,
        v.errorRate === null ? undefined : `${xx},${yE(v.errorRate).toFixed(1)}`,
      );
      if (latencyP)
        extend(
          series.latency,
          role,
          shadow,
          v.latencyMs == null ? undefined : `${xx},${yL(v.latencyMs).toFixed(1)}`,
        );
    }
    const draw = (kind: 'weight' | 'rate' | 'latency', runs: Run[], what: string) => {
      for (const run of runs.filter((r) => r.pts.length > 0)) {
        const colour = ROLE_COLOUR[run.role];
        const cls = `${kind} ${run.role}${run.shadow ? ' shadow' : ''}`;
        const title = `<title>${esc(`${variant} (${run.role}${run.shadow ? ', shadow: answers copies of requests, nobody reads them' : ''}) ${what}`)}</title>`;
        const dash = run.shadow ? ' stroke-dasharray="5 3"' : '';
        if (run.pts.length === 1) {
          const [cx, cy] = run.pts[0]!.split(',');
          out.push(`<circle class="${cls}" cx="${cx}" cy="${cy}" r="3" fill="${colour}">${title}</circle>`);
        } else
          out.push(
            `<polyline class="${cls}" points="${run.pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="${kind === 'weight' ? 2.5 : 1.8}"${dash}>${title}</polyline>`,
          );
        if (kind === 'weight') {
          const [lx, ly] = run.pts.at(-1)!.split(',').map(Number) as [number, number];
          const text = run.shadow ? `${variant} shadow` : variant;
          const width = labelWidth(text, f * 1.1);
          const tx = Math.min(lx + 3, W - 2 - width);
          // a name that would sit on another one moves up a line, or down when at the top
          let ty = ly - 3;
          // a text box is about 1.3 times its font size high
          const lineH = Math.ceil(f * 1.35);
          const clash = () =>
            variantLabels.some((o) => tx < o.x + o.width && o.x < tx + width && Math.abs(ty - o.y) < lineH);
          const step = ty - lineH - f < weightP.top ? lineH : -lineH;
          for (let tries = 0; clash() && tries < 6; tries++) ty += step;
          variantLabels.push({ x: tx, y: ty, width });
          out.push(`<text x="${tx}" y="${ty}" class="vlabel" fill="${colour}">${esc(text)}</text>`);
        }
      }
    };
    draw('weight', series.weight, 'weight');
    draw('rate', series.rate, '5XX rate');
    if (latencyP) draw('latency', series.latency, `${gates?.latencyStatistic} latency`);
  }
  // the tolerated latency: the baseline's minute times maxLatencyRatio
  if (latencyP) {
    for (const s of result.samples) {
      const ms = s.t * 1000;
      const baseline = Object.entries(s.endpoints[endpoint] ?? {}).find(
        ([name, v]) => !v.shadow && roleAt(deployments, name, ms) === 'baseline',
      )?.[1];
      const candidateServes = deployments.some((d) => {
        const [from, to] = inFlight(d);
        return ms >= from && ms < to && s.endpoints[endpoint]?.[d.candidateVariant] !== undefined;
      });
      if (!candidateServes || baseline?.latencyMs == null) {
        if ((tolerance.at(-1)?.length ?? 0) > 0) tolerance.push([]);
        continue;
      }
      if (tolerance.length === 0) tolerance.push([]);
      tolerance.at(-1)!.push(`${x(ms).toFixed(1)},${yL(baseline.latencyMs * tolerated).toFixed(1)}`);
    }
    for (const pts of tolerance.filter((p) => p.length > 1))
      out.push(
        `<polyline class="tolerated" points="${pts.join(' ')}" fill="none" stroke="${BAD}" stroke-dasharray="6 4"><title>tolerated: ${tolerated}× the baseline’s ${gates?.latencyStatistic}</title></polyline>`,
      );
  }

  if (evidenceP) drawEvidence(out, c, evidenceP, x, left, pw, wide);

  // alarms in ALARM as spans, one row per alarm
  if (alarmNames.length > 0)
    out.push(`<text x="${left}" y="${alarmTop - 5}" class="panel">alarms in ALARM</text>`);
  alarmNames.forEach((name, i) => {
    const top = alarmTop + i * alarmRowH;
    out.push(
      `<rect x="${left}" y="${top}" width="${pw}" height="${alarmRowH - 3}" fill="#fafafa" stroke="#ccc"/>`,
    );
    for (const a of c.alarms.filter((s) => s.name === name)) {
      const x0 = x(a.from);
      const x1 = x(a.to ?? tMax * 1000);
      const inside = labelWidth(name, f - 1) < x1 - x0 - 4;
      const tx = inside ? x0 + 3 : Math.max(left + 2, x0 - 3 - labelWidth(name, f - 1));
      out.push(
        `<g class="alarm"><title>${esc(`${name} in ALARM from ${clockText(a.from)}${a.to !== undefined ? ` to ${clockText(a.to)}` : ' to the end'}`)}</title><rect x="${x0}" y="${top}" width="${Math.max(2, x1 - x0)}" height="${alarmRowH - 3}" fill="${ALARM_COLOUR}" opacity="0.85"/><text x="${tx}" y="${top + alarmRowH - 7}" class="alabel"${inside ? ' fill="#fff"' : ''}>${esc(name)}</text></g>`,
      );
    }
  });

  // endpoint status along the time axis
  const changes = (story?.endpointStatus ?? []).filter((s) => s.endpoint === endpoint);
  changes.forEach((s, i) => {
    const x0 = x(s.at);
    const x1 = x(changes[i + 1]?.at ?? tMax * 1000);
    out.push(
      `<g class="status"><title>${esc(`${clockText(s.at)} ${endpoint} ${s.status}`)}</title><rect x="${x0}" y="${statusP.top}" width="${Math.max(1, x1 - x0)}" height="${statusP.height}" fill="${STATUS_COLOUR[s.status] ?? '#ddd'}"/>${x1 - x0 > labelWidth(s.status, f - 1) + 6 ? `<text x="${x0 + 3}" y="${statusP.top + f + 1}" class="slabel">${esc(s.status)}</text>` : ''}</g>`,
    );
  });

  // the labels last, over everything, each with a leader down to its moment
  for (const l of labels) {
    const r = l;
    const ty = 6 + l.row * rowH + f;
    const colour = r.kind === 'extension' ? '#9a6b00' : r.bad ? BAD : '#555';
    out.push(
      `<g class="${r.kind === 'extension' ? 'extension-label' : 'decision'}"><title>${esc(r.title)}</title><line x1="${l.x}" x2="${l.x}" y1="${ty + 3}" y2="${bandsBottom}" stroke="${colour}" stroke-dasharray="2 3"/><text x="${l.textX}" y="${ty}" class="dlabel" fill="${colour}">${esc(l.text)}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

/** The simulated time along the bottom: hh:mm ticks and the axis title, `axisTop` below the panels. */
export function timeAxis(
  out: string[],
  layout: ChartLayout,
  tMax: number,
  x: (ms: number) => number,
  axisTop: number,
): void {
  const f = layout.font;
  const span = tMax / layout.ticks;
  const tickEvery = [300, 600, 900, 1800, 3600, 7200].find((s) => s >= span) ?? 7200;
  for (let t = 0; t <= tMax; t += tickEvery) {
    // a tick whose label would stick out of the chart is left out (the axis title says the unit)
    if (x(t * 1000) + labelWidth('00:00', f) / 2 > layout.width - 1) continue;
    out.push(
      `<text x="${x(t * 1000)}" y="${axisTop + 4}" text-anchor="middle" class="ax">${clockText(t * 1000).slice(0, 5)}</text>`,
    );
  }
  out.push(
    `<text x="${layout.width - layout.right}" y="${axisTop + f + 8}" text-anchor="end" class="ax">simulated time (hh:mm)</text>`,
  );
}

/** The legend and the judge's sentence per phase, in HTML so they wrap on any screen. */
export function chartFigure(c: ChartData): string {
  const key = (colour: string, text: string, cls = 'sw') =>
    `<span class="key"><span class="${cls}" style="background:${colour}"></span>${esc(text)}</span>`;
  const keys = [
    key(ROLE_COLOUR.baseline, 'baseline (the version serving)'),
    key(ROLE_COLOUR.candidate, 'candidate (the version on trial; dashed: shadow)'),
  ];
  if (c.bands.length > 0) keys.push(key(BAND.bake, 'bake'), key(BAND.step, 'rest of the step'));
  if (c.bands.some((b) => b.kind === 'shadow')) keys.push(key(BAND.shadow, 'shadow phase'));
  if (c.bands.some((b) => b.extensions.length > 0))
    keys.push(key(BAND.extension, 'bake extended (not yet judged)'));
  if (c.latencyDecided) keys.push(key(BAD, 'tolerated latency', 'dash'));
  for (const k of new Set(c.segments.flatMap((s) => s.drawn)))
    keys.push(key(TESTS[k].colour, `evidence: “${TESTS[k].name}” (dashed: its limit)`, 'dash'));
  if (c.segments.length > 0)
    keys.push(
      key('#2e7d32', 'judged: passed', 'dot'),
      key('#e9b949', 'judged: bake extended', 'dot'),
      key(BAD, 'judged: failed', 'dot'),
    );
  if (c.alarms.length > 0) keys.push(key(ALARM_COLOUR, 'alarm in ALARM'));
  keys.push(...Object.entries(STATUS_COLOUR).map(([status, colour]) => key(colour, status)));
  const judged = c.segments.length
    ? `<ul class="judged">${c.segments.map((s) => `<li>${esc(segmentText(s))}</li>`).join('')}</ul>`
    : '';
  return `<figure class="chart" data-endpoint="${esc(c.endpoint)}"><figcaption>${esc(c.endpoint)}</figcaption>${chartSvg(c, WIDE)}${chartSvg(c, NARROW)}<div class="legend">${keys.join(' ')}</div>${judged}</figure>`;
}
