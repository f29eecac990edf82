import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';

export interface SynthResult {
  readonly stack: Stack;
  readonly template: Template;
  /** cdk-nag findings that were not acknowledged, as `RuleId at construct/path: description`. */
  readonly nagErrors: string[];
  readonly nagWarnings: string[];
}

/**
 * Synthesizes a stack built by `build` and runs cdk-nag's AwsSolutions pack over it, as
 * bin/app.ts does at synth. Acknowledgements (`Validations.of(construct).acknowledge({ id, reason })`)
 * are honoured. Lambda bundling is skipped (the `aws:cdk:bundling-stacks` context) so CDK tests stay
 * fast; the bundles themselves are built and checked by `npm run build` and the bundle tests.
 */
export const synthWithNag = (build: (stack: Stack) => void, stackName = 'TestStack'): SynthResult => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, stackName, { env: { account: '123456789012', region: 'us-east-1' } });
  build(stack);
  const template = Template.fromStack(stack);
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(app);
  const describe = (severity: string): string[] =>
    report.violations
      .filter((v) => v.severity === severity)
      .flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`),
      );
  return { stack, template, nagErrors: describe('error'), nagWarnings: describe('warning') };
};
