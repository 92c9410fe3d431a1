import { cpSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { TributaryError } from '../../errors.js';
import { PACKAGE_NAME } from '../../config/load.js';
import { emit } from '../context.js';

const TEMPLATE = fileURLToPath(new URL('../../../templates/project', import.meta.url));
/** The root of this installation of Tributary (a clone, or node_modules/tributary-data). */
const INSTALLATION = fileURLToPath(new URL('../../..', import.meta.url));

export function initCommand(): Command {
  return new Command('init')
    .description('scaffold a working project (config, sample data) in a new or empty folder')
    .argument('<dir>', 'folder to create')
    .option('--force', 'write into a folder that is not empty (existing files with the same names are replaced)')
    .action((dir: string, opts: { force?: boolean }, cmd: Command) => {
      const target = path.resolve(dir);
      if (existsSync(target) && readdirSync(target).length > 0 && !opts.force) {
        throw new TributaryError('CONFLICT', `init: ${target} is not empty`, { hint: 'choose a new folder or pass --force' });
      }
      cpSync(TEMPLATE, target, { recursive: true });
      renameSync(path.join(target, 'gitignore'), path.join(target, '.gitignore'));
      // The project depends on this very installation until the package is published: `npm install` links it, and
      // `npx tributary` then runs the project's own copy, never a registry package of that name.
      const dependency = `file:${INSTALLATION.replace(/[\\/]$/, '')}`;
      const manifest = {
        name:
          path
            .basename(target)
            .toLowerCase()
            .replace(/[^a-z0-9._-]+/g, '-')
            .replace(/^[._-]+/, '') || 'tributary-project',
        private: true,
        type: 'module',
        scripts: { ingest: 'tributary ingest', build: 'tributary build', serve: 'tributary serve' },
        dependencies: { [PACKAGE_NAME]: dependency },
      };
      writeFileSync(path.join(target, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      emit(cmd, { created: target, dependency: { [PACKAGE_NAME]: dependency } }, () =>
        [
          `created ${target} (depends on ${PACKAGE_NAME} ${dependency})`,
          '',
          'next:',
          `  cd ${dir}`,
          '  npm install',
          '  npx tributary ingest',
          '  npx tributary build',
          '  npx tributary lake tables',
        ].join('\n'),
      );
    });
}
