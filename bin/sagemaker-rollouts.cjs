#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx sagemaker-rollouts` works from a clone.
const path = require('node:path');

process.env.AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING ??= '1';
require('tsx/cjs/api').register();
require(path.join(__dirname, '..', 'src', 'cli', 'main.ts'));
