import { closest } from '../closest-name';
import type { OperatorVerb } from './model';
import type { StageGraph } from './stage-graph';

/**
 * Why a `promote` or `rollback` may not name this stage (`--in`), if it may not: a stage the group
 * does not have (with the one most likely meant), or, for promote, a stage a version enters on
 * approval alone (promote moves a version into a stage that waits for another).
 */
export const namedStageRefusal = (
  graph: StageGraph,
  group: string,
  verb: OperatorVerb,
  stage: string,
): string | undefined => {
  const names = graph.stages.map((s) => s.name);
  const named = graph.stages.find((s) => s.name === stage);
  if (!named) {
    const meant = closest(stage, names);
    return `group ${group} has no stage ${stage}${meant ? ` (did you mean ${meant}?)` : ''}; its stages are ${names.join(', ')}`;
  }
  if (verb === 'promote' && named.after.length === 0) {
    const into = graph.stages.filter((s) => s.after.length > 0).map((s) => s.name);
    return `a version enters ${stage} once it is approved in the registry; promote moves it into ${into.join(', ')}`;
  }
  return undefined;
};
