import { type ChartLayout, NARROW, timeAxis, WIDE } from './report-chart';
import { labelWidth } from './report-labels';
import type { LaneMarker, LaneOutcome, LaneSegment, StageLane } from './report-lanes';
import { esc } from './report-style';
import { clockText } from './scenario-runner';

/** A version keeps its colour in every lane (v1 blue, v2 orange...), so a version's way through the stages shows. */
const VERSION_FILL = ['#aecde8', '#ffd2a6', '#b9e0b4', '#d9c4ec', '#f5b8b8', '#e9dfa5', '#b8e3e0', '#f3c6e2'];
export const versionFill = (variant: string): string => {
  const n = Number(/\d+/.exec(variant)?.[0] ?? 0);
  return VERSION_FILL[(Math.max(1, n) - 1) % VERSION_FILL.length]!;
};

export const OUTCOME_MARK: Record<LaneOutcome, { colour: string; path: (cx: number, cy: number) => string }> =
  {
    promoted: { colour: '#2e7d32', path: (x, y) => `M${x - 5} ${y + 4}L${x} ${y - 5}L${x + 5} ${y + 4}Z` },
    restored: {
      colour: '#1f6fb4',
      path: (x, y) => `M${x} ${y - 5}L${x + 5} ${y}L${x} ${y + 5}L${x - 5} ${y}Z`,
    },
    'rolled back': {
      colour: '#c62828',
      path: (x, y) => `M${x - 5} ${y - 4}L${x + 5} ${y - 4}L${x} ${y + 5}Z`,
    },
    failed: {
      colour: '#c62828',
      path: (x, y) => `M${x - 4} ${y - 4}L${x + 4} ${y + 4}M${x + 4} ${y - 4}L${x - 4} ${y + 4}`,
    },
  };
/** room for a marker's glyph either side of its moment */
const MARK_HALF = 6;
const GAP = 6;

const pct = (percent: number): string => `${percent}%`;

/** A segment's label, the longest that fits: every share, else the smaller share's, else the version. */
export const segmentLabels = (serving: LaneSegment['serving']): string[] => {
  const [major, ...minor] = serving;
  if (!major) return [];
  if (minor.length === 0) return [major.variant];
  const smaller = minor.at(-1)!;
  return [
    serving.map((s) => `${s.variant} ${pct(s.percent)}`).join(' · '),
    `${smaller.variant} ${pct(smaller.percent)}`,
    smaller.variant,
  ];
};

const laneName = (lane: StageLane): string =>
  `${lane.stage} · ${lane.endpoint}${lane.elsewhere ? ` (${lane.region})` : ''}`;

/** Text cut to a width, with an ellipsis (the full text is in the lane's title). */
const fitted = (text: string, width: number, font: number): string => {
  if (labelWidth(text, font) <= width) return text;
  let cut = text;
  while (cut.length > 1 && labelWidth(`${cut}…`, font) > width) cut = cut.slice(0, -1);
  return `${cut}…`;
};

/**
 * Markers in rows above their lane, each a glyph at its moment and its words ("v2 rolled back")
 * after it, or before it where they would leave the chart; a marker that would touch another takes
 * the next row.
 */
export const placeMarkers = (
  markers: LaneMarker[],
  x: (ms: number) => number,
  area: { left: number; right: number; font: number },
): Array<LaneMarker & { x: number; text: string; textX: number; row: number; from: number; to: number }> => {
  const rowEnds: number[] = [];
  return markers.map((m) => {
    const at = x(m.at);
    const text = `${m.version} ${m.outcome}`.trim();
    const width = labelWidth(text, area.font);
    const after = at + MARK_HALF + 2;
    const before = at - MARK_HALF - 2 - width;
    // neither side has room: as near as the plot allows
    const textX =
      after + width <= area.right
        ? after
        : before >= area.left
          ? before
          : Math.max(area.left, area.right - width);
    const from = Math.min(at - MARK_HALF, textX);
    const to = Math.max(at + MARK_HALF, textX + width);
    let row = rowEnds.findIndex((end) => end + GAP <= from);
    if (row < 0) row = rowEnds.push(0) - 1;
    rowEnds[row] = to;
    return { ...m, x: at, text, textX, row, from, to };
  });
};

export function lanesSvg(lanes: StageLane[], simulatedSeconds: number, layout: ChartLayout): string {
  const f = layout.font;
  const W = layout.width;
  const left = layout.left;
  const pw = W - left - layout.right;
  const tMax = Math.max(60, simulatedSeconds);
  const tEnd = tMax * 1000;
  const x = (ms: number) => left + (Math.min(ms / 1000, tMax) / tMax) * pw;
  const barH = 2 * f + 4;
  const markRowH = f + 6;
  const out: string[] = [];
  let y = 4;
  for (const lane of lanes) {
    const marks = placeMarkers(lane.markers, x, { left: 2, right: W - 2, font: f });
    const rows = Math.max(1, ...marks.map((m) => m.row + 1));
    const nameY = y + f;
    const barTop = nameY + 4 + rows * markRowH;
    const region = lane.elsewhere ? `, in ${lane.region}` : '';
    out.push(
      `<g class="lane" data-stage="${esc(lane.stage)}"><title>${esc(`${lane.group} ${lane.stage}: ${lane.endpoint}${region}`)}</title><text x="${left}" y="${nameY}" class="lane-name">${esc(fitted(laneName(lane), pw, f))}</text>`,
      `<rect x="${left}" y="${barTop}" width="${pw}" height="${barH}" fill="#f6f6f6" stroke="#ccc"/>`,
    );
    if (lane.segments.length === 0)
      out.push(
        `<text x="${left + 4}" y="${barTop + barH / 2 + f / 2 - 1}" class="lane-empty">nothing served</text>`,
      );
    for (const s of lane.segments) out.push(segmentSvg(s, x, tEnd, barTop, barH, f, layout.name));
    // the upper rows first: a marker's line runs down through the rows below it, under their words
    for (const m of [...marks].sort((a, b) => b.row - a.row)) {
      const cy = nameY + 4 + (rows - m.row - 0.5) * markRowH;
      const mark = OUTCOME_MARK[m.outcome];
      const title = `${clockText(m.at)} ${m.version} ${m.outcome} in ${lane.stage} (${m.region}), ${m.deploymentId}${m.reason ? `: ${m.reason}` : ''}`;
      out.push(
        `<g class="marker ${m.outcome.replace(' ', '-')}"><title>${esc(title)}</title><line x1="${m.x}" x2="${m.x}" y1="${cy}" y2="${barTop + barH}" stroke="${mark.colour}" stroke-width="1.5"/><path d="${mark.path(m.x, cy)}" fill="${mark.colour}" stroke="${mark.colour}" stroke-width="${m.outcome === 'failed' ? 2.5 : 1}"/><text x="${m.textX}" y="${cy + f / 2 - 1}" class="mark-label" fill="${mark.colour}" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(m.text)}</text></g>`,
      );
    }
    out.push('</g>');
    y = barTop + barH + 10;
  }
  const axisTop = y + f;
  const H = axisTop + 2 * f + 8;
  timeAxis(out, layout, tMax, x, axisTop);
  return `<svg class="${layout.name}" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="stages"><defs><pattern id="lane-hatch-${layout.name}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2" opacity="0.8"/></pattern></defs>${out.join('')}</svg>`;
}

/** One segment: the larger share fills the bar, each smaller one a hatched band along its bottom. */
function segmentSvg(
  s: LaneSegment,
  x: (ms: number) => number,
  tEnd: number,
  top: number,
  height: number,
  f: number,
  layout: ChartLayout['name'],
): string {
  const x0 = x(s.from);
  const w = Math.max(1, x(s.to ?? tEnd) - x0);
  const parts: string[] = [];
  let bottom = top + height;
  for (const v of s.serving.slice(1).reverse()) {
    const h = Math.max(4, (v.percent / 100) * height);
    bottom -= h;
    parts.push(
      `<rect class="share" x="${x0}" y="${bottom}" width="${w}" height="${h}" fill="${versionFill(v.variant)}"/><rect x="${x0}" y="${bottom}" width="${w}" height="${h}" fill="url(#lane-hatch-${layout})"/>`,
    );
  }
  const major = s.serving[0]!;
  const label = segmentLabels(s.serving).find((text) => labelWidth(text, f) <= w - 8);
  const shares = s.serving.map((v) => `${v.variant} ${pct(v.percent)}`).join(', ');
  const title = `${clockText(s.from)} to ${s.to === undefined ? 'the end' : clockText(s.to)}: ${shares} (endpoint ${s.status})`;
  return `<g class="segment"><title>${esc(title)}</title><rect class="major" x="${x0}" y="${top}" width="${w}" height="${bottom - top}" fill="${versionFill(major.variant)}"/>${parts.join('')}<rect x="${x0}" y="${top}" width="${w}" height="${height}" fill="none" stroke="#fff"/>${label ? `<text x="${x0 + 4}" y="${top + height / 2 + f / 2 - 1}" class="lane-label">${esc(label)}</text>` : ''}</g>`;
}

/** The stages above a scenario's charts, at both widths, with their key. */
export function lanesFigure(lanes: StageLane[], simulatedSeconds: number): string {
  if (lanes.length === 0) return '';
  const key = (swatch: string, text: string) => `<span class="key">${swatch}${esc(text)}</span>`;
  const versions = [
    ...new Set(lanes.flatMap((l) => l.segments.flatMap((s) => s.serving.map((v) => v.variant)))),
  ].sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')) || a.localeCompare(b));
  const keys = versions.map((v) =>
    key(`<span class="sw" style="background:${versionFill(v)}"></span>`, `${v} serves`),
  );
  if (lanes.some((l) => l.segments.some((s) => s.serving.length > 1)))
    keys.push(key('', 'hatched: the smaller share of a split'));
  const outcomes = new Set(lanes.flatMap((l) => l.markers.map((m) => m.outcome)));
  for (const outcome of Object.keys(OUTCOME_MARK) as LaneOutcome[])
    if (outcomes.has(outcome)) {
      const mark = OUTCOME_MARK[outcome];
      keys.push(
        key(
          `<svg class="mark" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true"><path d="${mark.path(6, 6)}" fill="${mark.colour}" stroke="${mark.colour}" stroke-width="${outcome === 'failed' ? 2 : 1}"/></svg>`,
          outcome,
        ),
      );
    }
  return `<figure class="lanes"><figcaption>stages: what each stage’s endpoint served</figcaption>${lanesSvg(lanes, simulatedSeconds, WIDE)}${lanesSvg(lanes, simulatedSeconds, NARROW)}<div class="legend">${keys.join(' ')}</div></figure>`;
}
