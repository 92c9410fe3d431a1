import { cpSync, existsSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { TributaryError } from '../../errors.js';
import { emit } from '../context.js';

const TEMPLATE = fileURLToPath(new URL('../../../templates/project', import.meta.url));

export function initCommand(): Command {
  return new Command('init')
    .description('scaffold a working project (config, sample data) in a new or empty folder')
    .argument('<dir>', 'folder to create')
    .option('--force', 'write into a folder that is not empty (existing files with the same names are replaced)')
    .action((dir: string, opts: { force?: boolean }, cmd: Command) => {
      const target = path.resolve(dir);
      if (existsSync(target) && readdirSync(target).length > 0 && !opts.force) {
        throw new TributaryError('USAGE', `init: ${target} is not empty`, { hint: 'choose a new folder or pass --force' });
      }
      cpSync(TEMPLATE, target, { recursive: true });
      renameSync(path.join(target, 'gitignore'), path.join(target, '.gitignore'));
      emit(cmd, { created: target }, () =>
        [`created ${target}`, '', 'next:', `  cd ${dir}`, '  npx tributary ingest', '  npx tributary lake tables'].join('\n'),
      );
    });
}
