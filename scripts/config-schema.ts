/**
 * `npm run schema`: writes schema/config.schema.json, the JSON Schema of the whole controller
 * configuration, generated from its zod schema (lib/config.ts and the capability schemas it
 * composes) with zod's own `z.toJSONSchema`. An editor given it through `"$schema"` completes and
 * checks a configuration file as it is typed; the package ships it.
 *
 * `npm run schema -- --check` writes nothing and fails when the committed file differs from what
 * the schema generates now (test/config/config-schema.test.ts does the same).
 *
 * What JSON Schema cannot say is checked by zod alone, at synth: the refinements (an https Coder
 * URL without credentials, at least one capability, holidays that are calendar days, profiles a
 * transition names existing, and the like). test/config/config-schema.test.ts lists them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { controllerConfigSchema } from '../lib/config.js';

/** Where the generated schema lives, relative to the repository (and to the installed package). */
export const CONFIG_SCHEMA_FILE = 'schema/config.schema.json';

/**
 * The configuration's JSON Schema. Draft 7, the draft editors support best (VS Code, JetBrains);
 * `io: 'input'` because a file is the input: a field with a default may be left out.
 */
export const configJsonSchema = (): Record<string, unknown> => {
  const generated = z.toJSONSchema(controllerConfigSchema, { target: 'draft-7', io: 'input' });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'Coder Fleet Controller configuration',
    description:
      'The whole controller configuration (coder-fleet-controller, lib/config.ts). Generated from its zod ' +
      'schema by scripts/config-schema.ts: do not edit. cdk synth checks more than this schema can say ' +
      '(e.g. that coder.url is https and that at least one capability is configured).',
    ...rest,
  };
};

/** The file's exact text: two-space JSON and a final newline. */
export const configJsonSchemaText = (): string => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

const main = async (argv: readonly string[]): Promise<void> => {
  const file = path.resolve(CONFIG_SCHEMA_FILE);
  const text = configJsonSchemaText();
  if (argv.includes('--check')) {
    const committed = await readFile(file, 'utf8').catch(() => '');
    if (committed !== text) {
      console.error(`${CONFIG_SCHEMA_FILE} is out of date with lib/config.ts: run npm run schema`);
      process.exit(1);
    }
    console.log(`${CONFIG_SCHEMA_FILE} is up to date`);
    return;
  }
  await writeFile(file, text);
  console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
};

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
