#!/usr/bin/env node
// The installed package runs the bundle (dist/cli.cjs, built by `npm run build:cli` and on
// `npm pack`), which needs nothing from node_modules. A development clone runs the TypeScript
// source through tsx, so a change to src/cli/ needs no rebuild.
const { existsSync } = require('node:fs');
const path = require('node:path');

// the SDK's notice about its future Node versions is noise on every operator command
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const root = path.join(__dirname, '..');
const source = path.join(root, 'src', 'cli', 'main.ts');
const bundle = path.join(root, 'dist', 'cli.cjs');

const tsx = () => {
  try {
    return require.resolve('tsx/cjs/api');
  } catch {
    return undefined;
  }
};

const loader = existsSync(source) ? tsx() : undefined;
if (loader) {
  require(loader).register();
  require(source);
} else if (existsSync(bundle)) {
  require(bundle);
} else {
  process.stderr.write(
    'error: the CLI is not built: run `npm run build:cli` (needs the dev dependencies), or install the packed package (`npm pack`).\n',
  );
  process.exit(2);
}
