import type { ReportStory } from './report-data';

type DeploymentStory = ReportStory['deployments'][number];
type Gates = ReportStory['gates'][string];

export interface Band {
  kind: 'shadow' | 'step';
  from: number;
  to: number;
  bakeTo: number;
  label: string;
  /** bakes extended by the no-data policy: [from, to) each */
  extensions: Array<{ from: number; to: number; label: string }>;
}

/** The shadow phase and each canary step as bands, with the bake and each extension of it. */
export function phaseBands(deployments: DeploymentStory[], gates: Gates, tEnd: number): Band[] {
  const bands: Band[] = [];
  for (const d of deployments) {
    d.transitions.forEach((t, i) => {
      const step = /step (\d+)\/(\d+): ([\d.]+)%/.exec(t.reason);
      const shadowStart = t.to === 'Shadow' && t.from !== 'Shadow';
      if (!shadowStart && (t.to !== 'Canary' || !step)) return;
      const kind = shadowStart ? 'shadow' : 'step';
      const later = d.transitions.slice(i + 1);
      const endOf = later.find((n) =>
        kind === 'shadow' ? n.to !== 'Shadow' : n.to !== 'Canary' || /step \d+\/\d+: /.test(n.reason),
      );
      const to = endOf?.at ?? tEnd;
      const bakeMinutes =
        (kind === 'shadow' ? gates.shadowBakeMinutes : gates.steps[Number(step![1]) - 1]?.bakeMinutes) ?? 0;
      const extensions = later
        .filter((n) => n.at < to && /^(bake|shadow phase) extended/.test(n.reason))
        .map((n) => ({
          from: n.at,
          to: Math.min(to, n.at + bakeMinutes * 60_000),
          label:
            `${n.reason.startsWith('shadow') ? 'shadow' : 'bake'} extended ${/\((\d+\/\d+)\)/.exec(n.reason)?.[1] ?? ''}`.trim(),
        }));
      bands.push({
        kind,
        from: t.at,
        to,
        bakeTo: Math.min(to, t.at + bakeMinutes * 60_000),
        label:
          kind === 'shadow'
            ? `${d.candidateVariant} shadow phase`
            : `${d.candidateVariant} step ${step![1]}/${step![2]} · ${step![3]}%`,
        extensions,
      });
    });
  }
  return bands;
}
