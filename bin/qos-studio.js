#!/usr/bin/env node
// The command-line front of the engine. TypeScript sources run through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
