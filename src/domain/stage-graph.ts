import { RolloutsError } from '../errors';

/** A stage of a group's graph: its name and the stages a version must pass first. */
export interface StageNode {
  readonly name: string;
  readonly after: readonly string[];
}

/**
 * The stages of a group in file order, each naming the stages it waits for. A valid graph (see
 * graphIssues) has unique names, only known names in `after`, and no cycle.
 */
export interface StageGraph<Stage extends StageNode = StageNode> {
  readonly stages: readonly Stage[];
}

/**
 * How a version enters a stage: at once, or on `promote` within the timeout; in both, no sooner
 * than `bakeMinutes` after it succeeded in every stage this one waits for (when set).
 */
export type StagePromotion =
  | { readonly mode: 'auto'; readonly bakeMinutes?: number | undefined }
  | {
      readonly mode: 'manual';
      readonly approvalTimeoutMinutes: number;
      readonly bakeMinutes?: number | undefined;
    };

/** A stage as the rollout runs it: where its endpoint is, how it changes it, how a version enters it. */
export interface RunStage extends StageNode {
  /** Undefined: the service's own region. */
  readonly region: string | undefined;
  /** The account of the deployer role; undefined: the service's own account (known at deploy time only). */
  readonly account: string | undefined;
  /** The role that changes the endpoint; undefined: the service's own credentials. */
  readonly roleArn: string | undefined;
  readonly strategy: 'replace' | 'canary' | 'native';
  readonly promotion: StagePromotion;
}

/** Where one version stands in a stage it has entered. */
export type StageOutcome = 'entered' | 'succeeded' | 'failed' | 'rolledBack';

/** One version's outcome per stage it has entered; a stage it has not entered is absent. */
export type StageProgress = ReadonlyMap<string, StageOutcome>;

const stops = (outcome: StageOutcome): boolean => outcome === 'failed' || outcome === 'rolledBack';

/** Whether the version failed or was rolled back in any stage. */
const stopped = (progress: StageProgress): boolean => [...progress.values()].some(stops);

/**
 * The stages a version may enter now, in file order: those it has not entered whose every
 * predecessor it succeeded in. A failure or rollback in any stage stops the version everywhere
 * it has not yet gone, so then none.
 */
export const nextStages = (graph: StageGraph, progress: StageProgress): string[] =>
  stopped(progress)
    ? []
    : graph.stages
        .filter(
          (stage) =>
            !progress.has(stage.name) && stage.after.every((before) => progress.get(before) === 'succeeded'),
        )
        .map((stage) => stage.name);

/**
 * The stages a failure or rollback keeps the version out of: every stage it has not entered
 * (the failed stage's descendants among them), in file order; none while nothing failed.
 */
export const stoppedStages = (graph: StageGraph, progress: StageProgress): string[] =>
  stopped(progress) ? graph.stages.filter((stage) => !progress.has(stage.name)).map((s) => s.name) : [];

/** The stages that wait, directly or through others, for `name`. */
export const descendants = (graph: StageGraph, name: string): Set<string> => {
  const found = new Set<string>();
  const visit = (from: string) => {
    for (const stage of graph.stages) {
      if (stage.after.includes(from) && !found.has(stage.name)) {
        found.add(stage.name);
        visit(stage.name);
      }
    }
  };
  visit(name);
  return found;
};

/**
 * The waves of a valid graph: the roots, then the stages whose predecessors are all in earlier
 * waves, and so on; each wave in file order. A version that succeeds everywhere enters them in
 * this order, one wave at a time.
 */
export const waves = (graph: StageGraph): string[][] => {
  const depth = new Map<string, number>();
  const byName = new Map(graph.stages.map((stage) => [stage.name, stage]));
  const depthOf = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const after = byName.get(name)?.after ?? [];
    const own = after.length === 0 ? 0 : 1 + Math.max(...after.map(depthOf));
    depth.set(name, own);
    return own;
  };
  const layers: string[][] = [];
  for (const stage of graph.stages) {
    const at = depthOf(stage.name);
    while (layers.length <= at) layers.push([]);
    layers[at]!.push(stage.name);
  }
  return layers;
};

/** A graph that has issues (graphIssues) where a valid one is needed. */
export class StageGraphError extends RolloutsError {}

/**
 * The stages of a valid graph in an order the rollout can take them one by one: each after every
 * stage it waits for, and otherwise in file order (of the stages ready, the one written first),
 * so a graph written in its own order keeps it, and one that lists a stage before a stage it
 * waits for compiles the same as the file in run order.
 */
export const inRunOrder = <Stage extends StageNode>(graph: StageGraph<Stage>): StageGraph<Stage> => {
  const placed = new Set<string>();
  const order: Stage[] = [];
  while (order.length < graph.stages.length) {
    const next = graph.stages.find(
      (stage) => !placed.has(stage.name) && stage.after.every((before) => placed.has(before)),
    );
    if (!next)
      throw new StageGraphError(
        `no order: ${graph.stages
          .filter((stage) => !placed.has(stage.name))
          .map((stage) => stage.name)
          .join(', ')} wait for unknown stages or for each other (see graphIssues)`,
      );
    placed.add(next.name);
    order.push(next);
  }
  return { stages: order };
};

/** What is wrong with one stage's `after`: by the stage and the position in its list. */
export type GraphIssue =
  | { kind: 'self'; stage: string; index: number }
  | { kind: 'unknown'; stage: string; index: number; name: string }
  | { kind: 'repeated'; stage: string; index: number; name: string }
  | { kind: 'cycle'; stage: string; cycle: string[] };

/**
 * Everything that keeps a graph from being a DAG of known stages: a stage waiting for itself, for
 * an unknown stage or twice for one, and cycles (at least one whenever there is any; each at its
 * first stage in file order, as the names around it: `[a, b, a]`, a waits for b, b for a).
 */
export const graphIssues = (graph: StageGraph): GraphIssue[] => {
  const names = new Set(graph.stages.map((stage) => stage.name));
  const issues: GraphIssue[] = [];
  for (const stage of graph.stages) {
    stage.after.forEach((name, index) => {
      if (name === stage.name) issues.push({ kind: 'self', stage: stage.name, index });
      else if (!names.has(name)) issues.push({ kind: 'unknown', stage: stage.name, index, name });
      else if (stage.after.indexOf(name) < index)
        issues.push({ kind: 'repeated', stage: stage.name, index, name });
    });
  }
  return [...issues, ...cycles(graph)];
};

/** The cycles among other stages (self-references are issues of their own). */
const cycles = (graph: StageGraph): GraphIssue[] => {
  const byName = new Map(graph.stages.map((stage) => [stage.name, stage]));
  const done = new Set<string>();
  const found: GraphIssue[] = [];
  const walk = (name: string, trail: string[]): void => {
    if (done.has(name)) return;
    const at = trail.indexOf(name);
    if (at >= 0) {
      const cycle = [...trail.slice(at), name];
      const first = graph.stages.find((stage) => cycle.includes(stage.name))!.name;
      const from = cycle.indexOf(first);
      const rotated = [...cycle.slice(from, -1), ...cycle.slice(0, from), first];
      if (!found.some((issue) => issue.kind === 'cycle' && issue.cycle.join() === rotated.join()))
        found.push({ kind: 'cycle', stage: first, cycle: rotated });
      return;
    }
    for (const before of byName.get(name)?.after ?? [])
      if (before !== name && byName.has(before)) walk(before, [...trail, name]);
    done.add(name);
  };
  for (const stage of graph.stages) walk(stage.name, []);
  return found;
};
