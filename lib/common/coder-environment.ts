import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ENV } from '../../lambdas/contracts/names.js';

/** How a Coder-facing function reaches Coder: its URL, and the ARN (never the value) of the token's secret. */
export const coderEnvironment = (coder: {
  readonly url: string;
  readonly tokenSecret: secretsmanager.ISecret;
}): Record<string, string> => ({
  [ENV.coderUrl]: coder.url,
  [ENV.coderTokenSecretArn]: coder.tokenSecret.secretArn,
});
