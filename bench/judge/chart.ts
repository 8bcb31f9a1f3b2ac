import type { JudgeCellResult } from './benchmark';

const COLOURS: Record<string, string> = {
  project: '#1f77b4',
  'previous-thresholds': '#d62728',
  'guardrails-alarm': '#ff7f0e',
  'flagger-threshold': '#2ca02c',
  'kayenta-mann-whitney': '#9467bd',
};

/**
 * An SVG chart, one panel per baseline 5XX rate: share of rollouts rolled back against traffic,
 * one line per judge; solid for a 2x 5XX regression (detection), dashed for a healthy candidate
 * (false rollbacks). No bursts.
 */
export const detectionChart = (cells: JudgeCellResult[]): string => {
  const baselines = [...new Set(cells.map((c) => c.baselineErrorRate))].sort((a, b) => a - b);
  const rpms = [...new Set(cells.map((c) => c.rpm))].sort((a, b) => a - b);
  const judges = [...new Set(cells.map((c) => c.judge))];
  const panelW = 360;
  const panelH = 240;
  const margin = { left: 50, top: 40, bottom: 40, right: 20 };
  const width = baselines.length * (panelW + margin.left + margin.right);
  const height = panelH + margin.top + margin.bottom + 20 * judges.length + 30;
  const x = (rpm: number) =>
    ((Math.log10(rpm) - Math.log10(rpms[0]!)) / (Math.log10(rpms.at(-1)!) - Math.log10(rpms[0]!))) * panelW;
  const y = (share: number) => panelH - share * panelH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    '<title>Canary judges: share of rollouts rolled back against traffic (2x regression and healthy)</title>',
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  baselines.forEach((baseline, i) => {
    const ox = i * (panelW + margin.left + margin.right) + margin.left;
    const oy = margin.top;
    parts.push(`<g transform="translate(${ox},${oy})">`);
    parts.push(
      `<text x="${panelW / 2}" y="-20" text-anchor="middle" font-size="13">baseline 5XX ${baseline * 100} %: rolled back (solid: 2x regression, dashed: healthy)</text>`,
    );
    parts.push(`<rect width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
    for (const share of [0, 0.25, 0.5, 0.75, 1]) {
      parts.push(`<line x1="0" x2="${panelW}" y1="${y(share)}" y2="${y(share)}" stroke="#eee"/>`);
      parts.push(`<text x="-6" y="${y(share) + 4}" text-anchor="end">${share * 100}%</text>`);
    }
    for (const rpm of rpms)
      parts.push(
        `<text x="${x(rpm)}" y="${panelH + 16}" text-anchor="middle">${rpm.toLocaleString('en-US')} rpm</text>`,
      );
    for (const judge of judges) {
      for (const [factor, dash] of [
        [2, ''],
        [1, ' stroke-dasharray="5,4"'],
      ] as const) {
        const points = rpms
          .map((rpm) =>
            cells.find(
              (c) =>
                c.judge === judge &&
                c.rpm === rpm &&
                c.baselineErrorRate === baseline &&
                c.nullModel === 'independent' &&
                c.latencyFactor === 1 &&
                Math.abs(c.candidateErrorRate - baseline * factor) < 1e-12,
            ),
          )
          .filter((c): c is JudgeCellResult => c !== undefined)
          .map((c) => `${x(c.rpm).toFixed(1)},${y(c.rolledBack).toFixed(1)}`);
        parts.push(
          `<polyline fill="none" stroke="${COLOURS[judge] ?? '#333'}" stroke-width="2"${dash} points="${points.join(' ')}"/>`,
        );
      }
    }
    parts.push('</g>');
  });
  judges.forEach((judge, i) => {
    const ly = margin.top + panelH + 40 + i * 20;
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + 30}" y1="${ly}" y2="${ly}" stroke="${COLOURS[judge] ?? '#333'}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${margin.left + 38}" y="${ly + 4}">${judge}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
};
