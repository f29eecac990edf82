/**
 * esbuild settings shared by `npm run build` (scripts/bundle.ts) and the CDK functions, so the
 * bundle that is tested locally is the bundle that is deployed.
 */
export const LAMBDA_NODE_TARGET = 'node22';

/**
 * ESM bundles still meet CommonJS code inside dependencies that calls `require` or uses
 * `__dirname`; this banner gives them what they expect.
 */
export const ESM_REQUIRE_SHIM = [
  "import { createRequire as __cfcCreateRequire } from 'node:module';",
  "import { fileURLToPath as __cfcFileURLToPath } from 'node:url';",
  "import { dirname as __cfcDirname } from 'node:path';",
  'const require = __cfcCreateRequire(import.meta.url);',
  'const __filename = __cfcFileURLToPath(import.meta.url);',
  'const __dirname = __cfcDirname(__filename);',
].join(' ');

/** Each file in lambdas/handlers/ is one Lambda; its base name is the function's bundle folder. */
export const HANDLERS_DIR = 'lambdas/handlers';
