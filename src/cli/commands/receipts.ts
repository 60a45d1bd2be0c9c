/**
 * `receipts setup`: the CloudFormation template of the AWS side of receipts
 * (docs/health.md). JSON: the template itself.
 */
import type { Command } from 'commander';
import { ConfigNotFoundError, loadConfig } from '../../config/load.js';
import { receiptsSetupTemplate } from '../../receipts/setup-template.js';
import { receiptsPathOf } from '../../workflows/health.js';
import { outputFor, type GlobalOptions } from '../context.js';
import type { Session } from '../session.js';

export function registerReceipts(program: Command, session: Session): void {
  const receipts = program.command('receipts').description('device receipts: what the AWS side needs (see docs/health.md)');
  receipts
    .command('setup')
    .description('print a CloudFormation template: CloudFront answering 204 on the receipts path, standard logs to a log bucket, the Athena table')
    .addHelpText('after', '\nExamples:\n  $ update-publish receipts setup > receipts.template.json\n  $ aws cloudformation deploy --template-file receipts.template.json --stack-name updates --parameter-overrides StoreBucketDomainName=my-updates.s3.eu-west-1.amazonaws.com')
    .action(async (_flags, command: Command) => {
      const flags = command.optsWithGlobals<GlobalOptions>();
      // The receipts path comes from config receipts.url when there is a config.
      const config = await loadConfig(flags.config, session.cwd, session.env.HOME || undefined).then(
        (loaded) => loaded.config,
        (error) => {
          if (error instanceof ConfigNotFoundError) return {};
          throw error;
        },
      );
      const template = receiptsSetupTemplate({ receiptsPath: receiptsPathOf(config) });
      outputFor(session, flags).result(template, () => JSON.stringify(template, null, 2));
    });
}
