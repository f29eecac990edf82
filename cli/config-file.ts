import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';

const CONTROLLER_KEYS = ['coder', 'alarms', 'scaling', 'families', 'provisionerKeys'];

/**
 * Reads one section of the controller configuration from `--config`: the file may hold the whole
 * controller config (`{"coder": …, "families": …}`) or just that section. Returns undefined when
 * the file is a controller config without the section. The section is validated by the caller
 * with the capability's own schema, so the CLI accepts exactly what the stack accepts.
 */
export const readConfigSection = async (
  file: string,
  section: 'families' | 'scaling' | 'provisionerKeys',
): Promise<unknown> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(`could not read --config ${file}${code ? ` (${code})` : ''}: check the path`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `--config ${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`--config ${file} must hold a JSON object`);
  }
  const record = value as Record<string, unknown>;
  const isController = Object.keys(record).some((k) => CONTROLLER_KEYS.includes(k));
  return isController ? record[section] : record;
};
