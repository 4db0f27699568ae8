/** The experiment results as Markdown tables, and both files written side by side. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as prettier from 'prettier';
import { ROLES, type ExperimentReport, type VariantResult } from './runner.ts';

const ROLE_TITLES: Record<(typeof ROLES)[number], string> = {
  api: 'API',
  collector: 'Collector',
  kafka: 'Kafka',
  consumer: 'consumer',
  store: 'store',
};

const fixed = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** One Markdown row per variant in each table; the command that produced them first. */
export function markdownReport(report: ExperimentReport, command: string): string {
  const { options, results } = report;
  const lines = [
    `Command: \`${command}\``,
    '',
    `${report.date.slice(0, 16).replace('T', ' ')} UTC, Node ${report.machine.node}, ` +
      `${report.machine.cores} cores, load average ${report.machine.loadAverage.map((value) => value.toFixed(1)).join(' ')} at the start; ` +
      `every component on this one machine. Fixed rate ${options.rate} requests/s for ${options.seconds} s` +
      (options.saturationSeconds > 0 ? `, then ${options.saturationSeconds} s unthrottled` : '') +
      '.',
    '',
    row([
      'variant',
      `answered /s at ${options.rate}/s`,
      'answered /s at saturation',
      'lost at saturation',
      'records answered',
      'landed',
      'lost',
      'emit-to-queryable p50 ms',
      'p99 ms',
      'CPU s per 1 000 records',
      'complete',
    ]),
    row(['---', ...Array<string>(10).fill('---:')]),
    ...results.map((result) =>
      row([
        result.variant,
        fixed(result.answeredPerSecond),
        fixed(result.saturationPerSecond),
        fixed(result.saturationLost),
        String(result.answered),
        String(result.landed),
        String(result.lost),
        fixed(result.latencyP50Ms),
        fixed(result.latencyP99Ms),
        fixed(result.cpuSecondsPer1000.total, 2),
        result.complete ? 'yes' : '**no**',
      ]),
    ),
    '',
    'CPU seconds per 1 000 records landed, by process (fixed-rate phase and its drain; `-`: not running):',
    '',
    row(['variant', ...ROLES.map((role) => ROLE_TITLES[role])]),
    row(['---', ...ROLES.map(() => '---:')]),
    ...results.map((result) =>
      row([result.variant, ...ROLES.map((role) => fixed(result.cpuSecondsPer1000[role], 2))]),
    ),
    '',
    'Peak RSS, MiB, by process:',
    '',
    row(['variant', ...ROLES.map((role) => ROLE_TITLES[role])]),
    row(['---', ...ROLES.map(() => '---:')]),
    ...results.map((result) =>
      row([
        result.variant,
        ...ROLES.map((role) => {
          const usage = result.processes[role];
          return usage && usage.samples > 0 ? fixed(usage.peakRssBytes / 2 ** 20) : '-';
        }),
      ]),
    ),
    '',
  ];
  const faults = results.filter((result) => result.fault);
  if (faults.length > 0) {
    lines.push(
      `Fault \`${options.fault ?? ''}\`, started a quarter into the fixed-rate phase:`,
      '',
      row([
        'variant',
        'applied',
        'fault s',
        'probes during fault',
        'of them lost',
        'recovery s',
        'records lost',
      ]),
      row(['---', '---', '---:', '---:', '---:', '---:', '---:']),
      ...faults.map((result: VariantResult) => {
        const fault = result.fault;
        if (!fault) return '';
        return row([
          result.variant,
          fault.applied ? 'yes' : 'no (not in this variant)',
          fixed(fault.durationSeconds, 1),
          String(fault.probesDuringFault),
          String(fault.probesLostDuringFault),
          fixed(fault.recoverySeconds, 1),
          String(result.lost),
        ]);
      }),
      '',
    );
  }
  return lines.join('\n');
}

/**
 * Writes `<base>.json` and `<base>.md` (formatted as the repository's Prettier settings say, so
 * committed results pass `npm run lint` as written); returns their paths.
 */
export async function writeReport(
  report: ExperimentReport,
  command: string,
  base: string,
): Promise<{ json: string; markdown: string }> {
  mkdirSync(path.dirname(base), { recursive: true });
  const json = `${base}.json`;
  const markdown = `${base}.md`;
  const format = async (file: string, text: string) =>
    prettier.format(text, { ...(await prettier.resolveConfig(file)), filepath: file });
  writeFileSync(json, await format(json, JSON.stringify({ command, ...report })));
  writeFileSync(markdown, await format(markdown, markdownReport(report, command)));
  return { json, markdown };
}
