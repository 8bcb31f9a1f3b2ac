import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  descendants,
  graphIssues,
  inRunOrder,
  nextStages,
  type StageGraph,
  StageGraphError,
  type StageOutcome,
  stoppedStages,
  waves,
} from '../../src/domain/stage-graph';

/**
 * A DAG of 1..7 stages: stage i may wait for any stages before it in a hidden topological order;
 * the file order is a shuffle of it, so `after` may name a stage written later.
 */
const dag = fc
  .integer({ min: 1, max: 7 })
  .chain((size) =>
    fc.tuple(
      fc.tuple(
        ...Array.from({ length: size }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => j))),
      ),
      fc.shuffledSubarray(
        Array.from({ length: size }, (_, i) => i),
        { minLength: size, maxLength: size },
      ),
    ),
  )
  .map(
    ([afters, fileOrder]): StageGraph => ({
      stages: fileOrder.map((i) => ({ name: `s${i}`, after: afters[i]!.map((j) => `s${j}`) })),
    }),
  );

const GOING: (StageOutcome | undefined)[] = [undefined, 'entered', 'succeeded'];
const ANY: (StageOutcome | undefined)[] = [...GOING, 'failed', 'rolledBack'];

/** Outcomes drawn from `outcomes` in every stage, reachable or not: the rules must hold whatever the state says. */
const progressIn = (outcomes: (StageOutcome | undefined)[]) =>
  dag.chain((graph) =>
    fc.tuple(...graph.stages.map(() => fc.constantFrom(...outcomes))).map((drawn) => ({
      graph,
      progress: new Map(
        graph.stages.flatMap((stage, i) =>
          drawn[i] === undefined ? [] : [[stage.name, drawn[i]!] as const],
        ),
      ),
    })),
  );
/** A version still going (nothing failed), or one that may have failed anywhere. */
const going = progressIn(GOING);
const withProgress = fc.oneof(going, progressIn(ANY));

const predecessors = (graph: StageGraph, name: string): readonly string[] =>
  graph.stages.find((stage) => stage.name === name)!.after;

/** The stages that wait for `name`, directly or not, by a closure of its own (not the module's). */
const below = (graph: StageGraph, name: string): Set<string> => {
  const found = new Set<string>([name]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const stage of graph.stages)
      if (!found.has(stage.name) && stage.after.some((before) => found.has(before))) {
        found.add(stage.name);
        grew = true;
      }
  }
  found.delete(name);
  return found;
};

const failedOrRolledBack = (outcome: StageOutcome | undefined) =>
  outcome === 'failed' || outcome === 'rolledBack';

/** A version that succeeds everywhere: each round enters every stage it may, and passes them. */
const succeedEverywhere = (graph: StageGraph): string[][] => {
  const progress = new Map<string, StageOutcome>();
  const rounds: string[][] = [];
  for (let round = nextStages(graph, progress); round.length > 0; round = nextStages(graph, progress)) {
    rounds.push(round);
    for (const name of round) progress.set(name, 'succeeded');
  }
  return rounds;
};

describe('the stage graph rules', () => {
  it('never lets a version into a stage before it succeeded in every stage that one waits for', () => {
    fc.assert(
      fc.property(withProgress, ({ graph, progress }) => {
        for (const name of nextStages(graph, progress)) {
          expect(progress.has(name)).toBe(false);
          for (const before of predecessors(graph, name)) expect(progress.get(before)).toBe('succeeded');
        }
      }),
    );
  });

  it('lets it into every stage whose predecessors all succeeded, while nothing failed', () => {
    fc.assert(
      fc.property(going, ({ graph, progress }) => {
        const ready = graph.stages
          .filter((s) => !progress.has(s.name) && s.after.every((b) => progress.get(b) === 'succeeded'))
          .map((s) => s.name);
        expect(nextStages(graph, progress)).toEqual(ready);
        expect(stoppedStages(graph, progress)).toEqual([]);
      }),
    );
  });

  it('stops every descendant of a failed or rolled-back stage that the version has not entered', () => {
    fc.assert(
      fc.property(withProgress, ({ graph, progress }) => {
        const failed = [...progress].filter(([, outcome]) => failedOrRolledBack(outcome));
        fc.pre(failed.length > 0);
        // stopped everywhere it has not yet gone, descendants of the failure or not
        expect(nextStages(graph, progress)).toEqual([]);
        expect(stoppedStages(graph, progress)).toEqual(
          graph.stages.map((s) => s.name).filter((n) => !progress.has(n)),
        );
        const next = new Set(nextStages(graph, progress));
        const stopped = new Set(stoppedStages(graph, progress));
        for (const [name] of failed) {
          expect(descendants(graph, name)).toEqual(below(graph, name));
          for (const descendant of below(graph, name)) {
            if (progress.has(descendant)) continue;
            expect(next.has(descendant)).toBe(false);
            expect(stopped.has(descendant)).toBe(true);
          }
        }
      }),
    );
  });

  it('in any run, enters a stage only after its predecessors succeeded, and nothing after a failure', () => {
    const choices = fc.array(
      fc.tuple(fc.nat(), fc.constantFrom<StageOutcome>('succeeded', 'failed', 'rolledBack')),
      {
        maxLength: 30,
      },
    );
    fc.assert(
      fc.property(dag, choices, (graph, run) => {
        const progress = new Map<string, StageOutcome>();
        const enteredAt = new Map<string, number>();
        const stoppedAt = new Map<string, number>();
        run.forEach(([pick, ending], time) => {
          const next = nextStages(graph, progress);
          const inFlight = [...progress].filter(([, outcome]) => outcome === 'entered').map(([name]) => name);
          if (next.length > 0 && (pick % 2 === 0 || inFlight.length === 0)) {
            const name = next[pick % next.length]!;
            for (const before of predecessors(graph, name)) expect(progress.get(before)).toBe('succeeded');
            progress.set(name, 'entered');
            enteredAt.set(name, time);
          } else if (inFlight.length > 0) {
            const name = inFlight[pick % inFlight.length]!;
            progress.set(name, ending);
            if (failedOrRolledBack(ending)) stoppedAt.set(name, time);
          }
        });
        const firstStop = Math.min(...stoppedAt.values());
        for (const time of enteredAt.values()) expect(time).toBeLessThan(firstStop);
        for (const [failed, time] of stoppedAt)
          for (const descendant of below(graph, failed))
            expect(enteredAt.get(descendant) ?? -1).toBeLessThan(time);
      }),
    );
  });

  it('brings a version that succeeds everywhere into every stage, once, in the waves of the graph', () => {
    fc.assert(
      fc.property(dag, (graph) => {
        const rounds = succeedEverywhere(graph);
        expect(rounds.flat().toSorted()).toEqual(graph.stages.map((s) => s.name).toSorted());
        expect(rounds).toEqual(waves(graph));
      }),
    );
  });

  it('puts each stage in the wave after the latest of its predecessors', () => {
    fc.assert(
      fc.property(dag, (graph) => {
        const layers = waves(graph);
        const waveOf = new Map(layers.flatMap((layer, i) => layer.map((name) => [name, i] as const)));
        expect(waveOf.size).toBe(graph.stages.length);
        for (const stage of graph.stages) {
          const latest = Math.max(-1, ...stage.after.map((before) => waveOf.get(before)!));
          expect(waveOf.get(stage.name)).toBe(latest + 1);
        }
        for (const layer of layers) expect(layer.length).toBeGreaterThan(0);
      }),
    );
  });

  it('orders the stages to run one by one: each after those it waits for, otherwise as written', () => {
    fc.assert(
      fc.property(dag, (graph) => {
        const order = inRunOrder(graph).stages;
        expect(order.toSorted((a, b) => a.name.localeCompare(b.name))).toEqual(
          graph.stages.toSorted((a, b) => a.name.localeCompare(b.name)),
        );
        const at = new Map(order.map((stage, i) => [stage.name, i]));
        for (const stage of order)
          for (const before of stage.after) expect(at.get(before)!).toBeLessThan(at.get(stage.name)!);
        // a file already in an order it can run in keeps it
        expect(inRunOrder(inRunOrder(graph)).stages).toEqual(order);
        // of the stages ready at each point, the one written first
        order.forEach((stage, i) => {
          const placed = new Set(order.slice(0, i).map((s) => s.name));
          const ready = graph.stages.filter(
            (s) => !placed.has(s.name) && s.after.every((before) => placed.has(before)),
          );
          expect(stage).toBe(ready[0]);
        });
      }),
    );
  });

  it('refuses to order a graph with a cycle or an unknown stage', () => {
    expect(() =>
      inRunOrder({
        stages: [
          { name: 'a', after: [] },
          { name: 'b', after: ['c'] },
          { name: 'c', after: ['b'] },
          { name: 'd', after: ['x'] },
        ],
      }),
    ).toThrow(
      new StageGraphError('no order: b, c, d wait for unknown stages or for each other (see graphIssues)'),
    );
  });

  it('finds no issue in a DAG of known stages', () => {
    fc.assert(
      fc.property(dag, (graph) => {
        expect(graphIssues(graph)).toEqual([]);
      }),
    );
  });

  it('finds a cycle whenever a DAG gets an edge back from a stage to one of its descendants', () => {
    fc.assert(
      fc.property(dag, fc.nat(), fc.nat(), (graph, i, j) => {
        const top = graph.stages[i % graph.stages.length]!;
        const under = [...below(graph, top.name)];
        fc.pre(under.length > 0);
        const bottom = under[j % under.length]!;
        const looped: StageGraph = {
          stages: graph.stages.map((s) => (s.name === top.name ? { ...s, after: [...s.after, bottom] } : s)),
        };
        const cycles = graphIssues(looped).filter((issue) => issue.kind === 'cycle');
        expect(cycles.length).toBeGreaterThan(0);
        for (const issue of cycles) {
          if (issue.kind !== 'cycle') continue;
          expect(issue.cycle[0]).toBe(issue.cycle.at(-1));
          // each stage of the cycle waits for the next one
          for (let k = 0; k + 1 < issue.cycle.length; k++)
            expect(predecessors(looped, issue.cycle[k]!)).toContain(issue.cycle[k + 1]);
        }
      }),
    );
  });

  it('names a stage waiting for itself, for an unknown stage, or twice for one', () => {
    const graph: StageGraph = {
      stages: [
        { name: 'staging', after: [] },
        { name: 'eu', after: ['eu', 'stagin'] },
        { name: 'us', after: ['staging', 'staging'] },
      ],
    };
    expect(graphIssues(graph)).toEqual([
      { kind: 'self', stage: 'eu', index: 0 },
      { kind: 'unknown', stage: 'eu', index: 1, name: 'stagin' },
      { kind: 'repeated', stage: 'us', index: 1, name: 'staging' },
    ]);
  });

  it('waits in waves: staging, then two regions together, then the last', () => {
    const graph: StageGraph = {
      stages: [
        { name: 'staging', after: [] },
        { name: 'eu-west-1', after: ['staging'] },
        { name: 'us-east-1', after: ['staging'] },
        { name: 'ap-south-1', after: ['eu-west-1', 'us-east-1'] },
      ],
    };
    expect(waves(graph)).toEqual([['staging'], ['eu-west-1', 'us-east-1'], ['ap-south-1']]);
    const progress = new Map<string, StageOutcome>([
      ['staging', 'succeeded'],
      ['eu-west-1', 'succeeded'],
      ['us-east-1', 'entered'],
    ]);
    expect(nextStages(graph, progress)).toEqual([]);
    progress.set('us-east-1', 'rolledBack');
    expect(stoppedStages(graph, progress)).toEqual(['ap-south-1']);
  });
});
