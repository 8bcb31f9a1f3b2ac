// A Stryker reporter that appends each tested mutant to a JSON-lines file as soon as it is known,
// so the survivors of a long run can be read (and tests written) before the run ends.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { declareFactoryPlugin, PluginKind } from '@stryker-mutator/api/plugin';

const liveFile = () => process.env.MUTATION_LIVE_FILE ?? '.local/mutation/live.jsonl';

const createReporter = () => {
  const file = liveFile();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  return {
    onMutantTested(result) {
      const { fileName, location, mutatorName, replacement, status, statusReason, killedBy } = result;
      const line = { file: fileName, line: location.start.line, column: location.start.column };
      appendFileSync(
        file,
        `${JSON.stringify({ ...line, mutatorName, replacement, status, statusReason, killedBy })}\n`,
      );
    },
  };
};

export const strykerPlugins = [
  declareFactoryPlugin(PluginKind.Reporter, 'mutation-progress', createReporter),
];
