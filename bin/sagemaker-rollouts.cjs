#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx sagemaker-rollouts` works from a clone.
const path = require('node:path');

// the SDK's notice about its future Node versions is noise on every operator command
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
require(path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
