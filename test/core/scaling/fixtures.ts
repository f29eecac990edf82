import { seed004ScalingConfig } from '../../../config/seed-004.js';
import { parseConfig } from '../../../lambdas/core/contracts/validation.js';
import { type ScalingConfig, scalingConfigSchema } from '../../../lambdas/core/scaling/config.js';

/** Seed 004's config, parsed (defaults filled). */
export const seedConfig = (): ScalingConfig =>
  parseConfig(scalingConfigSchema, seed004ScalingConfig, 'seed 004');

export const at = (iso: string): Date => {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error(`bad date in test: ${iso}`);
  return date;
};
