import type { ScalingConfig } from './config.js';

/**
 * Hourly prices of the node groups' instances, for the dollars in `scale savings`.
 *
 * Defaults: Amazon EC2 On-Demand, Linux, us-east-1 (N. Virginia), shared tenancy, from
 * https://aws.amazon.com/ec2/pricing/on-demand/ — the list prices of seed 004's instance types,
 * recorded on 2026-11-30 (unchanged since these types launched in 2016-2017). They are
 * approximations: other regions, Savings Plans, Reserved Instances, Spot and EBS volumes all change
 * the bill. A config's `prices` (USD per instance-hour by type) replaces any of them.
 */
export const ON_DEMAND_PRICES_SOURCE =
  'AWS EC2 On-Demand, Linux, us-east-1, list prices recorded 2026-11-30 (approximate)';

export const DEFAULT_HOURLY_PRICES: Readonly<Record<string, number>> = {
  'm5.large': 0.096,
  'm5.2xlarge': 0.384,
  'c5.2xlarge': 0.34,
};

export interface InstancePrice {
  readonly usdPerHour: number;
  /** Where the price comes from: the config or the built-in defaults. */
  readonly source: string;
}

/** The hourly price of `instanceType`: the config's, else the built-in default, else unknown. */
export const priceOf = (
  config: ScalingConfig,
  instanceType: string | undefined,
): InstancePrice | undefined => {
  if (instanceType === undefined) return undefined;
  const configured = config.prices?.[instanceType];
  if (configured !== undefined) return { usdPerHour: configured, source: 'config prices' };
  const builtIn = DEFAULT_HOURLY_PRICES[instanceType];
  return builtIn === undefined ? undefined : { usdPerHour: builtIn, source: ON_DEMAND_PRICES_SOURCE };
};
