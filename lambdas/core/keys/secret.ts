import { z } from 'zod';

/**
 * The value of the provisioner key secret (AWSCURRENT, AWSPREVIOUS, AWSPENDING), as the external
 * provisioners read it: `key` is what the provisioner Helm chart's key secret holds.
 */
export const provisionerKeySecretSchema = z.object({
  organization: z.string().min(1),
  keyName: z.string().min(1).max(64),
  key: z.string().min(1),
  tags: z.record(z.string(), z.string()),
  createdAt: z.iso.datetime({ offset: true }),
});
export type ProvisionerKeySecret = z.infer<typeof provisionerKeySecretSchema>;

/**
 * What the CDK construct writes before the first rotation: the organization and the tags the
 * first key gets, and no key yet. The first rotation (started when the schedule is attached)
 * creates the first key.
 */
export const bootstrapSecretSchema = z.object({
  organization: z.string().min(1),
  tags: z.record(z.string(), z.string()).default({}),
});
export type BootstrapSecret = z.infer<typeof bootstrapSecretSchema>;

export type CurrentSecret =
  | { readonly kind: 'key'; readonly value: ProvisionerKeySecret }
  | { readonly kind: 'bootstrap'; readonly value: BootstrapSecret };

/** A secret value that does not parse; the message names the version and the bad fields, never the value. */
export class ProvisionerKeySecretError extends Error {
  override readonly name = 'ProvisionerKeySecretError';
}

const fieldsOf = (error: z.ZodError): string =>
  error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');

const parseJson = (raw: string, where: string): unknown => {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ProvisionerKeySecretError(
      `${where} is not valid JSON; store the provisioner key as a JSON object.`,
    );
  }
};

/** Parses a version that must hold a key (AWSPENDING, AWSPREVIOUS). */
export const parseKeySecret = (raw: string, where: string): ProvisionerKeySecret => {
  const result = provisionerKeySecretSchema.safeParse(parseJson(raw, where));
  if (!result.success) {
    throw new ProvisionerKeySecretError(
      `${where} is missing or has invalid fields: ${fieldsOf(result.error)}.`,
    );
  }
  return result.data;
};

/** Parses AWSCURRENT, which holds a key, or only the organization and tags before the first rotation. */
export const parseCurrentSecret = (raw: string, where: string): CurrentSecret => {
  const json = parseJson(raw, where);
  const full = provisionerKeySecretSchema.safeParse(json);
  if (full.success) return { kind: 'key', value: full.data };
  const hasKeyFields = typeof json === 'object' && json !== null && ('key' in json || 'keyName' in json);
  const bootstrap = bootstrapSecretSchema.safeParse(json);
  if (!hasKeyFields && bootstrap.success) return { kind: 'bootstrap', value: bootstrap.data };
  throw new ProvisionerKeySecretError(`${where} is missing or has invalid fields: ${fieldsOf(full.error)}.`);
};

export const serializeKeySecret = (value: ProvisionerKeySecret): string => JSON.stringify(value);
