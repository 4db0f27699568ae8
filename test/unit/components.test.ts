// The launchers' variable names (stack/components.ts) against the components' own sources: a
// variable renamed in a config reader but not in the launcher would otherwise be ignored at run
// time, silently.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { COMPONENT_VARIABLES, type ComponentName } from '../../stack/components.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Where each component reads its configuration (shared readers included). */
const SOURCES: Record<ComponentName, string[]> = {
  api: ['src/api'],
  consumer: ['src/consumer'],
  dlq: ['src/consumer'],
  canary: ['src/canary'],
  loadgen: ['src/loadgen'],
};

function sourceText(dir: string): string {
  const full = path.join(ROOT, dir);
  return readdirSync(full)
    .map((entry) => path.join(dir, entry))
    .map((entry) =>
      statSync(path.join(ROOT, entry)).isDirectory()
        ? sourceText(entry)
        : entry.endsWith('.ts')
          ? readFileSync(path.join(ROOT, entry), 'utf8')
          : '',
    )
    .join('\n');
}

describe('component launchers (stack/components.ts)', () => {
  for (const [name, variables] of Object.entries(COMPONENT_VARIABLES)) {
    it(`names only variables the ${name} reads`, () => {
      const text = SOURCES[name as ComponentName].map(sourceText).join('\n');
      const unknown = variables.filter((variable) => !text.includes(`'${variable}'`));
      expect(unknown, `not read by ${name}`).to.deep.equal([]);
    });
  }
});
