import type { ChartData } from './report-chart';
import { TESTS, type TestName } from './report-judge';
import { BAD, esc } from './report-style';
import { clockText } from './scenario-runner';

const logTicks = (lo: number, hi: number, most: number): number[] => {
  const every = Math.max(1, Math.ceil((hi - lo) / most));
  const out: number[] = [];
  for (let p = lo; p <= hi; p += every) out.push(p);
  return out;
};
const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** An axis tick of odds: 0.01, 1, 100, 10⁴ (the panel title says they are N:1). */
const oddsTick = (power: number): string =>
  power >= 4
    ? `10${[...String(power)].map((d) => SUPERSCRIPT[Number(d)]).join('')}`
    : power < 0
      ? (10 ** power).toFixed(-power)
      : String(10 ** power);

export /** The judge's evidence for each judged phase: the tests that decided, against their limits (log scale). */
function drawEvidence(
  out: string[],
  c: ChartData,
  p: { top: number; height: number; bottom: number },
  x: (ms: number) => number,
  left: number,
  pw: number,
  wide: boolean,
): void {
  const values = c.segments.flatMap((s) =>
    s.judgments.flatMap((j) =>
      s.drawn.flatMap((k) => [TESTS[k].value(j.evidence), TESTS[k].limit(j.evidence)]),
    ),
  );
  const lo = -2;
  const hi = Math.max(2, Math.ceil(Math.log10(Math.max(...values) * 2)));
  const yV = (odds: number) => {
    const power = Math.max(lo, Math.min(hi, Math.log10(Math.max(odds, 10 ** lo))));
    return p.bottom - ((power - lo) / (hi - lo)) * p.height;
  };
  out.push(
    `<text x="${left}" y="${p.top - 5}" class="panel">${wide ? 'judge’s evidence against the candidate (N:1, log scale) · dashed: the limit that ends the phase' : 'judge’s evidence (N:1) vs its limit'}</text>`,
  );
  for (const power of logTicks(lo, hi, 4))
    out.push(
      `<line x1="${left}" x2="${left + pw}" y1="${yV(10 ** power)}" y2="${yV(10 ** power)}" stroke="#eee"/><text x="${left - 4}" y="${yV(10 ** power) + 4}" text-anchor="end" class="ax">${oddsTick(power)}</text>`,
    );
  for (const s of c.segments) {
    const from = x(s.judgments[0]!.at);
    const to = x(s.judgments.at(-1)!.at);
    for (const k of s.drawn) {
      const test = TESTS[k as TestName];
      const pts = s.judgments.map((j) => `${x(j.at).toFixed(1)},${yV(test.value(j.evidence)).toFixed(1)}`);
      const limit = test.limit(s.judgments.at(-1)!.evidence);
      out.push(
        `<g class="evidence-test ${k}"><title>${esc(`${s.deployment.candidateVariant} ${s.phase}: “${test.name}” test, limit ${Math.round(limit).toLocaleString('en-US')}:1`)}</title><line class="limit" x1="${from}" x2="${Math.max(to, from + 4)}" y1="${yV(limit)}" y2="${yV(limit)}" stroke="${test.colour}" stroke-dasharray="6 4"/>${pts.length > 1 ? `<polyline class="evidence-line" points="${pts.join(' ')}" fill="none" stroke="${test.colour}" stroke-width="2"/>` : `<circle cx="${pts[0]!.split(',')[0]}" cy="${pts[0]!.split(',')[1]}" r="2.5" fill="${test.colour}"/>`}</g>`,
      );
    }
    // what the judge said at each judged transition: passed, extended or failed
    const main = TESTS[s.drawn[0]!];
    for (const t of s.deployment.transitions) {
      if (t.from !== s.phase || !t.readings?.evidence) continue;
      if (t.at < s.judgments[0]!.at || t.at > s.judgments.at(-1)!.at) continue;
      const verdict =
        t.to === 'RollingBack'
          ? 'failed'
          : /extended/.test(t.reason)
            ? 'extended'
            : /passed/.test(t.reason)
              ? 'passed'
              : undefined;
      if (!verdict) continue;
      const cx = x(t.at);
      const cy = yV(main.value(t.readings.evidence));
      const title = `<title>${esc(`${clockText(t.at)} ${t.reason}`)}</title>`;
      out.push(
        verdict === 'extended'
          ? `<g class="verdict extended">${title}<rect x="${cx - 4.5}" y="${cy - 4.5}" width="9" height="9" transform="rotate(45 ${cx} ${cy})" fill="#e9b949" stroke="#fff"/></g>`
          : `<g class="verdict ${verdict}">${title}<circle cx="${cx}" cy="${cy}" r="5" fill="${verdict === 'failed' ? BAD : '#2e7d32'}" stroke="#fff"/></g>`,
      );
    }
  }
}
