import { closest } from '../closest-name';
import { formatPath } from '../domain/schemas/issues';
import {
  type GraphIssue,
  graphIssues,
  inRunOrder,
  type RunStage,
  type StageGraph,
} from '../domain/stage-graph';
import { ConfigError } from '../errors';
import type {
  CanaryStrategy,
  NativeStrategy,
  RunGroupConfig,
  StageConfig,
  WrittenGroup,
  WrittenStage,
} from './schema';
import { ECR_REPOSITORY } from './schema';

/** A check's finding, at the field that is wrong. */
export interface PathIssue {
  path: PropertyKey[];
  message: string;
}

/** The stages this version of the service runs, in order: the rollout does not walk a graph yet. */
export const RUN_STAGES = ['qa', 'prod'] as const;
const RUNS = 'this version runs two stages, qa then prod';

/**
 * The graph of a group's stages: a stage without `after` waits for the stage before it in the
 * file (the first for none), so the `qa` then `prod` of earlier versions is the chain qa -> prod.
 */
export const stageGraphOf = (stages: Readonly<Record<string, Pick<WrittenStage, 'after'>>>): StageGraph => {
  const names = Object.keys(stages);
  return {
    stages: names.map((name, i) => ({
      name,
      after: stages[name]!.after ?? (i === 0 ? [] : [names[i - 1]!]),
    })),
  };
};

const strategyType = (stage: WrittenStage): RunStage['strategy'] => stage.strategy?.type ?? 'replace';

/** The account a stage's endpoint lives in: its deployer role's; undefined for the service's own. */
const accountOf = (stage: WrittenStage): string | undefined => stage.crossAccount?.roleArn.split(':')[4];

/**
 * A group's graph as the rollout runs it, each stage with its place (region, account, deployer
 * role), strategy and the promotion into it: the stage's own, else the group's for a stage that
 * waits for another, else auto (a root stage is entered once the registry approves the version).
 * The stages come in run order (inRunOrder), so the order they are written in does not change it.
 * For a group its checks found valid (groupStageIssues).
 */
export const runStageGraph = (group: Pick<WrittenGroup, 'stages' | 'promotion'>): StageGraph<RunStage> => ({
  stages: inRunOrder(stageGraphOf(group.stages)).stages.map(({ name, after }) => {
    const stage = group.stages[name]!;
    // a root stage is entered on approval: auto, with no stage before it to bake in
    const promotion = stage.promotion ?? (after.length > 0 ? group.promotion : undefined);
    const bake = promotion?.bakeMinutes !== undefined ? { bakeMinutes: promotion.bakeMinutes } : {};
    return {
      name,
      after,
      region: stage.region,
      account: accountOf(stage),
      roleArn: stage.crossAccount?.roleArn,
      strategy: strategyType(stage),
      promotion:
        promotion?.mode === 'manual'
          ? { mode: 'manual', approvalTimeoutMinutes: promotion.approvalTimeoutMinutes, ...bake }
          : { mode: 'auto', ...bake },
    };
  }),
});

/** Where a stage's `after` is written, or the stage itself when it leaves `after` to the file order. */
const afterPath = (stages: Record<string, WrittenStage>, stage: string): PropertyKey[] =>
  stages[stage]!.after === undefined ? ['stages', stage] : ['stages', stage, 'after'];

const cycleWords = (cycle: readonly string[]): string =>
  cycle
    .slice(1)
    .reduce(
      (words, name, i) => `${words}${i === 0 ? ' waits for ' : ', which waits for '}${name}`,
      cycle[0]!,
    );

const graphIssueAt = (stages: Record<string, WrittenStage>, issue: GraphIssue): PathIssue => {
  const names = Object.keys(stages);
  switch (issue.kind) {
    case 'self':
      return {
        path: ['stages', issue.stage, 'after', issue.index],
        message: 'a stage cannot wait for itself',
      };
    case 'unknown': {
      const meant = closest(issue.name, names);
      return {
        path: ['stages', issue.stage, 'after', issue.index],
        message: `unknown stage ${issue.name}${meant ? `; did you mean \`${meant}\`?` : ` (the stages are ${names.join(', ')})`}`,
      };
    }
    case 'repeated':
      return {
        path: ['stages', issue.stage, 'after', issue.index],
        message: `${issue.name} is listed twice`,
      };
    case 'cycle':
      return {
        path: afterPath(stages, issue.stage),
        message: `a cycle: ${cycleWords(issue.cycle)}; none of them could ever start`,
      };
  }
};

/** Capacity: instances or serverless, one of the two. */
const capacityIssues = (name: string, stage: WrittenStage): PathIssue[] =>
  (stage.instanceType !== undefined) === (stage.serverless !== undefined)
    ? [
        {
          path: ['stages', name],
          message: 'set either instanceType (with optional instanceCount) or serverless, not both',
        },
      ]
    : [];

/** SageMaker's limits on native shifting, shadow variants and what a weight-0 candidate needs. */
const strategyIssues = (name: string, stage: WrittenStage): PathIssue[] => {
  const issues: PathIssue[] = [];
  const strategy = stage.strategy;
  const at = (...rest: string[]) => ['stages', name, ...rest];
  if (strategy?.type === 'native' && stage.serverless !== undefined)
    issues.push({
      path: at('strategy', 'type'),
      message: 'native blue/green shifting is not available for serverless endpoints; use canary',
    });
  if (strategy?.type === 'native' && strategy.shadow)
    issues.push({
      path: at('strategy', 'shadow'),
      message:
        'a shadow phase needs strategy canary: native blue/green shifting replaces the fleet of one variant and has no shadow variant',
    });
  if (strategy?.type === 'canary' && strategy.shadow && stage.serverless !== undefined)
    issues.push({
      path: at('strategy', 'shadow'),
      message: 'SageMaker has no shadow variants on serverless endpoints; remove shadow or use instances',
    });
  if (stage.preTraffic && strategy?.type === 'native')
    issues.push({
      path: at('preTraffic'),
      message:
        'a pre-traffic check needs strategy canary: native shifting has no candidate variant at weight 0 to invoke with TargetVariant',
    });
  if (stage.preTraffic && strategyType(stage) === 'replace')
    issues.push({
      path: at('preTraffic'),
      message:
        'a pre-traffic check needs strategy canary: replace puts the candidate in place of the whole fleet, with no variant at weight 0 to invoke first',
    });
  return issues;
};

/**
 * A cross-account stage names a read-only observer role for the deciding functions, other than the
 * deployer role: only the executor may hold the credentials that change the endpoint.
 */
const observerRoleIssues = (name: string, stage: WrittenStage): PathIssue[] => {
  const crossAccount = stage.crossAccount;
  if (!crossAccount) return [];
  const path = ['stages', name, 'crossAccount', 'observerRoleArn'];
  if (crossAccount.observerRoleArn === undefined)
    return [
      {
        path,
        message:
          'a cross-account stage needs a read-only observer role for the deciding functions (only the executor assumes roleArn)',
      },
    ];
  if (crossAccount.observerRoleArn === crossAccount.roleArn)
    return [
      { path, message: 'must be another role than roleArn (the deployer role is the executor’s alone)' },
    ];
  return [];
};

/** The region of an ECR repository URI (ECR_REPOSITORY's second group). */
const ecrRegion = (repository: string): string | undefined => ECR_REPOSITORY.exec(repository)?.[2];

/**
 * A stage's artifact mappings: one per source, and every ECR copy in the stage's one region (its
 * own, when it names one), since SageMaker pulls an endpoint's images from that region's ECR.
 */
const artifactIssues = (name: string, stage: WrittenStage): PathIssue[] => {
  const artifacts = stage.artifacts;
  if (!artifacts) return [];
  const issues: PathIssue[] = [];
  const at = (kind: 's3' | 'ecr', index: number, field: 'from' | 'to') => [
    'stages',
    name,
    'artifacts',
    kind,
    index,
    field,
  ];
  for (const kind of ['s3', 'ecr'] as const) {
    artifacts[kind].forEach((mapping, index) => {
      const first = artifacts[kind].findIndex((other) => other.from === mapping.from);
      if (first < index)
        issues.push({
          path: at(kind, index, 'from'),
          message: `${mapping.from} is mapped twice (also at ${kind}[${first}]): one mapping per source`,
        });
      if (mapping.to === mapping.from)
        issues.push({
          path: at(kind, index, 'to'),
          message: 'maps the source to itself: remove the mapping',
        });
    });
  }
  const regionOf = stage.region;
  const firstTo = artifacts.ecr[0]?.to;
  artifacts.ecr.forEach((mapping, index) => {
    const region = ecrRegion(mapping.to);
    if (regionOf !== undefined && region !== regionOf)
      issues.push({
        path: at('ecr', index, 'to'),
        message: `is in ${region}, not the stage's region ${regionOf}: SageMaker pulls an endpoint's images from its own region`,
      });
    else if (regionOf === undefined && firstTo !== undefined && region !== ecrRegion(firstTo))
      issues.push({
        path: at('ecr', index, 'to'),
        message: `is in ${region}, ecr[0].to in ${ecrRegion(firstTo)}: every copy must be in the stage's one region, where SageMaker pulls its images`,
      });
  });
  return issues;
};

/**
 * What this version of the service can run: the chain qa -> prod, each stage in any region and
 * account, QA replaced, prod by canary or native shifting, QA entered on approval. A wider graph
 * is valid but refused until the rollout walks graphs.
 */
const thisVersionIssues = (stages: Record<string, WrittenStage>): PathIssue[] => {
  const issues: PathIssue[] = [];
  const graph = stageGraphOf(stages);
  for (const name of Object.keys(stages)) {
    if (!(RUN_STAGES as readonly string[]).includes(name)) {
      const meant = closest(name, RUN_STAGES);
      issues.push({
        path: ['stages', name],
        message: `${RUNS}; stage ${name} would never run (a graph of other stages waits for a version that walks it)${meant ? `; did you mean \`${meant}\`?` : ''}`,
      });
    }
  }
  const { qa, prod } = stages;
  for (const [name, stage] of [
    ['qa', qa],
    ['prod', prod],
  ] as const)
    if (!stage) issues.push({ path: ['stages', name], message: `required: ${RUNS}` });
  if (!qa || !prod) return issues;
  const afterOf = (name: string) => graph.stages.find((stage) => stage.name === name)!.after;
  if (afterOf('qa').length > 0)
    issues.push({
      path: afterPath(stages, 'qa'),
      message: `${RUNS}: qa waits for no stage (write it first, or give it after: [])`,
    });
  if (afterOf('prod').join() !== 'qa')
    issues.push({
      path: afterPath(stages, 'prod'),
      message: `${RUNS}: prod waits for qa alone (after: [qa])`,
    });
  if (strategyType(qa) !== 'replace')
    issues.push({
      path: ['stages', 'qa', 'strategy', 'type'],
      message: `${RUNS}: qa with strategy replace, prod with canary or native`,
    });
  if (qa.promotion?.mode === 'manual')
    issues.push({
      path: ['stages', 'qa', 'promotion', 'mode'],
      message: `${RUNS}: a version enters qa once it is approved in the registry, so promotion into qa is auto`,
    });
  if (qa.promotion?.bakeMinutes !== undefined)
    issues.push({
      path: ['stages', 'qa', 'promotion', 'bakeMinutes'],
      message: `${RUNS}: a version enters qa once it is approved in the registry, with no stage before it to bake in (a bake is set on the stage that waits: prod's promotion or the group's)`,
    });
  if (prod.strategy === undefined)
    issues.push({
      path: ['stages', 'prod', 'strategy'],
      message: `required: ${RUNS}, prod with strategy canary or native`,
    });
  else if (prod.strategy.type === 'replace')
    issues.push({
      path: ['stages', 'prod', 'strategy', 'type'],
      message: `${RUNS}: prod with strategy canary or native (replace is qa's)`,
    });
  return issues;
};

/**
 * Every issue of a group's stages, by path under the group: each stage's own (capacity,
 * strategy limits, observer role), then the graph's (names in `after`, cycles), then, for a
 * valid graph, what this version cannot run.
 */
export const groupStageIssues = (stages: Record<string, WrittenStage>): PathIssue[] => {
  const own = Object.entries(stages).flatMap(([name, stage]) => [
    ...capacityIssues(name, stage),
    ...strategyIssues(name, stage),
    ...observerRoleIssues(name, stage),
    ...artifactIssues(name, stage),
  ]);
  const graph = graphIssues(stageGraphOf(stages)).map((issue) => graphIssueAt(stages, issue));
  return [...own, ...graph, ...(graph.length === 0 ? thisVersionIssues(stages) : [])];
};

/**
 * Whether two stages' accounts (or regions) are one: a stage that names none is in the service's
 * own, which the configuration does not name (it is the account and region the service is
 * deployed to), so against one that names it, that is unknown.
 */
const sameness = (a: string | undefined, b: string | undefined): 'same' | 'different' | 'unknown' =>
  a === b ? 'same' : a === undefined || b === undefined ? 'unknown' : 'different';

/** Whether two stages are in one (account, region): yes, no, or only if the service is deployed there. */
const samePlace = (
  a: WrittenStage,
  b: WrittenStage,
): { verdict: 'same' | 'different' | 'unknown'; if: string[] } => {
  const account = sameness(accountOf(a), accountOf(b));
  const region = sameness(a.region, b.region);
  if (account === 'different' || region === 'different') return { verdict: 'different', if: [] };
  const named = (x: string | undefined, y: string | undefined) => (x ?? y)!;
  return {
    verdict: account === 'same' && region === 'same' ? 'same' : 'unknown',
    if: [
      ...(account === 'unknown' ? [`in account ${named(accountOf(a), accountOf(b))}`] : []),
      ...(region === 'unknown' ? [`in region ${named(a.region, b.region)}`] : []),
    ],
  };
};

const SERVICE_OWN =
  "a stage without crossAccount or region is in the service's own account and region, which are known only when it is deployed";

/**
 * Endpoints are one per (account, region): no two stages, of one group or two, may share one,
 * nor share a name where the configuration cannot tell (SERVICE_OWN). This version also matches
 * events and metrics to stages by endpoint name alone, so it refuses a name used twice in
 * different accounts or regions as well.
 */
export const endpointIssues = (groups: Record<string, WrittenGroup>): PathIssue[] => {
  const issues: PathIssue[] = [];
  const byName = new Map<string, { group: string; stage: string; written: WrittenStage }[]>();
  for (const [group, config] of Object.entries(groups)) {
    for (const [stage, written] of Object.entries(config.stages)) {
      const name = written.endpointName;
      const path = ['modelPackageGroups', group, 'stages', stage, 'endpointName'];
      const earlier = (byName.get(name) ?? []).map((other) => ({
        ...other,
        ...samePlace(other.written, written),
      }));
      const same = earlier.find((other) => other.verdict === 'same');
      const maybe = earlier.find((other) => other.verdict === 'unknown');
      const elsewhere = earlier[0];
      if (same)
        issues.push({
          path,
          message:
            same.group === group
              ? `${same.stage} and ${stage} must use different endpoints in one account and region`
              : `endpoint ${name} is already used by ${same.group}.${same.stage} in the same account and region`,
        });
      else if (maybe)
        issues.push({
          path,
          message: `endpoint ${name} is already used by ${maybe.group}.${maybe.stage}, the same endpoint if the service is deployed ${maybe.if.join(' and ')} (${SERVICE_OWN}): use another name`,
        });
      else if (elsewhere)
        issues.push({
          path,
          message: `endpoint ${name} is already used by ${elsewhere.group}.${elsewhere.stage} in another account or region: this version matches events and metrics to stages by endpoint name alone`,
        });
      byName.set(name, [...(byName.get(name) ?? []), { group, stage, written }]);
    }
  }
  return issues;
};

const isRunStrategy = (strategy: WrittenStage['strategy']): strategy is CanaryStrategy | NativeStrategy =>
  strategy?.type === 'canary' || strategy?.type === 'native';

const runStage = ({
  after,
  strategy,
  preTraffic,
  promotion,
  region,
  ...fields
}: WrittenStage): StageConfig => ({
  ...fields,
  ...(region !== undefined ? { region } : {}),
});

/**
 * A validated group (its graph the chain qa -> prod, see thisVersionIssues) as the rollout runs
 * it: `stages.qa` and `stages.prod`, the promotion into prod (prod's own or, without one, the
 * group's) and the graph. Throws ConfigError for a group that has not passed its checks.
 */
export const runGroup = (name: string, group: WrittenGroup): RunGroupConfig => {
  const issues = groupStageIssues(group.stages);
  const { qa, prod } = group.stages;
  // with no issues both stages are there and prod has canary or native; the rest narrows the types
  if (issues.length > 0 || !qa || !prod || !isRunStrategy(prod.strategy))
    throw new ConfigError(
      `Invalid configuration: group ${name} has not passed its checks`,
      issues.map((issue) => `${formatPath(['modelPackageGroups', name, ...issue.path])}: ${issue.message}`),
    );
  const strategy = prod.strategy;
  return {
    ...group,
    graph: runStageGraph(group),
    promotion: prod.promotion ?? group.promotion,
    stages: {
      qa: runStage(qa),
      prod: {
        ...runStage(prod),
        strategy,
        ...(prod.preTraffic ? { preTraffic: prod.preTraffic } : {}),
      },
    },
  };
};
